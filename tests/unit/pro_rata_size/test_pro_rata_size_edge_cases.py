"""pro_rata_size edge cases: the keeper as the only opposite holder, the keeper itself on the
opposite side (charged like everyone, also when its takeover nets it flat: the charge is
sized on the book before the takeover), and a charge that pushes another account below
maintenance margin (which is then liquidated)."""
import pytest
from liquidation_model import (
    LIQUIDATOR_SHARE,
    MAKER_FEE,
    P0,
    PENALTY,
    SCALE,
    TAKER_FEE,
    WAD,
    Book,
    ceil_div,
    conservation_gap,
    fee,
    mul_div_up,
    notional,
    price,
    set_price,
    tokens,
)

P_BANK = price(43_000)


@pytest.fixture(scope="module")
def plain(protocol_builder):
    """One market at 50,000, no insurance vault."""
    return protocol_builder(with_vault=False)


def open_long(protocol, trader, counterparty, size=WAD, deposit=6_000):
    protocol.fund(trader, deposit)
    protocol.fill(trader, counterparty, -size, P0)
    model = Book(collateral=tokens(deposit))
    model.trade(0, size, P0, TAKER_FEE)
    return model


def test_only_opposite_holder_as_keeper_pays_the_residual(plain, trader, maker):
    """The maker, the only short, resolves the bankruptcy: its takeover closes the whole
    short side, but the residual is charged on the book before the takeover, so the maker
    pays all of it and nothing becomes bad debt."""
    ch = plain.clearinghouse
    plain.fund(maker, 100_000)
    model = open_long(plain, trader, maker)
    set_price(plain, P_BANK)
    deficit = -model.equity({0: P_BANK})
    maker_equity = ch.equity(maker)
    receipt = ch.liquidate_bankrupt(trader, sender=maker)
    assert ch.open_interest(0) == 0
    [log] = receipt.events.filter(ch.Bankruptcy)
    assert (log.deficit, log.insurance_paid, log.socialized, log.bad_debt) == (deficit, 0, deficit, 0)
    delta = ceil_div(deficit * SCALE, WAD)
    assert ch.haircut_index(0, False) == delta and ch.haircut_index(0, True) == 0
    assert ch.bad_debt() == 0
    assert ch.socialized_loss(0) == deficit
    assert ch.equity(maker) == maker_equity - mul_div_up(WAD, delta, SCALE)
    assert 0 <= conservation_gap(plain, [trader, maker]) <= 2


