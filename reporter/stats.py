"""Statistics per cell over its runs (the run, not the sample inside it, is the unit):
n, mean, median, SD, CV, min, max, 95 % Student-t CI, outliers (Tukey 1.5·IQR or MAD modified
z > 3.5, shown and never dropped), the mean without outliers, and a noisy flag; ratios of two
cells' means with a CI computed on the log scale (so it never crosses zero). The t
distribution comes from scipy.special (what scipy.stats calls: its quantile for intervals, its
tail for Welch's test), never from scipy.stats, whose import costs half a second; the tests
hold both to scipy.stats."""

import math
import statistics
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

Floats = NDArray[np.float64]

NOISY_FRACTION = 0.05   # CI half-width or CV above 5 % of the mean
MIN_RUNS_FOR_CI = 3     # below this a t interval is too wide to mean anything: none is given


def t975(df: float) -> float:
    """The two-sided 95 % Student-t quantile t(0.975, df), exact."""
    return float(special.stdtrit(df, 0.975))


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    median: float
    sd: float
    cv: float
    min: float
    max: float
    ci95_half: float          # t·s/√n; NaN when n < MIN_RUNS_FOR_CI
    outliers: tuple[int, ...]  # indices into the values, in the order given
    mean_without_outliers: float
    noisy: bool

    @property
    def ci95(self) -> tuple[float, float]:
        """The 95 % interval of the mean. Every figure here is positive, so it is computed on
        the log scale (the log of a mean has variance ≈ CV²/n): mean·exp(±t·CV/√n). For a
        tight cell it equals mean ± t·s/√n; for a wild one it stays above zero."""
        if math.isnan(self.ci95_half) or self.mean <= 0:
            return self.mean - self.ci95_half, self.mean + self.ci95_half
        spread = self.ci95_half / self.mean
        return self.mean * math.exp(-spread), self.mean * math.exp(spread)


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
    half = t975(n - 1) * sd / math.sqrt(n) if n >= MIN_RUNS_FOR_CI else math.nan
    cv = sd / abs(mean) if mean else math.nan
    out = outlier_indices(values)
    kept = [v for i, v in enumerate(values) if i not in out]
    noisy = n > 1 and bool(mean) and (cv > NOISY_FRACTION
                                       or half > NOISY_FRACTION * abs(mean))
    return Summary(n=n, mean=mean, median=statistics.median(values), sd=sd, cv=cv,
                   min=min(values), max=max(values), ci95_half=half, outliers=out,
                   mean_without_outliers=statistics.fmean(kept) if kept else math.nan,
                   noisy=noisy)


@dataclass(frozen=True)
class Ratio:
    """a ÷ b of two cells' means, with a 95 % interval (NaN when either has too few runs)."""

    value: float
    low: float
    high: float

    @property
    def has_interval(self) -> bool:
        return not math.isnan(self.low)


def ratio(a: Summary, b: Summary) -> Ratio:
    """a.mean ÷ b.mean with its 95 % interval (ratio_arrays, for one pair)."""
    r, low, high = ratio_arrays(*(np.array([x], dtype=float) for x in (
        a.n, a.mean, a.sd, b.n, b.mean, b.sd)))
    return Ratio(float(r[0]), float(low[0]), float(high[0]))


def ratio_arrays(a_n: Floats, a_mean: Floats, a_sd: Floats, b_n: Floats, b_mean: Floats,
                 b_sd: Floats) -> tuple[Floats, Floats, Floats]:
    """a ÷ b of means, element-wise, with a 95 % interval on the log scale: the log of a mean
    has variance ≈ CV²/n (delta method); the two add, with Welch–Satterthwaite degrees of
    freedom; the interval is exp(log r ± t·se), so it never crosses zero. Positive means only
    (NaN otherwise); no interval (NaN) with fewer than MIN_RUNS_FOR_CI runs on either side."""
    with np.errstate(divide="ignore", invalid="ignore"):
        valid = (a_mean > 0) & (b_mean > 0)
        r = np.where(valid, a_mean / b_mean, np.nan)
        va = (a_sd / a_mean) ** 2 / a_n
        vb = (b_sd / b_mean) ** 2 / b_n
        se = np.sqrt(va + vb)
        dof = (va + vb) ** 2 / (va**2 / (a_n - 1) + vb**2 / (b_n - 1))
        enough = valid & (np.minimum(a_n, b_n) >= MIN_RUNS_FOR_CI)
        spread = np.where(enough & (se > 0),
                          special.stdtrit(np.where(np.isfinite(dof), dof, 1.0), 0.975) * se, 0.0)
        low = np.where(enough, r * np.exp(-spread), np.nan)
        high = np.where(enough, r * np.exp(spread), np.nan)
    return r, low, high


def welch_arrays(a_n: Floats, a_mean: Floats, a_sd: Floats, b_n: Floats,
                 b_mean: Floats, b_sd: Floats) -> Floats:
    """Two-sided p-values of Welch's t-test from each side's n, mean and SD (element-wise,
    what scipy.stats.ttest_ind_from_stats computes, from scipy.special's t distribution);
    NaN with fewer than 2 runs a side; when neither side has any spread, 0 if the means
    differ and 1 if not."""
    with np.errstate(divide="ignore", invalid="ignore"):
        va, vb = a_sd ** 2 / a_n, b_sd ** 2 / b_n
        dof = (va + vb) ** 2 / (va ** 2 / (a_n - 1) + vb ** 2 / (b_n - 1))
        dof = np.where(np.isnan(dof), 1.0, dof)  # no spread: any dof will do, as in scipy
        t = (a_mean - b_mean) / np.sqrt(va + vb)
        p = 2 * special.stdtr(dof, -np.abs(t))
    flat = (a_sd == 0) & (b_sd == 0)
    p = np.where(flat, np.where(a_mean != b_mean, 0.0, 1.0), p)
    return np.where(np.minimum(a_n, b_n) < 2, np.nan, p)


def welch_p(a: list[float], b: list[float]) -> float:
    """welch_arrays for two lists of runs."""
    def described(x: list[float]) -> tuple[float, float, float]:
        return len(x), statistics.fmean(x) if x else math.nan, \
            statistics.stdev(x) if len(x) > 1 else math.nan
    (an, am, asd), (bn, bm, bsd) = described(a), described(b)
    return float(welch_arrays(*(np.array([v], dtype=float) for v in (an, am, asd, bn, bm,
                                                                      bsd)))[0])


def adjust_bh(pvalues: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (what scipy.stats.false_discovery_control gives):
    each p × m ÷ its rank, made monotone from the largest down, at most 1; NaN stays NaN and is
    not counted as a comparison."""
    index = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
    out = [math.nan] * len(pvalues)
    if index:
        ps = np.array([pvalues[i] for i in index], dtype=float)
        adjusted = ps
        if len(ps) > 1:  # scipy's steps, in its order, so the figures are its to the bit
            order = np.argsort(ps)
            ranked = ps[order] * (len(ps) / np.arange(1, len(ps) + 1, dtype=float))
            np.minimum.accumulate(ranked[::-1], out=ranked[::-1])
            adjusted = np.empty_like(ps)
            adjusted[order] = ranked
            adjusted = np.clip(adjusted, 0.0, 1.0)
        for i, p in zip(index, adjusted, strict=True):
            out[i] = float(p)
    return out
