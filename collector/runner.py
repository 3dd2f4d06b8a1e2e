"""One run: start the server, wait until it listens, run the client while both hosts snapshot
/proc/stat around the measurement window, stop the server, keep every byte of output."""

import contextlib
import secrets
import shlex
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from . import cpu, tcp_counters
from .archive import Archive, utc_now
from .endpoint import Endpoint
from .errors import BenchError
from .plan import Run
from .records import Commands, CpuAffinity, EndpointRecord, ExitCodes, RunRecord
from .remote import Remote, Result
from .tools import Invocation
from .tuning import UNTUNED

READY_TIMEOUT_S = 10
SERVER_EXIT_WAIT_S = 3.0  # for servers that serve one test: time to exit and flush output
TIMEOUT_EXIT_CODES = (124, 137)  # coreutils timeout: TERM, then KILL
# Alive and not a zombie: an orphaned server is reaped by PID 1, which may take its time.
# Shell builtins only: on a slow host (an emulated one) every fork in a poll loop counts.
ALIVE = ("alive() { read -r s 2>/dev/null </proc/$1/stat || return 1; s=${s##*) }; "
         "[ \"${s%% *}\" != Z ]; }; ")


@dataclass(frozen=True)
class RunContext:
    """What every run of one build shares."""

    archive: Archive
    path_mtus: dict[str, int]   # read back from every interface on the path, after the build
    window_s: float             # the measuring window, warm-up excluded
    timeout_s: int              # the client's, whatever the tool
    # Pairs measured together: waits, once the server listens (or could not), until every
    # pair's server does, so that their clients start at one time.
    in_step: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class Job:
    """One run to make: the tool's command lines between two endpoints, and what its record
    says before it starts (the run, the endpoints, the build's facts)."""

    run: Run
    invocation: Invocation
    client: Endpoint
    server: Endpoint
    duration_s: int
    topology: dict[str, str]
    cpu_affinity: CpuAffinity | None = None  # the CPUs the invocation pins its tools to

    @property
    def run_id(self) -> str:
        return self.run.run_id

    def record(self, **outcome: Any) -> RunRecord:
        """The run's record: what the job says, and ``outcome`` (status, times, files…)."""
        kernels = {*self.client.cpu_kernels, *self.server.cpu_kernels}
        cell = asdict(self.run.cell)
        if cell["tuning"] == UNTUNED:  # as records were before the tuning axis
            del cell["tuning"]
        if not cell["pair"]:  # a two-host campaign's, as before node pairs
            del cell["pair"]
        return RunRecord(
            run_id=self.run_id, cell_id=self.run.cell.cell_id, **cell,
            repetition=self.run.repetition,
            **({"cpu_affinity": self.cpu_affinity} if self.cpu_affinity else {}),
            client=EndpointRecord.model_validate(self.client.to_json()),
            server=EndpointRecord.model_validate(self.server.to_json()),
            duration_s=self.duration_s, warmup_s=self.invocation.window_offset_s,
            cpu_hosts=sorted(k.name for k in kernels), topology=self.topology, **outcome)


def start_server(remote: Remote, workdir: str, ep: Endpoint, argv: list[str]) -> int:
    line = (f"cd {shlex.quote(workdir)} && rm -f server.out server.err && "
            f"setsid {shlex.join(ep.wrap(argv))} >server.out 2>server.err </dev/null & "
            f"echo $! > {shlex.quote(workdir)}/server.pid; echo $!")
    return int(remote.check(["sh", "-c", line], timeout=15).strip())


