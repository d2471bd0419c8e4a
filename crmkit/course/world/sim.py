"""Vectorised building blocks of the simulation: calendars, seasonal rates, event sampling.

Days are integers counted from the start of the order history (day 0 = 2023-01-01); the data
world's "today" is day ``N_DAYS - 1`` (2025-12-31). No function here loops over rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.runtime.schema import START, TODAY

T0 = pd.Timestamp(START)
N_DAYS = (pd.Timestamp(TODAY) - T0).days + 1  # 1096
DAYS = pd.date_range(START, TODAY, freq="D")
MONTH = DAYS.month.to_numpy()


def to_date(day) -> pd.Series | pd.Timestamp:
    """Turn day offsets (int or array) into timestamps."""
    if np.isscalar(day):
        return T0 + pd.Timedelta(days=int(day))
    return pd.Series(T0 + pd.to_timedelta(np.asarray(day, dtype="int64"), unit="D"))


def to_datetime(day, seconds) -> pd.Series:
    """Timestamps from day offsets plus seconds within the day."""
    return pd.Series(T0 + pd.to_timedelta(np.asarray(day, "int64") * 86400 + np.asarray(seconds, "int64"), unit="s"))


def month_weights(by_month: dict[int, float]) -> np.ndarray:
    """A daily weight vector (mean 1) from relative weights per calendar month (default 1)."""
    w = np.array([by_month.get(m, 1.0) for m in MONTH], dtype=float)
    return w / w.mean()


def window_weights(windows: list[tuple[int, int]], inside: float = 1.0, outside: float = 0.0) -> np.ndarray:
    """A daily weight vector: `inside` on the days of the given [start, end] windows, else `outside`."""
    w = np.full(N_DAYS, outside, dtype=float)
    for a, b in windows:
        w[max(a, 0):min(b, N_DAYS - 1) + 1] = inside
    return w


def expected_events(start, end, rate_per_day, weights: np.ndarray) -> np.ndarray:
    """Expected number of events in each spell [start, end] (inclusive) at a seasonal rate."""
    cw = np.concatenate([[0.0], np.cumsum(weights)])
    a = np.clip(np.asarray(start), 0, N_DAYS)
    b = np.clip(np.asarray(end) + 1, 0, N_DAYS)
    mass = np.where(b > a, cw[b] - cw[np.minimum(a, b)], 0.0)
    return np.asarray(rate_per_day) * mass


def sample_days(rng: np.random.Generator, start, end, weights: np.ndarray) -> np.ndarray:
    """Draw one day per spell [start, end], with probability proportional to `weights`.

    Spells with no weight fall back to a uniform day in the spell.
    """
    cw = np.concatenate([[0.0], np.cumsum(weights)])
    a = np.clip(np.asarray(start), 0, N_DAYS - 1)
    b = np.clip(np.asarray(end), 0, N_DAYS - 1)
    lo, hi = cw[a], cw[b + 1]
    u = rng.random(len(a))
    target = lo + u * (hi - lo)
    day = np.searchsorted(cw, target, side="right") - 1
    uniform = a + np.floor(u * (b - a + 1)).astype(int)
    return np.clip(np.where(hi > lo, day, uniform), a, b)


def repeat_index(counts) -> np.ndarray:
    """Row indices repeated by count: [2, 0, 1] -> [0, 0, 2]."""
    counts = np.asarray(counts, dtype=int)
    return np.repeat(np.arange(len(counts)), counts)


def arange_within(counts) -> np.ndarray:
    """0..k-1 for each group of size k, concatenated: [2, 0, 3] -> [0, 1, 0, 1, 2]."""
    counts = np.asarray(counts, dtype=int)
    total = counts.sum()
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def pick(rng: np.random.Generator, options, n: int, p=None) -> np.ndarray:
    """Draw `n` values from `options` (with probabilities `p`)."""
    options = np.asarray(options, dtype=object)
    if p is not None:
        p = np.asarray(p, dtype=float) / np.sum(p)
    return options[rng.choice(len(options), size=n, p=p)]


def ids(prefix: str, n: int, width: int, start: int = 1) -> np.ndarray:
    """Identifiers such as C00001, C00002, ..."""
    return np.char.add(prefix, np.char.zfill(np.arange(start, start + n).astype(str), width)).astype(object)


def random_seconds(rng: np.random.Generator, n: int, start_hour: float = 7, end_hour: float = 22) -> np.ndarray:
    """Seconds within a day, uniform between two hours."""
    return rng.integers(int(start_hour * 3600), int(end_hour * 3600), size=n)
