"""mkdocs runs in a process of its own that serves every build of one process: a failed
build (strict mode) is a clear error and leaves it serving; a runner that died is replaced."""

import os
import signal
from pathlib import Path

import pytest

from collector.errors import BenchError
from reporter import mkdocs_runner, publish


def _config(tmp: Path, text: str) -> Path:
    docs = tmp / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "index.md").write_text(text)
    return publish.mkdocs_yml(tmp, docs, "t", [{"x": "index.md"}])


def test_builds_share_one_runner_and_a_failure_leaves_it_serving(tmp_path: Path) -> None:
    publish.mkdocs_build(_config(tmp_path / "a", "# first\n"), tmp_path / "out-a")
    assert "first" in (tmp_path / "out-a" / "index.html").read_text()
    runner = mkdocs_runner._runner
    assert runner is not None
    bad = _config(tmp_path / "b", "# x\n\n[gone](missing.md)\n")
    with pytest.raises(BenchError, match=r"(?s)mkdocs build failed:.*missing\.md.*strict mode"):
        publish.mkdocs_build(bad, tmp_path / "out-b")
    publish.mkdocs_build(_config(tmp_path / "c", "# third\n"), tmp_path / "out-c")
    assert "third" in (tmp_path / "out-c" / "index.html").read_text()
    assert mkdocs_runner._runner is runner and runner.proc.poll() is None


def test_a_runner_that_died_is_replaced(tmp_path: Path) -> None:
    publish.mkdocs_build(_config(tmp_path / "a", "# one\n"), tmp_path / "out-a")
    runner = mkdocs_runner._runner
    assert runner is not None
    os.kill(runner.proc.pid, signal.SIGKILL)
    runner.proc.wait()
    with pytest.raises(BenchError, match=r"mkdocs build failed: its process ended \(exit -9\)"):
        runner.build(_config(tmp_path / "x", "# dead\n"), tmp_path / "out-x")
    publish.mkdocs_build(_config(tmp_path / "b", "# two\n"), tmp_path / "out-b")
    assert mkdocs_runner._runner is not runner
    assert "two" in (tmp_path / "out-b" / "index.html").read_text()
