"""Statistics per cell over its runs (the run, not the sample inside it, is the unit):
n, mean, median, SD, CV, min, max, 95 % Student-t CI, outliers (Tukey 1.5·IQR or MAD modified
z > 3.5, shown and never dropped), the mean without outliers, and a noisy flag."""

import math
import statistics
from dataclasses import dataclass

# Two-sided 95 % Student-t quantiles t(0.975, df).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
        17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
        25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000,
        120: 1.980}
NOISY_CI_FRACTION = 0.05


def t975(df: int) -> float:
    if df in T975:
        return T975[df]
    larger = [k for k in T975 if k > df]
    return T975[min(larger)] if larger else 1.960


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    median: float
    sd: float
    cv: float
    min: float
    max: float
    ci95_half: float          # NaN when n < 2
    outliers: tuple[int, ...]  # indices into the values, in the order given
    mean_without_outliers: float
    noisy: bool

    @property
    def ci95(self) -> tuple[float, float]:
        return self.mean - self.ci95_half, self.mean + self.ci95_half


def outlier_indices(values: list[float]) -> tuple[int, ...]:
    if len(values) < 4:
        return ()
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    iqr = q3 - q1
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    flagged = set()
    for i, v in enumerate(values):
        if v < q1 - 1.5 * iqr or v > q3 + 1.5 * iqr:
            flagged.add(i)
        if mad > 0 and abs(0.6745 * (v - median) / mad) > 3.5:
            flagged.add(i)
    return tuple(sorted(flagged))


def summarise(values: list[float]) -> Summary:
    if not values:
        raise ValueError("no values")
    n = len(values)
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if n > 1 else 0.0
    half = t975(n - 1) * sd / math.sqrt(n) if n > 1 else math.nan
    out = outlier_indices(values)
    kept = [v for i, v in enumerate(values) if i not in out]
    noisy = n > 1 and mean != 0 and half > NOISY_CI_FRACTION * abs(mean)
    return Summary(n=n, mean=mean, median=statistics.median(values), sd=sd,
                   cv=sd / mean if mean else math.nan, min=min(values), max=max(values),
                   ci95_half=half, outliers=out,
                   mean_without_outliers=statistics.fmean(kept) if kept else math.nan,
                   noisy=noisy)


def ratio(a: Summary, b: Summary) -> tuple[float, float]:
    """a.mean ÷ b.mean and its 95 % half-width, propagating both CIs' relative widths."""
    r = a.mean / b.mean
    rel = math.hypot(a.ci95_half / a.mean if a.mean else math.nan,
                     b.ci95_half / b.mean if b.mean else math.nan)
    return r, abs(r) * rel
