"""A bankrupt account with positions in three markets: it lost in two and gained in one. The
keeper takes over all three at oracle prices; the residual is split across the losing markets
pro rata to their losses (each share rounded up, the last capped so they sum to the residual)
and charged to each market's opposite side; the winning market is not charged."""
import pytest
from support.adl_model import split_shares
from support.drivers import set_price
from support.model import (
    MAKER_FEE,
    MAX_COVER_RATIO,
    P0,
    SCALE,
    TAKER_FEE,
    WAD,
    AccountBook as Book,
    ceil_div,
    conservation_gap,
    mul_div_up,
    price,
    tokens,
)

PRICES = {0: price(36_000), 1: price("56000.03"), 2: price(52_000)}
# the trader: long 1 in market 0, short 1 in market 1, long 1 in market 2
SIZES = {0: WAD, 1: -WAD, 2: WAD}


def split(residual, losses):
    """liquidate_bankrupt's allocation: ceil(residual * loss / total), capped at what is left
    (the model's split, shared with every policy's waterfall)."""
    return split_shares(residual, losses, sum(losses.values()))


def open_book(protocol, trader, counterparty, liquidator):
    protocol.fund(counterparty, 300_000)
    protocol.fund(liquidator, 300_000)
    protocol.fund(trader, 16_000)
    trader_model = Book(collateral=tokens(16_000))
    counter_model = Book(collateral=tokens(300_000))
    for market, size in SIZES.items():
        protocol.fill(trader, counterparty, -size, P0, market=market)
        trader_model.trade(market, size, P0, TAKER_FEE)
        counter_model.trade(market, -size, P0, MAKER_FEE)
    for market, p in PRICES.items():
        set_price(protocol, p, market)
    return trader_model, counter_model


@pytest.fixture
def no_vault(protocol_builder):
    return protocol_builder(markets=3, with_vault=False)


def test_residual_is_split_pro_rata_to_the_losing_markets(no_vault, trader, maker, liquidator):
    protocol = no_vault
    ch = protocol.clearinghouse
    trader_model, maker_model = open_book(protocol, trader, maker, liquidator)
    equity = ch.equity(trader)
    assert equity == trader_model.equity(PRICES) == -tokens("2075.03")
    losses = {m: trader_model.loss(m, PRICES[m]) for m in SIZES}
    assert losses == {0: tokens(14_000), 1: tokens("6000.03"), 2: 0}
    deficit = -equity  # every position closes at the oracle without rounding here
    shares = split(deficit, losses)
    assert sum(shares.values()) == deficit
    # market 0's share is not a whole number of base units: its rounding up is exercised
    assert deficit * losses[0] % sum(losses.values()) != 0

    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)

    [log] = receipt.events.filter(ch.Bankruptcy)
    assert (log.deficit, log.insurance_paid, log.socialized, log.bad_debt) == (deficit, 0, deficit, 0)
    takeovers = {t.market: t for t in receipt.events.filter(ch.BankruptcyTakeover)}
    assert sorted(takeovers) == [0, 1, 2]
    for market, t in takeovers.items():
        assert (t.size, t.price, t.loss) == (SIZES[market], PRICES[market], losses[market])
        assert ch.position_size(liquidator, market) == SIZES[market]
        assert ch.position_size(trader, market) == 0
    assert ch.collateral(trader) == 0 and ch.equity(trader) == 0
    # market 0: the trader was long, the shorts pay; market 1: it was short, the longs pay
    assert ch.socialized_loss(0) == shares[0]
    assert ch.socialized_loss(1) == shares[1]
    assert ch.socialized_loss(2) == 0
    delta0 = ceil_div(shares[0] * SCALE, WAD)
    delta1 = ceil_div(shares[1] * SCALE, WAD)
    assert (ch.haircut_index(0, False), ch.haircut_index(0, True)) == (delta0, 0)
    assert (ch.haircut_index(1, True), ch.haircut_index(1, False)) == (delta1, 0)
    assert (ch.haircut_index(2, True), ch.haircut_index(2, False)) == (0, 0)
    charges = mul_div_up(WAD, delta0, SCALE) + mul_div_up(WAD, delta1, SCALE)
    assert ch.equity(maker) == maker_model.equity(PRICES) - charges
    assert 0 <= charges - deficit <= 2
    assert ch.bad_debt() == 0
    assert 0 <= conservation_gap(protocol, [trader, maker, liquidator]) <= 6


