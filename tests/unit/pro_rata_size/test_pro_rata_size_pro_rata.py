"""The haircut charges the residual to the opposite side pro rata to size, through a cumulative
per-market, per-side index, rounded up: delta = ceil(residual * SCALE / open_interest) and a
position of size s owes ceil(s * delta / SCALE), so the charges never fall short of the
residual and exceed it by at most one base unit per charged account."""
from pro_rata_size_scenario import SHORT_SIZES
from support.drivers import set_price
from support.model import (
    P0,
    SCALE,
    TAKER_FEE,
    WAD,
    ceil_div,
    conservation_gap,
    fee,
    mul_div_up,
    notional,
    price,
    tokens,
    value,
)

P_BANK = price(43_000)


def test_model_matches_the_book(crowd, trader, shorts, trader_model, short_models):
    ch = crowd.clearinghouse
    for p in (P0, P_BANK):
        set_price(crowd, p)
        assert ch.equity(trader) == trader_model.equity({0: p})
        for account, model in zip(shorts, short_models):
            assert ch.equity(account) == model.equity({0: p})
    assert ch.open_interest(0) == WAD


def test_charges_are_pro_rata_to_size_and_rounded_up(crowd, trader, shorts, liquidator, trader_model, short_models):
    ch = crowd.clearinghouse
    set_price(crowd, P_BANK)
    prices = {0: P_BANK}
    residual = -trader_model.equity(prices)
    assert residual > 0
    before = [ch.equity(a) for a in shorts]
    liquidator_equity = ch.equity(liquidator)

    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)

    [log] = receipt.events.filter(ch.Bankruptcy)
    assert (log.deficit, log.insurance_paid, log.socialized, log.bad_debt) == (residual, 0, residual, 0)
    open_interest = ch.open_interest(0)
    assert open_interest == WAD
    delta = ceil_div(residual * SCALE, open_interest)
    assert ch.haircut_index(0, False) == delta
    [socialized] = receipt.events.filter(ch.Socialized)
    assert (socialized.market, socialized.long_side, socialized.amount, socialized.index) == (0, False, residual, delta)
    charges = [mul_div_up(size, delta, SCALE) for size in SHORT_SIZES]
    assert any(size * delta % SCALE for size in SHORT_SIZES), "the rounding must be exercised"
    for account, model, equity, charge in zip(shorts, short_models, before, charges):
        assert equity == model.equity(prices)
        assert ch.equity(account) == equity - charge
    # pro rata: bigger positions pay more, each within one base unit of size / OI * residual
    for size, charge in zip(SHORT_SIZES, charges):
        assert size * residual <= charge * open_interest < size * residual + 2 * open_interest
    assert charges[0] > charges[1] > charges[2]
    # never short of the residual, and the excess is rounding dust
    assert 0 <= sum(charges) - residual <= len(charges)
    # the keeper took the bankrupt side: it is not charged
    assert ch.equity(liquidator) == liquidator_equity + value(WAD, P_BANK) - notional(WAD, P_BANK)
    assert 0 <= conservation_gap(crowd, [trader, liquidator, *shorts]) <= 2 * len(shorts) + 3


def test_socialized_loss_view_accumulates_per_market(crowd, trader, shorts, liquidator, other, trader_model):
    """Two bankruptcies in market 0: the view adds both residuals; market 1 stays at zero;
    each short owes its share of both index moves, unsettled in between."""
    ch = crowd.clearinghouse
    assert ch.socialized_loss(0) == ch.socialized_loss(1) == 0
    # a second long: other buys 0.5 from the first short
    crowd.fund(other, 3_000)
    crowd.fill(other, shorts[0], -WAD // 2, P0)
    set_price(crowd, P_BANK)
    first = -trader_model.equity({0: P_BANK})
    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)
    assert receipt.events.filter(ch.Bankruptcy)[0].socialized == first
    assert ch.socialized_loss(0) == first
    open_interest = ch.open_interest(0)
    assert open_interest == WAD + WAD // 2
    delta1 = ceil_div(first * SCALE, open_interest)
    before = [ch.equity(a) for a in shorts]

    second = -(tokens(3_000) - fee(notional(WAD // 2, P0), TAKER_FEE) + value(WAD // 2, P_BANK) - notional(WAD // 2, P0))
    assert second > 0 and ch.equity(other) == -second
    receipt = ch.liquidate_bankrupt(other, sender=liquidator)
    assert receipt.events.filter(ch.Bankruptcy)[0].socialized == second
    delta2 = ceil_div(second * SCALE, ch.open_interest(0))

    assert ch.socialized_loss(0) == first + second
    assert ch.socialized_loss(1) == 0
    assert ch.haircut_index(0, False) == delta1 + delta2
    sizes = [SHORT_SIZES[0] + WAD // 2, *SHORT_SIZES[1:]]
    for account, size, equity in zip(shorts, sizes, before):
        # the pending charge is computed on the cumulative index, once
        owed_before = mul_div_up(size, delta1, SCALE)
        owed_after = mul_div_up(size, delta1 + delta2, SCALE)
        assert ch.equity(account) == equity - (owed_after - owed_before)
