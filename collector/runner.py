"""One run: start the server, wait until it listens, run the client while both hosts snapshot
/proc/stat around the measurement window, stop the server, keep every byte of output."""

import contextlib
import secrets
import shlex
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from . import cpu, tcp_counters
from .archive import Archive, utc_now
from .endpoint import Endpoint
from .errors import BenchError
from .remote import Remote, Result
from .tools import Invocation

READY_TIMEOUT_S = 10
SERVER_EXIT_WAIT_S = 3.0  # for servers that serve one test: time to exit and flush output
TIMEOUT_EXIT_CODES = (124, 137)  # coreutils timeout: TERM, then KILL
# Alive and not a zombie: an orphaned server is reaped by PID 1, which may take its time.
ALIVE = ("alive() { s=$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -c1); "
         "[ -n \"$s\" ] && [ \"$s\" != Z ]; }; ")


@dataclass(frozen=True)
class RunContext:
    archive: Archive
    remotes: tuple[Remote, ...]    # hosts 0 and 1, then VMs (see Endpoint)
    workdirs: tuple[str, ...]
    path_mtus: dict[str, int]


def start_server(remote: Remote, workdir: str, ep: Endpoint, argv: list[str]) -> int:
    line = (f"cd {shlex.quote(workdir)} && rm -f server.out server.err && "
            f"setsid {shlex.join(ep.wrap(argv))} >server.out 2>server.err </dev/null & "
            f"echo $! > {shlex.quote(workdir)}/server.pid; echo $!")
    return int(remote.check(["sh", "-c", line], timeout=15).strip())


def wait_listening(remote: Remote, ep: Endpoint, port: int, pid: int) -> str | None:
    """None once the port listens; else why not (the server died, or it took too long)."""
    tries = int(READY_TIMEOUT_S / 0.02)
    loop = (f"{ALIVE}i=0; while [ $i -lt {tries} ]; do "
            f"ss -Hltn 'sport = :{port}' | grep -q . && exit 0; "
            f"alive {pid} || exit 3; sleep 0.02; i=$((i+1)); done; exit 4")
    res = remote.run(ep.wrap(["sh", "-c", loop]), timeout=READY_TIMEOUT_S + 10)
    if res.exit_code == 0:
        return None
    return ("the server exited before listening" if res.exit_code == 3
            else f"the server did not listen on port {port} within {READY_TIMEOUT_S} s")


def stop_server(remote: Remote, workdir: str, pid: int, wait_s: float) -> tuple[str, str]:
    marker = f"--- dataplane-bench {secrets.token_hex(8)} ---"
    tries = int(wait_s / 0.02)
    # Servers that serve one test (iperf3 -1) get wait_s to exit and flush their output; the
    # rest (qperf loops forever) are killed at once: they hold no state worth a clean exit.
    line = (f"{ALIVE}i=0; while [ $i -lt {tries} ] && alive {pid}; do sleep 0.02; "
            f"i=$((i+1)); done; kill -9 {pid} 2>/dev/null; "
            f"cd {shlex.quote(workdir)} && rm -f server.pid && cat server.out; "
            f"echo; echo {shlex.quote(marker)}; cat server.err")
    out = remote.check(["sh", "-c", line], timeout=wait_s + 20)
    stdout, _, stderr = out.partition(f"\n{marker}\n")
    return stdout.removesuffix("\n"), stderr


def kill_leftover_server(remote: Remote, workdir: str) -> None:
    """After a kill -9 of the collector: stop the server a previous attempt left running."""
    pidfile = shlex.quote(f"{workdir}/server.pid")
    remote.run(["sh", "-c", f"[ -f {pidfile} ] && kill -9 \"$(cat {pidfile})\" 2>/dev/null; "
                f"rm -f {pidfile}; true"], timeout=15)


def _reason(res: Result) -> str:
    if res.timed_out or res.exit_code in TIMEOUT_EXIT_CODES:
        return "the client did not finish within the run timeout"
    text = (res.stderr.strip() or res.stdout.strip())
    for line in text.splitlines():
        if "error" in line.lower() or "fail" in line.lower():
            return line.strip()[:300]
    return (text.splitlines()[0][:300] if text else f"exit code {res.exit_code}")


