"""Pure unit tests of the liquidation policy shared by the keeper and the simulation."""
from hypothesis import given, settings, strategies as st

from simulation.liquidation_policy import (
    LIQUIDATE,
    LIQUIDATE_BANKRUPT,
    WAD,
    AccountReading,
    KeeperState,
    MarketReading,
    margin_for,
    max_takeover_size,
    plan,
    plan_liquidations,
    takeover_margin_delta,
)

USDC = 10**6
BTC, ETH = 0, 1
MARKETS = {
    BTC: MarketReading(BTC, price=50_000 * WAD, imr=WAD // 10, mmr=WAD // 20),
    ETH: MarketReading(ETH, price=2_000 * WAD, imr=WAD // 10, mmr=WAD // 20),
}
RICH = KeeperState(free_margin=10**9 * USDC)


def acct(name, equity, mm, positions, maxliq=None):
    return AccountReading(name, equity * USDC, mm * USDC, positions, maxliq or {})


def test_healthy_accounts_are_ignored():
    accounts = [acct("0xa", 100, 50, {BTC: WAD}), acct("0xb", 50, 50, {BTC: WAD})]  # equal: healthy
    assert plan_liquidations(accounts, MARKETS, RICH) == []


def test_bankrupt_first_then_largest_shortfall():
    accounts = [
        acct("0x1", 10, 30, {BTC: WAD}),           # shortfall 20
        acct("0x2", -5, 30, {ETH: WAD}),            # deficit 5
        acct("0x3", 0, 100, {ETH: -WAD}),           # shortfall 100 (equity 0 is not bankrupt)
        acct("0x4", -50, 30, {BTC: -WAD}),          # deficit 50
    ]
    actions = plan_liquidations(accounts, MARKETS, RICH)
    assert [(a.kind, a.account) for a in actions] == [
        (LIQUIDATE_BANKRUPT, "0x4"),
        (LIQUIDATE_BANKRUPT, "0x2"),
        (LIQUIDATE, "0x3"),
        (LIQUIDATE, "0x1"),
    ]
    assert actions[0].call_args() == ("0x4",)
    assert actions[2].call_args() == ("0x3", ETH, WAD)


def test_partial_liquidation_respects_max_liquidatable_and_orders_markets_by_notional():
    a = acct("0xa", 100, 200, {ETH: 10 * WAD, BTC: -WAD}, {BTC: WAD // 2})
    actions = plan_liquidations([a], MARKETS, RICH)
    # BTC notional 50k > ETH notional 20k
    assert [(x.market, x.size) for x in actions] == [(BTC, WAD // 2), (ETH, 10 * WAD)]


def test_zero_max_liquidatable_is_skipped():
    a = acct("0xa", 100, 200, {BTC: WAD}, {BTC: 0})
    p = plan([a], MARKETS, RICH)
    assert p.actions == [] and p.skipped[0].reason.startswith("max_liquidatable_size")


def test_capacity_shrinks_partial_liquidation():
    # 1 BTC at 50k with 10% imr needs 5,000 USDC; keeper has 1,000 free (x0.9 safety = 900)
    keeper = KeeperState(free_margin=1_000 * USDC)
    a = acct("0xa", 100, 2_500, {BTC: WAD})
    [action] = plan_liquidations([a], MARKETS, keeper)
    assert action.size < WAD
    assert action.margin_used <= 900 * USDC
    assert margin_for(action.size, MARKETS[BTC].price, MARKETS[BTC].imr) <= 900 * USDC
    # and it is (nearly) the largest that fits
    assert margin_for(action.size + 10**15, MARKETS[BTC].price, MARKETS[BTC].imr) > 890 * USDC


def test_opposite_keeper_position_frees_capacity():
    # keeper short 1 BTC, no free margin: it can still take over up to 2 BTC long
    keeper = KeeperState(free_margin=0, positions={BTC: -WAD})
    a = acct("0xa", 100, 5_000, {BTC: 3 * WAD})
    [action] = plan_liquidations([a], MARKETS, keeper)
    assert action.size == 2 * WAD
    assert action.margin_used == 0


def test_bankrupt_takeover_needs_full_capacity():
    keeper = KeeperState(free_margin=100 * USDC)
    a = acct("0xa", -10, 2_500, {BTC: WAD})
    p = plan([a], MARKETS, keeper)
    assert p.actions == []
    assert "bankrupt takeover" in p.skipped[0].reason
    # a bankrupt account without positions costs no margin
    b = acct("0xb", -10, 0, {})
    assert [x.kind for x in plan_liquidations([b], MARKETS, keeper)] == [LIQUIDATE_BANKRUPT]


def test_capacity_is_consumed_across_actions():
    keeper = KeeperState(free_margin=6_000 * USDC)  # 5,400 usable: one BTC takeover (5,000)
    accounts = [acct("0x1", -1, 2_500, {BTC: WAD}), acct("0x2", -2, 2_500, {BTC: WAD})]
    p = plan(accounts, MARKETS, keeper)
    assert [a.account for a in p.actions] == ["0x2"]
    assert len(p.skipped) == 1


def test_keeper_never_liquidates_itself_and_min_size_and_max_actions():
    keeper = KeeperState(free_margin=10**12, address="0xAbC")
    accounts = [acct("0xabc", -1, 10, {BTC: WAD}), acct("0x1", 1, 10, {BTC: 10**12}),
                acct("0x2", 1, 20, {ETH: WAD}), acct("0x3", 1, 30, {ETH: WAD})]
    actions = plan_liquidations(accounts, MARKETS, keeper, min_size=10**15, max_actions=1)
    assert [a.account for a in actions] == ["0x3"]


def test_unlimited_capacity_without_keeper():
    a = acct("0xa", 1, 10**9, {BTC: 10**6 * WAD})
    [action] = plan_liquidations([a], MARKETS)
    assert action.size == 10**6 * WAD


@settings(max_examples=200, deadline=None)
@given(
    keeper_pos=st.integers(-(10**21), 10**21),
    sign=st.sampled_from([-1, 1]),
    budget=st.integers(0, 10**12),
    price=st.integers(10**15, 10**24),
    imr=st.integers(10**15, WAD),
)
def test_max_takeover_size_fits_budget(keeper_pos, sign, budget, price, imr):
    s = max_takeover_size(keeper_pos, sign, budget, price, imr)
    assert s >= 0
    assert takeover_margin_delta(keeper_pos, sign, s, price, imr) <= budget


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-10**6, 10**6), st.integers(0, 10**6),
                          st.integers(-10**20, 10**20)), min_size=1, max_size=12),
       st.integers(0, 10**11))
def test_plan_invariants(rows, free):
    accounts = [AccountReading(f"0x{i:040x}", e, mm, {BTC: s} if s else {}) for i, (e, mm, s) in enumerate(rows)]
    keeper = KeeperState(free_margin=free)
    p = plan(accounts, MARKETS, keeper)
    kinds = [a.kind for a in p.actions]
    # bankrupt actions come before partial ones
    assert kinds == sorted(kinds, key=lambda k: 0 if k == LIQUIDATE_BANKRUPT else 1)
    assert sum(a.margin_used for a in p.actions) <= free * 9 // 10
    by = {a.account: a for a in accounts}
    for a in p.actions:
        r = by[a.account]
        assert r.equity < r.maintenance_margin
        assert (a.kind == LIQUIDATE_BANKRUPT) == (r.equity < 0)
        if a.kind == LIQUIDATE:
            assert 0 < a.size <= abs(r.positions[BTC])


# --- the contract's rounding, at the edge ---------------------------------------------------
# The contract (clearing.vy `_health`) rounds the notional up to a base unit, then the margin
# up again; rounding once can come out one unit short. 10.01 base units of notional at a 9.99 %
# margin: the contract charges ceil(11 * 0.0999) = 2, a single rounding ceil(1.0000) ... = 1.
EDGE_SIZE = 1001 * 10**10  # 10.01 base units of notional at a price of 1 token (6 decimals)
EDGE_PRICE = WAD
EDGE_IMR = 999 * 10**14  # 9.99 %


def test_margin_rounds_like_the_contract_at_the_edge():
    from support.model import margin as contract_margin

    assert contract_margin(EDGE_SIZE, EDGE_PRICE, EDGE_IMR) == 2
    assert margin_for(EDGE_SIZE, EDGE_PRICE, EDGE_IMR) == 2


def test_a_takeover_planned_at_the_edge_fits_the_contracts_margin():
    """A keeper with exactly one unit of free margin must not plan a takeover the contract
    charges two units for (it would revert: the liquidator must meet initial margin)."""
    from support.model import margin as contract_margin

    market = {0: MarketReading(0, EDGE_PRICE, EDGE_IMR, EDGE_IMR // 2)}
    account = AccountReading("0x" + "a1" * 20, 0, 10, {0: EDGE_SIZE}, {0: EDGE_SIZE})
    [action] = plan([account], market, KeeperState(free_margin=1), safety=WAD).actions
    assert 0 < action.size < EDGE_SIZE
    assert contract_margin(action.size, EDGE_PRICE, EDGE_IMR) <= 1


@settings(max_examples=300, deadline=None)
@given(size=st.integers(-(10**24), 10**24), price=st.integers(1, 10**24), ratio=st.integers(0, WAD),
       decimals=st.sampled_from([0, 6, 8, 18]))
def test_margin_for_is_the_contracts_margin(size, price, ratio, decimals):
    from support.model import margin as contract_margin

    assert margin_for(size, price, ratio, decimals) == contract_margin(size, price, ratio, decimals)


def test_deleverage_actions_name_the_best_winners_per_market():
    from simulation.liquidation_policy import (DELEVERAGE, LIQUIDATE_BANKRUPT, WinnerReading,
                                               deleverage_actions)

    bankrupt = "0x" + "0b" * 20
    winners = {0: [WinnerReading("0x" + "01" * 20, -5 * WAD, 900, 10), WinnerReading("0x" + "02" * 20, -WAD, 910, 3),
                   WinnerReading("0x" + "03" * 20, WAD, 100, 50), WinnerReading(bankrupt, 2 * WAD, 0, -9)],
               1: [WinnerReading("0x" + "04" * 20, WAD, 300, -1)]}  # market 1: nobody in profit
    acts = deleverage_actions(bankrupt, {0: 2 * WAD, 1: -WAD}, winners, shortfall=7)
    assert [(a.kind, a.market, a.counterparties) for a in acts] == [
        (DELEVERAGE, 0, ("0x" + "02" * 20, "0x" + "01" * 20))]  # shorts: highest entry bucket first
    assert acts[0].call_args() == (bankrupt, 0, ["0x" + "02" * 20, "0x" + "01" * 20])
    # no market has a winner left: one liquidate_bankrupt takes the exhausted rest
    (last,) = deleverage_actions(bankrupt, {1: -WAD}, winners)
    assert last.kind == LIQUIDATE_BANKRUPT and last.call_args() == (bankrupt,)
