"""Attack: two colluding accounts self-trade at an off-market price. The attacker's account
buys far above the oracle, so it is born deep underwater (bad debt for the vault and the
haircut to absorb), while the accomplice's account books the mirror-image profit and
withdraws it.

Defences: fills must be priced within the band around the oracle (5 %), both sides must meet
initial margin (10 %) at the oracle after the fill, so the loss a fill can inflict is always
smaller than the margin behind it; and the accomplice's profit is unrealized until it trades
out against someone at the oracle price, so it cannot be withdrawn. In the end the pair has
lost its fees, nobody else paid anything, and there is no bad debt.
"""
import ape
import pytest
from support.protocol import WAD

UNIT = 10**6
SCALE = 10**30
P0 = 50_000 * WAD
BAND = WAD // 20  # default price band: 5 %


def gap(protocol, accounts):
    ch = protocol.clearinghouse
    return protocol.token.balanceOf(ch) + ch.bad_debt() - ch.treasury() - sum(ch.equity(a) for a in accounts)


@pytest.fixture(scope="module")
def accomplice(accounts, owner):
    account = accounts.generate_test_account()
    owner.transfer(account, 10**18)
    return account


@pytest.fixture(scope="module")
def market(protocol, maker, liquidator, staker, attacker, accomplice):
    protocol.fund(maker, 200_000)
    protocol.fund(liquidator, 200_000)
    protocol.token.mint(staker, 20_000 * UNIT, sender=staker)
    protocol.token.approve(protocol.vault, 20_000 * UNIT, sender=staker)
    protocol.vault.deposit(20_000 * UNIT, staker, sender=staker)
    protocol.fund(attacker, 1_600)
    protocol.fund(accomplice, 10_000)
    return protocol


def test_off_market_self_trade_manufactures_no_bad_debt(market, attacker, accomplice, maker, liquidator, staker):
    ch, token, vault = market.clearinghouse, market.token, market.vault
    start = {a: token.balanceOf(a) + ch.collateral(a) for a in (attacker, accomplice)}
    vault_assets = vault.totalAssets()
    maker_equity = ch.equity(maker)

    # 1. far off market: the band refuses it
    with ape.reverts("trade: price outside band"):
        market.fill(attacker, accomplice, -WAD, P0 * 13 // 10)  # the accomplice sells at +30 %
    just_outside = P0 + P0 * BAND // WAD + 10**10
    with ape.reverts("trade: price outside band"):
        market.fill(attacker, accomplice, -WAD // 5, just_outside)

    # 2. at the edge of the band, a size big enough to sink the attacker's account fails the
    #    initial-margin check: its 5 % instant loss can never exceed the 10 % margin behind it
    edge = P0 + P0 * BAND // WAD  # 52,500
    with ape.reverts("trade: below initial margin"):
        market.fill(attacker, accomplice, -3 * WAD // 10, edge)

    # 3. the largest sinking trade the margin allows leaves the attacker solvent
    size = WAD // 5
    market.fill(attacker, accomplice, -size, edge)
    instant_loss = size * (edge - P0) // SCALE  # 500 tokens moved from attacker to accomplice
    assert ch.equity(attacker) >= ch.initial_margin(attacker) > 0
    assert not ch.is_liquidatable(attacker)
    with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
        ch.liquidate_bankrupt(attacker, sender=liquidator)

    # 4. the accomplice's mirror-image profit is unrealized: it cannot leave
    assert ch.equity(accomplice) > ch.collateral(accomplice)
    assert ch.equity(accomplice) - ch.collateral(accomplice) >= instant_loss - UNIT
    # (the margin left after withdrawing all its settled collateral would be the profit itself)
    assert ch.equity(accomplice) - ch.collateral(accomplice) < ch.initial_margin(accomplice) + instant_loss
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(ch.collateral(accomplice) + instant_loss // 2, sender=accomplice)
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(ch.collateral(accomplice) + instant_loss, sender=accomplice)

    # 5. to realize it the accomplice must trade out against a real counterparty at the oracle,
    #    and the attacker's account still has to pay for its side: it is fully margined
    market.fill(accomplice, maker, -size, P0)  # the maker sells 0.2 to the accomplice at 50,000
    market.fill(attacker, maker, size, P0)  # the maker buys 0.2 from the attacker at 50,000
    assert ch.position_size(attacker, 0) == ch.position_size(accomplice, 0) == ch.position_size(maker, 0) == 0
    assert ch.equity(attacker) >= 0
    for account in (attacker, accomplice):
        amount = ch.collateral(account)
        if amount > 0:
            ch.withdraw(amount, sender=account)

    # the pair lost its fees (and the funding its off-market print created); nobody else paid
    end = {a: token.balanceOf(a) + ch.collateral(a) for a in (attacker, accomplice)}
    assert sum(end.values()) < sum(start.values())
    assert ch.bad_debt() == 0
    assert ch.socialized_loss(0) == 0
    assert vault.totalAssets() >= vault_assets
    assert ch.equity(maker) >= maker_equity - 20 * UNIT  # only its own maker fees
    assert 0 <= gap(market, [attacker, accomplice, maker, liquidator, staker]) <= 10


def test_abandoned_attacker_account_is_liquidated_before_it_is_bankrupt(market, attacker, accomplice, liquidator):
    """Walking away from the underwater side does not create bad debt either: the account is
    margined, so an ordinary price move makes it liquidatable well before it is bankrupt."""
    ch = market.clearinghouse
    market.fill(attacker, accomplice, -WAD // 5, P0 + P0 * BAND // WAD)
    market.set_price(46_500)  # -7 %
    assert ch.is_liquidatable(attacker)
    assert ch.equity(attacker) > 0
    with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
        ch.liquidate_bankrupt(attacker, sender=liquidator)
    ch.liquidate(attacker, 0, ch.max_liquidatable_size(attacker, 0), sender=liquidator)
    assert ch.equity(attacker) >= 0
    assert ch.bad_debt() == 0
    assert ch.socialized_loss(0) == 0
