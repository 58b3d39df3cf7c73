"""Price paths: statistics, crash, historical bridge, correlation, oracle lag, determinism."""
from datetime import date

import numpy as np
import pytest

from simulation import prices as P
from simulation.paths import resolve_data_path


def test_gbm_log_return_statistics():
    rng = np.random.default_rng(0)
    bt, sigma, mu = 3600, 0.8, 0.2
    path = P.gbm(rng, [100.0], 20_000, bt, sigma, mu)[0]
    r = np.diff(np.log(path))
    dt = bt / P.SECONDS_PER_YEAR
    assert r.std() == pytest.approx(sigma * np.sqrt(dt), rel=0.03)
    assert r.mean() == pytest.approx((mu - sigma**2 / 2) * dt, abs=4 * sigma * np.sqrt(dt) / np.sqrt(len(r)))
    assert path[0] == 100.0 and (path > 0).all()


def test_correlated_markets():
    rng = np.random.default_rng(1)
    paths = P.gbm(rng, [100.0, 50.0, 10.0], 5000, 60, [0.6, 0.8, 1.0], correlation=0.8)
    r = np.diff(np.log(paths), axis=1)
    c = np.corrcoef(r)
    assert c[0, 1] == pytest.approx(0.8, abs=0.05) and c[1, 2] == pytest.approx(0.8, abs=0.05)


def test_crash_size_block_and_betas():
    base = np.full((2, 101), 100.0)
    out = P.apply_crash(base, P.Crash(block=40, size=-0.4, duration=4, betas=[1.0, 1.5]))
    assert (out[:, :40] == 100.0).all()
    assert out[0, 43] == pytest.approx(60.0) and out[1, 43] == pytest.approx(40.0)
    assert 60.0 < out[0, 41] < 100.0  # spread over the duration
    assert out[0, -1] == pytest.approx(60.0)


def test_jump_diffusion_has_jumps_and_is_deterministic():
    a = P.jump_diffusion(np.random.default_rng(5), [100.0], 2000, 3600, 0.2, jump_rate=200, jump_mean=-0.1, jump_std=0.0)
    b = P.jump_diffusion(np.random.default_rng(5), [100.0], 2000, 3600, 0.2, jump_rate=200, jump_mean=-0.1, jump_std=0.0)
    assert np.array_equal(a, b)
    r = np.diff(np.log(a[0]))
    assert (r < -0.08).sum() >= 10  # ~46 jumps expected


def test_intraday_bridge_hits_open_high_low_close():
    bar = P.DailyBar(date(2020, 3, 12), 7938.05, 7969.45, 4644.0, 4857.1)
    for seed in range(5):
        p = P.intraday_path(np.random.default_rng(seed), bar, 48)
        assert len(p) == 49
        assert p[0] == pytest.approx(bar.open) and p[-1] == pytest.approx(bar.close)
        assert p.max() == pytest.approx(bar.high) and p.min() == pytest.approx(bar.low)


def test_historical_replay_covid_range():
    bars = P.load_daily_bars(resolve_data_path("btcusd_daily.csv"), date(2020, 3, 11), date(2020, 3, 13))
    assert [b.day.day for b in bars] == [11, 12, 13]
    path = P.historical(np.random.default_rng(0), bars, 24)
    assert len(path) == 3 * 24 + 1
    assert path.min() == pytest.approx(3858.0, rel=1e-6)  # 2020-03-13 low
    scaled = P.historical(np.random.default_rng(0), bars, 24, vol_scale=0.5)
    assert np.log(scaled / scaled[0]).min() == pytest.approx(0.5 * np.log(path / path[0]).min())


def test_historical_empty_range_raises():
    with pytest.raises(ValueError, match="no data"):
        P.load_daily_bars(resolve_data_path("btcusd_daily.csv"), date(1990, 1, 1), date(1990, 1, 2))


def test_oracle_lag():
    true = np.arange(10.0).reshape(1, 10) + 1
    pp = P.PricePaths(true, 60)
    assert list(pp.oracle(0)[0]) == list(true[0])
    assert list(pp.oracle(2)[0]) == [1, 1, 1, 2, 3, 4, 5, 6, 7, 8]


def test_scenario_paths_deterministic_in_seed(tiny):
    a, b, c = tiny.price_paths(1).true, tiny.price_paths(1).true, tiny.price_paths(2).true
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.shape == (1, tiny.blocks + 1)
