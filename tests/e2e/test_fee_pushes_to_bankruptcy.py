"""Attack: push a solvent account into negative equity with a fee or a penalty, so that it
becomes a bankruptcy: the insurance vault pays its deficit and the keeper collects the
bankruptcy reward, although the account's losses alone never exceeded its collateral.

Defence: a fill that only reduces exposure needs equity >= 0 after it (fees included), and
the liquidation penalty is capped at the equity the account has left. A solvent account is
left at zero at worst, which is not bankrupt.
"""
import ape
import pytest
from support.protocol import WAD

UNIT = 10**6
SCALE = 10**30
P0 = 50_000 * WAD
TAKER_FEE = 5 * 10**14
MAKER_FEE = 2 * 10**14


def fee(size, price, rate):
    n = size * price // SCALE
    return -(-n * rate // WAD)


@pytest.fixture(scope="module")
def market(protocol, trader, maker, attacker, staker):
    protocol.fund(maker, 200_000)
    protocol.fund(attacker, 200_000)
    protocol.token.mint(staker, 100_000 * UNIT, sender=staker)
    protocol.token.approve(protocol.vault, 100_000 * UNIT, sender=staker)
    protocol.vault.deposit(100_000 * UNIT, staker, sender=staker)
    protocol.fund(trader, 6_000)
    protocol.fill(trader, maker, -WAD, P0)  # trader long 1, collateral 5,975
    return protocol


def test_closing_fee_cannot_make_the_account_bankrupt(market, trader, attacker):
    """At 44,030 the trader's equity is 5 tokens: closing all of it would cost a 22.015 taker
    fee (or an 8.806 maker fee), so the close is refused; a close small enough passes."""
    ch = market.clearinghouse
    market.set_price(44_030)
    p = market.price()
    equity = ch.equity(trader)
    assert equity == 5 * UNIT
    assert fee(WAD, p, TAKER_FEE) > equity and fee(WAD, p, MAKER_FEE) > equity
    with ape.reverts("trade: fill would leave the account bankrupt"):
        market.fill(trader, attacker, WAD, p)  # the attacker (maker) buys the trader's 1
    with ape.reverts("trade: fill would leave the account bankrupt"):
        market.fill(attacker, trader, -WAD, p)  # the trader as maker sells 1
    # reducing by 0.1 costs 2.2: equity stays positive, allowed although below margin
    small = WAD // 10
    assert fee(small, p, TAKER_FEE) < equity
    market.fill(trader, attacker, small, p)
    assert ch.equity(trader) == equity - fee(small, p, TAKER_FEE) >= 0
    with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
        ch.liquidate_bankrupt(trader, sender=attacker)


def test_off_market_reduce_cannot_make_the_account_bankrupt(market, trader, attacker):
    """A closing fill priced inside the band but below the oracle would realize more loss
    than the account has: refused."""
    ch = market.clearinghouse
    market.set_price(44_500)
    p = market.price()
    assert 0 < ch.equity(trader) < 500 * UNIT
    low = p * 98 // 100  # 2 % under the oracle: within the 5 % band
    with ape.reverts("trade: fill would leave the account bankrupt"):
        market.fill(trader, attacker, WAD, low)
    assert ch.position_size(trader, 0) == WAD


def test_penalty_is_capped_so_the_account_ends_at_zero_not_below(market, trader, attacker, maker):
    """At 44,100 the trader's equity is 75; the penalty on half the position would be 551.25.
    It is capped at 75: the account ends at exactly zero, not bankrupt, so there is no
    deficit for the vault and no bankruptcy reward for the keeper."""
    ch, vault = market.clearinghouse, market.vault
    market.set_price(44_100)
    assert ch.equity(trader) == 75 * UNIT
    ch.sweep_fees(sender=attacker)
    assets = vault.totalAssets()
    size = ch.max_liquidatable_size(trader, 0)
    uncapped = fee(size, market.price(), WAD // 40)
    receipt = ch.liquidate(trader, 0, size, sender=attacker)
    log = receipt.events.filter(ch.Liquidation)[0]
    assert log.penalty == 75 * UNIT < uncapped
    assert ch.equity(trader) == 0
    with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
        ch.liquidate_bankrupt(trader, sender=attacker)
    # a second liquidation of what is left charges nothing more
    receipt = ch.liquidate(trader, 0, ch.max_liquidatable_size(trader, 0), sender=attacker)
    assert receipt.events.filter(ch.Liquidation)[0].penalty == 0
    assert ch.equity(trader) == 0
    ch.sweep_fees(sender=attacker)
    assert vault.totalAssets() == assets + (log.penalty - log.liquidator_reward)
    assert ch.bad_debt() == 0
