"""`liquidate_bankrupt(account)`: its guards, the takeover at oracle prices, the account left
flat with zero collateral, and the waterfall: the vault pays first (up to its per-event cap,
never below its reserve), then the haircut, then bad debt; the keeper reward comes from the
vault and is bounded by `keeper_reward`."""
import copy

import ape
import pytest
from support.drivers import set_price
from support.model import (
    INSURANCE_FEE_SHARE,
    KEEPER_REWARD,
    MAKER_FEE,
    MAX_COVER_RATIO,
    MIN_RESERVE,
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
    vault_cover,
    waterfall,
)

P_BANK = price(43_000)  # trader equity -1,025


def closing_deficit(model, prices) -> int:
    """The deficit left once every position is closed at the oracle: -collateral."""
    flat = copy.deepcopy(model)
    for market, (size, _) in list(flat.positions.items()):
        flat.fill(market, -size, notional(size, prices[market]), prices[market])
    return max(-flat.collateral, 0)


def bankruptcy_log(ch, receipt):
    logs = receipt.events.filter(ch.Bankruptcy)
    assert len(logs) == 1
    return logs[0]


# ---------------------------------------------------------------- guards


def test_cannot_liquidate_yourself(book, trader):
    set_price(book, P_BANK)
    with ape.reverts("liquidate_bankrupt: cannot liquidate yourself"):
        book.clearinghouse.liquidate_bankrupt(trader, sender=trader)


def test_healthy_account_is_not_bankrupt(book, trader, liquidator):
    with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
        book.clearinghouse.liquidate_bankrupt(trader, sender=liquidator)


def test_liquidatable_but_solvent_account_is_not_bankrupt(book, trader, liquidator):
    ch = book.clearinghouse
    for p in (price("46123.45"), price(44_025)):  # equity > 0, equity == 0
        set_price(book, p)
        assert ch.is_liquidatable(trader) and ch.equity(trader) >= 0
        with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
            ch.liquidate_bankrupt(trader, sender=liquidator)


def test_account_without_anything_is_not_bankrupt(book, other, liquidator):
    with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
        book.clearinghouse.liquidate_bankrupt(other, sender=liquidator)


def test_liquidator_below_initial_margin_reverts(book, trader, other):
    """Taking over 1 unit at 43,000 needs 4,300 of initial margin."""
    ch = book.clearinghouse
    set_price(book, P_BANK)
    book.fund(other, 4_000)
    with ape.reverts("liquidate: liquidator below initial margin"):
        ch.liquidate_bankrupt(trader, sender=other)
    book.fund(other, 300)
    ch.liquidate_bankrupt(trader, sender=other)
    assert ch.position_size(other, 0) == WAD


# ---------------------------------------------------------------- the vault covers everything


def test_vault_covers_the_deficit_and_pays_the_keeper(book, trader, maker, liquidator, stake, trader_model, maker_model):
    ch, vault = book.clearinghouse, book.vault
    stake(tokens(100_000))
    ch.sweep_fees(sender=liquidator)
    assets = vault.totalAssets()
    set_price(book, P_BANK)
    prices = {0: P_BANK}
    assert ch.equity(trader) == trader_model.equity(prices) < 0
    deficit = closing_deficit(trader_model, prices)
    assert deficit == tokens(1_025)
    insurance, reward, residual = waterfall(deficit, assets)
    assert (insurance, reward, residual) == (deficit, KEEPER_REWARD, 0)
    liquidator_equity = ch.equity(liquidator)
    maker_equity = ch.equity(maker)

    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)

    log = bankruptcy_log(ch, receipt)
    assert log.account == trader
    assert (log.deficit, log.insurance_paid, log.socialized, log.bad_debt) == (deficit, deficit, 0, 0)
    [takeover] = receipt.events.filter(ch.BankruptcyTakeover)
    assert takeover.account == trader and takeover.liquidator == liquidator
    assert (takeover.market, takeover.size, takeover.price) == (0, WAD, P_BANK)
    assert takeover.loss == trader_model.loss(0, P_BANK) == tokens(7_000)
    [rewarded] = receipt.events.filter(ch.KeeperRewarded)
    assert rewarded.keeper == liquidator and rewarded.amount == KEEPER_REWARD
    # the account ends flat with zero collateral
    assert ch.position_size(trader, 0) == 0
    assert ch.collateral(trader) == 0
    assert ch.equity(trader) == 0
    assert not ch.is_liquidatable(trader)
    # the keeper took the position over at the oracle price and got its reward
    assert ch.position_size(liquidator, 0) == WAD
    assert ch.equity(liquidator) == liquidator_equity + KEEPER_REWARD + value(WAD, P_BANK) - notional(WAD, P_BANK)
    assert ch.open_interest(0) == WAD
    # the vault paid deficit + reward; nobody else did
    assert vault.totalAssets() == assets - deficit - KEEPER_REWARD
    assert ch.equity(maker) == maker_equity == maker_model.equity(prices)
    assert ch.socialized_loss(0) == 0
    assert ch.bad_debt() == 0
    assert 0 <= conservation_gap(book, [trader, maker, liquidator]) <= 3


