"""Terminal output for the tasks: one rich console, and BenchError → message + exit status."""

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from invoke.exceptions import Exit
from rich.console import Console

from .errors import BenchError

console = Console(stderr=False, highlight=False)
P = ParamSpec("P")
R = TypeVar("R")


# Control characters but newline and tab (C0, DEL, C1): a name from an archive someone sent
# could otherwise move the cursor, recolour or rewrite a terminal or a CI log.
_CONTROLS = {c: "\ufffd" for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (9, 10)}


def printable(text: str) -> str:
    return text.translate(_CONTROLS)


def say(message: str) -> None:
    console.print(printable(message), markup=False)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a BenchError into a clean message on stderr and the error's exit status."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except BenchError as exc:
            print(printable(f"error: {exc}"), file=sys.stderr)
            raise Exit(code=int(exc.status)) from exc
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise Exit(code=130) from None

    return wrapper
