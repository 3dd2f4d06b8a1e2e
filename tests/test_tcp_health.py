"""TCP health from the kernel counters: a run that retransmitted far more than its cell is
flagged (and stays in the means), iperf3's own count is set beside the kernel's, and the
Throughput page says both. Synthetic archives made of the captured fixtures
(tests/fixtures/tcp-*.txt, iperf3-stream-counted.json), read through the real parsers."""

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from reporter import archive, synthetic, tcphealth
from reporter.pages import throughput
from reporter.pages.model import Site
from reporter.parsers import tcpstat
from reporter.tidy import TCP_COLUMNS, table

FIX = Path(__file__).resolve().parent / "fixtures"


def _more_retransmits(text: str, extra: int) -> str:
    """The snapshot text with ``extra`` more retransmitted segments in its second snapshot."""
    head, mark, last = text.rpartition(tcpstat.MARK)
    lines = last.splitlines()
    names = next(i for i, line in enumerate(lines) if line.startswith("Tcp: RtoAlgorithm"))
    column = lines[names].split().index("RetransSegs")
    values = lines[names + 1].split()
    values[column] = str(int(values[column]) + extra)
    lines[names + 1] = " ".join(values)
    return head + mark + "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every cell at MTU 1500 five times (a flag needs a cell's median); never changed."""
    return synthetic.generate(tmp_path_factory.mktemp("tcp"), len(synthetic.cells((1500,))) * 5,
                              spread=0.05, mtus=(1500,))


@pytest.fixture
def campaign(pristine: Path, tmp_path: Path) -> Path:
    """A copy of it to change (modification times kept: unchanged files, cached rows)."""
    return Path(shutil.copytree(pristine, tmp_path / pristine.name))


def _stream_run(root: Path, tool: str) -> str:
    manifest = json.loads((root / "manifest.json").read_text())
    return str(next(r for r in sorted(manifest["runs"])
                    if f".{tool}.stream." in r and r.startswith("bare.")))


def test_a_run_far_above_its_cell_is_flagged_and_stays_in_the_mean(campaign: Path) -> None:
    run_id = _stream_run(campaign, "csrc")
    path = campaign / "runs" / run_id / "tcp-client.txt"
    path.write_text(_more_retransmits(path.read_text(), 200_000))
    df = table([archive.load(campaign)])
    runs = tcphealth.runs(df, [campaign.name])
    flagged = runs[runs["flagged"]]
    assert list(flagged["run_id"]) == [run_id]
    row = flagged.iloc[0]
    assert row["tcp_retrans_per_gb"] > tcphealth.FLAG_FACTOR * row["cell_median_per_gb"]
    mine = df[df["run_id"] == run_id].iloc[0]
    assert mine["status"] == "ok" and mine["gbps"] > 0  # a measurement, still
    # The per-GB rate is the sender's retransmissions over the IP bytes it sent.
    sender = tcpstat.window_deltas(path.read_text())
    retrans, octets = sender["retrans_segs"], sender["out_octets"]
    assert retrans is not None and octets
    assert mine["tcp_retrans_per_gb"] == pytest.approx(retrans / (octets / 1e9))
    cells = tcphealth.cells(runs)
    cell = cells[(cells["tool"] == "csrc") & (cells["configuration"] == "bare")
                 & (cells["message_size"] == mine["message_size"])
                 & (cells["mtu"] == mine["mtu"])].iloc[0]
    assert cell["flagged_runs"] == 1 and cell["runs"] == 5


def test_one_retransmission_more_in_a_quiet_cell_is_not_flagged() -> None:
    """Five times a near-zero median is still near zero: the floor keeps it quiet."""
    key = {"campaign": "c", "configuration": "bare", "direction": "host-host", "tool": "csrc",
           "test": "stream", "message_size": 1000, "socket_buffer": "auto", "mtu": 1500,
           "streams": 1, "tuning": "untuned", "pair": ""}
    rates = [1.0, 1.0, 1.0, 1.0, 50.0]
    df = pd.DataFrame([{**key, "run_id": f"r{i}", "status": "ok", "tcp_retrans_per_gb": rate,
                        **{c: 0.0 for c in TCP_COLUMNS if c != "tcp_retrans_per_gb"}}
                       for i, rate in enumerate(rates)])
    assert not tcphealth.runs(df, ["c"])["flagged"].any()
    df.loc[4, "tcp_retrans_per_gb"] = 1.0 + tcphealth.FLAG_FLOOR_PER_GB + 1
    assert list(tcphealth.runs(df, ["c"])["flagged"]) == [False] * 4 + [True]


def test_iperf3_count_beside_the_kernels_and_a_disagreement_marked(campaign: Path) -> None:
    model_df = table([archive.load(campaign)])
    runs = tcphealth.runs(model_df, [campaign.name])
    cells = tcphealth.cells(runs)
    iperf3 = cells[cells["tool"] == "iperf3"]
    assert not iperf3.empty and not iperf3["disagree"].any()  # the fixture's pair agrees
    # Another flow in the namespace: the kernel counts 10x what iperf3's socket saw.
    run_id = _stream_run(campaign, "iperf3")
    path = campaign / "runs" / run_id / "tcp-client.txt"
    path.write_text(_more_retransmits(path.read_text(), 200_000))
    df = table([archive.load(campaign)])
    cells = tcphealth.cells(tcphealth.runs(df, [campaign.name]))
    assert cells[cells["tool"] == "iperf3"]["disagree"].sum() == 1
    html = tcphealth.table(cells[cells["tool"] == "iperf3"])
    assert any("⚠" in cell for row in html.rows for cell in row)
    assert html.title == "TCP health" and "iperf3" in html.note


def test_throughput_page_shows_tcp_health(pristine: Path) -> None:
    campaign = pristine
    from reporter import aggregate
    from reporter.campaigns import in_time_order

    campaigns = [archive.load(campaign)]
    df = table(campaigns)
    cells = {m: aggregate.with_ratios(aggregate.cells(df, m)) for m in aggregate.METRICS}
    infos = in_time_order(campaigns)
    model = Site(infos, cells, [], infos[0].name, 5.0,
                tcp=tcphealth.runs(df, [campaign.name]))
    view = throughput.throughput(model)
    titles = [t.title for s in view.sections for tab in s.tabs for t in tab.tables]
    assert titles.count("TCP health") == len(view.sections) * 3  # every tool, every MTU
    text = json.dumps([t.rows for s in view.sections for tab in s.tabs for t in tab.tables])
    assert re.search(r"\(iperf3 [\d,]+\)", text)
