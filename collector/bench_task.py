"""A benchmark as an invoke task: `bench.NAME` measures, writes its section of a docs page
(collector/benchdoc.py), and says the figures. tasks.py lists the benchmarks."""

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from invoke.context import Context
from invoke.tasks import Task, task

from . import benchdoc
from .console import say, user_errors

Measured = tuple[str, list[str]]  # (the section's Markdown, lines to say)
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Bench:
    name: str  # the task is bench.NAME; its section in ``doc`` is <!-- bench.NAME -->
    summary: str  # `invoke --list`'s line
    measure: Callable[..., Measured]
    options: dict[str, tuple[Any, str]] = field(default_factory=dict)  # name → (default, help)
    doc: Path = benchdoc.BENCHMARKS_MD


def bench_task(bench: Bench) -> Task:  # type: ignore[type-arg]
    def body(c: Context, **options: Any) -> None:
        section, said = bench.measure(**options)
        benchdoc.write_section(f"bench.{bench.name}", section, bench.doc)
        for line in said:
            say(line)
        say(f"written to {bench.doc}")

    # Invoke reads a task's options from its signature.
    body.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("c", inspect.Parameter.POSITIONAL_OR_KEYWORD),
         *(inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default,
                             annotation=type(default))
           for name, (default, _) in bench.options.items())])
    body.__name__ = f"bench_{bench.name.replace('-', '_')}"
    doc = bench.doc.relative_to(REPO) if bench.doc.is_relative_to(REPO) else bench.doc
    body.__doc__ = f"Benchmark: {bench.summary}; writes {doc}."
    helps = {name.replace("_", "-"): text for name, (_, text) in bench.options.items()}
    return task(help=helps)(user_errors(body))  # type: ignore[no-any-return]
