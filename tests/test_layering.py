"""Data flows one way: the collector imports nothing of the reporter's (nor the statistics
stack it brings), so a campaign on a user's hosts never loads pandas or scipy; whoever needs
both halves (tasks.py) hands the collector what it needs of the reporter."""

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLLECTOR = REPO / "collector"
FORBIDDEN = ("reporter", "pandas", "scipy", "altair", "numpy")


def test_no_collector_module_imports_the_reporter() -> None:
    found = []
    for path in sorted(COLLECTOR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level \
                else []
            found += [f"{path.relative_to(REPO)}: {n}" for n in names
                      if n.split(".")[0] in FORBIDDEN]
    assert found == []


def test_importing_every_collector_module_loads_no_reporter_or_statistics() -> None:
    code = ("import pkgutil, importlib, sys, collector\n"
            "for m in pkgutil.walk_packages(collector.__path__, 'collector.'):\n"
            "    importlib.import_module(m.name)\n"
            "import collector.collect, collector.command\n"
            f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r})\n"
            "print(len([n for n in sys.modules if n.startswith('collector.')]), bad)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, timeout=120, check=True)
    count, bad = proc.stdout.split(" ", 1)
    assert int(count) > 40 and bad.strip() == "[]", proc.stdout


MAX_LINES = 400


def test_no_module_is_over_400_lines() -> None:
    """Small, single-purpose modules: a module past this has grown a second job."""
    paths = [REPO / "tasks.py"]
    for folder in ("collector", "reporter", "tests"):
        paths += sorted((REPO / folder).rglob("*.py"))
    long = [f"{p.relative_to(REPO)}: {n}" for p in paths
            if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert long == []