def execute(ctx: RunContext, run_id: str, inv: Invocation, client: Endpoint,
            server: Endpoint, window_s: float, timeout_s: int,
            base_record: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement and archive it; return the run's record."""
    run_dir = ctx.archive.run_dir(run_id)
    rel = run_dir.relative_to(ctx.archive.root).as_posix()
    srv_remote = ctx.remotes[server.runs_on]
    record: dict[str, Any] = {**base_record, "status": "running", "start_utc": utc_now(),
                              "path_mtus": ctx.path_mtus, "files": {}}
    client_argv = ["timeout", "-k", "2", str(timeout_s), *client.wrap(inv.client)]
    record["commands"] = {"server": shlex.join(server.wrap(inv.server)),
                          "client": shlex.join(client_argv)}

    workdir = ctx.workdirs[server.runs_on]
    pid = start_server(srv_remote, workdir, server, inv.server)
    client_res: Result | None = None
    try:
        problem = wait_listening(srv_remote, server, inv.listen_port, pid)
        if problem is None:
            client_res = _measure(ctx, rel, record, inv, client, server, client_argv,
                                  window_s, timeout_s)
    except BaseException:
        # Interrupted, a host lost, the archive's disk full: the server must not outlive us.
        with contextlib.suppress(BenchError):
            stop_server(srv_remote, workdir, pid, 0.0)
        raise
    srv_out, srv_err = stop_server(srv_remote, workdir, pid,
                                   SERVER_EXIT_WAIT_S if inv.server_exits else 0.0)
    for name, text in (("server.stdout", srv_out), ("server.stderr", srv_err)):
        ctx.archive.write(f"{rel}/{name}", text)
        record["files"][name.replace(".", "_")] = f"{rel}/{name}"
    record["end_utc"] = utc_now()
    if client_res is None:
        record.update(status="failed", reason=problem or "server did not start",
                      exit_codes={"client": None})
        return record
    for name, text in (("client.stdout", client_res.stdout), ("client.stderr",
                                                               client_res.stderr)):
        ctx.archive.write(f"{rel}/{name}", text)
        record["files"][name.replace(".", "_")] = f"{rel}/{name}"
    record["exit_codes"] = {"client": client_res.exit_code}
    if client_res.ok:
        record.update(status="ok", reason="")
    elif client_res.timed_out or client_res.exit_code in TIMEOUT_EXIT_CODES:
        record.update(status="timeout", reason=_reason(client_res))
    else:
        record.update(status="failed", reason=_reason(client_res))
    return record


def _measure(ctx: RunContext, rel: str, record: dict[str, Any], inv: Invocation,
             client: Endpoint, server: Endpoint, client_argv: list[str], window_s: float,
             timeout_s: int) -> Result:
    """The client, with a CPU sampler on every kernel involved and a TCP counter sampler in
    each endpoint's namespace, over the same window; the snapshots are archived."""
    kernels = sorted(set(client.cpu_kernels) | set(server.cpu_kernels))
    timeout = inv.window_offset_s + window_s + 30
    with ThreadPoolExecutor(max_workers=3 + len(kernels)) as pool:
        samplers = {f"cpu-{ctx.remotes[k].host.name}": pool.submit(
            ctx.remotes[k].run, cpu.sampler_command(inv.window_offset_s, window_s),
            timeout=timeout) for k in kernels}
        for side, ep in (("client", client), ("server", server)):
            samplers[f"tcp-{side}"] = pool.submit(
                ctx.remotes[ep.runs_on].run,
                ep.wrap(tcp_counters.sampler_command(inv.window_offset_s, window_s)),
                timeout=timeout)
        client_res = pool.submit(ctx.remotes[client.runs_on].run, client_argv,
                                 timeout=timeout_s + 10).result()
        for name, fut in samplers.items():
            ctx.archive.write(f"{rel}/{name}.txt", fut.result().stdout)
            record["files"][name.replace("-", ":", 1)] = f"{rel}/{name}.txt"
    return client_res


def require_tools(remote: Remote, tools: list[str]) -> None:
    line = " ; ".join(f"command -v {shlex.quote(t)} >/dev/null || echo {shlex.quote(t)}"
                      for t in tools)
    missing = remote.check(["sh", "-c", line]).split()
    if missing:
        raise BenchError(f"{remote.host.describe()}: missing tool(s) {', '.join(missing)}",
                         "install them there (Debian: apt-get install qperf iperf3 iproute2 "
                         "iputils-ping ethtool procps coreutils)")
