"""Attack: wash trades pin the funding premium. An attacker is short against an uninvolved
long. With an accomplice it makes two zero-net round trips at the top of the price band (5 %
above the oracle): every fill registers the capped premium (0.5 %), and each weighs about half
the open interest, so the premium ends near its cap. Before the fix it then stayed there until
someone else traded a comparable size: the long paid the cap every funding period while the
attacker's cost was the fees of four fills, once.

Defence: without fills the premium decays linearly to zero, falling by 2 * cap per funding
period. A premium p then pays at most p^2 / (4 * cap) of the open notional in all, while moving
it costs fees on at least open interest * dp / (cap - p): with cap <= 8 * (taker + maker fee)
(defaults 0.5 % <= 0.56 %) no wash sequence pays for itself. Here the pair spends more in fees
than the long ever pays it, and after half a funding period nobody pays anything.
"""
import pytest
from support.funding import total_index
from support.protocol import WAD

UNIT = 10**6
SCALE = 10**30
HOUR = 3600
PERIOD = 8 * HOUR  # default funding period
CAP = 5 * 10**15  # default premium cap: 0.5 % per period
SIZE = 10 * WAD  # the victim's long, the attacker's short and each wash leg


@pytest.fixture(scope="module")
def market(protocol, owner, trader, attacker, other):
    ch = protocol.clearinghouse
    # the oracle stays at 50,000 while days pass: allow its answer to age
    ch.set_oracle(0, protocol.feeds[0], 7 * 86400, sender=owner)
    protocol.fund(trader, 100_000)  # the victim
    protocol.fund(attacker, 100_000)
    protocol.fund(other, 100_000)  # the accomplice
    return protocol


def test_wash_trades_at_the_band_edge_do_not_pay(market, chain, trader, attacker, other):
    ch = market.clearinghouse
    price = market.price()
    # the victim buys 10 BTC at the oracle from the attacker: no premium
    market.fill(trader, attacker, -SIZE, price)
    assert ch.funding_premium(0) == 0
    victim_start = ch.equity(trader)
    pair_start = ch.equity(attacker) + ch.equity(other)

    # two zero-net round trips between the accomplice (maker) and the attacker at +5 %
    edge = price + price // 20
    fees = 0
    for maker_size in (SIZE, -SIZE, SIZE, -SIZE):
        receipt = market.fill(attacker, other, maker_size, edge)
        trade = ch.Trade.from_receipt(receipt)[0]
        fees += trade.maker_fee + trade.taker_fee
    assert ch.position_size(other, 0) == 0 and ch.position_size(attacker, 0) == -SIZE
    premium = ch.funding_premium(0)
    assert premium > CAP // 2  # the wash did move the premium towards its cap
    index = ch.funding_index(0)

    # three funding periods pass without another fill
    chain.mine(timestamp=chain.pending_timestamp + 3 * PERIOD)
    victim_paid = victim_start - ch.equity(trader)
    pair_gain = ch.equity(attacker) + ch.equity(other) - pair_start  # funding received - fees

    # the attack does not pay: the pair's fees exceed all the funding the victim paid it
    assert victim_paid < fees, (victim_paid, fees)
    assert pair_gain < 0
    # the premium has decayed to zero (it does so within half a period) and the index is
    # exactly the area under the decaying premium
    assert ch.funding_premium(0) == 0
    assert ch.funding_index(0) == index + total_index(premium, price, CAP)
    # the victim paid exactly its share of that index (rounded up): the few seconds of the
    # wash, then p^2 / (4 cap) of its notional
    assert victim_paid == -(-SIZE * ch.funding_index(0) // SCALE)
    assert SIZE * index // SCALE < UNIT
    # and nothing more accrues later
    chain.mine(timestamp=chain.pending_timestamp + PERIOD)
    assert victim_start - ch.equity(trader) == victim_paid
