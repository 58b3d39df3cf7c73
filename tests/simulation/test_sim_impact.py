"""The price-impact model: square-root in the flow, thinner depth in a drawdown, decay, off switch."""
import numpy as np
import pytest

from simulation.impact import ImpactConfig, ImpactModel


def flat(n=10, price=100.0):
    return np.full((1, n + 1), price)


def test_no_flow_keeps_the_exogenous_path():
    exo = np.linspace(100, 90, 11).reshape(1, -1)
    m = ImpactModel(ImpactConfig(), exo)
    for b in range(10):
        m.advance(b, np.zeros(1))
    assert np.allclose(m.true, exo)


def test_selling_lowers_the_next_price_by_the_square_root_law():
    cfg = ImpactConfig(coef=0.01, depth=1_000_000, decay=0.0, thinning=0.0)
    one, four = ImpactModel(cfg, flat()), ImpactModel(cfg, flat())
    one.advance(0, np.array([-1_000_000.0]))
    four.advance(0, np.array([-4_000_000.0]))
    assert one.true[0, 1] == pytest.approx(100 * np.exp(-0.01))
    assert np.log(four.true[0, 1] / 100) == pytest.approx(2 * np.log(one.true[0, 1] / 100))  # 4x flow, 2x move
    buy = ImpactModel(cfg, flat())
    buy.advance(0, np.array([1_000_000.0]))
    assert buy.true[0, 1] > 100


def test_depth_thins_in_a_drawdown_and_impact_decays():
    exo = np.array([[100.0, 100.0, 70.0, 70.0, 70.0]])
    cfg = ImpactConfig(coef=0.01, depth=1_000_000, thinning=4.0, min_depth=0.1, decay=0.5)
    m = ImpactModel(cfg, exo)
    assert m.depth(1)[0] == pytest.approx(1_000_000)
    m.advance(0, np.zeros(1))
    m.advance(1, np.zeros(1))
    assert m.depth(2)[0] == pytest.approx(1_000_000 * 0.7**4)   # 30 % below the peak
    m.advance(2, np.array([-240_100.0]))                      # = depth(2): a full coef move
    assert np.log(m.true[0, 3] / 70) == pytest.approx(-0.01)
    m.advance(3, np.zeros(1))
    assert np.log(m.true[0, 4] / 70) == pytest.approx(-0.005)  # half of it relaxed


def test_exogenous_mode_ignores_flow():
    m = ImpactModel(ImpactConfig(model="none"), flat())
    m.advance(0, np.array([-1e9]))
    assert m.true[0, 1] == 100 and not m.active
