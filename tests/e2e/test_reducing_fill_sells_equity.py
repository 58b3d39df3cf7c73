"""Attack: an account below maintenance margin sells its remaining equity to an accomplice.
The attacker is long 1 BTC at 10x; BTC falls until the account is liquidatable but still
solvent. Instead of waiting for a liquidator it sells 0.9 BTC to its accomplice at the bottom
of the price band (5 % under the oracle). A reducing fill only needed equity >= 0, so it
passed: the accomplice booked ~2,100 of instant profit, and the attacker kept a 0.1 BTC long
with almost no equity behind it, whose next loss lands on the insurance vault and the haircut.

Defence: a fill that leaves an account below maintenance margin must not be priced worse than
the oracle for it (a seller at or above, a buyer at or below). Such an account can still cut
its risk at the oracle price, or be liquidated; its equity cannot leave through the price.
"""
import ape
import pytest
from support.protocol import WAD

UNIT = 10**6
REJECTED = "trade: below maintenance, off-oracle fill"


@pytest.fixture(scope="module")
def market(protocol, attacker, other, maker, liquidator):
    protocol.fund(attacker, 5_100)
    protocol.fund(other, 100_000)  # the accomplice
    protocol.fund(maker, 100_000)
    protocol.fund(liquidator, 100_000)
    # the attacker buys 1 BTC at 50,000 (10x) from a maker
    protocol.fill(attacker, maker, -WAD, protocol.price())
    protocol.set_price(47_200)
    return protocol


def test_account_below_maintenance_cannot_sell_equity_off_the_oracle(market, attacker, other, maker, liquidator):
    ch = market.clearinghouse
    price = market.price()
    equity = ch.equity(attacker)
    assert 0 < equity < ch.maintenance_margin(attacker)  # liquidatable, still solvent
    assert ch.is_liquidatable(attacker)
    accomplice_equity = ch.equity(other)

    # sell 0.9 BTC to the accomplice 5 % under the oracle: the accomplice buys (maker size > 0)
    bottom = price - price // 20
    with ape.reverts(REJECTED):
        market.fill(attacker, other, 9 * WAD // 10, bottom)
    # nor with the attacker as the maker
    with ape.reverts(REJECTED):
        market.fill(other, attacker, -(9 * WAD // 10), bottom)
    assert ch.equity(other) == accomplice_equity
    assert ch.equity(attacker) == equity

    # cutting risk at the oracle price stays open: the account loses only the fee, and here
    # that lifts it back above maintenance margin
    receipt = market.fill(attacker, other, WAD // 10, price)
    fee = ch.Trade.from_receipt(receipt)[0].taker_fee
    assert ch.equity(attacker) == equity - fee
    assert not ch.is_liquidatable(attacker)
    # above maintenance after the fill, a price under the oracle is the account's own business
    market.fill(attacker, other, WAD // 10, price - price // 1000)
    assert ch.position_size(attacker, 0) == 8 * WAD // 10
    assert not ch.is_liquidatable(attacker)
    assert ch.bad_debt() == 0
