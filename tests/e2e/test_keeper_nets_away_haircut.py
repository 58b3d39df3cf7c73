"""Attack: the keeper of a bankruptcy escapes its own haircut by netting. It holds the side
opposite to the bankrupt position; `liquidate_bankrupt` used to move every position to the
caller first and only then size the haircut on the open interest left, so the keeper's short
netted against the bankrupt long before any charge existed. The other opposite holders paid
the keeper's share too, and a keeper that was the only opposite holder turned the whole
residual into bad debt although a holder existed.

Defence: the bankruptcy is sized and charged on the book as it stood before the takeover
(the policy's hook runs first, the positions move afterwards), so the keeper's position is
charged like every other holder's and settles when the takeover touches it.

The README's worked example, without fees: BTC at 50,000, vault 8,000 (50 % per-event cap),
Alice 10,500 deposited and long 2; BTC gaps to 42,000: deficit 5,500, the vault pays 4,000,
1,500 is charged to the shorts (750 per BTC).
"""
import pytest
from support.protocol import WAD

UNIT = 10**6
P0 = 50_000 * WAD
P_GAP = 42_000 * WAD
DEFICIT = 5_500 * UNIT
INSURANCE = 4_000 * UNIT
RESIDUAL = 1_500 * UNIT


@pytest.fixture(scope="module")
def market(protocol_builder, owner, staker):
    protocol = protocol_builder()
    protocol.clearinghouse.set_fees(0, 0, 0, sender=owner)
    protocol.token.mint(staker, 8_000 * UNIT, sender=staker)
    protocol.token.approve(protocol.vault, 8_000 * UNIT, sender=staker)
    protocol.vault.deposit(8_000 * UNIT, staker, sender=staker)
    return protocol


def _bankruptcy(ch, receipt):
    [log] = receipt.events.filter(ch.Bankruptcy)
    return (log.deficit, log.insurance_paid, log.socialized, log.bad_debt)


def test_keeper_holding_the_opposite_side_pays_its_share(market, trader, maker, liquidator):
    """Bob (the maker) is short 1.5, the keeper short 0.5: they pay 1,125 and 375."""
    ch = market.clearinghouse
    market.fund(trader, 10_500)
    market.fund(maker, 20_000)
    market.fund(liquidator, 100_000)
    market.fill(trader, maker, -WAD * 3 // 2, P0)  # Bob sells 1.5 to Alice
    market.fill(trader, liquidator, -WAD // 2, P0)  # the keeper sells 0.5 to Alice
    market.set_price(42_000)
    assert ch.equity(trader) == -DEFICIT
    bob_before, keeper_before = ch.equity(maker), ch.equity(liquidator)

    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)

    assert _bankruptcy(ch, receipt) == (DEFICIT, INSURANCE, RESIDUAL, 0)
    assert ch.haircut_index(0, False) == 750 * WAD
    # Bob pays 1.5 x 750 (it was 1,500: the keeper's 375 too), the keeper 0.5 x 750 (was 0)
    assert bob_before - ch.equity(maker) == 1_125 * UNIT
    assert keeper_before - ch.equity(liquidator) == 375 * UNIT
    # the keeper's short netted against the taken-over long, and its charge is settled
    assert ch.position_size(liquidator, 0) == WAD * 3 // 2
    assert ch.open_interest(0) == WAD * 3 // 2
    assert ch.bad_debt() == 0


def test_keeper_as_the_only_opposite_holder_pays_the_residual(market, trader, liquidator):
    """The keeper sold Alice all 2 BTC: the residual is charged to it, not recorded as bad debt."""
    ch = market.clearinghouse
    market.fund(trader, 10_500)
    market.fund(liquidator, 100_000)
    market.fill(trader, liquidator, -WAD * 2, P0)
    market.set_price(42_000)
    keeper_before = ch.equity(liquidator)

    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)

    assert _bankruptcy(ch, receipt) == (DEFICIT, INSURANCE, RESIDUAL, 0)
    assert ch.bad_debt() == 0
    assert ch.socialized_loss(0) == RESIDUAL
    assert keeper_before - ch.equity(liquidator) == RESIDUAL
    assert ch.position_size(liquidator, 0) == 0 and ch.open_interest(0) == 0