def wait_listening(remote: Remote, ep: Endpoint, port: int, pid: int,
                   protocol: str = "tcp", more_ports: tuple[int, ...] = ()) -> str | None:
    """None once every port listens (TCP listeners, or a bound UDP socket); else why not (the
    server died, or it took too long)."""
    kind = "u" if protocol == "udp" else "t"
    listening = " && ".join(f"ss -Hl{kind}n 'sport = :{p}' | grep -q ." for p in (port,
                                                                             *more_ports))
    # Bounded by time (`timeout`), not by a count of polls: a poll's cost varies 100-fold
    # between a server and an emulated guest.
    loop = (f"{ALIVE}while :; do {{ {listening}; }} && exit 0; "
            f"alive {pid} || exit 3; sleep 0.02; done")
    res = remote.run(ep.wrap(["timeout", f"{READY_TIMEOUT_S}", "sh", "-c", loop]),
                     timeout=READY_TIMEOUT_S + 10)
    if res.exit_code == 0:
        return None
    return ("the server exited before listening" if res.exit_code == 3
            else f"the server did not listen on port {port} within {READY_TIMEOUT_S} s")


def stop_server(remote: Remote, workdir: str, pid: int, wait_s: float) -> tuple[str, str]:
    marker = f"--- dataplane-bench {secrets.token_hex(8)} ---"
    # Servers that serve one test (iperf3 -1) get wait_s to exit and flush their output; the
    # rest (qperf loops forever) are killed at once: they hold no state worth a clean exit.
    # setsid made the server a process group of its own: what it started goes with it.
    wait = shlex.quote(f"{ALIVE}while alive {pid}; do sleep 0.02; done")
    line = ((f"timeout {wait_s:g} sh -c {wait}; " if wait_s > 0 else "")  # 0 would be forever
            + f"kill -9 -- -{pid} 2>/dev/null; kill -9 {pid} 2>/dev/null; "
            f"cd {shlex.quote(workdir)} && rm -f server.pid && cat server.out; "
            f"echo; echo {shlex.quote(marker)}; cat server.err")
    out = remote.check(["sh", "-c", line], timeout=wait_s + 20)
    stdout, _, stderr = out.partition(f"\n{marker}\n")
    return stdout.removesuffix("\n"), stderr


def kill_leftover_server(remote: Remote, workdir: str) -> None:
    """After a kill -9 of the collector: stop the server a previous attempt left running —
    by its pid file, and by its working directory, which is the work dir (every server starts
    there): that finds it also when the pid file went with the folder (a cleanup that ran while
    it could not be reached), and whatever it started too."""
    pidfile = shlex.quote(f"{workdir}/server.pid")
    here, gone = shlex.quote(workdir), shlex.quote(f"{workdir} (deleted)")
    remote.run(["sh", "-c", f"[ -f {pidfile} ] && kill -9 \"$(cat {pidfile})\" 2>/dev/null; "
                f"rm -f {pidfile}; for p in /proc/[0-9]*; do "
                f"case \"$(readlink \"$p/cwd\" 2>/dev/null)\" in {here}|{gone}) "
                f"kill -9 \"${{p#/proc/}}\" 2>/dev/null;; esac; done; true"], timeout=15)


def _reason(res: Result) -> str:
    if res.timed_out or res.exit_code in TIMEOUT_EXIT_CODES:
        return "the client did not finish within the run timeout"
    text = (res.stderr.strip() or res.stdout.strip())
    for line in text.splitlines():
        if "error" in line.lower() or "fail" in line.lower():
            return line.strip()[:300]
    return (text.splitlines()[0][:300] if text else f"exit code {res.exit_code}")


