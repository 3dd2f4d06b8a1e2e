"""Mutation fuzzing of what the reporter reads: a deterministic mutator (bit flips, deletions,
hostile tokens, truncations, repeated and shuffled chunks, typed JSON value changes), and the
whole-site run — mutated manifests of a campaign through `report`'s build, counted by how the
build took them. `invoke fuzz.site` writes the figures to docs/reliability.md."""

import contextlib
import io
import json
import os
import random
import shutil
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collector.errors import BenchError

from . import site, synthetic
from .archive import load

TOKENS = ["\0", "\n", "\r\n", "-", "-1", "0", "1e309", "nan", "NaN", "inf", "99999999999999999999",
          "{", "}", "[", "]", '"', ":", ",", "null", "true", "<script>alert(1)</script>",
          "../../etc/passwd", "### dataplane-bench cpu snapshot", "cpu ", "GB/sec", "us",
          "\u202e", "\ufeff", "é", " " * 300]
VALUES: list[Any] = [None, -1, 0, 1e308, "x", [], {}, True, "NaN", 2**70, -0.0, "<script>",
                     {"a": [1]}, "../../etc/passwd", "1500", 1.5]


def json_mutation(rng: random.Random, text: str) -> str | None:
    """One value of the JSON document replaced by a hostile one (or its key deleted)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return None
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else []
        for key, value in items:
            paths.append((node, key))
            walk(value)

    walk(doc)
    if not paths:
        return None
    node, key = rng.choice(paths)
    node[key] = rng.choice(VALUES)
    if rng.random() < 0.2 and isinstance(node, dict):
        del node[key]
    return json.dumps(doc)


def mutate(rng: random.Random, text: str) -> str:
    """1-4 mutations of ``text``, byte-level or (for JSON) typed."""
    data = list(text)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        pos = rng.randrange(len(data) + 1)
        if kind == 0 and data:  # flip a bit of one character
            i = rng.randrange(len(data))
            data[i] = chr((ord(data[i]) ^ (1 << rng.randrange(7))) or 1)
        elif kind == 1:
            del data[pos:pos + rng.randint(1, 64)]
        elif kind == 2:
            data[pos:pos] = list(rng.choice(TOKENS))
        elif kind == 3:
            data = data[:pos]
        elif kind == 4 and data:
            start = rng.randrange(len(data))
            data[pos:pos] = data[start:start + rng.randint(1, 400)]
        elif kind == 5:
            lines = "".join(data).splitlines(keepends=True)
            rng.shuffle(lines)
            data = list("".join(lines))
        else:
            mutated = json_mutation(rng, "".join(data))
            if mutated is not None:
                data = list(mutated)
    return "".join(data)


def typed_mutation(rng: random.Random, text: str) -> str:
    """1-3 typed JSON mutations: the manifest stays JSON, so the build gets past reading it
    and the bad values reach the records, the tables and the pages."""
    for _ in range(rng.randint(1, 3)):
        text = json_mutation(rng, text) or text
    return text


@dataclass
class Outcome:
    manifests: int = 0
    seconds: float = 0.0
    counts: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)  # the traceback's last lines, per crash


def _build(campaigns: list[Path], out: Path) -> int:
    """Build a site of ``campaigns``; the number of runs it lists under Problems."""
    loaded = [load(p) for p in campaigns]
    with contextlib.redirect_stdout(io.StringIO()):
        return int(site.build(loaded, out, out.parent / "work")["problems"])


def _one_by_one(batch: list[Path], work: Path, outcome: Outcome) -> None:
    for path in batch:
        try:
            outcome.counts["runs listed under Problems"] += _build([path], work / "one")
            outcome.counts["built"] += 1
        except BenchError:
            outcome.counts["refused with a clear error"] += 1
        except Exception:  # a crash: what the fuzzer is for
            outcome.crashes.append(f"{path.name}: " + traceback.format_exc()[-1500:])


def run(manifests: int, seed: int, batch_size: int = 50, runs: int = 0) -> Outcome:
    """``manifests`` mutated copies of a synthetic campaign (the real tools' captured outputs)
    — three in four typed JSON mutations, one in four byte-level — each read as an archive and
    built into a site, ``batch_size`` campaigns to a site; a batch refused as a whole is built
    again campaign by campaign so that every manifest is accounted for."""
    rng = random.Random(seed)  # noqa: S311 -- a reproducible fuzz, not a secret
    outcome = Outcome()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dpb-fuzz-") as tmp:
        work = Path(tmp)
        seed_root = synthetic.generate(work / "seed", runs or len(synthetic.cells()))
        text = (seed_root / "manifest.json").read_text()
        pending: list[Path] = []

        def flush() -> None:
            if not pending:
                return
            try:
                outcome.counts["runs listed under Problems"] += _build(pending, work / "site")
                outcome.counts["built"] += len(pending)
            except BenchError:  # one of them refused: which one, and did the others build?
                _one_by_one(pending, work, outcome)
            except Exception:  # a crash of the batch is a crash, whoever alone would build
                outcome.crashes.append(f"batch {pending[0].name}-{pending[-1].name}: "
                                       + traceback.format_exc()[-1500:])
                _one_by_one(pending, work, outcome)
            for path in pending:
                shutil.rmtree(path)
            pending.clear()

        for i in range(manifests):
            path = work / "campaigns" / f"m{i:05d}"
            shutil.copytree(seed_root, path, copy_function=os.link)  # raw files shared
            mutated = typed_mutation(rng, text) if rng.random() < 0.75 else mutate(rng, text)
            (path / "manifest.json").unlink()  # not the seed's: the link is broken first
            (path / "manifest.json").write_text(mutated)
            outcome.manifests += 1
            try:
                load(path)
            except BenchError:
                outcome.counts["refused with a clear error"] += 1
                shutil.rmtree(path)
                continue
            pending.append(path)
            if len(pending) >= batch_size:
                flush()
        flush()
    outcome.seconds = time.monotonic() - start
    return outcome


def section(outcome: Outcome, seed: int) -> str:
    """The figures for docs/reliability.md."""
    counts = outcome.counts
    crashes = (f"**{len(outcome.crashes)} tracebacks**" if outcome.crashes
               else "**0 tracebacks**")
    return f"""### Whole-site fuzzing

Reproduce: `.venv/bin/invoke fuzz.site --manifests {outcome.manifests} --seed {seed}` (no root
needed; about {outcome.seconds / 60:.0f} minutes here).

{outcome.manifests:,} mutated manifests of a synthetic campaign made of the real tools' captured
outputs — three in four with 1–3 typed JSON mutations (a value anywhere in the manifest, a run
record's included, replaced by a hostile one: null, -1, 10³⁰⁸, 2⁷⁰, "NaN", a list, a mapping,
`<script>`, `../../etc/passwd`, …, or its key deleted), one in four with byte-level ones (bit
flips, deletions, hostile tokens, truncations, repeated and shuffled chunks) — each read as an
archive and built into a site by the same `site.build` as `invoke report`, 50 campaigns to a
site (so Compare and History are built too), a batch that is refused as a whole built again
campaign by campaign:

| outcome | manifests |
| --- | ---: |
| built into a site | {counts["built"]:,} |
| refused with a clear error naming the archive | {counts["refused with a clear error"]:,} |
| **crashed (a traceback)** | {len(outcome.crashes)} |

{crashes}; the sites listed {counts["runs listed under Problems"]:,} runs under Problems (a
record that no longer validates, a figure that cannot be read) and built the rest.
"""
