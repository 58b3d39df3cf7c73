"""Price paths: GBM, jump-diffusion with a configured crash, historical replay (Brownian bridge
through each day's open/high/low/close), several markets with correlated paths, and the
oracle's lagged view of them. Everything is deterministic given a numpy Generator.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np

SECONDS_PER_YEAR = 365.0 * 24 * 3600


@dataclass
class PricePaths:
    """True prices, shape (markets, blocks + 1): column 0 is the price at deployment."""

    true: np.ndarray
    block_time: int

    @property
    def n_markets(self) -> int:
        return self.true.shape[0]

    @property
    def n_blocks(self) -> int:
        return self.true.shape[1] - 1

    def oracle(self, lag_blocks: int) -> np.ndarray:
        """What the oracle publishes at each block: the true price `lag_blocks` earlier."""
        if lag_blocks <= 0:
            return self.true.copy()
        out = np.empty_like(self.true)
        out[:, lag_blocks:] = self.true[:, :-lag_blocks]
        out[:, :lag_blocks] = self.true[:, :1]
        return out


def correlated_normals(rng: np.random.Generator, n_markets: int, n_steps: int,
                       correlation: float | np.ndarray) -> np.ndarray:
    """Standard normals (n_markets, n_steps) with the given pairwise correlation (or matrix)."""
    if np.isscalar(correlation):
        corr = np.full((n_markets, n_markets), float(correlation))
        np.fill_diagonal(corr, 1.0)
    else:
        corr = np.asarray(correlation, dtype=float)
    chol = np.linalg.cholesky(corr)
    return chol @ rng.standard_normal((n_markets, n_steps))


def gbm(rng: np.random.Generator, s0: Sequence[float], n_blocks: int, block_time: int,
        sigma: Sequence[float] | float, mu: float = 0.0, correlation: float = 0.0) -> np.ndarray:
    """Geometric Brownian motion per market (annualized mu, sigma), correlated increments."""
    s0 = np.asarray(s0, dtype=float)
    m = len(s0)
    sig = np.broadcast_to(np.asarray(sigma, dtype=float), (m,))
    dt = block_time / SECONDS_PER_YEAR
    z = correlated_normals(rng, m, n_blocks, correlation) if m > 1 else rng.standard_normal((1, n_blocks))
    incr = (mu - 0.5 * sig[:, None] ** 2) * dt + sig[:, None] * np.sqrt(dt) * z
    logp = np.concatenate([np.zeros((m, 1)), np.cumsum(incr, axis=1)], axis=1)
    return s0[:, None] * np.exp(logp)


@dataclass
class Crash:
    """A crash of relative `size` (e.g. -0.4) spread over `duration` blocks starting at `block`,
    scaled per market by `betas` (default 1)."""

    block: int
    size: float
    duration: int = 1
    betas: Sequence[float] | None = None


def apply_crash(paths: np.ndarray, crash: Crash) -> np.ndarray:
    """Multiply each path from `crash.block` on by the crash factor (log-linear over its duration)."""
    out = paths.copy()
    m, n = out.shape
    if not 0 <= crash.block < n:
        return out
    betas = np.ones(m) if crash.betas is None else np.asarray(crash.betas, dtype=float)
    total = np.log1p(np.clip(crash.size * betas, -0.99, None))
    d = max(1, crash.duration)
    ramp = np.clip((np.arange(n) - crash.block + 1) / d, 0.0, 1.0)
    return out * np.exp(total[:, None] * ramp[None, :])


def jump_diffusion(rng: np.random.Generator, s0: Sequence[float], n_blocks: int, block_time: int,
                   sigma: Sequence[float] | float, mu: float = 0.0, correlation: float = 0.0,
                   jump_rate: float = 0.0, jump_mean: float = -0.05, jump_std: float = 0.03,
                   crash: Crash | None = None) -> np.ndarray:
    """GBM plus common Poisson jumps (`jump_rate` per year, log-jump ~ N(mean, std)) plus a crash."""
    base = gbm(rng, s0, n_blocks, block_time, sigma, mu, correlation)
    if jump_rate > 0:
        dt = block_time / SECONDS_PER_YEAR
        counts = rng.poisson(jump_rate * dt, n_blocks)
        sizes = np.array([rng.normal(jump_mean, jump_std, c).sum() if c else 0.0 for c in counts])
        base = base * np.exp(np.concatenate([[0.0], np.cumsum(sizes)]))[None, :]
    if crash is not None:
        base = apply_crash(base, crash)
    return base


# -- historical replay --------------------------------------------------------------------------

@dataclass(frozen=True)
class DailyBar:
    day: date
    open: float
    high: float
    low: float
    close: float


class DataFileError(ValueError):
    """A price data file is missing or malformed (one line, names the file)."""


BAR_COLUMNS = ("open", "close", "unix_timestamp", "high", "low")


def load_daily_bars(path: Path, start: date, end: date) -> list[DailyBar]:
    """Daily OHLC bars from the btcusd csv (timestamp,open,close,volume,unix_timestamp,high,low),
    inclusive date range. A missing or malformed file raises DataFileError."""
    bars = []
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in BAR_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise DataFileError(f"price data {path}: malformed, missing column(s) {', '.join(missing)}")
            for n, row in enumerate(reader, start=2):
                try:
                    d = datetime.fromtimestamp(int(float(row["unix_timestamp"])), tz=timezone.utc).date()
                    if start <= d <= end:
                        o, c = float(row["open"]), float(row["close"])
                        h = max(float(row["high"]), o, c)
                        lo = min(float(row["low"]), o, c)
                        if not (lo > 0 and np.isfinite(h)):
                            raise ValueError("non-positive price")
                        bars.append(DailyBar(d, o, h, lo, c))
                except (TypeError, ValueError, OverflowError) as exc:
                    raise DataFileError(f"price data {path}: malformed line {n} ({exc})") from None
    except FileNotFoundError:
        raise DataFileError(f"price data file not found: {path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataFileError(f"price data {path}: unreadable ({exc})") from None
    bars.sort(key=lambda b: b.day)
    if not bars:
        raise DataFileError(f"price data {path}: no data between {start} and {end}")
    return bars


def brownian_bridge(rng: np.random.Generator, a: float, b: float, n: int, vol: float) -> np.ndarray:
    """n+1 points from a to b (inclusive) of a Brownian bridge with per-step std `vol`."""
    if n <= 0:
        return np.array([b])
    w = np.concatenate([[0.0], np.cumsum(rng.standard_normal(n) * vol)])
    t = np.linspace(0.0, 1.0, n + 1)
    return a + w - t * w[-1] + t * (b - a)


def intraday_path(rng: np.random.Generator, bar: DailyBar, steps: int) -> np.ndarray:
    """`steps`+1 prices through the day: open -> high and low -> close, each leg a Brownian bridge
    in log space, clipped to [low, high]. Hits high and low exactly. A down day (close < open)
    usually visits its high first and ends near its low, an up day the reverse (80 %/20 %)."""
    if steps < 3:
        return np.linspace(bar.open, bar.close, steps + 1)
    lo_, hi_ = np.log(bar.low), np.log(bar.high)
    t1, t2 = sorted(rng.choice(np.arange(1, steps), size=2, replace=False))
    down = bar.close < bar.open
    high_first = rng.random() < (0.8 if down else 0.2)
    first, second = (hi_, lo_) if high_first else (lo_, hi_)
    anchors = [(0, np.log(bar.open)), (t1, first), (t2, second), (steps, np.log(bar.close))]
    vol = max(hi_ - lo_, 1e-9) / np.sqrt(steps) * 0.5
    out = np.empty(steps + 1)
    for (ta, xa), (tb, xb) in zip(anchors, anchors[1:]):
        out[ta:tb + 1] = brownian_bridge(rng, xa, xb, tb - ta, vol)
    return np.exp(np.clip(out, lo_, hi_))


def historical(rng: np.random.Generator, bars: Sequence[DailyBar], blocks_per_day: int,
               vol_scale: float = 1.0) -> np.ndarray:
    """One market's replay: every day's intraday Brownian-bridge path, concatenated; with
    vol_scale != 1 the log-deviation from the first price is scaled."""
    pieces = [np.array([bars[0].open])]
    for bar in bars:
        day = intraday_path(rng, bar, blocks_per_day)
        day = day * (pieces[-1][-1] / day[0])  # continuity across the overnight gap
        pieces.append(day[1:])
    path = np.concatenate(pieces)
    if vol_scale != 1.0:
        path = path[0] * np.exp(vol_scale * np.log(path / path[0]))
    return path


def correlated_follower(rng: np.random.Generator, leader: np.ndarray, s0: float, beta: float,
                        correlation: float, idio_sigma_per_block: float) -> np.ndarray:
    """A second market driven by the leader's log returns (beta, correlation) plus own noise."""
    r = np.diff(np.log(leader))
    sd = r.std() if len(r) > 1 and r.std() > 0 else idio_sigma_per_block
    noise = rng.standard_normal(len(r)) * sd * np.sqrt(max(0.0, 1 - correlation ** 2))
    own = beta * (correlation * r + noise)
    return s0 * np.exp(np.concatenate([[0.0], np.cumsum(own)]))
