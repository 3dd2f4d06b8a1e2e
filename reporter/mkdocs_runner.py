"""mkdocs builds in a process of their own (mkdocs and the theme's plugins keep global state
and log to the terminal), started with the first build and kept for every later build of the
same process: mkdocs, the theme and the Markdown extensions load once. A build is one JSON
line each way: the config and the output folder in, whether it built and what it said out.
`--strict` holds: any warning (an external asset, a broken link) fails the build."""

import contextlib
import json
import logging
import os
import re
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path
from typing import IO, Any

from collector.errors import BenchError

from .sidecar import SAID_CHARS, Sidecars

TIMEOUT_S = 1800
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _Runner(Sidecars):
    def __init__(self) -> None:
        super().__init__("reporter.mkdocs_runner", [], env={"NO_MKDOCS_2_WARNING": "1"},
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.proc = self.procs[0]
        self.lock = threading.Lock()

    def ask_to_end(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()  # the runner ends at the end of its input

    def build(self, config: Path, out: Path) -> None:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        with self.lock:
            try:
                stdin.write(json.dumps({"config": str(config), "out": str(out)}) + "\n")
                stdin.flush()
            except BrokenPipeError:  # it ended since it was last asked: said below
                line = ""
            else:
                timer = threading.Timer(TIMEOUT_S, self.proc.kill)
                timer.start()
                try:
                    line = stdout.readline()
                finally:
                    timer.cancel()
        if not line:
            raise BenchError(f"mkdocs build failed: its process ended (exit "
                             f"{self.proc.wait()}):\n{self.said()}")
        reply = json.loads(line)
        if not reply["ok"]:
            raise BenchError(f"mkdocs build failed:\n{reply['said']}")


_runner: _Runner | None = None


def start() -> None:
    """The shared runner started, if it is not: it loads mkdocs, the theme and the Markdown
    extensions while the site's pages are being made, not when they are ready."""
    global _runner
    if _runner is None or not _runner.alive() or not _runner.ours():
        _runner = _Runner()


def build(config: Path, out: Path) -> None:
    """`mkdocs build --strict -f CONFIG -d OUT`, in the shared runner process."""
    start()
    assert _runner is not None
    _runner.build(config, out.resolve())


def stop() -> None:
    """Stop the shared runner (the next build starts it again)."""
    global _runner
    if _runner is not None:
        _runner.close()
        _runner = None


def _one_environment_per_theme() -> None:
    """mkdocs makes a new Jinja environment for each build and compiles the theme's templates
    in it again (a third of a warm build); the theme's files do not change while the runner
    lives (mkdocs itself turns auto-reload off), so one environment per theme serves every
    build. Filters and translations are the same for every build of a theme; what a page
    needs comes in its render context."""
    from mkdocs.theme import Theme

    made: dict[tuple[tuple[str, ...], str], Any] = {}
    original = Theme.get_env

    def get_env(theme: Theme) -> Any:
        key = (tuple(theme.dirs), str(theme.locale))
        if key not in made:
            made[key] = original(theme)
        return made[key]

    Theme.get_env = get_env  # type: ignore[method-assign,assignment]


def _theme_files_listed_once() -> None:
    """mkdocs lists the theme's static files for each build by walking its folders (through
    Jinja's loader) and testing each name against a dozen patterns; the same files, build
    after build. The runner lists them once per theme and site layout, and each build adds
    those its docs folder does not override, as mkdocs does."""
    from mkdocs.structure.files import File, Files

    listed: dict[tuple[object, ...], list[tuple[str, str | None]]] = {}
    original = Files.add_files_from_theme

    def add_files_from_theme(files: Files, env: Any, config: Any) -> None:
        key = (tuple(config.theme.dirs), tuple(config.theme.static_templates))
        if key not in listed:
            probe = Files([])
            original(probe, env, config)
            listed[key] = [(f.src_uri, f.src_dir) for f in probe]
        for path, folder in listed[key]:
            if files.get_file_from_path(path) is None:
                files.append(File(path, folder, config.site_dir, config.use_directory_urls))

    Files.add_files_from_theme = add_files_from_theme  # type: ignore[method-assign,assignment]


def _serve(requests: IO[str], replies: IO[str]) -> int:
    """The runner: one build per line of input until it ends."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    _one_environment_per_theme()
    _theme_files_listed_once()

    logger = logging.getLogger("mkdocs")
    logger.setLevel(logging.INFO)
    logger.propagate = False  # what a build says goes back with its reply, not to stderr
    for line in requests:
        request = json.loads(line)
        said = StringIO()
        handler = logging.StreamHandler(said)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(levelname)s - %(message)s"))
        logger.addHandler(handler)
        try:
            config = load_config(request["config"], site_dir=request["out"], strict=True)
            mkdocs_build(config)
            ok = True
        except (Exception, SystemExit) as exc:  # mkdocs' Abort is a SystemExit
            print(f"{type(exc).__name__}: {exc}", file=said)
            ok = False
        finally:
            logger.removeHandler(handler)
        text = ANSI.sub("", said.getvalue())  # the theme's plugins colour their messages
        replies.write(json.dumps({"ok": ok, "said": text[-SAID_CHARS:]}) + "\n")
        replies.flush()
    return 0


if __name__ == "__main__":
    # Replies go to the real stdout; anything mkdocs or a plugin prints goes to stderr.
    with os.fdopen(os.dup(1), "w") as real_stdout:
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        sys.exit(_serve(sys.stdin, real_stdout))
