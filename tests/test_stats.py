"""Statistics against values computed by hand."""

import math

import pytest

from reporter.stats import outlier_indices, ratio, summarise, t975


def test_summary_of_one_to_five() -> None:
    s = summarise([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (s.n, s.mean, s.median, s.min, s.max) == (5, 3.0, 3.0, 1.0, 5.0)
    assert s.sd == pytest.approx(math.sqrt(2.5))           # 1.5811
    assert s.cv == pytest.approx(math.sqrt(2.5) / 3)
    assert s.ci95_half == pytest.approx(2.776 * math.sqrt(2.5) / math.sqrt(5))  # 1.9631
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


def test_one_run_has_no_interval() -> None:
    s = summarise([4.0])
    assert math.isnan(s.ci95_half) and s.sd == 0.0 and not s.noisy


def test_t_quantiles() -> None:
    assert t975(4) == 2.776 and t975(35) == 2.021 and t975(1000) == 1.960


def test_ratio_propagates_relative_widths() -> None:
    a = summarise([9.0, 10.0, 11.0])   # mean 10, half = 4.303 * 1 / sqrt(3)
    b = summarise([19.0, 20.0, 21.0])  # mean 20, same half
    r, half = ratio(a, b)
    h = 4.303 / math.sqrt(3)
    assert r == 0.5
    assert half == pytest.approx(0.5 * math.hypot(h / 10, h / 20))
