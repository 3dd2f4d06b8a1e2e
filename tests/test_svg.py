"""The static SVGs: drawn by vl-convert in processes that serve every build of one process,
each distinct chart once; a chart that cannot be drawn is a clear error, and the next build
still draws."""

from pathlib import Path

import pytest

from collector.errors import BenchError
from reporter import svg


def _bars(height: int) -> dict[str, object]:
    return {"data": {"values": [{"path": "bare", "gbps": height}]}, "mark": "bar",
            "encoding": {"x": {"field": "path", "type": "nominal"},
                         "y": {"field": "gbps", "type": "quantitative"}}}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DPB_REPORT_CACHE", str(tmp_path / "cache"))
    return svg.cache_dir()


def test_builds_of_one_process_share_the_drawing_processes(cache: Path, tmp_path: Path) -> None:
    with svg.Drawer() as first:
        names = first.submit([_bars(1), _bars(2), _bars(1)])
        first.finish(tmp_path / "one")
    assert names[0] == names[2] != names[1]
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == sorted(set(names))
    assert all("<svg" in (cache / n).read_text()[:500] for n in names)
    service = svg._service
    assert service is not None and service.alive()
    pids = [p.pid for p in service.procs]

    with svg.Drawer() as again:  # drawn before: nothing to draw, nothing queued
        assert again.submit([_bars(2)]) == [names[1]]
        again.finish(tmp_path / "two")
    assert (tmp_path / "two" / names[1]).read_bytes() == (cache / names[1]).read_bytes()
    with svg.Drawer() as third:  # a new chart: the same processes draw it
        third.submit([_bars(3)])
        third.finish(tmp_path / "three")
    assert svg._service is service and [p.pid for p in service.procs] == pids
    assert not list(service.jobs.glob("*.json")) and not list(service.jobs.glob("*.[0-9]*"))


def test_a_chart_that_cannot_be_drawn_is_a_clear_error(cache: Path, tmp_path: Path) -> None:
    broken = {"data": {"values": [{"a": 1}]}, "mark": "no-such-mark"}
    with svg.Drawer() as drawer:
        drawer.submit([_bars(4), broken])
        with pytest.raises(BenchError, match=r"drawing the static SVGs failed \(1 of 2 not "
                                             r"drawn") as caught:
            drawer.finish(tmp_path / "site")
    assert svg._name(svg._text(broken)) in caught.value.message  # which chart, and why
    with svg.Drawer() as next_build:
        next_build.submit([_bars(5)])
        next_build.finish(tmp_path / "next")
    assert len(list((tmp_path / "next").iterdir())) == 1
