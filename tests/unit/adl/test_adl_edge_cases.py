"""Edge cases: nobody in profit opposite (bad debt at once), the vault covering everything (no
deleveraging), a deficit in two markets, the views."""
from conftest import SCALE, WAD, make_ladder, price

from support.adl_model import bucket_of, entry_bucket


def test_no_winners_is_bad_debt(adl_protocol, trader, maker, liquidator):
    """The only short entered at the crash price: not a winner. liquidate_bankrupt takes the
    position over at the oracle price and records the whole deficit as bad debt."""
    p = adl_protocol
    ch = p.clearinghouse
    p.fund(trader, 6_000)
    p.fund(maker, 100_000)
    p.fill(trader, maker, -WAD, price(50_000))  # maker short at 50,000
    p.set_price(43_000)
    p.fill(maker, liquidator, -WAD, price(43_000))  # the maker closes against the liquidator's new short
    deficit = -ch.equity(trader)
    assert deficit > 0 and ch.adl_best_bucket(0, False) == bucket_of(price(43_000))
    tx = ch.liquidate_bankrupt(trader, sender=liquidator)
    (bankruptcy,) = tx.decode_logs(ch.Bankruptcy)
    assert (bankruptcy.deficit, bankruptcy.socialized, bankruptcy.bad_debt) == (deficit, 0, deficit)
    assert not list(tx.decode_logs(ch.Deleveraged)) and not ch.is_deleveraging(trader)
    assert ch.position_size(liquidator, 0) == 0  # its short netted against the taken-over long


def test_vault_covering_everything_needs_no_winner(protocol_builder, trader, shorts, staker, liquidator):
    p = protocol_builder(loss_policy="adl", with_vault=True)
    p.fund(liquidator, 1_000_000)
    p.token.mint(staker, 1_000_000 * 10**6, sender=staker)
    p.token.approve(p.vault, 2**256 - 1, sender=staker)
    p.vault.deposit(1_000_000 * 10**6, staker, sender=staker)
    lad = make_ladder(p, trader, shorts, [WAD // 2, WAD // 2], price(44_000))
    deficit = -p.clearinghouse.equity(trader)
    before = {s: p.clearinghouse.account_summary(s) for s in lad.shorts}
    tx = p.clearinghouse.liquidate_bankrupt(trader, sender=liquidator)
    (bankruptcy,) = tx.decode_logs(p.clearinghouse.Bankruptcy)
    assert (bankruptcy.deficit, bankruptcy.insurance_paid, bankruptcy.socialized) == (deficit, deficit, 0)
    assert all(p.clearinghouse.account_summary(s) == before[s] for s in lad.shorts)
    assert p.clearinghouse.position_size(liquidator, 0) == WAD


def test_views(ladder, liquidator):
    ch = ladder.ch
    assert ch.loss_policy() == "adl"
    top = ladder.ranked()[0]
    assert ch.adl_best_bucket(0, False) == ch.adl_rank(top, 0).bucket == bucket_of(ladder.entries[-1])
    assert ch.adl_bucket_count(0, False, bucket_of(ladder.entries[-1])) == 1
    assert ch.adl_best_bucket(0, True) == entry_bucket(WAD, sum(e * WAD // 5 // SCALE for e in ladder.entries), SCALE)
    assert ch.adl_bucket_of_price(price(41_000)) == bucket_of(price(41_000))
    rank = ch.adl_rank(top, 0)
    assert rank.profit == ch.equity(top) - ch.collateral(top)
    assert not ch.is_deleveraging(ladder.trader) and ch.bankruptcy_price(ladder.trader, 0) == 0
    ch.liquidate_bankrupt(ladder.trader, sender=liquidator)
    assert ch.is_deleveraging(ladder.trader) and ch.bankruptcy_price(ladder.trader, 0) > price(41_000)
    assert ch.adl_rank(ladder.trader, 0).bucket == 0  # out of the ranking while frozen
    assert ch.adl_best_bucket(0, True) == 0  # its long was the only long
