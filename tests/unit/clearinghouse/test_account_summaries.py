"""account_summaries: the batched account_summary for eth_call, under every loss policy. Element by
element it equals account_summary (positions in two markets, flat and fresh accounts, duplicates,
the empty list, after price moves and accrued funding); it reverts exactly when one listed
account's account_summary would (a stale feed of a market nobody listed holds does not matter);
it takes at most MAX_SUMMARY_BATCH accounts; sent as a transaction it changes no view and returns
what the eth_call returns, and its price cache does not outlive the transaction."""
import ape
import pytest

from simulation.loss_policies import NAMES
from simulation.protocol_constants import bounds
from support.drivers import fill, fund, mine_at, next_tx_at, set_feed
from support.model import DEFAULT_MAX_PRICE_AGE, PRICE, WAD

UNIT = 10**6
BIG = 1_000_000 * UNIT
ETH = 3_000 * WAD
STALE = "oracle: stale price"
MAX_SUMMARY_BATCH = bounds()["MAX_SUMMARY_BATCH"]


@pytest.fixture(scope="module", params=NAMES)
def book(request, protocol_builder, owner, trader, maker, other, staker):
    """Two markets (0 at 50,000, 1 at 3,000) under each loss policy. trader long BTC and short
    ETH against maker, both off the oracle (a funding premium builds up); other and staker hold
    market 0 only; the liquidator stays fresh (no deposit)."""
    p = protocol_builder(loss_policy=request.param, markets=2)
    set_feed(p, ETH, market=1)
    for account in (trader, maker, other, staker):
        fund(p, account, BIG)
    fill(p, trader, maker, -123_456_789_012_345_678, PRICE + 37 * WAD, market=0)
    fill(p, trader, maker, 7_654_321_098_765_432_109, ETH - 2 * WAD, market=1)
    fill(p, other, staker, 3 * WAD // 10, PRICE - 11 * WAD, market=0)
    return p


@pytest.fixture(scope="module")
def ch(book):
    return book.clearinghouse


def _one_by_one(ch, accounts) -> list[tuple]:
    return [tuple(ch.account_summary(a)) for a in accounts]


def _batched(ch, accounts) -> list[tuple]:
    return [tuple(s) for s in ch.account_summaries.call(accounts)]


def _move_time_and_prices(book, chain, seconds: int, btc: int, eth: int):
    """Let funding accrue for `seconds`, then publish fresh prices in both markets."""
    next_tx_at(chain, chain.blocks.head.timestamp + seconds)
    set_feed(book, btc, market=0)
    set_feed(book, eth, market=1)


def test_equals_account_summary_per_account(book, ch, chain, trader, maker, other, staker, liquidator):
    accounts = [trader, other, maker, liquidator, trader, staker, maker, trader]
    expected = _one_by_one(ch, accounts)
    assert _batched(ch, accounts) == expected
    # the accounts differ from each other (the comparison is not between zeros)
    assert len(set(expected)) == 5 and expected[3] == (0, 0, 0, 0)
    assert all(summary[2] > 0 for summary in expected[:3])
    assert list(ch.account_summaries.call([])) == []
    assert _batched(ch, [liquidator]) == [(0, 0, 0, 0)]


def test_equals_account_summary_after_price_moves_and_funding(book, ch, chain, trader, maker, other, staker, liquidator):
    accounts = [maker, trader, staker, other, liquidator, maker]
    before = _one_by_one(ch, accounts)
    _move_time_and_prices(book, chain, 3_000, 50_700 * WAD, 2_950 * WAD)
    mine_at(chain, chain.blocks.head.timestamp + 1)
    after = _one_by_one(ch, accounts)
    # equity and margins moved with both oracles, collateral with the accrued funding
    assert all(a[1] != b[1] and a[2] != b[2] for a, b in zip(after[:4], before[:4]))
    assert after[0][0] != before[0][0] and after[1][0] != before[1][0]
    assert _batched(ch, accounts) == after


def test_stale_feed_of_a_held_market_reverts_like_account_summary(book, ch, chain, owner, trader, other):
    t = chain.blocks.head.timestamp + 100
    book.feeds[1].set_answer_at(ETH // 10**10, t - DEFAULT_MAX_PRICE_AGE - 1, sender=owner)
    mine_at(chain, t)
    with ape.reverts(STALE):
        ch.account_summary(trader)
    with ape.reverts(STALE):
        ch.account_summaries.call([other, trader])
    with ape.reverts(STALE):
        ch.account_summaries.call([trader, other])


def test_stale_feed_of_a_market_nobody_listed_holds_does_not_revert(book, ch, chain, owner, trader, maker, other, staker, liquidator):
    t = chain.blocks.head.timestamp + 100
    book.feeds[1].set_answer_at(ETH // 10**10, t - DEFAULT_MAX_PRICE_AGE - 1, sender=owner)
    mine_at(chain, t)
    accounts = [other, staker, liquidator, other]
    assert _batched(ch, accounts) == _one_by_one(ch, accounts)
    # ... and a stale market 0, which they all hold, does revert them
    t += 10
    book.feeds[0].set_answer_at(PRICE // 10**10, t - DEFAULT_MAX_PRICE_AGE - 1, sender=owner)
    mine_at(chain, t)
    with ape.reverts(STALE):
        ch.account_summaries.call(accounts)


def test_at_most_max_summary_batch_accounts(ch, trader, other, liquidator):
    assert MAX_SUMMARY_BATCH == 256
    full = [liquidator] * (MAX_SUMMARY_BATCH - 2) + [other, trader]
    summaries = _batched(ch, full)
    assert len(summaries) == MAX_SUMMARY_BATCH
    assert summaries[-2:] == _one_by_one(ch, [other, trader])
    with ape.reverts():
        ch.account_summaries.call(full + [liquidator])


def _views(book, accounts) -> dict:
    ch = book.clearinghouse
    views = {
        "treasury": ch.treasury(),
        "bad_debt": ch.bad_debt(),
        "protocol_fees": ch.protocol_fees(),
        "pending_vault_revenue": ch.pending_vault_revenue(),
    }
    for market in (0, 1):
        views[f"market {market}"] = (
            ch.open_interest(market),
            ch.funding_index(market),
            ch.funding_premium(market),
            ch.index_price(market),
            ch.socialized_loss(market),
        )
    for account in accounts:
        views[str(account)] = (
            tuple(ch.account_summary(account)),
            ch.collateral(account),
            ch.position_size(account, 0),
            ch.position_size(account, 1),
            ch.is_liquidatable(account),
            ch.max_liquidatable_size(account, 0),
            book.token.balanceOf(account),
        )
    views["token balance"] = book.token.balanceOf(ch)
    return views


def test_as_a_transaction_it_changes_no_view(book, ch, chain, trader, maker, other, staker, liquidator):
    """The same timestamp with and without the transaction: every view agrees, the receipt has
    no event, and the transaction returned what the eth_call returns."""
    accounts = [trader, maker, other, staker, liquidator, trader]
    _move_time_and_prices(book, chain, 600, 49_800 * WAD, 3_020 * WAD)
    t = chain.blocks.head.timestamp + 50
    snapshot = chain.snapshot()
    mine_at(chain, t)
    before = _views(book, accounts)
    expected = _batched(ch, accounts)
    chain.restore(snapshot)
    next_tx_at(chain, t)
    receipt = ch.account_summaries(accounts, sender=liquidator)
    assert chain.blocks.head.timestamp == t
    assert not receipt.failed and len(receipt.logs) == 0
    assert [tuple(s) for s in receipt.return_value] == expected
    assert _views(book, accounts) == before


def test_the_price_cache_ends_with_the_transaction(book, ch, chain, trader, maker, liquidator):
    ch.account_summaries([trader, maker], sender=liquidator)
    set_feed(book, 51_000 * WAD, market=0)
    assert ch.index_price(0) == 51_000 * WAD
    assert _batched(ch, [trader, maker]) == _one_by_one(ch, [trader, maker])
    # and the nonreentrancy lock is free again: a fill goes through
    fill(book, trader, maker, -WAD // 100, 51_000 * WAD, market=0)
    assert _batched(ch, [maker, trader]) == _one_by_one(ch, [maker, trader])