def test_vault_pays_first_then_the_residual_is_split(protocol_builder, trader, maker, liquidator, staker):
    protocol = protocol_builder(markets=3)
    ch, vault = protocol.clearinghouse, protocol.vault
    trader_model, _ = open_book(protocol, trader, maker, liquidator)
    protocol.token.mint(staker, tokens(1_000), sender=staker)
    protocol.token.approve(vault, tokens(1_000), sender=staker)
    vault.deposit(tokens(1_000), staker, sender=staker)
    ch.sweep_fees(sender=liquidator)
    assets = vault.totalAssets()
    deficit = -trader_model.equity(PRICES)
    cap = assets * MAX_COVER_RATIO // WAD
    residual = deficit - cap
    losses = {m: trader_model.loss(m, PRICES[m]) for m in SIZES}
    shares = split(residual, losses)

    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)

    [log] = receipt.events.filter(ch.Bankruptcy)
    assert (log.deficit, log.insurance_paid, log.socialized, log.bad_debt) == (deficit, cap, residual, 0)
    assert ch.socialized_loss(0) == shares[0]
    assert ch.socialized_loss(1) == shares[1]
    assert ch.socialized_loss(2) == 0
    assert vault.totalAssets() == assets - cap


def test_a_keeper_closing_the_opposite_side_still_pays_that_markets_share(no_vault, trader, maker, other, liquidator):
    """The maker is the counterparty in market 0, `other` in markets 1 and 2, and `other`
    resolves the bankruptcy: its takeover closes its own positions in markets 1 and 2. The
    charge is sized on the book before the takeover, so `other` pays market 1's share of the
    loss (it was market 1's whole opposite side) and the maker market 0's; no bad debt."""
    protocol = no_vault
    ch = protocol.clearinghouse
    protocol.fund(maker, 300_000)
    protocol.fund(other, 300_000)
    protocol.fund(trader, 16_000)
    model = Book(collateral=tokens(16_000))
    for market, size in SIZES.items():
        counterparty = maker if market == 0 else other
        protocol.fill(trader, counterparty, -size, P0, market=market)
        model.trade(market, size, P0, TAKER_FEE)
    for market, p in PRICES.items():
        set_price(protocol, p, market)
    deficit = -model.equity(PRICES)
    losses = {m: model.loss(m, PRICES[m]) for m in SIZES}
    assert losses[0] > 0 and losses[1] > 0  # both markets lost money
    shares = split(deficit, losses)
    maker_equity = ch.equity(maker)

    receipt = ch.liquidate_bankrupt(trader, sender=other)

    assert ch.open_interest(1) == 0 and ch.open_interest(2) == 0
    assert ch.open_interest(0) == WAD
    [log] = receipt.events.filter(ch.Bankruptcy)
    assert (log.deficit, log.insurance_paid, log.socialized, log.bad_debt) == (deficit, 0, deficit, 0)
    assert ch.bad_debt() == 0
    assert (ch.socialized_loss(0), ch.socialized_loss(1), ch.socialized_loss(2)) == (shares[0], shares[1], 0)
    assert maker_equity - ch.equity(maker) == mul_div_up(WAD, ceil_div(shares[0] * SCALE, WAD), SCALE)
    assert 0 <= conservation_gap(protocol, [trader, maker, other]) <= 6


def test_deficit_beside_profitable_positions_is_socialized_by_notional(protocol_builder, trader, maker, liquidator):
    """The account realized a big loss in market 1 while market 0's profit kept it solvent;
    market 0 then falls back but its position still shows a profit. No open position lost
    money, so the residual is split by the open positions' notional (here: all on market 0's
    shorts) instead of becoming bad debt while there is open interest to charge."""
    protocol = protocol_builder(markets=2, with_vault=False)
    ch = protocol.clearinghouse
    protocol.fund(maker, 300_000)
    protocol.fund(liquidator, 300_000)
    protocol.fund(trader, 10_100)
    for market in (0, 1):
        protocol.fill(trader, maker, -WAD, P0, market=market)  # trader long 1 in each
    set_price(protocol, price(60_000), 0)
    set_price(protocol, price(38_000), 1)
    protocol.fill(trader, maker, WAD, price(38_000), market=1)  # close market 1 at a 12,000 loss
    assert ch.position_size(trader, 1) == 0
    assert ch.collateral(trader) < 0 < ch.equity(trader)
    set_price(protocol, price(51_000), 0)  # still above the 50,000 entry
    deficit = -ch.equity(trader)
    assert deficit > 0
    maker_equity = ch.equity(maker)

    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)

    [log] = receipt.events.filter(ch.Bankruptcy)
    assert (log.deficit, log.insurance_paid, log.socialized, log.bad_debt) == (deficit, 0, deficit, 0)
    assert ch.bad_debt() == 0
    assert (ch.socialized_loss(0), ch.socialized_loss(1)) == (deficit, 0)
    # the maker is market 0's only short: it pays the whole residual, rounded up by at most 1
    assert 0 <= (maker_equity - ch.equity(maker)) - deficit <= 1
