"""`liquidate(account, market, size)`: its guards, the takeover at the oracle price, the penalty
(rounded up, split liquidator / vault, capped at the equity left) and the liquidator's margin."""
import ape
from support.drivers import set_price
from support.model import (
    LIQUIDATOR_SHARE,
    MAKER_FEE,
    MMR,
    P0,
    PENALTY,
    TAKER_FEE,
    WAD,
    AccountBook as Book,
    conservation_gap,
    fee,
    mul_div_up,
    notional,
    price,
    tokens,
    value,
)

P_LIQ = price("46123.45")  # trader equity 2,098.45 < maintenance margin 2,306.17
P_CAP = price(44_100)  # trader equity 75: below any penalty on half the position
P_ZERO = price(44_025)  # trader equity exactly 0
P_BANK = price(43_000)  # trader equity -1,025


def test_the_model_tracks_the_book_through_every_zone(book, trader, trader_model):
    ch = book.clearinghouse
    for p in (P0, P_LIQ, P_CAP, P_ZERO, P_BANK):
        set_price(book, p)
        assert ch.equity(trader) == trader_model.equity({0: p})
        assert ch.maintenance_margin(trader) == trader_model.margin({0: p}, {0: MMR})
    set_price(book, P0)
    assert not ch.is_liquidatable(trader)
    set_price(book, P_LIQ)
    assert ch.is_liquidatable(trader) and ch.equity(trader) > 0
    set_price(book, P_ZERO)
    assert ch.equity(trader) == 0 and ch.is_liquidatable(trader)
    set_price(book, P_BANK)
    assert ch.equity(trader) == tokens(-1025)


# ---------------------------------------------------------------- guards


def test_zero_size_reverts(book, trader, liquidator):
    set_price(book, P_LIQ)
    with ape.reverts("liquidate: zero size"):
        book.clearinghouse.liquidate(trader, 0, 0, sender=liquidator)


