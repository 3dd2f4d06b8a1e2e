"""Hostile input: names that could break out of a command line or a path, HTML/JS in an archive
someone sent, and secrets that must never reach an archive or a site."""

import json
import shutil
import tarfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from collector import campaign
from collector.archive import pack
from collector.errors import BenchError
from collector.lab import LabSpec
from collector.lab.guest import guest_dir

from .helpers import invoke

HOSTS = [{"name": "a", "ssh_host": "198.18.255.11", "data_address": "198.18.0.1"},
         {"name": "b", "ssh_host": "198.18.255.12", "data_address": "198.18.0.2"}]
SCRIPT = '<script>alert("dpb")</script><img src=x onerror=alert(1)>'


@pytest.mark.parametrize(("change", "message"), [
    ({"name": "a; touch /tmp/dpb-pwned"}, r"hosts\[0\]\.name: 'a; touch /tmp/dpb-pwned' is not"),
    ({"name": "$(reboot)"}, r"hosts\[0\]\.name"),
    ({"name": "`id`"}, r"hosts\[0\]\.name"),
    ({"name": "../../etc"}, r"hosts\[0\]\.name"),
    ({"name": "a/b"}, r"hosts\[0\]\.name"),
    ({"name": SCRIPT}, r"hosts\[0\]\.name"),
    ({"data_address": "198.18.0.1; rm -rf /"}, r"data_address: .* is not an IP address"),
    ({"port": "22; id"}, r"port: .* is not a TCP port"),
])
def test_hostile_host_values_are_refused_before_anything_runs(change: dict[str, Any],
                                                              message: str) -> None:
    with pytest.raises(BenchError, match=message):
        campaign.parse({"hosts": [{**HOSTS[0], **change}, HOSTS[1]]}, "c.yaml")


@pytest.mark.parametrize("value", ["tap0; reboot", "../x", "$(id)", "a b", "x" * 16])
def test_hostile_vm_interface_names_are_refused(value: str) -> None:
    vm = {"name": "vm-a", "host": "a", "ssh_host": "198.19.6.2", "data_address": "198.19.6.2",
          "host_interface": value}
    with pytest.raises(BenchError, match=r"vms\[0\]\.host_interface: .* is not an interface"):
        campaign.parse({"hosts": HOSTS, "vms": [vm]}, "c.yaml")


@pytest.mark.parametrize("name", ["x; id", "../up", "a/b", "<b>x</b>"])
def test_hostile_campaign_names_are_refused(name: str) -> None:
    with pytest.raises(BenchError, match=r"name: .* is not allowed"):
        campaign.parse({"hosts": HOSTS, "name": name}, "c.yaml")


def test_html_in_an_archive_someone_sent_is_shown_escaped(campaign: Path,
                                                         tmp_path: Path) -> None:
    sent = tmp_path / "sent"
    shutil.copytree(campaign, sent)
    facts = sorted((sent / "facts" / "lab-a").glob("start-*.txt"))[0]
    facts.write_text(facts.read_text().replace("### hostname\n", f"### hostname\n{SCRIPT}\n"))
    manifest: dict[str, Any] = json.loads((sent / "manifest.json").read_text())
    run = sorted(manifest["runs"])[0]
    manifest["runs"][run].update(status="failed", reason=SCRIPT)
    manifest["harness"]["commit"] = SCRIPT
    (sent / "manifest.json").write_text(json.dumps(manifest))
    site = tmp_path / "site"
    proc = invoke("report", "--archive", str(sent), "--out", str(site))
    assert proc.returncode == 0, proc.stderr[-2000:]
    for page in site.glob("*.html"):
        found = ActiveContent()
        found.feed(page.read_text())
        assert found.active == [], page.name      # nothing the browser would run
    text = VisibleText()
    text.feed((site / "environment.html").read_text())
    assert '<script>alert("dpb")</script>' in text.data  # shown as the text it is
    outside = [p for p in tmp_path.iterdir() if p.name not in ("sent", "site")]
    assert outside == []  # nothing written beside the archive and the site


class ActiveContent(HTMLParser):
    """Event-handler attributes and scripts carrying the injected payload."""

    def __init__(self) -> None:
        super().__init__()
        self.active: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.active += [f"{tag} {k}" for k, _ in attrs if k.startswith("on")]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and 'alert("dpb")' in data:
            self.active.append("script")


class VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.data = ""

    def handle_data(self, data: str) -> None:
        self.data += data


def _private_key_fragments(paths: list[Path]) -> list[bytes]:
    fragments = []
    for path in paths:
        body = [line for line in path.read_text().splitlines()
                if line and not line.startswith("-----")]
        fragments += [line.encode() for line in body if len(line) >= 20]
    return fragments


def test_no_secrets_in_archives_or_sites(lab_spec: LabSpec, campaign: Path, site: Path,
                                         tmp_path: Path) -> None:
    keys = [lab_spec.state_dir / "client_key",
            *(lab_spec.state_dir / x / "ssh_host_ed25519_key" for x in ("a", "b"))]
    keys += [p for x in ("a", "b") for p in [guest_dir(lab_spec, x) / "dropbear_ed25519_host_key"]
             if p.is_file()]
    fragments = _private_key_fragments([k for k in keys if not k.name.startswith("dropbear")])
    assert len(fragments) >= 3
    tarball = pack(campaign, tmp_path / "sent.tar.gz")
    blobs: dict[str, bytes] = {}
    for root in (campaign, site):
        blobs.update({str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()})
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            f = tar.extractfile(member)
            if f is not None:
                blobs[f"{tarball}:{member.name}"] = f.read()
    for name, data in blobs.items():
        assert b"PRIVATE KEY" not in data, name
        assert not any(fragment in data for fragment in fragments), name
        for key in keys:
            assert key.read_bytes() not in data, name
