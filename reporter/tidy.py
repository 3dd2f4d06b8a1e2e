"""One row per run: the cell, the status, and every figure with its unit in the column name.

A raw file that cannot be parsed marks its run `unparseable` (with the reason) and the rest
goes on: bad input never breaks the report."""

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pandas as pd
from pydantic import ValidationError

from collector import records
from collector.errors import BenchError
from collector.records import RunRecord

from . import metrics, tidycache
from .archive import Campaign
from .parsers import ParseError, csrc, iperf3, procstat, qperf, tcpstat

PARALLEL_FROM = 2000  # runs; below this, worker start-up costs more than it saves
CELL_COLUMNS = ["configuration", "direction", "tool", "test", "message_size", "socket_buffer",
                "mtu", "streams", "tuning", "pair"]
# Records made before the streams axis ran one flow; a record without tuning is untuned; one
# without a pair is of a two-host campaign.
CELL_DEFAULTS = {"streams": 1, "tuning": "untuned", "pair": ""}
TCP_COLUMNS = list(metrics.TCP)
# data/runs.csv, in this order (docs/report.md says what each means); a figure a run did not
# measure is empty.
FIGURE_COLUMNS = metrics.RUN_FIGURES
RUN_COLUMNS = ["campaign", "run_id", "repetition", "status", "reason", *CELL_COLUMNS,
               *FIGURE_COLUMNS]