def execute(ctx: RunContext, job: Job) -> RunRecord:
    """Run one measurement and archive its outputs; return the run's record."""
    inv, client, server = job.invocation, job.client, job.server
    run_dir = ctx.archive.run_dir(job.run_id)
    rel = run_dir.relative_to(ctx.archive.root).as_posix()
    srv = server.runs_on
    start_utc = utc_now()
    files: dict[str, str] = {}
    client_argv = ["timeout", "-k", "2", str(ctx.timeout_s), *client.wrap(inv.client)]
    commands = Commands(server=shlex.join(server.wrap(inv.server)),
                        client=shlex.join(client_argv))

    pid = start_server(srv.remote, srv.workdir, server, inv.server)
    client_res: Result | None = None
    try:
        problem = wait_listening(srv.remote, server, inv.listen_port, pid, inv.listen_protocol,
                                 inv.more_ports)
        ctx.in_step()
        if problem is None:
            client_res = _measure(ctx, job, client_argv, f"{rel}/", files)
    except BaseException:
        # Interrupted, a host lost, the archive's disk full: the server must not outlive us.
        with contextlib.suppress(BenchError):
            stop_server(srv.remote, srv.workdir, pid, 0.0)
        raise
    srv_out, srv_err = stop_server(srv.remote, srv.workdir, pid,
                                   SERVER_EXIT_WAIT_S if inv.server_exits else 0.0)
    _keep(ctx.archive, rel, files, (("server.stdout", srv_out), ("server.stderr", srv_err)))
    end_utc = utc_now()
    known = {"start_utc": start_utc, "end_utc": end_utc, "path_mtus": ctx.path_mtus,
             "files": files, "commands": commands}
    if client_res is None:
        return job.record(status="failed", reason=problem or "server did not start",
                          exit_codes=ExitCodes(client=None), **known)
    _keep(ctx.archive, rel, files, (("client.stdout", client_res.stdout),
                                    ("client.stderr", client_res.stderr)))
    if client_res.ok:
        status, reason = "ok", ""
    elif client_res.timed_out or client_res.exit_code in TIMEOUT_EXIT_CODES:
        status, reason = "timeout", _reason(client_res)
    else:
        status, reason = "failed", _reason(client_res)
    return job.record(status=status, reason=reason,
                      exit_codes=ExitCodes(client=client_res.exit_code), **known)


def _keep(archive: Archive, rel: str, files: dict[str, str],
          outputs: tuple[tuple[str, str], ...]) -> None:
    """Archive each output under the run's folder and list it in ``files``."""
    for name, text in outputs:
        archive.write(f"{rel}/{name}", text)
        files[name.replace(".", "_")] = f"{rel}/{name}"


def _measure(ctx: RunContext, job: Job, client_argv: list[str], prefix: str,
             files: dict[str, str]) -> Result:
    """The client, with a CPU sampler on every kernel involved and a TCP counter sampler in
    each endpoint's namespace, over the same window; the snapshots are archived under
    ``prefix`` and listed in ``files``."""
    inv, client, server = job.invocation, job.client, job.server
    kernels = dict.fromkeys((*client.cpu_kernels, *server.cpu_kernels))
    timeout = inv.window_offset_s + ctx.window_s + 30
    with ThreadPoolExecutor(max_workers=3 + len(kernels)) as pool:
        samplers = {f"cpu-{k.name}": pool.submit(
            k.remote.run, cpu.sampler_command(inv.window_offset_s, ctx.window_s),
            timeout=timeout) for k in sorted(kernels, key=lambda k: k.name)}
        for side, ep in (("client", client), ("server", server)):
            samplers[f"tcp-{side}"] = pool.submit(
                ep.runs_on.remote.run,
                ep.wrap(tcp_counters.sampler_command(inv.window_offset_s, ctx.window_s)),
                timeout=timeout)
        client_res = pool.submit(client.runs_on.remote.run, client_argv,
                                 timeout=ctx.timeout_s + 10).result()
        for name, fut in samplers.items():
            ctx.archive.write(f"{prefix}{name}.txt", fut.result().stdout)
            files[name.replace("-", ":", 1)] = f"{prefix}{name}.txt"
    return client_res


def require_tools(remote: Remote, tools: list[str]) -> None:
    line = " ; ".join(f"command -v {shlex.quote(t)} >/dev/null || echo {shlex.quote(t)}"
                      for t in tools)
    missing = remote.check(["sh", "-c", line]).split()
    if missing:
        raise BenchError(f"{remote.host.describe()}: missing tool(s) {', '.join(missing)}",
                         "install them there (Debian: apt-get install qperf iperf3 iproute2 "
                         "iputils-ping ethtool procps coreutils)")
