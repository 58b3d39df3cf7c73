"""Who is closed: the opposite side's winners, best-ranked (highest PnL %, i.e. entry price)
first, at the bankruptcy price, each for at most what the bankrupt position still needs."""
from conftest import SCALE, WAD, conservation_gap, make_ladder, price

from support.adl_model import bankruptcy_price


def test_winners_closed_best_ranked_first_at_the_bankruptcy_price(ladder, liquidator):
    ch, trader = ladder.ch, ladder.trader
    deficit = -ch.equity(trader)
    assert deficit > 0
    equities = {s: ch.equity(s) for s in ladder.shorts}
    target = bankruptcy_price(deficit, WAD, ladder.crash, True, SCALE)

    tx = ch.deleverage(trader, 0, ladder.ranked(), sender=liquidator)

    fills = list(tx.decode_logs(ch.Deleveraged))
    assert [f.counterparty for f in fills] == [s.address for s in ladder.ranked()]
    assert all(f.price == target and f.account == trader.address and f.market == 0 for f in fills)
    assert [f.size for f in fills] == [WAD // 5] * 5  # each winner closed whole (sized as the long)
    (bankruptcy,) = tx.decode_logs(ch.Bankruptcy)
    assert (bankruptcy.deficit, bankruptcy.insurance_paid, bankruptcy.socialized, bankruptcy.bad_debt) == (deficit, 0, deficit, 0)
    # the winners paid the deficit (rounded against them by at most a unit per fill)
    paid = sum(equities[s] - ch.equity(s) for s in ladder.shorts)
    assert deficit <= paid <= deficit + len(fills) + 1
    for s in ladder.shorts:
        assert ch.position_size(s, 0) == 0
    assert ch.account_summary(trader) == (0, 0, 0, 0) and ch.position_size(trader, 0) == 0
    assert not ch.is_deleveraging(trader)
    assert ch.open_interest(0) == 0
    assert ch.socialized_loss(0) == paid or abs(ch.socialized_loss(0) - paid) <= len(fills)
    assert 0 <= conservation_gap(ladder.protocol, [trader, liquidator, *ladder.shorts]) <= 10


def test_only_the_best_ranked_pay_when_they_suffice(adl_protocol, trader, maker, shorts, liquidator):
    """Two shorts against a solvent long (the maker) sit above the trader's own counterparties:
    they rank first and pay; the lowest-ranked winners are left untouched."""
    adl_protocol.fund(maker, 1_000_000)
    sizes = [WAD // 4, WAD // 4, WAD // 2, WAD // 2]
    buyers = [trader, trader, maker, maker]
    lad = make_ladder(adl_protocol, trader, shorts, sizes, price(44_000), deposit=3_000, buyers=buyers)
    ch = lad.ch
    assert ch.equity(trader) < 0
    # ranking: entries 53,000 (shorts[3]) > 52,000 (shorts[2]) > 51,000 > 50,000
    ranked = lad.ranked()
    assert ranked == [shorts[3], shorts[2], shorts[1], shorts[0]]
    untouched = {s: ch.account_summary(s) for s in (shorts[0], shorts[1])}
    tx = ch.deleverage(trader, 0, ranked[:1], sender=liquidator)
    assert [f.counterparty for f in tx.decode_logs(ch.Deleveraged)] == [shorts[3].address]
    # the trader's 0.5 long took the whole of the top winner's 0.5 short
    assert ch.position_size(trader, 0) == 0 and ch.position_size(shorts[3], 0) == 0
    assert not ch.is_deleveraging(trader)
    for s, summary in untouched.items():
        assert ch.account_summary(s) == summary


def test_same_side_and_losers_never_pay(adl_protocol, trader, maker, other, shorts, liquidator):
    """A long (same side as the bankrupt long) and a short opened after the crash (not in
    profit) cannot be named; the bankruptcy is resolved by the winners."""
    lad = make_ladder(adl_protocol, trader, shorts, [WAD // 2, WAD // 2], price(44_000))
    ch = lad.ch
    assert ch.equity(trader) < 0
    adl_protocol.fund(maker, 100_000)
    adl_protocol.fund(other, 100_000)
    adl_protocol.fill(maker, other, -WAD // 10, price(44_000))  # other short at the crash price, maker long
    before = {a: ch.account_summary(a) for a in (maker, other)}
    ch.deleverage(trader, 0, lad.ranked(), sender=liquidator)
    for a, summary in before.items():
        assert ch.account_summary(a) == summary
