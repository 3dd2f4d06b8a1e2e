"""Ship csrc/ to a host and build it there, once per campaign (the build log is archived)."""

import base64
import io
import shlex
import tarfile
from pathlib import Path

from .errors import BenchError
from .remote import Remote

CSRC = Path(__file__).resolve().parent.parent / "csrc"
SOURCES = ("Makefile", "*.c", "*.h")


def source_tarball() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for pattern in SOURCES:
            for path in sorted(CSRC.glob(pattern)):
                info = tar.gettarinfo(str(path), arcname=path.name)
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                with open(path, "rb") as f:
                    tar.addfile(info, f)
    return buf.getvalue()


def ship_and_build(remote: Remote, workdir: str) -> tuple[str, str]:
    """Unpack the sources in WORKDIR/csrc and run make; return (bin dir, build log)."""
    missing = remote.check(["sh", "-c", "for t in cc make base64 tar; do command -v $t "
                                        ">/dev/null || echo $t; done"]).split()
    if missing:
        raise BenchError(f"{remote.host.describe()}: cannot build csrc: {', '.join(missing)} "
                         "missing", "install a C compiler and make there (Debian: apt-get "
                         "install build-essential), or leave csrc out of the campaign's tools")
    src = f"{workdir}/csrc"
    payload = base64.b64encode(source_tarball()).decode()
    line = (f"rm -rf {shlex.quote(src)} && mkdir -p {shlex.quote(src)} && printf '%s' "
            f"{payload} | base64 -d | tar -xz -C {shlex.quote(src)} && "
            f"make -j\"$(nproc 2>/dev/null || echo 1)\" -C {shlex.quote(src)} 2>&1")
    res = remote.run(["sh", "-c", line], timeout=300)
    log = res.stdout + res.stderr
    if not res.ok:
        raise BenchError(f"{remote.host.describe()}: building csrc failed:\n{log[-1500:]}")
    return f"{src}/build", log


def can_build(remote: Remote) -> bool:
    """Whether the machine has a C compiler and make (a small VM image may not)."""
    return not remote.check(["sh", "-c", "for t in cc make; do command -v $t >/dev/null || "
                                         "echo $t; done"]).split()


def copy_binaries(src: Remote, bindir: str, dst: Remote, workdir: str) -> tuple[str, str]:
    """Copy the programs built on ``src`` (a VM's host) to ``dst``; return (bin dir, log)."""
    payload = src.check(["sh", "-c", f"tar -C {shlex.quote(bindir)} -cz . | base64 -w0"],
                        timeout=60).strip()
    target = f"{workdir}/csrc/build"
    line = (f"rm -rf {shlex.quote(target)} && mkdir -p {shlex.quote(target)} && printf '%s' "
            f"{payload} | base64 -d | tar -xz -C {shlex.quote(target)} && "
            f"{shlex.quote(target)}/dpb-stream --help >/dev/null && ls -l {shlex.quote(target)}")
    res = dst.run(["sh", "-c", line], timeout=120)
    log = (f"{dst.host.describe()} has no C compiler: the programs built on "
           f"{src.host.describe()} in {bindir} were copied in.\n{res.stdout}{res.stderr}")
    if not res.ok:
        raise BenchError(f"{dst.host.describe()}: copying csrc from {src.host.name} failed:\n"
                         f"{log[-1500:]}", "install cc and make there, or leave csrc out")
    return target, log
