"""docs/benchmarks.md: each benchmark owns one marked section of it, with the machine it ran on.
Standard library only, so the reporter's benchmark can use it without the collector's SSH
stack."""

import os
import platform
import re
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = ("# Benchmarks\n\nFigures measured on the machine named in each section; every "
          "section gives the command that reproduces it.\n")


def write_section(name: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    text = path.read_text() if path.is_file() else HEADER
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    section = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else (
        text.rstrip() + "\n\n" + section + "\n")
    path.write_text(text)


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} x {cpu}, Linux {platform.release()}"