def test_bankruptcy_sweeps_pending_vault_revenue_first(book, trader, maker, liquidator, stake):
    """The trading fees' vault share (50 %) is the vault's money: it is swept before cover,
    so the per-event cap is computed on the assets including it."""
    ch, vault = book.clearinghouse, book.vault
    stake(tokens(1_000))  # a vault deposit sweeps the fees before it first: they are earlier stakers'
    book.fill(liquidator, maker, -(WAD // 10), P0)  # a later fill: its fees wait in treasury()
    later = notional(WAD // 10, P0)
    fees = fee(later, TAKER_FEE) + fee(later, MAKER_FEE)
    protocol_before = ch.protocol_fees()
    assert ch.treasury() == protocol_before + fees
    to_vault = fees * INSURANCE_FEE_SHARE // WAD
    assets = vault.totalAssets() + to_vault
    set_price(book, P_BANK)
    deficit = tokens(1_025)
    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)
    log = bankruptcy_log(ch, receipt)
    assert log.insurance_paid == vault_cover(assets, deficit + KEEPER_REWARD) == assets * MAX_COVER_RATIO // WAD
    assert ch.protocol_fees() == protocol_before + fees - to_vault == ch.treasury()
    assert vault.totalAssets() == assets - log.insurance_paid


# ---------------------------------------------------------------- the vault's per-event cap


def test_vault_pays_up_to_its_cap_and_the_rest_is_socialized(book, trader, maker, liquidator, stake, maker_model):
    ch, vault = book.clearinghouse, book.vault
    stake(tokens(1_000))
    ch.sweep_fees(sender=liquidator)
    assets = vault.totalAssets()
    set_price(book, P_BANK)
    deficit = tokens(1_025)
    cap = assets * MAX_COVER_RATIO // WAD
    assert cap < deficit
    insurance, reward, residual = waterfall(deficit, assets)
    assert (insurance, reward) == (cap, 0)
    liquidator_collateral = ch.collateral(liquidator)

    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)

    log = bankruptcy_log(ch, receipt)
    assert (log.deficit, log.insurance_paid, log.socialized, log.bad_debt) == (deficit, cap, residual, 0)
    assert vault.totalAssets() == assets - cap
    # the vault had nothing left for the keeper
    assert receipt.events.filter(ch.KeeperRewarded) == []
    assert ch.collateral(liquidator) == liquidator_collateral
    # the residual was charged to the short side (the maker, all of it)
    delta = ceil_div(residual * SCALE, ch.open_interest(0))
    assert ch.haircut_index(0, False) == delta
    assert ch.haircut_index(0, True) == 0
    charge = mul_div_up(WAD, delta, SCALE)
    assert charge >= residual
    assert ch.equity(maker) == maker_model.equity({0: P_BANK}) - charge
    assert ch.socialized_loss(0) == residual
    assert ch.bad_debt() == 0
    assert 0 <= conservation_gap(book, [trader, maker, liquidator]) <= 3


def test_vault_never_goes_below_its_reserve(book, owner, trader, liquidator, stake):
    """With a 100 % cover ratio the reserve is what limits the payment."""
    ch, vault = book.clearinghouse, book.vault
    vault.set_max_cover_ratio(WAD, sender=owner)
    stake(tokens(500))
    ch.sweep_fees(sender=liquidator)
    assets = vault.totalAssets()
    reserve = vault.min_reserve()
    assert reserve == MIN_RESERVE
    set_price(book, P_BANK)
    deficit = tokens(1_025)
    assert assets - reserve < deficit
    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)
    log = bankruptcy_log(ch, receipt)
    assert log.insurance_paid == vault_cover(assets, deficit + KEEPER_REWARD, ratio=WAD) == assets - reserve
    assert log.socialized == deficit - log.insurance_paid
    assert vault.totalAssets() == reserve


