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


def say(message: str) -> None:
    console.print(message, markup=False)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a BenchError into a clean message on stderr and the error's exit status."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise Exit(code=int(exc.status)) from exc
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise Exit(code=130) from None

    return wrapper
