"""Tarballs someone sent that would fill the disk: a bomb is refused as it unpacks, within its
budget, and a member over its bound is refused from its header, before a byte is written."""

import tarfile
from pathlib import Path

import pytest

from collector.errors import BenchError
from reporter import archive as reader


def _pack(tarball: Path, members: dict[str, int]) -> Path:
    """Members of zeros (they pack 1000:1, like a bomb)."""
    with tarfile.open(tarball, "w:gz") as tar:
        for name, size in members.items():
            info = tarfile.TarInfo(name)
            info.size = size
            with open("/dev/zero", "rb") as zeros:
                tar.addfile(info, zeros)
    return tarball


def test_a_tarball_bomb_is_refused_as_it_unpacks(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MIN_UNPACK_BUDGET", 1024 * 1024)
    bomb = _pack(tmp_path / "bomb.tar.gz", {f"c/runs/f{i}": 512 * 1024 for i in range(40)})
    scratch = tmp_path / "scratch"
    with pytest.raises(BenchError, match="unpacks to more than"):
        reader.load(bomb, scratch)
    written = sum(p.stat().st_size for p in scratch.rglob("*") if p.is_file())
    assert written <= 2 * 1024 * 1024  # stopped at the budget, not after inflating it all


def test_a_tarball_member_over_its_bound_is_refused_from_its_header(tmp_path: Path) -> None:
    bomb = _pack(tmp_path / "big.tar.gz", {"c/manifest.json": reader.MAX_MEMBER_BYTES + 1})
    with pytest.raises(BenchError, match="over the"):
        reader.load(bomb, tmp_path / "scratch")
    assert not any((tmp_path / "scratch").rglob("*.json"))
