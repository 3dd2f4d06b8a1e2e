"""A campaign of node pairs someone sent, whose host names are payloads: they name pairs on
the Node pairs page, in every figure page's pair picker, and the picked pair's pages. Each
reads as the text it is, no page holds live markup, Chromium runs nothing, and a pair's pages
are named by a hash of such names (never by the names themselves). The site is built by the
real pipeline from a synthetic campaign (raw files from the real tools' fixtures)."""

import json
from pathlib import Path
from typing import Any

import pytest

from collector.archive import Archive
from reporter import command, pair_pages, synthetic

from .helpers import CHROMIUM
from .hostile import in_chromium, live, shown, site_pages, visible

RUNS = 51  # 17 cells × 3 runs, split between the two pairs
HOST = "<h onclick=alert(7)>"
PAIRS = (f"lab-a~{HOST}", "[p](javascript:alert(13)){: onclick=alert(14) }~lab-a")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-pairs")
    paired = synthetic.generate(root / "archives", RUNS, name="paired",
                                paths=(("bare", "host-host"),), mtus=(1500,), seed=3)
    manifest: dict[str, Any] = json.loads((paired / "manifest.json").read_text())
    for i, run in enumerate(manifest["runs"].values()):
        run["pair"] = PAIRS[i % 2]
    (paired / "manifest.json").write_text(json.dumps(manifest))
    Archive(paired, manifest).write_sums()
    command.report([str(paired)], root / "site", root)
    return root / "site"


def test_pair_names_read_as_text_and_name_no_file(site: Path) -> None:
    labels = [shown(p.replace("~", " → ")) for p in PAIRS]
    assert all(label in visible(site / "node-pairs.html") for label in labels)
    picked = [p for p in site_pages(site) if ".pair-" in p.name]
    tokens = {p.name.split(".pair-")[1] for p in picked}
    assert len(tokens) == 1 and tokens < {f"{pair_pages.token(p)}.html" for p in PAIRS}
    assert all(label in visible(picked[0]) for label in labels)  # its picker
    for page in site_pages(site):
        text = page.read_text()
        assert live(page) == [], page.name
        assert HOST not in text, page.name


def test_no_pair_page_runs_anything_in_chromium(site: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium missing")
    found, dialogs = in_chromium(site, only="pair")  # Node pairs and the picked pair's pages
    assert "node-pairs.html" in found and any(".pair-" in name for name in found)
    assert {page: attrs for page, attrs in found.items() if attrs} == {}
    assert dialogs == []
