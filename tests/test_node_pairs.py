"""Node pairs: N hosts, which pairs a campaign measures, inventories, the plan's run ids, the
lock step of pairs measured at once, the report's reading across pairs (the whole path, on a
lab of four hosts: tests/test_node_pairs_lab.py)."""

import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from collector import campaign as campaign_mod
from collector import node_pairs, plan
from collector.errors import BenchError, UsageError
from collector.lockstep import Lockstep
from collector.node_pairs import NodePair
from reporter import node_pairs as analysis

from .helpers import make_spec


def host(name: str, last: int) -> dict[str, Any]:
    return {"name": name, "ssh_host": f"198.18.250.{last}", "data_address": f"198.18.40.{last}"}


FOUR = [host(n, i) for i, n in enumerate(("a", "b", "c", "d"), start=1)]
BASE = {"configurations": ["bare"], "tools": ["csrc"], "tests": ["stream"],
        "message_sizes": [20000], "repetitions": 1, "duration_s": 1, "seed": 5}


def parse(**raw: Any) -> campaign_mod.Campaign:
    return campaign_mod.parse({**BASE, **raw}, "c.yaml")


@pytest.mark.parametrize(("pairs", "expected"), [
    ("all", [("a", "b"), ("a", "c"), ("a", "d"), ("b", "a"), ("b", "c"), ("b", "d"),
             ("c", "a"), ("c", "b"), ("c", "d"), ("d", "a"), ("d", "b"), ("d", "c")]),
    ("ring", [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")]),
    ({"star": "c"}, [("a", "c"), ("c", "a"), ("b", "c"), ("c", "b"), ("d", "c"), ("c", "d")]),
    ([["d", "a"], ["b", "c"]], [("d", "a"), ("b", "c")]),
    (None, [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")]),  # more than two: the ring
])
def test_pairs_are_chosen_as_asked(pairs: Any, expected: list[tuple[str, str]]) -> None:
    c = parse(hosts=FOUR, **({"pairs": pairs} if pairs is not None else {}))
    assert [p.hosts for p in c.pairs] == expected
    assert c.several_pairs


@pytest.mark.parametrize(("pairs", "message"), [
    ("mesh", r"pairs: 'mesh' is not allowed"),
    ({"star": "z"}, r"pairs: \{'star': 'z'\} is not allowed"),
    ([["a", "a"]], r"pairs\[0\]: a with itself"),
    ([["a", "b"], ["a", "b"]], r"pairs\[1\]: a → b is listed twice"),
    ([["a", "x"]], r"pairs\[0\]: \['a', 'x'\] is not a pair of the campaign's hosts"),
])
def test_bad_pairs_name_the_key(pairs: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(hosts=FOUR, pairs=pairs)


def test_a_two_host_campaign_is_as_it_was() -> None:
    """One pair, the first host sending: no pair in any id, record or manifest."""
    c = parse(hosts=FOUR[:2])
    assert c.pairs == (NodePair("a", "b"),) and not c.several_pairs
    assert "pairs" not in c.to_json() and "concurrent" not in c.to_json()
    ids = [r.run_id for r in plan.runs(c)]
    assert ids == ["bare.host-host.csrc.stream.20000B.sb-auto.mtu1500.r01"]
    both = parse(hosts=FOUR[:2], pairs="all")
    assert [r.run_id for r in plan.runs(both)] == [
        "bare.host-host.csrc.stream.20000B.sb-auto.mtu1500.pair-a~b.r01",
        "bare.host-host.csrc.stream.20000B.sb-auto.mtu1500.pair-b~a.r01"]
    assert both.to_json()["pairs"] == [["a", "b"], ["b", "a"]]


def test_every_pair_runs_the_same_matrix_in_the_same_order() -> None:
    c = parse(hosts=FOUR, pairs="ring", configurations=["bare", "container"],
              message_sizes=[1000, 20000], repetitions=2)
    by_pair = plan.by_pair(c, plan.runs(c))
    assert list(by_pair) == ["a~b", "b~c", "c~d", "d~a"]
    orders = {pair: [r.run_id.replace(f".pair-{pair}", "") for r in runs]
              for pair, runs in by_pair.items()}
    assert len({tuple(o) for o in orders.values()}) == 1  # one order for every pair
    assert len(plan.cells(c)) == 4 * len(plan.cells(c.for_pair(c.pairs[0])))
    figures = plan.figures(c, plan.runs(c))
    assert figures["builds"] == 8 and figures["pairs"].startswith("4: a → b, b → c")


def test_concurrent_pairs_take_the_time_of_their_rounds() -> None:
    one_by_one = parse(hosts=FOUR, pairs="all")
    together = parse(hosts=FOUR, pairs="all", concurrent=True)
    assert node_pairs.rounds(together.pairs) == [
        [NodePair("a", "b"), NodePair("c", "d")], [NodePair("a", "c"), NodePair("b", "d")],
        [NodePair("a", "d"), NodePair("b", "c")], [NodePair("b", "a"), NodePair("d", "c")],
        [NodePair("c", "a"), NodePair("d", "b")], [NodePair("c", "b"), NodePair("d", "a")]]
    for group in node_pairs.rounds(together.pairs):
        hosts = [h for p in group for h in p.hosts]
        assert len(hosts) == len(set(hosts))
    seq = plan.estimate_seconds(one_by_one, plan.runs(one_by_one))
    conc = plan.estimate_seconds(together, plan.runs(together))
    assert conc == pytest.approx(seq / 2)
    assert "concurrent, in 6 rounds" in plan.figures(together, plan.runs(together))["pairs"]


def test_a_long_plan_of_many_pairs_is_warned_about() -> None:
    c = parse(hosts=FOUR, pairs="all", duration_s=60, repetitions=5,
              configurations=["bare", "container"])
    warning = plan.figures(c, plan.runs(c))["warning"]
    assert "every pair is a full matrix" in warning and "concurrent: true" in warning


def test_concurrent_needs_fixed_repetitions() -> None:
    with pytest.raises(UsageError, match="concurrent: true needs a fixed number"):
        parse(hosts=FOUR, pairs="all", concurrent=True,
              repetitions={"min": 3, "max": 5, "target_ci_pct": 5})
    with pytest.raises(UsageError, match="concurrent: 'yes' is not true or false"):
        parse(hosts=FOUR, concurrent="yes")


def test_a_pair_campaign_has_its_two_hosts_and_their_vms() -> None:
    vms = [{**host(f"{h}-vm", 20 + i), "host": h} for i, h in enumerate("abcd")]
    c = parse(hosts=FOUR, vms=vms, configurations=["vm"], pairs=[["c", "a"]])
    pc = c.for_pair(c.pairs[0])
    assert [h.name for h in pc.hosts] == ["c", "a"] and pc.pair == NodePair("c", "a")
    assert [vm.host for vm in pc.vms] == ["a", "c"] and pc.vm_on(0).host == "c"
    with pytest.raises(UsageError, match="vm needs a VM on each host, and b has none"):
        parse(hosts=FOUR, vms=vms[:1] + vms[2:], configurations=["vm"], pairs="ring")


def test_hosts_must_be_two_or_more_and_named_once() -> None:
    with pytest.raises(UsageError, match="2 to 64 hosts are needed, got 1"):
        parse(hosts=FOUR[:1])
    with pytest.raises(UsageError, match="2 hosts are named 'a'"):
        parse(hosts=[FOUR[0], FOUR[0], FOUR[1]])


def _keys(tmp: Path) -> tuple[Path, Path]:
    key, known = tmp / "key", tmp / "known_hosts"
    key.write_text("not read here\n")
    known.write_text("")
    return key, known


def test_hosts_from_an_ssh_config(tmp_path: Path) -> None:
    key, known = _keys(tmp_path)
    config = tmp_path / "ssh_config"
    config.write_text("".join(
        f"Host {n}\n  HostName 198.18.250.{i}\n  User root\n  Port 2{i}\n  IdentityFile {key}\n"
        f"  UserKnownHostsFile {known}\n" for i, n in enumerate(("a", "b", "c"), start=1))
        + "Host jumped\n  HostName 198.18.250.9\n  ProxyJump a\nHost *\n  User nobody\n")
    c = parse(hosts={"ssh_config": str(config),
                     "data_addresses": {"c": "198.18.40.3", "a": "198.18.40.1"}})
    assert [(h.name, h.ssh_host, h.port, h.user, h.key, h.known_hosts, h.data_address)
            for h in c.hosts] == [("c", "198.18.250.3", 23, "root", str(key), str(known),
                                   "198.18.40.3"),
                                  ("a", "198.18.250.1", 21, "root", str(key), str(known),
                                   "198.18.40.1")]
    with pytest.raises(UsageError, match="has no `Host z` entry"):
        parse(hosts={"ssh_config": str(config), "data_addresses": {"a": "198.18.40.1",
                                                                   "z": "198.18.40.2"}})
    with pytest.raises(UsageError, match="reaches jumped through a jump host"):
        parse(hosts={"ssh_config": str(config), "data_addresses": {"a": "198.18.40.1",
                                                                   "jumped": "198.18.40.9"}})
    with pytest.raises(UsageError, match="data_addresses: needed with an ssh_config"):
        parse(hosts={"ssh_config": str(config)})


def test_hosts_from_an_ansible_group(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_user": "root", "known_hosts": "/etc/ssh/known"},
        "children": {
            "bench": {"vars": {"ansible_port": 2222},
                      "hosts": {"n1": {"ansible_host": "198.18.250.1",
                                       "data_address": "198.18.40.1"},
                                "n2": {"ansible_host": "198.18.250.2", "ansible_port": 22,
                                       "ansible_become": True}},
                      "children": {"rack2": {"hosts": {"n3": {"ansible_host": "198.18.250.3",
                                                              "data_address": "198.18.40.3"}}}}},
            "other": {"hosts": {"x": None}}}}}))
    c = parse(hosts={"ansible": str(inventory), "group": "bench",
                     "data_addresses": {"n2": "198.18.40.2"}})
    assert [(h.name, h.ssh_host, h.port, h.data_address, h.known_hosts, h.sudo)
            for h in c.hosts] == [("n1", "198.18.250.1", 2222, "198.18.40.1", "/etc/ssh/known",
                                   False),
                                  ("n2", "198.18.250.2", 22, "198.18.40.2", "/etc/ssh/known",
                                   True),
                                  ("n3", "198.18.250.3", 2222, "198.18.40.3", "/etc/ssh/known",
                                   False)]
    with pytest.raises(UsageError, match=r"has no group 'nope'(.|\n)*all, bench, other, rack2"):
        parse(hosts={"ansible": str(inventory), "group": "nope"})
    with pytest.raises(UsageError, match="host n2: no data address"):
        parse(hosts={"ansible": str(inventory), "group": "bench"})


def test_pairs_in_step_start_their_runs_together_and_a_pair_that_leaves_is_not_waited_for(
        ) -> None:
    step = Lockstep(3)
    starts: dict[str, list[float]] = {"a": [], "b": [], "c": []}

    def pair(name: str, runs: int, pause: float) -> None:
        try:
            for _ in range(runs):
                time.sleep(pause)
                step.wait()
                starts[name].append(time.monotonic())
        finally:
            step.leave()

    threads = [threading.Thread(target=pair, args=args)
               for args in (("a", 3, 0.0), ("b", 3, 0.05), ("c", 1, 0.02))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert [len(starts[n]) for n in "abc"] == [3, 3, 1]
    for a, b in zip(starts["a"], starts["b"], strict=True):
        assert abs(a - b) < 0.02  # released together, each step after b's pause


def _pair_rows(means: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"pair": list(means), "mean": list(means.values())})


def test_the_median_pair_is_a_real_one_and_a_bad_host_is_the_common_factor() -> None:
    # Four hosts, every pair: c's six pairs slow, the others alike.
    means = {f"{s}~{r}": (0.5 if "c" in (s, r) else 10.0 + i / 10)
             for i, (s, r) in enumerate((s, r) for s in "abcd" for r in "abcd" if s != r)}
    rows = analysis.against_median(_pair_rows(means), "gbps")
    reference = rows[rows["reference"]]
    assert len(reference) == 1 and reference["mean"].iloc[0] >= 10  # a healthy pair
    slow = analysis.outliers(rows)
    assert sorted(slow["pair"]) == sorted(p for p in means if "c" in p)
    assert analysis.suspects(list(slow["pair"]), list(means)) == [("c", 6)]
    s = analysis.spread(rows)
    assert s.pairs == 12 and s.p5 == pytest.approx(0.5) and s.p95 > 10
    # Lower is better: the slow pairs are those with the higher latency.
    lat = analysis.against_median(_pair_rows({"a~b": 10, "b~a": 11, "a~c": 30}),
                                  "lat_mean_us")
    assert list(analysis.outliers(lat)["pair"]) == ["a~c"]
    assert analysis.suspects(["a~c"], ["a~b", "b~a", "a~c"]) == []  # one pair says nothing


def test_windows_of_pairs_measured_together_are_read_back() -> None:
    def run(pair: str, rep: int, start: float, end: float) -> dict[str, Any]:
        return {"campaign": "x", "configuration": "bare", "direction": "host-host",
                "tool": "csrc", "test": "stream", "message_size": 20000,
                "socket_buffer": "auto", "mtu": 1500, "streams": 1, "tuning": "untuned",
                "repetition": rep, "pair": pair, "status": "ok",
                "window_start_s": start, "window_end_s": end}
    together = pd.DataFrame([run("a~b", 1, 100.0, 110.0), run("c~d", 1, 101.0, 111.0),
                             run("a~b", 2, 200.0, 210.0), run("c~d", 2, 200.0, 210.0)])
    found = analysis.overlaps(together, "x")
    assert found is not None and found.groups == 2 and found.pairs_per_group == 2
    assert found.lowest == pytest.approx(9 / 11) and found.median == pytest.approx(
        (9 / 11 + 1) / 2)
    apart = pd.DataFrame([run("a~b", 1, 100.0, 110.0), run("c~d", 1, 120.0, 130.0)])
    assert analysis.overlaps(apart, "x") is None


def test_a_lab_of_more_hosts_is_checked() -> None:
    spec = make_spec(wire_octet=12)
    assert dataclasses.replace(spec, hosts=4).letters == ("a", "b", "c", "d")
    assert dataclasses.replace(spec, hosts=4).peer("d") == "a"
    for bad, message in (({"hosts": 9}, "lab hosts 9"), ({"hosts": 3, "vms": True}, "only"),
                         ({"hosts": 4, "slow_host": "c"}, "both its letter and its rate"),
                         ({"hosts": 2, "slow_host": "b", "slow_rate": "1gbit"}, "3 or more"),
                         ({"hosts": 4, "slow_host": "c", "slow_rate": "fast"}, "as tc does")):
        with pytest.raises(BenchError, match=message):
            dataclasses.replace(spec, **bad)


def test_a_host_that_stops_answering_leaves_out_its_later_pairs_and_the_rest_go_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent rounds: c~d fails and d no longer answers, so d~a (a round of its own) is
    not measured and said so; a~b, measured beside c~d, is."""
    from types import SimpleNamespace

    from collector import collect, preparation

    c = parse(hosts=FOUR, pairs=[["a", "b"], ["c", "d"], ["d", "a"]], concurrent=True)
    measured: list[str] = []

    class Builds:
        def __init__(self, pc: campaign_mod.Campaign, *_: Any) -> None:
            self.pair = pc.pairs[0]

        def measure(self, runs: list[plan.Run], stopping: Any) -> None:
            if "d" in self.pair.hosts:
                raise BenchError("d stopped answering")
            measured.append(self.pair.pair_id)

    monkeypatch.setattr(collect, "_Builds", Builds)
    monkeypatch.setattr(preparation, "tuner", lambda *_: None)
    monkeypatch.setattr(collect, "_unanswering", lambda pair: {"d"} & set(pair.hosts))
    archive = SimpleNamespace(manifest={"runs": {}}, finished=lambda _: False)
    failures = collect._Pairs(c, archive, [c.for_pair(p) for p in c.pairs],  # type: ignore[arg-type]
                              list(c.pairs), [None] * 3, None).measure(  # type: ignore[arg-type]
                                  plan.runs(c), lambda *_: None)  # type: ignore[arg-type]
    assert measured == ["a~b"]
    assert failures == [f"{c.pairs[1].label}: d stopped answering",
                        f"{c.pairs[2].label}: not measured, d did not answer"]


def _paired_site(means: dict[str, float], shown: str) -> Any:
    from reporter.pages.model import Site

    gbps = pd.DataFrame([{"campaign": "x", "pair": p, "streams": 1, "socket_buffer": "auto",
                          "tuning": "untuned", "message_size": 20000, "tool": "csrc",
                          "path": "bare host-host", "mtu": 1500, "mean": m}
                         for p, m in means.items()])
    return Site([], {"gbps": gbps}, [], "x", 5.0, pair_choice={"x": shown})


def test_the_pair_picker_offers_every_pair_and_the_slowest_of_many() -> None:
    from reporter import pair_pages

    four = {f"{s}~{r}": (0.5 if "c" in (s, r) else 10.0 + i / 10)
            for i, (s, r) in enumerate((s, r) for s in "abcd" for r in "abcd" if s != r)}
    site = _paired_site(four, "a~b")
    picker = pair_pages.picker(site, {"x": set(four)}, ["x"], asked=False,
                               refs=analysis.references(site.cells))
    assert [c.pair for c in picker.choices] == sorted(four) and picker.left_out == 0
    shown = next(c for c in picker.choices if c.pair == "a~b")
    assert shown.token == "" and shown.note == "median pair"  # the pages as built
    assert [c.token for c in picker.others()] == [p for p in sorted(four) if p != "a~b"]
    links = picker.links("cpu", "c~a")
    assert ("c → a", "cpu.pair-c~a.md", True, "") in links
    assert ("a → b", "cpu.md", False, "median pair") in links
    # Another campaign that did not measure the pair keeps its own.
    both = dataclasses.replace(site, pair_choice={"x": "a~b", "y": "b~a"})
    c_a = next(c for c in picker.choices if c.pair == "c~a")
    assert pair_pages.showing(both, c_a, {"x": set(four), "y": {"b~a"}}).pair_choice == {
        "x": "c~a", "y": "b~a"}
    assert pair_pages.picker(site, {"x": set(four)}, ["y"], asked=False,
                             refs=analysis.references(site.cells)) == pair_pages.NO_PICKER

    # Six hosts, 30 pairs: the picker keeps the shown pair and the 15 slowest.
    hosts = "abcdef"
    many = {f"{s}~{r}": 10.0 - hosts.index(s) - hosts.index(r) / 10
            for s in hosts for r in hosts if s != r}
    six = _paired_site(many, "c~d")
    picker = pair_pages.picker(six, {"x": set(many)}, ["x"], asked=True,
                               refs=analysis.references(six.cells))
    offered = {c.pair: c.note for c in picker.choices}
    assert len(offered) == pair_pages.PICKER_LIMIT and picker.left_out == 30 - 16
    assert offered["c~d"] == "asked for" and offered["f~e"] == "slowest"
    assert offered["f~d"] == "2nd slowest" and offered["d~f"] == "11th slowest"
    assert "a~b" not in offered  # the fastest


def test_a_pair_page_is_named_by_plain_host_names_only() -> None:
    from reporter import pair_pages

    assert pair_pages.token("node-1.rack2~node_7") == "node-1.rack2~node_7"
    for hostile in ("../x~b", "a~<script>", "a b~c", "~b", "a~" + "x" * 70):
        name = pair_pages.token(hostile)
        assert name.startswith("h") and len(name) == 13 and name[1:].isalnum()
    assert pair_pages.page_name("index", "") == "index"
    assert pair_pages.page_name("mtu", "a~b") == "mtu.pair-a~b"


def test_the_demo_lab_is_two_hosts_with_vms_whatever_was_recorded(tmp_path: Path) -> None:
    from collector.lab.options import demo_spec

    four = dataclasses.replace(make_spec(wire_octet=12), lab_id="dpb", hosts=4,
                               slow_host="c", slow_rate="300mbit", state_root=str(tmp_path))
    four.state_dir.mkdir(parents=True)
    four.save()
    spec = demo_spec(str(tmp_path))
    assert (spec.hosts, spec.vms, spec.machines, spec.slow_host) == (2, True, False, "")
    assert spec.mgmt_subnet == four.mgmt_subnet  # the rest as recorded


def test_a_campaign_without_goodput_is_shown_by_its_median_pair_for_latency() -> None:
    from reporter import pair_pages

    lat = {"a~b": 30.0, "b~a": 20.0, "a~c": 90.0, "c~a": 25.0}
    site = _paired_site({}, "")
    site.cells["lat_mean_us"] = _paired_site(lat, "").metric("gbps").assign(
        test="rr", message_size=1)
    site.cells["gbps"] = site.cells["gbps"].iloc[0:0]
    refs = analysis.references(site.cells)
    assert analysis.median_pairs(refs) == {"x": "c~a"}  # of four, the better middle one
    site = dataclasses.replace(site, pair_choice=analysis.median_pairs(refs))
    picker = pair_pages.picker(site, {"x": set(lat)}, ["x"], asked=False, refs=refs)
    assert [c.pair for c in picker.choices] == sorted(lat)
    assert pair_pages._slowest_first(refs, sorted(lat))[0] == "a~c"  # the highest latency
    # No figure to choose a pair by: no picker (and no pages made per pair).
    bare = dataclasses.replace(_paired_site({}, ""), pair_choice={})
    assert pair_pages.picker(bare, {"x": set(lat)}, ["x"], asked=False,
                             refs={}) == pair_pages.NO_PICKER