def test_keeper_reward_is_what_the_vault_has_left_after_the_deficit(book, trader, liquidator, stake):
    """cap = deficit + 2 tokens: the keeper gets 2 tokens, below keeper_reward (5)."""
    ch, vault = book.clearinghouse, book.vault
    ch.sweep_fees(sender=liquidator)
    deficit = tokens(1_025)
    target = 2 * (deficit + tokens(2))
    stake(target - vault.totalAssets())
    assert vault.totalAssets() == target
    set_price(book, P_BANK)
    insurance, reward, residual = waterfall(deficit, target)
    assert (insurance, reward, residual) == (deficit, tokens(2), 0)
    liquidator_collateral = ch.collateral(liquidator)
    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)
    log = bankruptcy_log(ch, receipt)
    assert (log.insurance_paid, log.socialized, log.bad_debt) == (deficit, 0, 0)
    [rewarded] = receipt.events.filter(ch.KeeperRewarded)
    assert rewarded.amount == reward < ch.keeper_reward()
    assert ch.collateral(liquidator) == liquidator_collateral + reward
    assert vault.totalAssets() == target - deficit - reward


def test_keeper_reward_follows_its_setting(book, owner, trader, liquidator, stake):
    ch, vault = book.clearinghouse, book.vault
    stake(tokens(100_000))
    ch.set_keeper_reward(tokens(12), sender=owner)
    ch.sweep_fees(sender=liquidator)
    assets = vault.totalAssets()
    set_price(book, P_BANK)
    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)
    [rewarded] = receipt.events.filter(ch.KeeperRewarded)
    assert rewarded.amount == tokens(12)
    assert vault.totalAssets() == assets - tokens(1_025) - tokens(12)


def test_no_keeper_reward_when_it_is_set_to_zero(book, owner, trader, liquidator, stake):
    ch, vault = book.clearinghouse, book.vault
    stake(tokens(100_000))
    ch.set_keeper_reward(0, sender=owner)
    ch.sweep_fees(sender=liquidator)
    assets = vault.totalAssets()
    set_price(book, P_BANK)
    liquidator_collateral = ch.collateral(liquidator)
    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)
    assert receipt.events.filter(ch.KeeperRewarded) == []
    assert ch.collateral(liquidator) == liquidator_collateral
    assert vault.totalAssets() == assets - tokens(1_025)


@pytest.fixture
def unshared_book(protocol_builder, owner, trader, maker, liquidator):
    """`book` with the vault's fee share at 0 before the first fill, so the vault stays empty
    (a fee-share change splits the fees earned before it under the old share)."""
    p = protocol_builder()
    p.clearinghouse.set_insurance_fee_share(0, sender=owner)
    p.fund(maker, 100_000)
    p.fund(liquidator, 100_000)
    p.fund(trader, 6_000)
    p.fill(trader, maker, -WAD, P0)
    return p