def test_cannot_liquidate_yourself(book, trader):
    set_price(book, P_LIQ)
    assert book.clearinghouse.is_liquidatable(trader)
    with ape.reverts("liquidate: cannot liquidate yourself"):
        book.clearinghouse.liquidate(trader, 0, WAD // 4, sender=trader)


def test_unknown_market_reverts(book, trader, liquidator):
    set_price(book, P_LIQ)
    with ape.reverts("registry: unknown market"):
        book.clearinghouse.liquidate(trader, 1, WAD // 4, sender=liquidator)


def test_healthy_account_reverts(book, trader, liquidator):
    ch = book.clearinghouse
    assert not ch.is_liquidatable(trader)
    with ape.reverts("liquidate: account is healthy"):
        ch.liquidate(trader, 0, WAD // 4, sender=liquidator)
    # just above the maintenance margin is still healthy
    set_price(book, price("46342.11"))
    assert ch.equity(trader) >= ch.maintenance_margin(trader)
    with ape.reverts("liquidate: account is healthy"):
        ch.liquidate(trader, 0, WAD // 4, sender=liquidator)


def test_account_with_equity_equal_to_maintenance_margin_is_healthy(book, other, maker, liquidator):
    """6,325 deposited, 25 taker fee: at 46,000 equity 6,300 - 4,000 = 2,300 = 5 % of 46,000."""
    ch = book.clearinghouse
    book.fund(other, 6_325)
    book.fill(other, maker, -WAD, P0)
    set_price(book, price(46_000))
    assert ch.equity(other) == ch.maintenance_margin(other) == tokens(2_300)
    with ape.reverts("liquidate: account is healthy"):
        ch.liquidate(other, 0, WAD // 4, sender=liquidator)
    set_price(book, price("45999.99"))
    assert ch.equity(other) < ch.maintenance_margin(other)
    ch.liquidate(other, 0, WAD // 4, sender=liquidator)
    assert ch.position_size(other, 0) == WAD - WAD // 4


def test_bankrupt_account_reverts(book, trader, liquidator):
    set_price(book, P_BANK)
    with ape.reverts("liquidate: account is bankrupt, use liquidate_bankrupt"):
        book.clearinghouse.liquidate(trader, 0, WAD // 4, sender=liquidator)


def test_no_position_in_this_market_reverts(protocol_builder, trader, maker, liquidator):
    two = protocol_builder(markets=2)
    ch = two.clearinghouse
    for who, amount in ((maker, 100_000), (liquidator, 100_000), (trader, 6_000)):
        two.fund(who, amount)
    two.fill(trader, maker, -WAD, P0, market=0)
    set_price(two, P_LIQ, market=0)
    assert ch.is_liquidatable(trader)
    with ape.reverts("liquidate: no position in this market"):
        ch.liquidate(trader, 1, WAD // 4, sender=liquidator)
    assert ch.max_liquidatable_size(trader, 1) == 0
    ch.liquidate(trader, 0, WAD // 4, sender=liquidator)


def test_size_above_position_reverts(book, trader, liquidator):
    set_price(book, P_LIQ)
    with ape.reverts("liquidate: size above position"):
        book.clearinghouse.liquidate(trader, 0, WAD + 1, sender=liquidator)


def test_size_above_close_factor_reverts(book, trader, liquidator):
    set_price(book, P_LIQ)
    limit = mul_div_up(WAD, WAD // 2, WAD)
    with ape.reverts("liquidate: size above close factor"):
        book.clearinghouse.liquidate(trader, 0, limit + 1, sender=liquidator)
    with ape.reverts("liquidate: size above close factor"):
        book.clearinghouse.liquidate(trader, 0, WAD, sender=liquidator)


def test_partial_take_leaving_dust_reverts(book, owner, trader, liquidator):
    """With a 100 % close factor any size up to the position passes the close factor, but a
    partial take must not leave less than the dust notional (10 tokens)."""
    ch = book.clearinghouse
    ch.set_liquidation_params(0, PENALTY, LIQUIDATOR_SHARE, WAD, sender=owner)
    set_price(book, P_LIQ)
    dust = ch.dust_notional()
    assert dust == tokens(10)
    # leaves 0.0002 units = 9.22 tokens of notional
    size = WAD - 2 * 10**14
    assert notional(WAD - size, P_LIQ) < dust
    with ape.reverts("liquidate: would leave a dust position"):
        ch.liquidate(trader, 0, size, sender=liquidator)
    # leaving exactly enough passes: 0.0003 units = 13.8 tokens
    size = WAD - 3 * 10**14
    assert notional(WAD - size, P_LIQ) >= dust
    ch.liquidate(trader, 0, size, sender=liquidator)
    assert ch.position_size(trader, 0) == 3 * 10**14


def test_partial_take_below_dust_threshold_reverts_with_default_close_factor(book, owner, trader, liquidator):
    """When the largest partial take would leave dust, the whole position may (and a partial
    take may not) be taken."""
    ch = book.clearinghouse
    set_price(book, P_LIQ)
    ch.set_dust_notional(tokens(30_000), sender=owner)
    assert ch.max_liquidatable_size(trader, 0) == WAD
    with ape.reverts("liquidate: would leave a dust position"):
        ch.liquidate(trader, 0, WAD // 2, sender=liquidator)
    ch.liquidate(trader, 0, WAD, sender=liquidator)
    assert ch.position_size(trader, 0) == 0
    assert ch.position_size(liquidator, 0) == WAD


def test_liquidator_below_initial_margin_reverts(book, trader, other):
    ch = book.clearinghouse
    set_price(book, P_LIQ)
    size = WAD // 2
    book.fund(other, 100)
    im = mul_div_up(mul_div_up(size, P_LIQ, 10**30), WAD // 10, WAD)
    assert tokens(100) + fee(notional(size, P_LIQ), PENALTY) // 2 < im
    with ape.reverts("liquidate: liquidator below initial margin"):
        ch.liquidate(trader, 0, size, sender=other)
    # with enough collateral the same call passes
    book.fund(other, 2_500)
    ch.liquidate(trader, 0, size, sender=other)
    assert ch.equity(other) >= ch.initial_margin(other)


def test_unfunded_liquidator_reverts(book, trader, attacker):
    set_price(book, P_LIQ)
    assert book.clearinghouse.equity(attacker) == 0
    with ape.reverts("liquidate: liquidator below initial margin"):
        book.clearinghouse.liquidate(trader, 0, WAD // 4, sender=attacker)


# ---------------------------------------------------------------- effects


def test_partial_liquidation_takes_over_at_the_oracle_price_and_pays_a_rounded_up_penalty(
    book, trader, maker, liquidator, trader_model
):
    ch = book.clearinghouse
    set_price(book, P_LIQ)
    size = WAD // 3
    n = notional(size, P_LIQ)
    penalty = fee(n, PENALTY)
    assert (n * PENALTY) % WAD != 0, "the scenario must exercise the rounding"
    assert penalty * WAD > n * PENALTY  # rounded up, not down
    reward = penalty * LIQUIDATOR_SHARE // WAD
    treasury = ch.treasury()
    liquidator_collateral = ch.collateral(liquidator)

    receipt = ch.liquidate(trader, 0, size, sender=liquidator)

    trader_model.fill(0, -size, n, P_LIQ)
    assert penalty < trader_model.equity({0: P_LIQ})  # not capped
    trader_model.collateral -= penalty
    logs = receipt.events.filter(ch.Liquidation)
    assert len(logs) == 1
    log = logs[0]
    assert log.account == trader
    assert log.liquidator == liquidator
    assert log.market == 0
    assert log.size == -size  # the account's change
    assert log.price == P_LIQ
    assert log.penalty == penalty
    assert log.liquidator_reward == reward
    assert ch.position_size(trader, 0) == WAD - size
    assert ch.position_size(liquidator, 0) == size
    assert ch.open_interest(0) == WAD  # the keeper took the side the account left
    assert ch.collateral(trader) == trader_model.collateral
    assert ch.equity(trader) == trader_model.equity({0: P_LIQ})
    # the keeper bought at the oracle price: its equity moves only by its reward
    assert ch.collateral(liquidator) == liquidator_collateral + reward
    assert ch.equity(liquidator) == liquidator_collateral + reward + value(size, P_LIQ) - n
    assert ch.treasury() == treasury + penalty - reward
    assert 0 <= conservation_gap(book, [trader, maker, liquidator]) <= 3


def test_vault_share_of_the_penalty_reaches_the_vault(book, trader, liquidator):
    ch, vault = book.clearinghouse, book.vault
    ch.sweep_fees(sender=liquidator)  # the opening fees go first
    assets = vault.totalAssets()
    set_price(book, P_LIQ)
    size = WAD // 2
    penalty = fee(notional(size, P_LIQ), PENALTY)
    reward = penalty * LIQUIDATOR_SHARE // WAD
    ch.liquidate(trader, 0, size, sender=liquidator)
    ch.sweep_fees(sender=liquidator)
    assert vault.totalAssets() == assets + penalty - reward
    assert ch.treasury() == ch.protocol_fees()


def test_penalty_and_split_follow_the_market_parameters(book, owner, trader, liquidator, trader_model):
    ch = book.clearinghouse
    rate, share = WAD // 50, WAD // 3  # 2 % penalty, a third to the liquidator
    ch.set_liquidation_params(0, rate, share, WAD // 2, sender=owner)
    set_price(book, P_LIQ)
    size = WAD // 2 - 12345
    n = notional(size, P_LIQ)
    penalty = fee(n, rate)
    reward = penalty * share // WAD
    assert penalty * share % WAD != 0  # the keeper's share rounds down
    receipt = ch.liquidate(trader, 0, size, sender=liquidator)
    log = receipt.events.filter(ch.Liquidation)[0]
    assert (log.penalty, log.liquidator_reward) == (penalty, reward)
    trader_model.fill(0, -size, n, P_LIQ)
    trader_model.collateral -= penalty
    assert ch.equity(trader) == trader_model.equity({0: P_LIQ})


def test_penalty_is_capped_at_the_equity_left(book, trader, maker, liquidator, trader_model):
    ch = book.clearinghouse
    set_price(book, P_CAP)
    assert ch.equity(trader) == tokens(75)
    size = WAD // 2
    n = notional(size, P_CAP)
    full = fee(n, PENALTY)
    trader_model.fill(0, -size, n, P_CAP)
    left = trader_model.equity({0: P_CAP})
    assert 0 < left < full
    treasury, liquidator_collateral = ch.treasury(), ch.collateral(liquidator)

    receipt = ch.liquidate(trader, 0, size, sender=liquidator)

    log = receipt.events.filter(ch.Liquidation)[0]
    assert log.penalty == left
    assert log.liquidator_reward == left * LIQUIDATOR_SHARE // WAD
    assert ch.equity(trader) == 0  # never pushed below zero
    assert ch.collateral(liquidator) == liquidator_collateral + log.liquidator_reward
    assert ch.treasury() == treasury + left - log.liquidator_reward
    assert 0 <= conservation_gap(book, [trader, maker, liquidator]) <= 3


def test_no_penalty_from_an_account_with_zero_equity(book, trader, liquidator):
    ch = book.clearinghouse
    set_price(book, P_ZERO)
    assert ch.equity(trader) == 0 and ch.is_liquidatable(trader)
    treasury, liquidator_collateral = ch.treasury(), ch.collateral(liquidator)
    receipt = ch.liquidate(trader, 0, WAD // 2, sender=liquidator)
    log = receipt.events.filter(ch.Liquidation)[0]
    assert (log.penalty, log.liquidator_reward) == (0, 0)
    assert ch.equity(trader) == 0
    assert ch.treasury() == treasury
    assert ch.collateral(liquidator) == liquidator_collateral


def test_short_position_is_liquidated_into_a_short(book, other, maker, liquidator):
    """The other side: a short that lost on a rise; the keeper takes over the short."""
    ch = book.clearinghouse
    book.fund(other, 6_000)
    book.fill(other, maker, WAD, P0)  # the maker buys 1 (closing its short), other sells 1
    assert ch.position_size(other, 0) == -WAD
    model = Book(collateral=tokens(6_000))
    model.trade(0, -WAD, P0, TAKER_FEE)
    p = price(53_500)
    set_price(book, p)
    assert ch.equity(other) == model.equity({0: p}) == tokens(2_475)
    assert ch.is_liquidatable(other)
    size = ch.max_liquidatable_size(other, 0)
    assert size == WAD // 2
    n = notional(size, p)
    penalty = fee(n, PENALTY)
    receipt = ch.liquidate(other, 0, size, sender=liquidator)
    log = receipt.events.filter(ch.Liquidation)[0]
    assert log.size == size and log.penalty == penalty
    assert ch.position_size(other, 0) == -WAD + size
    assert ch.position_size(liquidator, 0) == -size
    model.fill(0, size, n, p)
    model.collateral -= penalty
    assert ch.equity(other) == model.equity({0: p})


def test_liquidator_on_the_opposite_side_nets_its_position(book, trader, maker, maker_model):
    """The maker (short 1) takes over half the trader's long: its short halves, open interest
    falls, and its equity changes only by its reward."""
    ch = book.clearinghouse
    set_price(book, P_LIQ)
    size = WAD // 2
    n = notional(size, P_LIQ)
    reward = fee(n, PENALTY) * LIQUIDATOR_SHARE // WAD
    ch.liquidate(trader, 0, size, sender=maker)
    assert ch.position_size(maker, 0) == -WAD + size
    assert ch.open_interest(0) == WAD - size
    maker_model.fill(0, size, n, P_LIQ)
    maker_model.collateral += reward
    assert ch.equity(maker) == maker_model.equity({0: P_LIQ})
    assert ch.collateral(maker) == maker_model.collateral


def test_liquidation_works_while_paused(book, owner, guardian, trader, maker, liquidator, other):
    ch = book.clearinghouse
    ch.set_guardian(guardian, sender=owner)
    ch.pause(sender=guardian)
    book.fund(other, 10_000)
    with ape.reverts("trade: paused"):
        book.fill(other, maker, -WAD // 10, P0)  # new risk is stopped...
    set_price(book, P_LIQ)
    receipt = ch.liquidate(trader, 0, WAD // 2, sender=liquidator)  # ...liquidation is not
    assert len(receipt.events.filter(ch.Liquidation)) == 1
    assert ch.position_size(liquidator, 0) == WAD // 2
    assert ch.paused()


def test_repeated_liquidation_follows_the_shrinking_close_factor(book, trader, liquidator):
    ch = book.clearinghouse
    set_price(book, P_CAP)
    first = ch.max_liquidatable_size(trader, 0)
    assert first == WAD // 2
    ch.liquidate(trader, 0, first, sender=liquidator)
    assert ch.is_liquidatable(trader) and ch.equity(trader) == 0
    second = ch.max_liquidatable_size(trader, 0)
    assert second == mul_div_up(WAD - first, WAD // 2, WAD)
    with ape.reverts("liquidate: size above close factor"):
        ch.liquidate(trader, 0, second + 1, sender=liquidator)
    ch.liquidate(trader, 0, second, sender=liquidator)
    assert ch.position_size(trader, 0) == WAD - first - second
    assert ch.position_size(liquidator, 0) == first + second
    assert ch.equity(trader) == 0


def test_maker_fee_constant_matches_the_opening_fill(book, maker, maker_model):
    """Sanity of the fixture the opposite-side tests rely on."""
    assert book.clearinghouse.equity(maker) == maker_model.equity({0: P0})
    assert book.clearinghouse.collateral(maker) == tokens(100_000) - fee(notional(WAD, P0), MAKER_FEE)
