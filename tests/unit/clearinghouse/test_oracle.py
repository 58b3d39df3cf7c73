"""The price feed: staleness (exactly max age passes, one second more reverts) for trades and
views, non-positive answers, timestamps from the future, feeds with 18, 8 and 0 decimals, and
set_oracle with its bounds and event."""
import ape
import pytest

from support.drivers import events, fill, fund, mine_at, next_tx_at, quote
from support.model import (
    DEFAULT_FUNDING_PERIOD,
    DEFAULT_MAX_FUNDING_PREMIUM,
    DEFAULT_MAX_PRICE_AGE,
    IMR,
    MMR,
    PRICE,
    WAD,
    margin,
    notional,
    value,
)

UNIT = 10**6
BIG = 1_000_000 * UNIT
SIZE = WAD // 10
ANSWER = 50_000 * 10**8
STALE = "oracle: stale price"
NOT_POSITIVE = "oracle: price not positive"
FUTURE = "oracle: price from the future"


@pytest.fixture(scope="module")
def market(protocol, trader, maker, other):
    """trader long 0.1 (so its views read the feed), maker short 0.1, other flat."""
    fund(protocol, trader, BIG)
    fund(protocol, maker, BIG)
    fund(protocol, other, BIG)
    fill(protocol, trader, maker, -SIZE, PRICE)
    return protocol


@pytest.fixture(scope="module")
def ch(market):
    return market.clearinghouse


@pytest.fixture(scope="module")
def feed(market):
    return market.feeds[0]


def _later(chain, seconds=100):
    return chain.blocks.head.timestamp + seconds


def _view_calls(ch, trader):
    return [
        lambda: ch.index_price(0),
        lambda: ch.funding_index(0),
        lambda: ch.collateral(trader),
        lambda: ch.equity(trader),
        lambda: ch.initial_margin(trader),
        lambda: ch.maintenance_margin(trader),
        lambda: ch.is_liquidatable(trader),
        lambda: ch.account_summary(trader),
    ]


# ---------------------------------------------------------------- staleness


def test_price_exactly_max_age_old_is_accepted_by_a_trade(market, ch, chain, feed, owner, trader, maker):
    t = _later(chain)
    feed.set_answer_at(ANSWER, t - DEFAULT_MAX_PRICE_AGE, sender=owner)
    next_tx_at(chain, t)
    fill(market, trader, maker, -SIZE, PRICE)
    assert ch.position_size(trader, 0) == 2 * SIZE


def test_stale_price_reverts_a_trade(market, ch, chain, feed, owner, trader, maker):
    t = _later(chain)
    feed.set_answer_at(ANSWER, t - DEFAULT_MAX_PRICE_AGE - 1, sender=owner)
    order, signature = quote(market, maker, -SIZE, PRICE)
    next_tx_at(chain, t)
    with ape.reverts(STALE):
        ch.trade(order.as_tuple(), signature, SIZE, sender=trader)


def test_stale_price_reverts_the_views(ch, chain, feed, owner, trader, other):
    t = _later(chain)
    feed.set_answer_at(ANSWER, t - DEFAULT_MAX_PRICE_AGE - 1, sender=owner)
    mine_at(chain, t)
    for call in _view_calls(ch, trader):
        with ape.reverts(STALE):
            call()
    # an account without positions does not read the feed
    assert ch.equity(other) == BIG
    assert ch.initial_margin(other) == 0


def test_views_accept_a_price_exactly_max_age_old(ch, chain, feed, owner, trader):
    t = _later(chain)
    feed.set_answer_at(ANSWER, t - DEFAULT_MAX_PRICE_AGE, sender=owner)
    mine_at(chain, t)
    assert ch.index_price(0) == PRICE
    assert ch.initial_margin(trader) == margin(SIZE, PRICE, IMR)


def test_stale_price_blocks_settle_and_withdraw_of_an_account_with_positions(ch, chain, feed, owner, trader, other):
    t = _later(chain)
    feed.set_answer_at(ANSWER, t - DEFAULT_MAX_PRICE_AGE - 1, sender=owner)
    next_tx_at(chain, t)
    with ape.reverts(STALE):
        ch.withdraw(1, sender=trader)
    with ape.reverts(STALE):
        ch.settle(trader, sender=trader)
    # a flat account withdraws without reading the feed
    ch.withdraw(BIG, sender=other)
    assert ch.collateral(other) == 0


# ---------------------------------------------------------------- bad answers


@pytest.mark.parametrize("answer", [0, -1, -ANSWER])
def test_non_positive_answer_reverts_trade_and_views(market, ch, feed, owner, trader, maker, answer):
    feed.set_answer(answer, sender=owner)
    order, signature = quote(market, maker, -SIZE, PRICE)
    with ape.reverts(NOT_POSITIVE):
        ch.trade(order.as_tuple(), signature, SIZE, sender=trader)
    with ape.reverts(NOT_POSITIVE):
        ch.index_price(0)
    with ape.reverts(NOT_POSITIVE):
        ch.equity(trader)


def test_smallest_positive_answer_is_accepted(ch, feed, owner):
    feed.set_answer(1, sender=owner)
    assert ch.index_price(0) == 10**10  # one unit of an 8-decimal answer