def test_empty_vault_pays_nothing_and_the_whole_deficit_is_socialized(unshared_book, owner, trader, maker, liquidator):
    book = unshared_book
    ch, vault = book.clearinghouse, book.vault
    set_price(book, P_BANK)
    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)
    log = bankruptcy_log(ch, receipt)
    assert vault.totalAssets() == 0
    assert (log.insurance_paid, log.socialized, log.bad_debt) == (0, tokens(1_025), 0)
    assert receipt.events.filter(ch.KeeperRewarded) == []
    assert ch.socialized_loss(0) == tokens(1_025)


# ---------------------------------------------------------------- takeover details


def test_keeper_adds_the_takeover_to_its_own_position(book, trader, maker, liquidator, stake):
    ch = book.clearinghouse
    stake(tokens(100_000))
    book.fill(liquidator, maker, -WAD // 10, P0)  # the liquidator is already long 0.1
    set_price(book, P_BANK)
    ch.liquidate_bankrupt(trader, sender=liquidator)
    assert ch.position_size(liquidator, 0) == WAD + WAD // 10
    assert ch.open_interest(0) == WAD + WAD // 10


def test_short_bankrupt_account_is_taken_over_and_longs_are_charged(unshared_book, owner, other, maker, liquidator):
    """A short that went bankrupt on a rise: the keeper becomes short; the long side pays."""
    book = unshared_book
    ch = book.clearinghouse
    book.fund(other, 6_000)
    book.fill(other, maker, WAD, P0)  # the maker buys 1 (now flat), other sells 1
    # the trader (long 1) is now the only long
    p = price(57_000)
    set_price(book, p)
    assert ch.equity(other) < 0
    deficit = -(tokens(6_000) - fee(notional(WAD, P0), TAKER_FEE) - (notional(WAD, p) - notional(WAD, P0)))
    receipt = ch.liquidate_bankrupt(other, sender=liquidator)
    log = bankruptcy_log(ch, receipt)
    assert log.deficit == deficit
    [takeover] = receipt.events.filter(ch.BankruptcyTakeover)
    assert takeover.size == -WAD and takeover.price == p
    assert takeover.loss == notional(WAD, p) - notional(WAD, P0)
    assert ch.position_size(liquidator, 0) == -WAD
    assert ch.haircut_index(0, True) == ceil_div(deficit * SCALE, WAD)
    assert ch.haircut_index(0, False) == 0


def test_bankruptcy_is_resolved_while_paused(book, owner, guardian, trader, liquidator, stake):
    ch = book.clearinghouse
    stake(tokens(100_000))
    ch.set_guardian(guardian, sender=owner)
    ch.pause(sender=guardian)
    set_price(book, P_BANK)
    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)
    assert bankruptcy_log(ch, receipt).insurance_paid == tokens(1_025)
    assert ch.position_size(trader, 0) == 0


def test_resolved_account_starts_again_from_its_new_deposit(book, trader, liquidator, stake):
    ch = book.clearinghouse
    stake(tokens(100_000))
    set_price(book, P_BANK)
    ch.liquidate_bankrupt(trader, sender=liquidator)
    book.fund(trader, 100)
    assert ch.collateral(trader) == ch.equity(trader) == tokens(100)
    ch.withdraw(tokens(100), sender=trader)
    assert ch.collateral(trader) == 0


def test_keeper_reward_is_bounded_by_the_penalty_on_the_notional(book, other, maker, liquidator, stake):
    """A tiny bankrupt account cannot farm the flat keeper reward: the reward is at most what
    the liquidation penalty on the taken-over notional would pay."""
    ch = book.clearinghouse
    stake(tokens(100_000))
    book.fund(other, 6)
    size = WAD // 1000  # 0.001 unit: 50 tokens of notional
    book.fill(other, maker, -size, P0)  # the maker sells, `other` is long
    set_price(book, P_BANK)
    assert ch.equity(other) < 0
    cap = notional(size, P_BANK) * ch.market_params(0).liquidation_penalty // WAD
    assert 0 < cap < ch.keeper_reward()
    receipt = ch.liquidate_bankrupt(other, sender=liquidator)
    [rewarded] = receipt.events.filter(ch.KeeperRewarded)
    assert rewarded.amount == cap
