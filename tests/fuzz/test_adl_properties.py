"""Property test of the `adl` policy (DESIGN.md invariant 7): on random books (winners' sizes and
entries, the crash price, a vault or none, one call or several) a deleveraging resolution fills
only profitable opposite positions, in ranking order (the bucket of each filled winner is the
best non-empty one of its side when it is filled, so buckets never improve along the fills), at
the bankruptcy price, never taking more than a winner's profit; and after every call
conservation and the balanced book hold, and the account ends flat at zero.

Budget: MAX_EXAMPLES examples, each from a chain snapshot of one deployment.
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.adl_model import bucket_of

WAD = 10**18
SCALE = 10**30
MAX_EXAMPLES = 12


def _price(tokens: float) -> int:
    return int(round(tokens * 10**8)) * 10**10


@pytest.fixture(scope="module")
def adl_env(protocol_builder, accounts, owner, liquidator):
    p = protocol_builder(loss_policy="adl", with_vault=False)
    p.fund(liquidator, 10_000_000)
    winners = [accounts.generate_test_account() for _ in range(6)]
    for w in winners:
        owner.transfer(w, 10**18)
        p.fund(w, 50_000)
    return p, winners


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    steps=st.lists(st.tuples(st.integers(1, 10), st.integers(-4, 8)), min_size=2, max_size=6),
    crash=st.integers(3_000, 9_000),
    per_call=st.integers(1, 6),
)
def test_adl_invariant(adl_env, trader, liquidator, chain, steps, crash, per_call):
    p, winners = adl_env
    ch = p.clearinghouse
    snapshot = chain.snapshot()
    try:
        p.fund(trader, 4_000)
        total = 0
        for (tenths, pct), w in zip(steps, winners):
            price = _price(50_000 * (1 + pct / 100))
            p.feeds[0].set_answer(price // 10**10, sender=p.owner)
            size = WAD * tenths // 20
            try:
                p.fill(trader, w, -size, price)
                total += size
            except Exception:
                continue  # the trader's margin ran out: fewer winners
        if total == 0:
            return
        p.feeds[0].set_answer(_price(50_000 - crash) // 10**10, sender=p.owner)
        oracle = ch.index_price(0)
        if ch.equity(trader) >= 0:
            return
        everyone = [trader, liquidator, *winners]
        for _ in range(40):
            if ch.position_size(trader, 0) == 0 and not ch.is_deleveraging(trader):
                break
            ranks = {w: ch.adl_rank(w, 0) for w in winners}
            ranked = sorted((w for w in winners if ranks[w].bucket and ranks[w].profit > 0 and ch.position_size(w, 0) < 0),
                            key=lambda w: (-ranks[w].bucket, -ranks[w].profit))
            profits = {w: ranks[w].profit for w in winners}
            equities = {w: ch.equity(w) for w in winners}
            target = ch.bankruptcy_price(trader, 0)
            tx = ch.deleverage(trader, 0, ranked[:per_call], sender=liquidator)
            fills = list(tx.decode_logs(ch.Deleveraged))
            target = target or ch.bankruptcy_price(trader, 0) or (fills[0].price if fills else 0)
            buckets = [ranks[next(w for w in winners if w.address == f.counterparty)].bucket for f in fills]
            assert buckets == sorted(buckets, reverse=True), "fills out of ranking order"
            for f in fills:
                w = next(w for w in winners if w.address == f.counterparty)
                assert f.price == target and f.price > oracle, "fill away from the bankruptcy price"
                assert profits[w] > 0, "a loser was filled"
                assert equities[w] - ch.equity(w) <= profits[w] + 1, "a winner paid more than its profit"
            gap = p.token.balanceOf(ch) + ch.bad_debt() - ch.treasury() - sum(ch.equity(a) for a in everyone)
            assert 0 <= gap <= 20, gap
            longs = sum(max(ch.position_size(a, 0), 0) for a in everyone)
            shorts = sum(max(-ch.position_size(a, 0), 0) for a in everyone)
            assert longs == shorts == ch.open_interest(0)
            if not ranked:
                ch.liquidate_bankrupt(trader, sender=liquidator)
        assert ch.position_size(trader, 0) == 0 and not ch.is_deleveraging(trader)
        assert ch.account_summary(trader) == (0, 0, 0, 0)
    finally:
        chain.restore(snapshot)


def test_model_bucket_matches_contract(adl_env):
    """The reference model's bucket arithmetic is the contract's."""
    p, _ = adl_env
    for price in (1, 127, 128, 10**12 + 7, _price(1.5), _price(2_000), _price(50_000), _price(123_456.78), 2**255):
        assert p.clearinghouse.adl_bucket_of_price(price) == bucket_of(price)