def run_figures(campaign: Campaign, rec: RunRecord) -> dict[str, Any]:
    """One ok run's figures from its raw files; ParseError (or BenchError, for a file that is
    not the archive's to read) says why not."""
    files = rec.files

    def raw(key: str) -> str:
        if key not in files:
            raise ParseError(f"no {key.replace('_', '.')} file")
        try:
            return campaign.read(files[key])
        except FileNotFoundError as exc:
            raise ParseError(f"{files[key]} is missing") from exc
        except OSError as exc:  # a name too long, a folder where a file should be, …
            raise ParseError(f"{str(files[key])[:200]!r}: cannot read it "
                             f"({exc.strerror or exc})") from exc

    for rel in files.values():  # every file the record names, parsed or not, stays inside
        try:
            campaign.checked(str(rel))
        except FileNotFoundError:
            continue  # missing: a problem only if a parser needs it
        except OSError as exc:
            raise ParseError(f"{str(rel)[:200]!r}: cannot read it ({exc.strerror or exc})") from exc
    tool, test = rec.tool, rec.test
    out: dict[str, Any] = {}
    if tool == "qperf":
        results = qperf.parse(raw("client_stdout"))
        if test == "stream":
            out["gbps"] = qperf.throughput_bps(results) / 1e9
            # qperf's own system-wide CPU (-vv), beside ours; the client sends in tcp_bw.
            for side, name in (("sender", "send_cpus_used"), ("receiver", "recv_cpus_used")):
                if name in results:
                    out[f"qperf_{side}_cpu_pct"] = results[name][0]
        else:
            out["lat_mean_us"] = qperf.latency_s(results) * 1e6
            out["rtt_mean_us"] = out["lat_mean_us"] * 2
    elif test == "udp":
        out.update(_udp(tool, raw))
    elif tool == "iperf3":
        parsed = iperf3.parse(raw("client_stdout"))
        out["gbps"] = parsed["goodput_bps"] / 1e9
        out.update(flows(parsed["flows_bps"]))
        out["iperf3_sender_cpu_pct"] = parsed["iperf3_sender_cpu_pct"]
        out["iperf3_receiver_cpu_pct"] = parsed["iperf3_receiver_cpu_pct"]
        out["iperf3_retransmits"] = parsed["retransmits"]
        out["sndbuf_applied_bytes"] = parsed["sndbuf_applied"]
        out["rcvbuf_applied_bytes"] = parsed["rcvbuf_applied"]
    elif tool == "csrc" and test == "rr-load":
        out.update(csrc.pingpong_client(
            csrc.line_of(raw("client_stdout"), "dpb-pingpong", "client")))
        bulk = csrc.stream_receiver(csrc.line_of(raw("server_stdout"), "dpb-stream", "receiver"))
        out["load_gbps"] = bulk["goodput_bps"] / 1e9
    elif tool == "csrc":
        if test == "stream":
            receiver = csrc.stream_receiver(raw("server_stdout"))
            if receiver["ended_early"]:
                # Its goodput covers a shorter window than its CPU snapshots: not a measurement.
                raise ParseError("csrc: the sender stopped before the window closed "
                                 "(ended_early): goodput and CPU cover different windows")
            out["gbps"] = receiver["goodput_bps"] / 1e9
            out.update(flows(receiver["flows_bps"]))
            out["rcvbuf_applied_bytes"] = receiver["rcvbuf_applied"]
            with contextlib.suppress(ParseError):  # the sender's own report: extra
                sender = csrc.stream_sender(raw("client_stdout"))
                out["sndbuf_applied_bytes"] = sender["sndbuf_applied"]
                out["send_calls_per_s"] = sender["send_calls_per_s"]
        elif test == "crr":
            out.update(csrc.crr_client(raw("client_stdout")))
            if not out["crr_cps"] > 0:
                raise ParseError("csrc: no connection completed in the window")
        else:
            out.update(csrc.pingpong_client(raw("client_stdout")))
    else:
        raise ParseError(f"unknown tool {tool!r}")
    client_host, server_host = rec.client.host, rec.server.host
    for side, host in (("sender", client_host), ("receiver", server_host)):
        cpu = procstat.window_cpu(raw(f"cpu:{host}"))
        if side == "sender":  # when the window was, by the client kernel's wall clock
            out["window_start_s"], out["window_end_s"] = (cpu["window_start_s"],
                                                          cpu["window_end_s"])
        out[f"cpu_{side}_pct"] = cpu["cpu_pct"]
        out[f"cpu_{side}_busiest_core_pct"] = cpu["cpu_busiest_core_pct"]
        for name in procstat.CLASSES:
            out[f"cpu_{side}_{name}_pct"] = cpu[f"cpu_{name}_pct"]
    # A VM's host kernel carries the guest's whole work (qemu); the guest's own view is extra.
    for side, endpoint in (("sender", rec.client), ("receiver", rec.server)):
        if endpoint.vm:
            out[f"cpu_{side}_guest_pct"] = procstat.window_cpu(
                raw(f"cpu:{endpoint.vm}"))["cpu_pct"]
    if "tcp:client" in files or "tcp:server" in files:  # archives before them have none
        client_tcp = tcpstat.window_deltas(raw("tcp:client"))
        out.update(_tcp(client_tcp, tcpstat.window_deltas(raw("tcp:server")), test))
        seconds = tcpstat.window_seconds(raw("tcp:client"))
        if test == "crr" and seconds and client_tcp["active_opens"] is not None:
            out["kernel_cps"] = client_tcp["active_opens"] / seconds
    if "gbps" in out and not out["gbps"] > 0:
        raise ParseError(f"{tool}: a goodput of {out['gbps']:g} Gb/s: nothing arrived in the "
                         "window, a problem of this run, not a measurement")
    out["cpu_max_pct"] = max(out["cpu_sender_pct"], out["cpu_receiver_pct"])
    if out.get("gbps"):
        out["cpu_per_gbps"] = out["cpu_max_pct"] / out["gbps"]
    if out.get("udp_mpps"):
        out["cpu_per_mpps"] = out["cpu_max_pct"] / out["udp_mpps"]
    if out.get("crr_cps"):
        out["cpu_per_kcps"] = out["cpu_max_pct"] / (out["crr_cps"] / 1e3)
    return out


