"""Node pairs through the real path: four namespace hosts on a bridge, host c's link slowed
with tc tbf; campaigns in turn and concurrent, from a hosts file and from the lab's ssh_config,
a failing host, a kill -9 with `invoke restore` and resume, and the report that names lab-c."""

import dataclasses
import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector import lab
from collector.lab.credentials import ssh_config_path

from .collecting import collect_argv, only_archive, records, running, wait_for
from .helpers import CHROMIUM, invoke, make_spec

SLOW_RATE = "300mbit"


def _lab_campaign(path: Path, hosts: Any, **more: Any) -> Path:
    body = {"name": path.stem, "hosts": hosts, "pairs": "all",
            "configurations": ["bare", "container"],
            "directions": {"container": ["container-container"]}, "tools": ["csrc"],
            "tests": ["stream"], "message_sizes": [20000], "repetitions": 1, "duration_s": 1,
            "warmup_s": 1, "run_timeout_s": 20, "seed": 11, **more}
    path.write_text(yaml.safe_dump(body))
    return path


def _snapshot(spec: lab.LabSpec) -> dict[str, str]:
    """What a campaign may leave on the lab's hosts: every namespace of the machine, and per
    host its links (name, MTU, flags, queue discipline), routes and forwarding."""
    def run(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout

    out = {"netns": " ".join(sorted(run("ip", "netns", "list").split()))}
    for letter in spec.letters:
        ns = spec.netns(letter)
        links = json.loads(run("ip", "-n", ns, "-j", "link", "show"))
        out[f"{letter}-links"] = repr(sorted((k["ifname"], k["mtu"], *sorted(k["flags"]))
                                             for k in links))
        out[f"{letter}-qdisc"] = run("tc", "-n", ns, "qdisc", "show", "dev", "wire0")
        out[f"{letter}-routes"] = run("ip", "-n", ns, "route")
        out[f"{letter}-forward"] = run("ip", "netns", "exec", ns, "sysctl", "-n",
                                       "net.ipv4.ip_forward")
    return out


def _mid_build(out: Path) -> bool:
    """True while some pair has measured one of its two container runs: its build stands."""
    made: dict[str, int] = {}
    for run_id in records(out):
        if run_id.startswith("container."):
            pair = run_id.split(".pair-")[1].rsplit(".r", 1)[0]
            made[pair] = made.get(pair, 0) + 1
    return 1 in made.values()


def _pair_picked(site: Path, pair: str) -> None:
    """The figure pages of a pair the picker offers, and in Chromium their links: the site's
    navigation leads to the same pair's pages, its own page marked."""
    label = pair.replace("~", " → ")
    picked = site / f"throughput.pair-{pair}.html"
    assert f"<strong>{label}</strong>, the pair picked below" in picked.read_text()
    assert f'href="throughput.pair-{pair}.html">{label}</a>' in (
        site / "throughput.html").read_text()
    assert f'href="index.pair-{pair}.html">{label}</a>' in (
        site / "node-pairs.html").read_text()
    searched = json.loads((site / "search" / "search_index.json").read_text())["docs"]
    assert searched and not [d for d in searched if ".pair-" in d["location"]]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(picked.as_uri())
            nav = page.locator("nav.md-nav--primary a.md-nav__link")
            hrefs = {nav.nth(i).inner_text().strip(): nav.nth(i).get_attribute("href")
                     for i in range(nav.count())}
            assert hrefs["CPU"] == f"cpu.pair-{pair}.html"
            assert hrefs["Node pairs"] == "node-pairs.html"  # every pair: no variant
            active = page.locator("nav.md-nav--primary a.md-nav__link--active")
            assert active.first.inner_text().strip() == "Throughput"
        finally:
            browser.close()


def _collect(spec: lab.LabSpec, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(collect_argv(spec, *args), capture_output=True, text=True,
                          timeout=900, check=False)


@pytest.mark.lab
def test_node_pairs_on_four_lab_hosts_find_the_slow_one(tmp_path: Path) -> None:
    spec = dataclasses.replace(make_spec(wire_octet=12), hosts=4, slow_host="c",
                               slow_rate=SLOW_RATE)
    try:
        lab.up(spec, say=lambda _: None)
        assert lab.status(spec).state == "up"
        before = _snapshot(spec)
        assert "tbf" in before["c-qdisc"] and "tbf" not in before["a-qdisc"]
        hosts_file = str(spec.hosts_file)
        seq = _lab_campaign(tmp_path / "pairs.yaml", hosts_file)
        # The same campaign from the lab's OpenSSH config: the same plan.
        inventory = _lab_campaign(tmp_path / "inventory.yaml", {
            "ssh_config": str(ssh_config_path(spec)),
            "data_addresses": {spec.host_name(x): str(spec.wire_address(x).ip)
                               for x in spec.letters}})
        plans = [_collect(spec, "--campaign", str(f), "--dry-run", "--list")
                 for f in (seq, inventory)]
        for done in plans:
            assert done.returncode == 0, done.stderr
        listed = [[line for line in p.stdout.splitlines() if line.startswith(("bare.", "cont"))]
                  for p in plans]
        assert len(listed[0]) == 24 and listed[0] == listed[1]

        done = _collect(spec, "--campaign", str(seq), "--out", str(tmp_path / "archive"))
        assert done.returncode == 0, done.stderr + done.stdout
        archive = next((tmp_path / "archive").glob("pairs-*"))
        manifest = json.loads((archive / "manifest.json").read_text())
        assert manifest["state"] == "complete"
        assert {r["status"] for r in manifest["runs"].values()} == {"ok"}
        assert sorted(manifest["host_state"]) == [spec.host_name(x) for x in spec.letters]
        assert sorted(p.name for p in (archive / "facts").iterdir()) == sorted(
            manifest["host_state"])
        assert all(len(list((archive / "facts" / h).glob("start-*"))) == 1
                   for h in manifest["host_state"])  # each host's facts once

        together = _lab_campaign(tmp_path / "together.yaml", hosts_file, concurrent=True)
        done = _collect(spec, "--campaign", str(together), "--out", str(tmp_path / "archive"))
        assert done.returncode == 0, done.stderr + done.stdout

        site = tmp_path / "site"
        report = invoke("report", "--archive", str(archive), "--out", str(site))
        assert report.returncode == 0, report.stderr
        page = (site / "node-pairs.html").read_text()
        assert "lab-c is in all 6 (of its 6 pairs)" in page
        assert "one after the other" in page
        assert "Node pair shown" in (site / "throughput.html").read_text()
        _pair_picked(site, "lab-c~lab-a")
        asked = invoke("report", "--archive", str(archive), "--out", str(tmp_path / "asked"),
                       "--pair", "lab-c,lab-a")
        assert asked.returncode == 0, asked.stderr
        assert "<strong>lab-c → lab-a</strong> (asked for)" in (
            tmp_path / "asked" / "throughput.html").read_text()
        unknown = invoke("report", "--archive", str(archive), "--out", str(tmp_path / "x"),
                         "--pair", "lab-a~lab-z")
        assert unknown.returncode == 2 and "--pair lab-a~lab-z: not a node pair" in " ".join(
            unknown.stderr.split()) and not (tmp_path / "x").exists()
        environment = (site / "environment.html").read_text()
        assert "qdisc (data NIC)" in environment and "tbf" in environment  # lab-c's limit
        assert _snapshot(spec) == before

        site2 = tmp_path / "site2"
        report = invoke("report", "--archive", str(next((tmp_path / "archive").glob(
            "together-*"))), "--out", str(site2))
        assert report.returncode == 0, report.stderr
        page = (site2 / "node-pairs.html").read_text()
        assert "in step: 12 times, 2.0 pairs on average made the same run at once" in page
        assert "lab-c is in all 6" in page

        # A host whose data link is down fails its pairs, not the others; a resume measures
        # what it did not once the link is back.
        ring = _lab_campaign(tmp_path / "ring.yaml", hosts_file, pairs="ring",
                             configurations=["bare"], directions={})
        link = ["ip", "-n", spec.netns("d"), "link", "set", "wire0"]
        subprocess.run([*link, "down"], check=True)
        done = _collect(spec, "--campaign", str(ring), "--out", str(tmp_path / "archive"))
        subprocess.run([*link, "up"], check=True)
        # the link's down took lab-d's default route with it
        subprocess.run(["ip", "-n", spec.netns("d"), "route", "replace", "default", "via",
                        str(spec.wire_address(spec.peer("d")).ip), "dev", "wire0"], check=True)
        assert done.returncode != 0
        said = " ".join((done.stderr + done.stdout).split())
        assert "2 of 4 node pairs were not measured to the end" in said, said
        assert "lab-c → lab-d:" in said and "lab-d → lab-a:" in said
        stopped = next((tmp_path / "archive").glob("ring-*"))
        runs = json.loads((stopped / "manifest.json").read_text())["runs"]
        assert sorted(r.split(".pair-")[1] for r in runs) == ["lab-a~lab-b.r01",
                                                               "lab-b~lab-c.r01"]
        done = _collect(spec, "--resume", str(stopped))
        assert done.returncode == 0, done.stderr + done.stdout
        manifest = json.loads((stopped / "manifest.json").read_text())
        assert manifest["state"] == "complete" and len(manifest["runs"]) == 4
        assert {r["status"] for r in manifest["runs"].values()} == {"ok"}
        assert _snapshot(spec) == before

        # kill -9 while two pairs measure at once: `invoke restore` gives every host back,
        # and the resume completes exactly the plan.
        killed = _lab_campaign(tmp_path / "killed.yaml", hosts_file, pairs="ring",
                               concurrent=True, repetitions=2)
        out = tmp_path / "killed"
        proc = running(collect_argv(spec, "--campaign", str(killed), "--out", str(out)))
        try:
            wait_for("a pair half-way through its container runs", lambda: _mid_build(out),
                     proc)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        gone = only_archive(out)
        assert _snapshot(spec) != before  # a killed campaign leaves its builds
        restored = invoke("restore", "--archive", str(gone), "--lab-id", spec.lab_id,
                          "--state-root", spec.state_root)
        assert restored.returncode == 0, restored.stderr
        assert _snapshot(spec) == before
        done = _collect(spec, "--resume", str(gone))
        assert done.returncode == 0, done.stderr + done.stdout
        manifest = json.loads((gone / "manifest.json").read_text())
        assert manifest["state"] == "complete"
        assert sorted(manifest["runs"]) == sorted(manifest["plan"]) and len(manifest["plan"]) == 16
        assert {r["status"] for r in manifest["runs"].values()} == {"ok"}
        assert _snapshot(spec) == before
    finally:
        lab.down(spec, purge=True)
    leftovers = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                               check=True).stdout
    assert spec.lab_id not in leftovers