def test_liquidator_on_the_opposite_side_is_charged(plain, trader, maker, liquidator, other):
    """Longs: trader 1 (bankrupt), maker 1.5. Shorts: liquidator 2, other 0.5. The charge is
    sized on the 2.5 of open interest before the takeover: the liquidator pays 2 / 2.5 of the
    residual, other 0.5 / 2.5; the takeover then leaves the liquidator short 1."""
    ch = plain.clearinghouse
    for who in (maker, liquidator, other):
        plain.fund(who, 100_000)
    model = open_long(plain, trader, liquidator)  # liquidator sells 1 to the trader
    plain.fill(maker, liquidator, -WAD, P0)  # and 1 to the maker
    plain.fill(maker, other, -WAD // 2, P0)  # other sells 0.5 to the maker
    keeper = Book(collateral=tokens(100_000))
    keeper.trade(0, -WAD, P0, MAKER_FEE)
    keeper.trade(0, -WAD, P0, MAKER_FEE)
    set_price(plain, P_BANK)
    residual = -model.equity({0: P_BANK})
    other_equity = ch.equity(other)
    open_interest = ch.open_interest(0)
    assert open_interest == 2 * WAD + WAD // 2

    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)

    assert ch.position_size(liquidator, 0) == -WAD
    assert ch.open_interest(0) == WAD + WAD // 2
    assert receipt.events.filter(ch.Bankruptcy)[0].socialized == residual
    delta = ceil_div(residual * SCALE, open_interest)
    assert ch.haircut_index(0, False) == delta
    keeper_charge = mul_div_up(2 * WAD, delta, SCALE)
    other_charge = mul_div_up(WAD // 2, delta, SCALE)
    keeper.collateral -= keeper_charge
    keeper.fill(0, WAD, notional(WAD, P_BANK), P_BANK)
    assert 4 * other_charge - 3 <= keeper_charge <= 4 * other_charge
    assert ch.equity(liquidator) == keeper.equity({0: P_BANK})
    assert ch.equity(other) == other_equity - other_charge
    assert 0 <= keeper_charge + other_charge - residual <= 2


def test_liquidator_netted_flat_still_pays_its_share(plain, trader, maker, liquidator, other):
    """Shorts: liquidator 1, other 0.5 (vs the maker's long 0.5). The takeover closes the
    liquidator's short, but the charge was sized first on 1.5: the liquidator pays 1 / 1.5
    of the residual out of its realized profit and other 0.5 / 1.5."""
    ch = plain.clearinghouse
    for who in (maker, liquidator, other):
        plain.fund(who, 100_000)
    model = open_long(plain, trader, liquidator)
    plain.fill(maker, other, -WAD // 2, P0)
    set_price(plain, P_BANK)
    residual = -model.equity({0: P_BANK})
    other_equity = ch.equity(other)
    keeper_collateral = ch.collateral(liquidator)
    keeper_gain = notional(WAD, P0) - notional(WAD, P_BANK)  # its short's profit, now realized

    ch.liquidate_bankrupt(trader, sender=liquidator)

    assert ch.position_size(liquidator, 0) == 0
    assert ch.open_interest(0) == WAD // 2
    delta = ceil_div(residual * SCALE, WAD + WAD // 2)
    keeper_charge = mul_div_up(WAD, delta, SCALE)
    assert ch.equity(other) == other_equity - mul_div_up(WAD // 2, delta, SCALE)
    assert ch.collateral(liquidator) == ch.equity(liquidator) == keeper_collateral + keeper_gain - keeper_charge
    assert ch.bad_debt() == 0


def test_charge_that_makes_an_account_liquidatable_then_liquidate_it(plain, trader, maker, liquidator, other):
    """The maker, short against the trader's long from 50,000, takes its profit at 30,000 by
    buying from `other`, who becomes the only short, with 15,000 deposited. The trader's
    14,025 deficit is all charged to `other`, which drops below maintenance margin (but not
    below zero) and is liquidated."""
    ch = plain.clearinghouse
    plain.fund(maker, 100_000)
    plain.fund(liquidator, 100_000)
    model = open_long(plain, trader, maker)
    p = price(30_000)
    set_price(plain, p)
    plain.fund(other, 15_000)
    plain.fill(other, maker, WAD, p)  # the maker buys 1 (flat), other sells 1
    assert ch.position_size(maker, 0) == 0
    short = Book(collateral=tokens(15_000))
    short.trade(0, -WAD, p, TAKER_FEE)
    assert not ch.is_liquidatable(other)
    residual = -model.equity({0: p})
    assert residual == tokens(14_025)

    ch.liquidate_bankrupt(trader, sender=liquidator)

    charge = mul_div_up(WAD, ceil_div(residual * SCALE, WAD), SCALE)
    equity = short.equity({0: p}) - charge
    assert ch.equity(other) == equity
    assert 0 <= equity < ch.maintenance_margin(other)
    assert ch.is_liquidatable(other)
    size = ch.max_liquidatable_size(other, 0)
    assert size == WAD // 2
    n = notional(size, p)
    penalty = fee(n, PENALTY)
    assert penalty < equity
    receipt = ch.liquidate(other, 0, size, sender=liquidator)
    log = receipt.events.filter(ch.Liquidation)[0]
    assert (log.penalty, log.liquidator_reward) == (penalty, penalty * LIQUIDATOR_SHARE // WAD)
    # the liquidation settled the charge into other's collateral first
    [settled] = [e for e in receipt.events.filter(ch.Settled) if e.account == other]
    assert settled.haircut == charge
    short.collateral -= charge
    short.fill(0, size, n, p)
    short.collateral -= penalty
    assert ch.equity(other) == short.equity({0: p})
    assert ch.position_size(other, 0) == -WAD // 2
    assert 0 <= conservation_gap(plain, [trader, maker, liquidator, other]) <= 3


def test_deficit_made_of_haircut_charges_is_socialized_while_there_is_open_interest(plain, trader, maker, liquidator, other):
    """A cascade: the trader's deficit is charged to `other`, the only short, which opened at
    the current price and so has no market loss of its own; the charge alone makes it
    bankrupt. When `other` is resolved, its deficit has open interest to be charged to (the
    long the liquidator took over from the trader), so by DESIGN.md (waterfall step 3:
    bad debt is only "whatever cannot be charged to anyone (no open interest to charge)";
    invariant 4: "bad_debt grows only when nothing else can pay") it must be socialized,
    not recorded as bad debt."""
    ch = plain.clearinghouse
    plain.fund(maker, 100_000)
    plain.fund(liquidator, 100_000)
    model = open_long(plain, trader, maker)
    p = price(30_000)
    set_price(plain, p)
    plain.fund(other, 14_000)
    plain.fill(other, maker, WAD, p)  # the maker buys 1 (flat), other sells 1 at the oracle
    short = Book(collateral=tokens(14_000))
    short.trade(0, -WAD, p, TAKER_FEE)
    ch.liquidate_bankrupt(trader, sender=liquidator)  # 14,025 charged to other
    charge = mul_div_up(WAD, ceil_div(-model.equity({0: p}) * SCALE, WAD), SCALE)
    deficit = charge - short.equity({0: p})
    assert ch.equity(other) == -deficit == -tokens(40)
    assert short.loss(0, p) == 0  # no market loss: the deficit is all haircut charge

    receipt = ch.liquidate_bankrupt(other, sender=maker)

    # the maker took over other's short; the liquidator's long is still open to be charged
    assert ch.position_size(maker, 0) == -WAD
    assert ch.position_size(liquidator, 0) == WAD
    assert ch.open_interest(0) == WAD
    [log] = receipt.events.filter(ch.Bankruptcy)
    assert log.deficit == deficit
    assert (log.socialized, log.bad_debt) == (deficit, 0), "bad debt recorded although the long side can be charged"
    assert ch.bad_debt() == 0
