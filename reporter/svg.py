"""Static SVG copies of the charts: rendered once per distinct spec (cached by the spec's hash
in the user's cache, so a rebuild with unchanged figures renders nothing) and in parallel."""

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import vl_convert as vlc

from .cachedir import cache_root


def cache_dir() -> Path:
    return cache_root() / f"svg-{version('vl-convert-python')}"


def _render(spec_json: str, target: Path) -> None:
    svg = vlc.vegalite_to_svg(json.loads(spec_json))
    tmp = target.with_name(f".{target.name}.{os.getpid()}")
    tmp.write_text(svg)
    tmp.replace(target)


def _text(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True)


def _name(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20] + ".svg"


def names(specs: list[dict[str, Any]]) -> list[str]:
    """Each spec's file name: its hash, known before anything is drawn."""
    return [_name(_text(s)) for s in specs]


def render_all(specs: list[dict[str, Any]], out: Path) -> list[str]:
    """Write ``out/<hash>.svg`` for every spec; return the file names in order."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    texts = [_text(s) for s in specs]
    names = [_name(t) for t in texts]
    todo = {n: t for n, t in zip(names, texts, strict=True) if not (cache / n).is_file()}
    if todo:
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            list(pool.map(lambda item: _render(item[1], cache / item[0]), todo.items()))
    for name in dict.fromkeys(names):
        target = out / name
        try:
            os.link(cache / name, target)
        except OSError:
            target.write_bytes((cache / name).read_bytes())
    return names
