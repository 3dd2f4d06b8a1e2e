"""The bench tasks are one table (tasks.BENCHES): each is a task of the CLI with its options
and their help, and a run writes its section of its docs page and says its figures."""

from pathlib import Path

import pytest

import tasks
from collector.bench_task import Bench, Measured, bench_task

from .helpers import invoke


def test_every_bench_is_a_task_with_its_options() -> None:
    collection = tasks.ns.collections["bench"]
    assert sorted(collection.tasks) == sorted(b.name for b in tasks.BENCHES)
    for bench in tasks.BENCHES:
        arguments = {a.name: a for a in collection.tasks[bench.name].get_arguments()}
        assert {n: (a.default, a.help) for n, a in arguments.items()} == bench.options, \
            bench.name
    shown = invoke("--help", "bench.tools")  # as a user sees it
    assert shown.returncode == 0, shown.stderr
    assert "csrc programs vs qperf and sockperf" in shown.stdout
    assert "--pairs=INT" in shown.stdout and "--lab-id=STRING" in shown.stdout


def test_a_bench_writes_its_section_and_says_its_figures(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n<!-- bench.probe -->\nold\n<!-- /bench.probe -->\n")

    def measure(times: int) -> Measured:
        return f"measured {times} times", [f"{times} times"]

    body = bench_task(Bench("probe", "a probe", measure, {"times": (3, "how often")}, doc)).body
    body(None, times=4)
    assert doc.read_text() == ("# Benchmarks\n\n<!-- bench.probe -->\nmeasured 4 times\n"
                               "<!-- /bench.probe -->\n")
    said = capsys.readouterr().out
    assert "4 times" in said and "written to" in said