def _udp(tool: str, raw: Callable[[str], str]) -> dict[str, float]:
    """Datagrams per second the receiver got (millions), the loss, and their goodput."""
    if tool == "csrc":
        got = csrc.udp_receiver(raw("server_stdout"))
        if got["ended_early"]:
            raise ParseError("csrc: the sender stopped before the window closed (ended_early)")
    elif tool == "iperf3":
        got = iperf3.udp(raw("client_stdout"))
    else:
        raise ParseError(f"{tool} has no udp test")
    if not got["packets_per_s"] > 0:
        raise ParseError(f"{tool}: no datagram arrived in the window")
    return {"udp_mpps": got["packets_per_s"] / 1e6, "udp_loss_pct": got["loss_pct"],
            "udp_gbps": got["goodput_bps"] / 1e9}


def flows(bps: list[float]) -> dict[str, float]:
    """With several flows: the slowest's and the fastest's goodput, and Jain's fairness index
    (sum² ÷ (n × sum of squares): 1 when every flow got the same, 1/n when one got it all)."""
    if len(bps) < 2 or not any(bps):
        return {}
    total, squares = sum(bps), sum(x * x for x in bps)
    return {"flow_gbps_min": min(bps) / 1e9, "flow_gbps_max": max(bps) / 1e9,
            "fairness": total * total / (len(bps) * squares)}


def _tcp(client: dict[str, int | None], server: dict[str, int | None],
         test: str) -> dict[str, float | None]:
    """TCP health over the window: retransmissions on the sending side (the client in a
    stream test; both sides in a ping-pong, where both send), per GB of IP bytes it sent, and
    the receiver's out-of-order queueing and receive-queue pruning and collapsing."""
    def total(*values: int | None) -> float | None:
        present = [v for v in values if v is not None]
        return float(sum(present)) if present else None

    senders = (client,) if test == "stream" else (client, server)
    retrans = total(*(s["retrans_segs"] for s in senders))
    octets = client["out_octets"]
    return {"tcp_retrans_segs": retrans,
            "tcp_retrans_per_gb": (retrans / (octets / 1e9)
                                   if test == "stream" and retrans is not None and octets
                                   else None),
            "tcp_lost_retransmits": total(*(s["lost_retransmits"] for s in senders)),
            "tcp_ofo_queued": total(server["ofo_queued"]),
            "tcp_rcv_pruned": total(server["rcv_pruned"]),
            "tcp_rcv_collapsed": total(server["rcv_collapsed"])}


# Whatever a malformed file makes a parser raise is that run's problem, never the report's
# (the parsers raise ParseError for what they check; these are the rest).
RUN_DATA_ERRORS = (ParseError, BenchError, LookupError, TypeError, ValueError, AttributeError,
                   ArithmeticError, RecursionError)
Outcome = tuple[str, dict[str, Any] | None, str]  # run id, figures or None, why not


Ok = list[tuple[str, RunRecord]]


def _chunk(campaign: Campaign, items: Ok) -> list[Outcome]:
    out: list[Outcome] = []
    for run_id, rec in items:
        try:
            out.append((run_id, run_figures(campaign, rec), ""))
        except RUN_DATA_ERRORS as exc:
            out.append((run_id, None, str(exc) or type(exc).__name__))
    return out


def _worker_chunk(campaign: Campaign, items: list[tuple[str, dict[str, Any]]]) -> list[Outcome]:
    """_chunk in a worker, given the records as the manifest holds them (validated already in
    the parent): a dict crosses the process boundary at a tenth of a pydantic model's cost."""
    return _chunk(campaign, [(run_id, RunRecord.model_validate(rec)) for run_id, rec in items])


def _names(items: Ok) -> list[str]:
    return [rel for _, rec in items for rel in rec.files.values()]


