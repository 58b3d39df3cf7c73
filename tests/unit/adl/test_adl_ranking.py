"""The ranking is enforced on-chain: a keeper that skips a higher-ranked winner, names a loser,
a same-side account or an account under resolution reverts."""
import ape
from conftest import WAD, make_ladder, price, set_price


def test_skipping_the_best_ranked_winner_reverts(ladder, liquidator):
    ch = ladder.ch
    ranked = ladder.ranked()
    with ape.reverts("deleverage: not the best-ranked winner"):
        ch.deleverage(ladder.trader, 0, ranked[1:], sender=liquidator)
    with ape.reverts("deleverage: not the best-ranked winner"):
        ch.deleverage(ladder.trader, 0, [ranked[0], ranked[2], ranked[1]], sender=liquidator)
    # favouring one's own pick is impossible: the lowest-ranked winner alone reverts too
    with ape.reverts("deleverage: not the best-ranked winner"):
        ch.deleverage(ladder.trader, 0, [ranked[-1]], sender=liquidator)
    ch.deleverage(ladder.trader, 0, ranked, sender=liquidator)


def test_same_side_account_reverts(ladder, maker, liquidator):
    ch, protocol = ladder.ch, ladder.protocol
    protocol.fund(maker, 100_000)
    protocol.fill(maker, ladder.shorts[0], -WAD // 10, ladder.crash)  # maker long, like the trader
    with ape.reverts("deleverage: not an opposite position"):
        ch.deleverage(ladder.trader, 0, [maker], sender=liquidator)
    with ape.reverts("deleverage: not an opposite position"):
        ch.deleverage(ladder.trader, 0, [liquidator], sender=liquidator)  # no position at all


def test_loser_reverts(adl_protocol, trader, shorts, liquidator):
    """The resolution starts while the shorts are winners; the oracle then rises above their
    entries. Naming one (now a loser at the oracle price) reverts; with the best bucket within
    one bucket of the oracle the winners count as exhausted, and the keeper takes the rest at
    the oracle price."""
    lad = make_ladder(adl_protocol, trader, shorts, [WAD // 2, WAD // 2], price(44_000))
    ch = lad.ch
    ch.liquidate_bankrupt(trader, sender=liquidator)  # winners exist: the account is frozen
    assert ch.is_deleveraging(trader) and ch.position_size(trader, 0) == WAD
    set_price(adl_protocol, price(51_050))  # above both entries (50,000 and 51,000)
    with ape.reverts("deleverage: counterparty not in profit"):
        ch.deleverage(trader, 0, lad.ranked()[:1], sender=liquidator)
    tx = ch.liquidate_bankrupt(trader, sender=liquidator)
    assert ch.position_size(trader, 0) == 0 and ch.position_size(liquidator, 0) == WAD
    assert not ch.is_deleveraging(trader)
    (bankruptcy,) = tx.decode_logs(ch.Bankruptcy)
    assert bankruptcy.bad_debt == 0  # the price move more than paid the deficit: a surplus


def test_naming_a_winner_twice_reverts(ladder, liquidator):
    ch = ladder.ch
    ranked = ladder.ranked()
    with ape.reverts("deleverage: not an opposite position"):
        ch.deleverage(ladder.trader, 0, [ranked[0], ranked[0]], sender=liquidator)
