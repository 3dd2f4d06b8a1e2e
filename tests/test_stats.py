"""Statistics against scipy and values computed by hand."""

import math
import random

import numpy as np
import pytest
from scipy import stats as sps

from reporter.stats import (
    MIN_RUNS_FOR_CI,
    adjust_bh,
    outlier_indices,
    ratio,
    summarise,
    t975,
    welch_arrays,
    welch_p,
)


def test_summary_of_one_to_five() -> None:
    s = summarise([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (s.n, s.mean, s.median, s.min, s.max) == (5, 3.0, 3.0, 1.0, 5.0)
    assert s.sd == pytest.approx(math.sqrt(2.5))           # 1.5811
    assert s.cv == pytest.approx(math.sqrt(2.5) / 3)
    assert s.ci95_half == pytest.approx(2.7764451 * math.sqrt(2.5) / math.sqrt(5))  # 1.9632
    assert s.outliers == () and s.mean_without_outliers == 3.0
    assert s.noisy  # 1.96 is far more than 5 % of 3


def test_outliers_are_flagged_not_dropped() -> None:
    values = [10.0, 10.2, 9.9, 10.1, 50.0]
    s = summarise(values)
    assert s.outliers == (4,)
    assert s.mean == pytest.approx(18.04)
    assert s.mean_without_outliers == pytest.approx(10.05)
    assert outlier_indices([1.0, 2.0, 3.0]) == ()  # too few to judge


def test_a_tight_cell_is_not_noisy() -> None:
    assert not summarise([100.0, 100.5, 99.5, 100.2, 99.8]).noisy


def test_noisy_looks_at_the_cv_too() -> None:
    """Many runs make the CI narrow while each run still scatters: CV 6 %, CI half 1.2 %."""
    values = [100.0 + (6.0 if i % 2 else -6.0) for i in range(100)]
    s = summarise(values)
    assert s.ci95_half < 0.05 * s.mean and s.cv > 0.05
    assert s.noisy


def test_too_few_runs_have_no_interval() -> None:
    for values in ([4.0], [4.0, 5.0]):
        s = summarise(values)
        assert math.isnan(s.ci95_half)
    assert MIN_RUNS_FOR_CI == 3
    assert not summarise([4.0]).noisy and summarise([4.0, 5.0]).noisy  # CV 16 %


@pytest.mark.parametrize("df", [1, 2, 4, 29, 31, 35, 60, 119, 121, 1000])
def test_t_quantiles_are_scipys(df: int) -> None:
    assert t975(df) == pytest.approx(float(sps.t.ppf(0.975, df)), rel=1e-12)
    assert t975(35) == pytest.approx(2.0301079)  # the old table said 2.021 (df 40)


def test_ci_matches_scipy_interval_for_a_tight_cell() -> None:
    values = [9.1, 10.4, 9.8, 10.9, 10.2, 9.6, 10.0]
    s = summarise(values)
    low, high = sps.t.interval(0.95, len(values) - 1, loc=s.mean, scale=sps.sem(values))
    assert s.ci95_half == pytest.approx((high - low) / 2)
    assert s.ci95 == pytest.approx((low, high), rel=2e-3)  # log scale ≈ linear when tight


def test_ci_of_a_wild_positive_cell_stays_above_zero() -> None:
    s = summarise([0.5, 9.0, 1.0])  # t·s/√n is larger than the mean
    assert s.mean - s.ci95_half < 0
    low, high = s.ci95
    assert 0 < low < s.mean < high


def test_ratio_interval_is_on_the_log_scale_and_positive() -> None:
    a = summarise([1.0, 5.0, 9.0])     # wild: a linear CI would cross zero
    b = summarise([10.0, 10.5, 9.5])
    r = ratio(a, b)
    assert r.value == pytest.approx(0.5)
    assert 0 < r.low < r.value < r.high
    assert math.log(r.value) - math.log(r.low) == pytest.approx(
        math.log(r.high) - math.log(r.value))


def test_ratio_against_a_bootstrap() -> None:
    rng = random.Random(5)
    a_vals = [rng.gauss(10, 0.5) for _ in range(10)]
    b_vals = [rng.gauss(20, 1.0) for _ in range(10)]
    r = ratio(summarise(a_vals), summarise(b_vals))
    boot = sps.bootstrap((a_vals, b_vals), lambda x, y: x.mean() / y.mean(),
                         vectorized=False, paired=False, n_resamples=4000,
                         random_state=1, method="percentile")
    assert r.low == pytest.approx(boot.confidence_interval.low, rel=0.03)
    assert r.high == pytest.approx(boot.confidence_interval.high, rel=0.03)


def test_ratio_with_too_few_runs_has_no_interval() -> None:
    r = ratio(summarise([1.0, 2.0]), summarise([2.0, 2.0, 2.0]))
    assert r.value == pytest.approx(0.75) and not r.has_interval


def test_welch_and_bh_are_scipys() -> None:
    a, b = [10.0, 11.0, 10.5, 10.2], [12.0, 12.5, 11.8, 12.2]
    assert welch_p(a, b) == pytest.approx(sps.ttest_ind(a, b, equal_var=False).pvalue)
    ps = [0.01, 0.04, 0.03, 0.2, math.nan]
    adjusted = adjust_bh(ps)
    assert adjusted[:4] == pytest.approx(list(sps.false_discovery_control(ps[:4])))
    assert math.isnan(adjusted[4])
    assert math.isnan(welch_p([1.0], [2.0, 3.0]))


def test_welch_and_bh_column_wise_are_scipys_on_random_cells() -> None:
    rng = np.random.default_rng(5)
    n_a, n_b = rng.integers(2, 30, 400).astype(float), rng.integers(2, 30, 400).astype(float)
    m_a, m_b = rng.normal(10, 1, 400), rng.normal(10.2, 1, 400)
    s_a, s_b = rng.uniform(0.01, 2, 400), rng.uniform(0.01, 2, 400)
    ours = welch_arrays(n_a, m_a, s_a, n_b, m_b, s_b)
    theirs = sps.ttest_ind_from_stats(m_a, s_a, n_a, m_b, s_b, n_b, equal_var=False).pvalue
    assert list(ours) == list(theirs)  # to the bit: the report's figures stay scipy's
    ps = list(rng.uniform(0, 1, 300) ** 3)
    assert adjust_bh(ps) == list(sps.false_discovery_control(ps))


def test_the_column_wise_cells_match_the_per_cell_formulas() -> None:
    """aggregate computes column-wise what stats computes per cell: they must agree."""
    import pandas as pd

    from reporter import aggregate

    rng = random.Random(3)
    rows = []
    for cfg, scale in (("bare", 10.0), ("container", 9.0)):
        for n in (1, 2, 3, 7):
            for i in range(n):
                rows.append({"campaign": "c", "configuration": cfg, "direction": "host-host"
                             if cfg == "bare" else "container-container", "tool": "csrc",
                             "test": "stream", "message_size": n, "socket_buffer": "auto",
                             "mtu": 1500, "streams": 1, "tuning": "untuned", "pair": "",
                             "status": "ok",
                             "run_id": f"{cfg}{n}.r{i}",
                             "gbps": scale * rng.uniform(0.5, 1.5)})
    df = pd.DataFrame(rows)
    cells = aggregate.with_ratios(aggregate.cells(df, "gbps"))
    assert len(cells) == 8  # 2 configurations × 4 sizes: the loop below checks every one

    def runs_of(row: pd.Series) -> list[float]:
        mine = df[(df["configuration"] == row["configuration"])
                  & (df["message_size"] == row["message_size"])].sort_values("run_id")
        return [float(v) for v in mine["gbps"]]

    for _, row in cells.iterrows():
        s = summarise(runs_of(row))
        assert (row["n"], row["mean"], row["median"]) == pytest.approx((s.n, s.mean, s.median))
        assert row["sd"] == pytest.approx(s.sd)
        assert bool(row["noisy"]) == s.noisy
        low, high = s.ci95
        if math.isnan(s.ci95_half):
            assert math.isnan(row["ci_half"])
        else:
            assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
        bare = cells[(cells["configuration"] == "bare")
                     & (cells["message_size"] == row["message_size"])].iloc[0]
        r = ratio(s, summarise(runs_of(bare)))
        outliers = [f"{row['configuration']}{row['message_size']}.r{i}" for i in s.outliers]
        assert sorted(row["outlier_runs"]) == sorted(outliers)
        assert row["mean_without_outliers"] == pytest.approx(s.mean_without_outliers)
        assert row["ratio_to_bare"] == pytest.approx(r.value)
        if r.has_interval:
            assert (row["ratio_low"], row["ratio_high"]) == pytest.approx((r.low, r.high))
        else:
            assert math.isnan(row["ratio_low"])