def test_timestamp_from_the_future_reverts(market, ch, chain, feed, owner, trader, maker):
    t = _later(chain)
    feed.set_answer_at(ANSWER, t + 1, sender=owner)
    order, signature = quote(market, maker, -SIZE, PRICE)
    next_tx_at(chain, t)
    with ape.reverts(FUTURE):
        ch.trade(order.as_tuple(), signature, SIZE, sender=trader)
    with ape.reverts(FUTURE):
        ch.index_price(0)
    with ape.reverts(FUTURE):
        ch.equity(trader)


def test_timestamp_of_the_current_block_is_accepted(ch, chain, feed, owner):
    t = _later(chain)
    feed.set_answer_at(ANSWER + 1, t, sender=owner)
    mine_at(chain, t)
    assert ch.index_price(0) == PRICE + 10**10


# ---------------------------------------------------------------- feed decimals


@pytest.mark.parametrize(
    "decimals, answer, expected",
    [
        (18, 50_000 * WAD + 123, 50_000 * WAD + 123),
        (8, 50_000 * 10**8 + 1, 50_000 * WAD + 10**10),
        (6, 3_000 * 10**6, 3_000 * WAD),
        (0, 2_000, 2_000 * WAD),
    ],
)
def test_feed_decimals_are_scaled_to_1e18(ch, project, owner, decimals, answer, expected):
    feed = owner.deploy(project.MockAggregator, decimals, answer)
    ch.add_market(feed, IMR, MMR, sender=owner)
    assert ch.index_price(1) == expected
    assert ch.market_params(1).price_multiplier == 10 ** (18 - decimals)


def test_18_and_8_decimal_feeds_give_the_same_economics(market, ch, project, owner, trader, maker):
    feed18 = owner.deploy(project.MockAggregator, 18, 50_000 * WAD)
    ch.add_market(feed18, IMR, MMR, sender=owner)
    assert ch.index_price(1) == ch.index_price(0) == PRICE
    im_before = ch.initial_margin(trader)
    equity_before = ch.equity(trader)
    fill(market, trader, maker, -SIZE, PRICE, market=1)  # the same trade on the 18-decimal market
    assert ch.position_size(trader, 1) == ch.position_size(trader, 0) == SIZE
    assert ch.initial_margin(trader) == 2 * im_before
    assert ch.maintenance_margin(trader) == 2 * margin(SIZE, PRICE, MMR)
    taker_fee = -(-notional(SIZE, PRICE) * 5 * 10**14 // WAD)
    assert ch.equity(trader) == equity_before - taker_fee
    # a move of one whole token on each feed moves equity by the same amount
    market.feeds[0].set_answer(ANSWER + 10**8, sender=owner)
    feed18.set_answer(50_001 * WAD, sender=owner)
    gain = value(SIZE, 50_001 * WAD) - value(SIZE, PRICE)
    assert ch.equity(trader) == equity_before - taker_fee + 2 * gain


# ---------------------------------------------------------------- set_oracle


def test_set_oracle_replaces_the_feed(ch, project, owner):
    feed18 = owner.deploy(project.MockAggregator, 18, 51_000 * WAD)
    receipt = ch.set_oracle(0, feed18, 600, sender=owner)
    logged = events(ch.OracleSet, receipt)
    assert len(logged) == 1
    assert (logged[0].market, logged[0].feed, logged[0].max_price_age) == (0, feed18.address, 600)
    assert ch.market_feed(0) == feed18.address
    assert ch.index_price(0) == 51_000 * WAD
    params = ch.market_params(0)
    assert (params.feed, params.max_price_age, params.price_multiplier) == (feed18.address, 600, 1)
    # funding settings packed beside the oracle settings are kept
    assert (params.funding_period, params.max_funding_premium) == (DEFAULT_FUNDING_PERIOD, DEFAULT_MAX_FUNDING_PREMIUM)


def test_set_oracle_max_age_applies(ch, chain, feed, owner):
    ch.set_oracle(0, feed, 60, sender=owner)
    t = _later(chain)
    feed.set_answer_at(ANSWER, t - 60, sender=owner)
    mine_at(chain, t)
    assert ch.index_price(0) == PRICE
    mine_at(chain, t + 1)
    with ape.reverts(STALE):
        ch.index_price(0)


def test_set_oracle_longest_max_age(ch, chain, feed, owner):
    ch.set_oracle(0, feed, 7 * 86400, sender=owner)
    t = _later(chain)
    feed.set_answer_at(ANSWER, t - 7 * 86400, sender=owner)
    mine_at(chain, t)
    assert ch.index_price(0) == PRICE


@pytest.mark.parametrize("max_age", [0, 7 * 86400 + 1])
def test_set_oracle_max_age_bounds(ch, feed, owner, max_age):
    with ape.reverts("registry: max price age out of range"):
        ch.set_oracle(0, feed, max_age, sender=owner)


def test_set_oracle_rejects_bad_feeds(ch, project, owner, other):
    with ape.reverts("registry: feed is not a contract"):
        ch.set_oracle(0, other, 3600, sender=owner)
    feed19 = owner.deploy(project.MockAggregator, 19, 1)
    with ape.reverts("registry: feed has more than 18 decimals"):
        ch.set_oracle(0, feed19, 3600, sender=owner)


def test_set_oracle_only_by_owner_and_known_market(ch, feed, owner, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        ch.set_oracle(0, feed, 3600, sender=attacker)
    with ape.reverts("registry: unknown market"):
        ch.set_oracle(1, feed, 3600, sender=owner)
