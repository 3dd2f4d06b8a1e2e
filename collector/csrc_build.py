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
            f"make -C {shlex.quote(src)} 2>&1")
    res = remote.run(["sh", "-c", line], timeout=300)
    log = res.stdout + res.stderr
    if not res.ok:
        raise BenchError(f"{remote.host.describe()}: building csrc failed:\n{log[-1500:]}")
    return f"{src}/build", log