def _outcomes(campaign: Campaign, items: Ok) -> list[Outcome]:
    """Parse every ok run's raw files; in worker processes when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(items) < PARALLEL_FROM or workers < 2:
        return _chunk(campaign, items)
    size = max(100, len(items) // (workers * 4))
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    parts = [campaign.subset(_names(chunk)) for chunk in chunks]
    runs = campaign.manifest["runs"]
    plain = [[(run_id, runs[run_id]) for run_id, _ in chunk] for chunk in chunks]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = pool.map(_worker_chunk, parts, plain)
        return [o for chunk in results for o in chunk]


def _serial_rows(campaign: Campaign) -> list[dict[str, Any]]:
    return campaign_rows(campaign, parallel=False)


def campaign_rows(campaign: Campaign, parallel: bool = True) -> list[dict[str, Any]]:
    """One row per run of one campaign (parsed in worker processes when there are many)."""
    runs = sorted(campaign.manifest["runs"].items())
    invalid: dict[str, str] = {}
    valid: dict[str, RunRecord] = {}
    ok: Ok = []
    for run_id, rec in runs:
        try:
            typed = RunRecord.model_validate(rec)
        except ValidationError as exc:
            invalid[run_id] = records.problem(exc)
            continue
        valid[run_id] = typed
        if typed.status == "ok":
            ok.append((run_id, typed))
    outcomes = _outcomes(campaign, ok) if parallel else _chunk(campaign, ok)
    figures = {run_id: (fig, why) for run_id, fig, why in outcomes}
    rows = []
    for run_id, rec in runs:
        if run_id in valid:  # the record as validated: "4" given for streams reads as 4
            rec = {k: getattr(valid[run_id], k)
                   for k in ("repetition", "status", "reason", *CELL_COLUMNS)}
        elif not isinstance(rec, dict):
            rec = {}
        row: dict[str, Any] = {"campaign": campaign.name, "run_id": run_id,
                               "repetition": rec.get("repetition"),
                               "status": rec.get("status", "unknown"),
                               "reason": rec.get("reason", ""),
                               **{k: rec.get(k, CELL_DEFAULTS.get(k)) for k in CELL_COLUMNS}}
        if run_id in invalid:
            row["status"], row["reason"] = "unparseable", invalid[run_id]
            row.update({k: v if isinstance(v, str | int) and not isinstance(v, bool) else None
                        for k, v in row.items() if k in CELL_COLUMNS or k == "repetition"})
        elif run_id in figures:
            fig, why = figures[run_id]
            if fig is None:
                row["status"], row["reason"] = "unparseable", why
            else:
                row.update(fig)
        rows.append(row)
    return rows


def table(campaigns: list[Campaign],
          on_problem: Callable[[str, str, str], None] = lambda c, r, why: None,
          cache: bool = True, keys: dict[str, str | None] | None = None) -> pd.DataFrame:
    """Every run of every campaign; a finished archive's rows come from the parse cache when
    its manifest and SHA256SUMS are unchanged (see tidycache; ``keys`` when already known)."""
    if keys is None:
        keys = {c.name: tidycache.key(c) if cache else None for c in campaigns}
    found = {c.name: tidycache.load(keys[c.name]) for c in campaigns}
    todo = [c for c in campaigns if found[c.name] is None]
    runs = sum(len(c.manifest["runs"]) for c in todo)
    workers = min(os.cpu_count() or 1, 8)
    if len(todo) > 1 and runs >= PARALLEL_FROM and workers > 1:
        # Many small campaigns (a history): one worker parses a whole campaign.
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parsed = list(pool.map(_serial_rows, todo, chunksize=max(1, len(todo) // 32)))
    else:
        parsed = [campaign_rows(c) for c in todo]
    for c, mine in zip(todo, parsed, strict=True):
        found[c.name] = mine
        tidycache.store(keys[c.name], mine)
    rows = []
    for campaign in campaigns:
        mine = found[campaign.name] or []
        for row in mine:
            if row["status"] != "ok":
                on_problem(campaign.name, row["run_id"], f"{row['status']}: {row['reason']}")
        rows += mine
    return pd.DataFrame(rows)
