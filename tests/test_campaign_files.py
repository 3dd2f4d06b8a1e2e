"""Campaign files as users write them: strict booleans, no duplicate keys, an empty file,
missing key files; the exit status of a bad campaign; --dry-run --list; serve without a site.
Through the real CLI (invoke), no hosts touched."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from collector import campaign, plan
from collector.errors import UsageError
from collector.exit import ExitStatus

from .helpers import REPO, invoke


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text("198.18.255.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n")
    return path


def _hosts(known_hosts: Path, **change: object) -> list[dict[str, object]]:
    return [{"name": "a", "ssh_host": "198.18.255.11", "data_address": "198.18.0.1",
             "known_hosts": str(known_hosts), **change},
            {"name": "b", "ssh_host": "198.18.255.12", "data_address": "198.18.0.2",
             "known_hosts": str(known_hosts)}]


def _dry_run(tmp_path: Path, text: str, *extra: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return invoke("collect", "--campaign", str(path), "--dry-run", "--state-root",
                  str(tmp_path / "state"), *extra)


@pytest.mark.parametrize("value", ['"false"', "maybe", "0", "1", '"yes"'])
def test_sudo_must_be_a_yaml_boolean(tmp_path: Path, known_hosts: Path, value: str) -> None:
    text = yaml.safe_dump({"hosts": _hosts(known_hosts)}).replace(
        "name: a\n", f"name: a\n  sudo: {value}\n", 1)
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(UsageError, match=r"hosts\[0\]\.sudo: .* is not true or false"):
        campaign.load(tmp_path / "c.yaml", tmp_path / "no-hosts-file.yaml")
    if value == "maybe":  # and through the CLI, once: a usage error, exit 2
        proc = _dry_run(tmp_path, text)
        assert proc.returncode == ExitStatus.USAGE, proc.stdout + proc.stderr
        assert "hosts[0].sudo:" in proc.stderr and "is not true or false" in proc.stderr


def test_duplicate_keys_are_refused(tmp_path: Path, known_hosts: Path) -> None:
    text = yaml.safe_dump({"hosts": _hosts(known_hosts), "repetitions": 3}) + "repetitions: 5\n"
    proc = _dry_run(tmp_path, text)
    assert proc.returncode == ExitStatus.USAGE
    assert "duplicate key 'repetitions'" in proc.stderr and "c.yaml" in proc.stderr


def test_an_empty_file_is_the_default_campaign(tmp_path: Path) -> None:
    hosts_file = tmp_path / "hosts.yaml"
    hosts_file.write_text(yaml.safe_dump({"version": 1, "hosts": _hosts(tmp_path / "kh")}))
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    c = campaign.load(empty, hosts_file)
    assert c.repetitions.to_json() == campaign.DEFAULTS["repetitions"] and c.name == "empty"
    assert [h.name for h in c.hosts] == ["a", "b"]


def test_a_bad_campaign_is_a_usage_error(tmp_path: Path, known_hosts: Path) -> None:
    proc = _dry_run(tmp_path, yaml.safe_dump({"hosts": _hosts(known_hosts), "mtus": [12]}))
    assert proc.returncode == ExitStatus.USAGE
    assert "mtus[0]: 12 is not allowed" in proc.stderr


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_key_files_are_checked_before_anything(tmp_path: Path, known_hosts: Path,
                                               kind: str) -> None:
    key = tmp_path / "id_ed25519"
    if kind == "folder":
        key.mkdir()
    proc = _dry_run(tmp_path, yaml.safe_dump({"hosts": _hosts(known_hosts, key=str(key))}))
    assert proc.returncode == ExitStatus.USAGE, proc.stdout + proc.stderr
    said = {"missing": "does not exist", "folder": "is not a regular file"}[kind]
    assert f"host a: key: {key} {said}" in proc.stderr


def test_a_missing_known_hosts_is_named(tmp_path: Path) -> None:
    proc = _dry_run(tmp_path, yaml.safe_dump({"hosts": _hosts(tmp_path / "nowhere")}))
    assert proc.returncode == ExitStatus.USAGE
    assert f"host a: known_hosts: {tmp_path / 'nowhere'} does not exist" in proc.stderr


def test_dry_run_list_prints_every_run_in_order(tmp_path: Path, known_hosts: Path) -> None:
    body = {"hosts": _hosts(known_hosts), "configurations": ["bare", "container"],
            "repetitions": 2, "seed": 11}
    proc = _dry_run(tmp_path, yaml.safe_dump(body), "--list")
    assert proc.returncode == 0, proc.stderr
    expected = [r.run_id for r in plan.runs(campaign.load(tmp_path / "c.yaml"))]
    printed = [line for line in proc.stdout.splitlines() if line.endswith(("r01", "r02"))]
    assert printed == expected and len(expected) > 10
    assert f"runs: {len(expected)}" in proc.stdout.replace("  ", " ")


def test_list_needs_dry_run() -> None:
    proc = invoke("collect", "--list")
    assert proc.returncode == ExitStatus.USAGE and "--dry-run" in proc.stderr


def test_serve_without_a_site_says_so(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO), "serve",
                           "--out", str(tmp_path / "nosite")], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 1
    assert f"{tmp_path / 'nosite'}: no site here" in proc.stderr

