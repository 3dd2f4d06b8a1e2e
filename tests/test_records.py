"""The typed manifest and run record (collector/records.py): the collector cannot write a record
that does not validate, the reporter names what is wrong with one it reads (a problem of that
run, the site still builds) and refuses a manifest that does not validate (naming the key),
older schema versions are migrated, the schema in the docs is the models', and the reporter
loads without the collector's SSH stack."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from collector import records
from collector.archive import MIGRATIONS, SCHEMA_VERSION, Archive, read_manifest
from collector.errors import BenchError
from reporter import command, synthetic
from reporter.archive import load
from reporter.tidy import table

REPO = Path(__file__).resolve().parent.parent


def _manifest(root: Path) -> dict[str, object]:
    return json.loads((root / "manifest.json").read_text())  # type: ignore[no-any-return]


def test_the_collector_cannot_store_a_record_that_does_not_validate(tmp_path: Path) -> None:
    root = synthetic.generate(tmp_path, 10)
    archive = Archive.open(root)
    run_id, rec = next(iter(archive.manifest["runs"].items()))
    with pytest.raises(ValidationError, match="message_size"):
        archive.record(run_id, {**rec, "message_size": "big"})
    with pytest.raises(ValidationError, match="needs a reason"):
        archive.record(run_id, {**rec, "status": "failed", "reason": ""})
    with pytest.raises(ValidationError, match="Extra inputs"):
        archive.record(run_id, {**rec, "colour": "red"})
    archive.record(run_id, rec)  # what it wrote round-trips unchanged
    assert _manifest(root)["runs"][run_id] == rec  # type: ignore[index]


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An archive whose first four records do not validate and one whose numbers came as
    strings (which validate), and the site built from it."""
    tmp = tmp_path_factory.mktemp("odd")
    root = synthetic.generate(tmp, 40)
    manifest = _manifest(root)
    runs = manifest["runs"]
    assert isinstance(runs, dict)
    ids = sorted(runs)
    del runs[ids[0]]["client"]
    runs[ids[1]]["mtu"] = "jumbo"
    runs[ids[2]] = ["not", "a", "record"]
    runs[ids[3]].update(status="failed")  # a reason is needed
    stream_id = next(k for k in ids[4:] if runs[k]["test"] == "stream")
    runs[stream_id]["streams"], runs[stream_id]["message_size"] = "4", "1000"
    (root / "manifest.json").write_text(json.dumps(manifest))
    command.report([str(root)], tmp / "site", tmp)
    return {"root": root, "bad": ids[:4], "stream_id": stream_id, "site": tmp / "site"}


def test_a_bad_record_is_a_problem_of_its_run_named_on_the_site(odd: dict[str, Any]) -> None:
    ids = odd["bad"]
    df = table([load(odd["root"])])
    why = dict(zip(df["run_id"], df["reason"], strict=True))
    assert (df.set_index("run_id").loc[ids, "status"] == "unparseable").all()
    assert why[ids[0]] == "record: client: Field required"
    assert why[ids[1]].startswith("record: mtu: Input should be a valid integer")
    assert why[ids[2]].startswith("record: Input should be a valid dictionary")
    assert "needs a reason" in why[ids[3]]
    assert (df.set_index("run_id").drop(ids)["status"] == "ok").all()
    problems = (odd["site"] / "problems.html").read_text()
    assert "record: client: Field required" in problems and ids[1] in problems


def test_a_version_1_archive_is_migrated_and_a_newer_one_refused(tmp_path: Path) -> None:
    root = synthetic.generate(tmp_path, 20)
    manifest = _manifest(root)
    runs = manifest["runs"]
    assert isinstance(runs, dict)
    for rec in runs.values():
        del rec["topology"]  # the oldest version-1 records had none
    (root / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 1}))
    read = read_manifest(root)
    assert read["schema_version"] == SCHEMA_VERSION == max(MIGRATIONS) + 1
    assert all(rec["topology"] == {} for rec in read["runs"].values())
    assert (table([load(root)], cache=False)["status"] == "ok").all()
    assert _manifest(root)["schema_version"] == 1  # read, not rewritten
    (root / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 3}))
    with pytest.raises(BenchError, match="schema_version 3 is unknown"):
        read_manifest(root)


@pytest.mark.parametrize(("key", "value", "said"), [
    ("plan", 5, "plan: Input should be a valid list"),
    ("state", "paused", "state: Input should be 'running', 'stopped' or 'complete'"),
    ("host_state", {"lab-a": {"mtu": 1500}}, "host_state.lab-a.data_if: Field required"),
    ("campaign", None, "campaign: Input should be a valid dictionary"),
    ("color", "blue", "color: Extra inputs are not permitted"),
])
def test_a_manifest_that_does_not_validate_is_refused_naming_the_key(
        tmp_path: Path, key: str, value: object, said: str) -> None:
    root = synthetic.generate(tmp_path, 4)
    (root / "manifest.json").write_text(json.dumps({**_manifest(root), key: value}))
    with pytest.raises(BenchError) as caught:
        load(root)
    assert f"{root}: manifest.json: {said}" in caught.value.message
    assert "restore manifest.json" in caught.value.hint


def test_the_documented_schema_is_the_models() -> None:
    doc = records.SCHEMA_DOC.read_text()
    start, end = f"<!-- {records.SCHEMA_SECTION} -->", f"<!-- /{records.SCHEMA_SECTION} -->"
    block = doc.split(start, 1)[1].split(end, 1)[0].strip()
    assert block == records.schema_section(), "run `python -m collector.records --doc`"


def test_the_reporter_loads_without_the_ssh_stack() -> None:
    code = ("import reporter.site, reporter.tidy, sys; "
            "assert not any(m.split('.')[0] in {'fabric', 'paramiko', 'invoke'} "
            "for m in sys.modules), sorted(m for m in sys.modules if 'collector' in m)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_a_value_that_validates_is_read_as_its_type(odd: dict[str, Any]) -> None:
    """Found by `invoke fuzz.site`: a record saying `"streams": "4"` validates (pydantic reads
    it as 4), so the table must hold 4, not the string, or comparing flows breaks the build."""
    df = table([load(odd["root"])])
    row = df[df["run_id"] == odd["stream_id"]].iloc[0]
    assert row["status"] == "ok" and row["streams"] == 4 and row["message_size"] == 1000
    assert all(isinstance(v, int) for v in df["streams"])
    assert (odd["site"] / "streams.html").is_file()  # 4 flows beside 1 on that path
