"""The tool cross-check on archives made from the real tools' outputs: ratios to the median of
the tools' means, the 10 % flag, and qperf's own CPU against ours for the same runs."""

import pandas as pd
import pytest

from reporter import aggregate, agreement, archive, synthetic
from reporter.tidy import table


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    root = synthetic.generate(tmp_path_factory.mktemp("agree"), 3 * 210, seed=3)
    return table([archive.load(root)], cache=False)


def test_each_tool_is_set_against_the_median_of_the_tools(runs: pd.DataFrame) -> None:
    cells = aggregate.cells(runs, "gbps")
    shared = agreement.ratios(cells)
    assert set(shared["test"]) == {"stream"} and shared.groupby(agreement.GROUP)[
        "tool"].nunique().min() == 3  # csrc, iperf3 and qperf on every stream cell
    for _, group in shared.groupby(agreement.GROUP):
        median = float(group["mean"].median())
        for _, row in group.iterrows():
            assert row["ratio"] == pytest.approx(row["mean"] / median)
            assert row["low"] == pytest.approx(row["ci_low"] / median, nan_ok=True)
            assert row["off"] == (abs(row["mean"] / median - 1) > 0.10)
    alone = cells[cells["tool"] == "csrc"].iloc[:1]
    assert agreement.ratios(alone).empty  # one tool: nothing to cross-check


def test_qperf_cpu_is_set_beside_ours_for_the_same_runs(runs: pd.DataFrame) -> None:
    cpu = agreement.qperf_cpu(runs, sorted(set(runs["campaign"])))
    qperf = runs[(runs["tool"] == "qperf") & (runs["test"] == "stream")]
    assert len(cpu) == 2 * qperf.groupby(aggregate.KEY).ngroups
    one = cpu[cpu["side"] == "sender"].iloc[0]
    mine = qperf[(qperf["configuration"] == one["configuration"])
                 & (qperf["direction"] == one["direction"])
                 & (qperf["message_size"] == one["message_size"]) & (qperf["mtu"] == one["mtu"])]
    assert one["qperf"] == pytest.approx(mine["qperf_sender_cpu_pct"].mean())  # 154 %: -vv
    assert one["difference"] == pytest.approx(mine["qperf_sender_cpu_pct"].mean()
                                              - mine["cpu_sender_pct"].mean())
