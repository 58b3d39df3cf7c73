"""A trade's whole life across both accounts: open, mark to market, close, with the
conservation identity checked at each step."""
from support.protocol import WAD

UNIT = 10**6


def conservation_gap(protocol, accounts):
    ch = protocol.clearinghouse
    total_equity = sum(ch.equity(a) for a in accounts)
    return protocol.token.balanceOf(ch) + ch.bad_debt() - ch.treasury() - total_equity


def test_open_mark_close(protocol, trader, maker):
    ch = protocol.clearinghouse
    protocol.fund(trader, 10_000)
    protocol.fund(maker, 10_000)
    price = protocol.price()
    size = WAD // 10  # 0.1 BTC, notional 5,000
    protocol.fill(trader, maker, size, price)  # maker buys 0.1, trader sells
    assert ch.position_size(maker, 0) == size
    assert ch.position_size(trader, 0) == -size
    assert ch.open_interest(0) == size
    notional = size * price // 10**30
    maker_fee = -(-notional * 2 * 10**14 // WAD)
    taker_fee = -(-notional * 5 * 10**14 // WAD)
    assert ch.equity(maker) == 10_000 * UNIT - maker_fee
    assert ch.equity(trader) == 10_000 * UNIT - taker_fee
    assert ch.treasury() == maker_fee + taker_fee
    assert 0 <= conservation_gap(protocol, [trader, maker]) <= 4

    protocol.set_price(55_000)
    assert ch.equity(maker) == 10_000 * UNIT - maker_fee + 500 * UNIT
    assert ch.equity(trader) == 10_000 * UNIT - taker_fee - 500 * UNIT
    # unrealized profit is not withdrawable
    assert ch.collateral(maker) == 10_000 * UNIT - maker_fee
    assert 0 <= conservation_gap(protocol, [trader, maker]) <= 4

    # close: trader buys back from maker at 55,000
    protocol.fill(trader, maker, -size, 55_000 * WAD)
    assert ch.position_size(maker, 0) == 0
    assert ch.position_size(trader, 0) == 0
    assert ch.open_interest(0) == 0
    assert ch.collateral(maker) > 10_400 * UNIT
    assert 0 <= conservation_gap(protocol, [trader, maker]) <= 4
