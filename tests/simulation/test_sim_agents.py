"""Agent decision logic in plain Python (no chain)."""
import numpy as np
import pytest

from simulation.agents import (AccountView, BookEntry, Deposit, Liquidate, LiquidateBankrupt, Liquidator,
                               MarketMaker, MarketView, MomentumTrader, NoiseTrader, OrderBook, Post, Redeem,
                               RedeemRequestView, ClearLoss, FlagLoss,
                               RequestRedeem, Staker, Trade, VaultDeposit, VaultView, Withdraw, World)
from simulation.agents.attacker import Attacker
from simulation.keys import Order, derive_key, domain_separator, order_digest, recover
from simulation.agents import AttackerConfig, LiquidatorConfig, MarketMakerConfig, StakerConfig

E18 = 10**18
DOMAIN = domain_separator(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")


def world(price=30_000.0, history=(30_000.0, 30_000.0), accounts=None, book=None, block=5, ts=10_000,
          vault=None, max_liq=None, cooldown=600):
    return World(block, ts, 60, [MarketView(int(price * E18), 0, 0.1, 0.05)], accounts or {}, {},
                 vault or VaultView(), [np.array([h]) for h in history], book or OrderBook(), DOMAIN, 6,
                 max_liq or {}, cooldown)


def mm(**kw):
    cfg = MarketMakerConfig(**{"spread_bps": 10, "levels": 2, "quote_notional": 30_000,
                               "max_inventory_notional": 100_000, **kw})
    return MarketMaker("mm", derive_key(1, 1), np.random.default_rng(0), cfg)


def healthy(pos=0):
    return AccountView(1_000_000 * 10**6, 1_000_000 * 10**6, 0, 0, (pos,))


def test_market_maker_quotes_signed_orders_around_the_index():
    m = mm()
    w = world(accounts={m.address: healthy()})
    (post,) = m.decide(w)
    assert isinstance(post, Post) and len(post.entries) == 4
    bids = [e.order for e in post.entries if e.order.size > 0]
    asks = [e.order for e in post.entries if e.order.size < 0]
    idx = 30_000 * E18
    assert max(o.limit_price for o in bids) == pytest.approx(idx * (1 - 0.001), rel=1e-9)
    assert min(o.limit_price for o in asks) == pytest.approx(idx * (1 + 0.001), rel=1e-9)
    assert all(o.size == pytest.approx(1 * E18, rel=1e-9) for o in bids)  # 30k notional at 30k
    for e in post.entries:  # every quote is an EIP-712 signature by the maker
        assert recover(order_digest(e.order, DOMAIN), e.signature) == m.address
    assert len({e.order.nonce for e in post.entries}) == 4


def test_market_maker_widens_under_stress_and_withdraws_in_a_crash():
    m = mm(stress_return=0.01, stress_widen=4, withdraw_return=0.05)
    calm = m.spread_for(world(history=(30_000, 30_000)), 0)
    stressed = m.spread_for(world(history=(30_000, 29_500)), 0)
    assert stressed == pytest.approx(4 * calm)
    assert m.spread_for(world(history=(30_000, 27_000)), 0) is None
    (post,) = m.decide(world(price=27_000, history=(30_000, 27_000), accounts={m.address: healthy()}))
    assert post.entries == ()


def test_market_maker_inventory_limit_quotes_only_the_reducing_side():
    m = mm()
    long_pos = 5 * E18  # 150k notional > 100k limit
    (post,) = m.decide(world(accounts={m.address: healthy(long_pos)}))
    assert post.entries and all(e.order.size < 0 for e in post.entries)


def test_order_book_best_price_first_and_no_self_trade():
    book = OrderBook()
    k = derive_key(1, 2)
    mk = lambda p, s, n: BookEntry(Order(k.address, 0, s, p, n, 10**9), b"", abs(s), k.address)  # noqa: E731
    book.replace(k.address, [mk(101, -5, 1), mk(100, -5, 2), mk(99, 5, 3)])
    fills = book.take(0, True, 7, taker="0xabc")
    assert [(e.order.limit_price, f) for e, f in fills] == [(100, 5), (101, 2)]
    assert book.take(0, True, 1, taker=k.address) == []
    assert book.take(0, True, 10, taker="0xabc", worst_price=100) == []  # only 101 left, worse than limit


def trader(cls=NoiseTrader, **kw):
    cfg = cls.config(**{"trade_prob": 1.0, "leverage": {"median": 5, "sigma": 0.0, "max": 9}, **kw})
    t = cls("t", derive_key(1, 3), np.random.default_rng(1), cfg)
    t.capital = 10_000
    return t


def book_with_quotes(price=30_000.0):
    m = mm(quote_notional=1_000_000)
    w = world(price=price, accounts={m.address: healthy()})
    (post,) = m.decide(w)
    book = OrderBook()
    book.replace(m.address, post.entries)
    return book


def test_noise_trader_opens_at_its_leverage_against_the_book():
    t = trader()
    eq = 10_000 * 10**6
    w = world(accounts={t.address: AccountView(eq, eq, 0, 0, (0,))}, book=book_with_quotes())
    trades = t.decide(w)
    assert trades and all(isinstance(x, Trade) for x in trades)
    size = sum(x.fill_size for x in trades)
    assert size * 30_000 / E18 == pytest.approx(5 * 10_000, rel=1e-6)  # 5x leverage


def test_noise_trader_takes_profit_and_withdraws():
    t = trader(take_profit=0.2, close_prob=0.0, withdraw_prob=1.0)
    t.setup(world())
    t.entry_equity = 10_000 * 10**6
    w = world(accounts={t.address: AccountView(10_000 * 10**6, 12_500 * 10**6, 0, 0, (E18,))}, book=book_with_quotes())
    closes = t.decide(w)
    assert closes and all(isinstance(x, Trade) and x.entry.order.size > 0 for x in closes)  # sells to a bid
    assert sum(x.fill_size for x in closes) == E18
    flat = world(accounts={t.address: AccountView(12_500 * 10**6, 12_500 * 10**6, 0, 0, (0,))})
    (wd,) = t.decide(flat)
    assert isinstance(wd, Withdraw) and wd.amount == 12_500 * 10**6 - 5_000 * 10**6


def test_momentum_trader_follows_the_trend():
    t = trader(MomentumTrader, lookback=2, threshold=0.01)
    up = world(history=(29_000, 29_500, 30_000))
    down = world(history=(31_000, 30_500, 30_000))
    flat = world(history=(30_000, 30_000, 30_000))
    assert t.pick_side(up, 0) == 1 and t.pick_side(down, 0) == -1 and t.pick_side(flat, 0) is None


def liq(**kw):
    return Liquidator("liq", derive_key(1, 4), np.random.default_rng(2),
                      LiquidatorConfig(**{"capital": 500_000, "reaction_delay": 0, **kw}))


def test_liquidator_uses_both_paths_via_the_shared_policy():
    L = liq()
    me = AccountView(500_000 * 10**6, 500_000 * 10**6, 0, 0, (0,))
    bankrupt = AccountView(-100, -100, 3_000 * 10**6, 1_500 * 10**6, (E18,))
    weak = AccountView(1_000 * 10**6, 1_000 * 10**6, 3_000 * 10**6, 1_500 * 10**6, (-E18,))
    fine = AccountView(9_000 * 10**6, 9_000 * 10**6, 3_000 * 10**6, 1_500 * 10**6, (E18,))
    w = world(accounts={L.address: me, "0xB": bankrupt, "0xW": weak, "0xF": fine},
              max_liq={("0xW", 0): E18 // 2})
    acts = L.decide(w)
    # a bankruptcy is flag, resolve, clear (vault claims are held back while the loss is visible)
    assert [type(a) for a in acts[:3]] == [FlagLoss, LiquidateBankrupt, ClearLoss]
    assert {a.account for a in acts[:3]} == {"0xB"} and acts[0].target == acts[2].target == "vault"
    assert isinstance(acts[3], Liquidate) and acts[3].account == "0xW" and acts[3].size == E18 // 2
    assert all(getattr(a, "account", None) != "0xF" for a in acts)
    # already flagged: not flagged again; a flagged account back at equity >= 0 is cleared
    healed = AccountView(10, 10, 0, 0, (0,))
    w.vault = VaultView(flagged=frozenset({"0xB", "0xH"}))
    w.accounts["0xH"] = healed
    acts = L.decide(w)
    assert [type(a) for a in acts[:3]] == [ClearLoss, LiquidateBankrupt, ClearLoss]
    assert [a.account for a in acts[:3]] == ["0xH", "0xB", "0xB"]
    # a lost flag race does not back the keeper off the account
    L.on_result(FlagLoss(account="0xB"), False, "flag_loss: already flagged", w)
    assert "0xB" not in L.backoff


def test_liquidator_reaction_delay_and_capital_limit():
    L = liq(reaction_delay=2)
    me = AccountView(500_000 * 10**6, 500_000 * 10**6, 0, 0, (0,))
    weak = AccountView(1_000 * 10**6, 1_000 * 10**6, 3_000 * 10**6, 1_500 * 10**6, (E18,))
    for block, expect in ((5, False), (6, False), (7, True)):
        acts = L.decide(world(block=block, accounts={L.address: me, "0xW": weak}))
        assert bool(acts) is expect
    poor = liq()
    broke = AccountView(10 * 10**6, 10 * 10**6, 0, 0, (0,))
    huge = AccountView(-100, -100, 0, 10**12, (1000 * E18,))
    # too poor to take the bankrupt account over, it still flags the visible loss for the vault
    assert poor.decide(world(accounts={poor.address: broke, "0xH": huge})) == [FlagLoss(account="0xH")]
    assert poor.decide(world(accounts={poor.address: broke, "0xH": huge},
                             vault=VaultView(flagged=frozenset({"0xH"})))) == []


def test_staker_requests_after_drawdown_and_claims_inside_the_window():
    s = Staker("s", derive_key(1, 5), np.random.default_rng(0), StakerConfig(redeem_drawdown=0.05, panic_prob=1.0))
    (ap, dep) = s.setup(world())
    assert isinstance(dep, VaultDeposit) and dep.assets == int(s.cfg.capital * 10**6)
    v = lambda px, req=None, losses=0: VaultView(  # noqa: E731
        10**12, 10**12, px, {s.address: 0 if req else 10**15}, {s.address: req} if req else {}, losses)
    assert s.decide(world(vault=v(1.0))) == []
    assert s.decide(world(vault=v(0.97))) == []
    (rq,) = s.decide(world(vault=v(0.90), ts=10_000))
    assert isinstance(rq, RequestRedeem) and rq.shares == 10**15
    s.on_result(rq, True, None)
    # the request as the vault reports it: claimable from 10_600 to 10_900
    req = RedeemRequestView(10**15, 9 * 10**11, 10_600, 10_900)
    assert s.decide(world(vault=v(0.90, req), ts=10_300)) == []
    assert s.decide(world(vault=v(0.90, req, losses=1), ts=10_700)) == []   # a loss is pending: wait
    (rd,) = s.decide(world(vault=v(0.90, req), ts=10_700))
    assert isinstance(rd, Redeem) and rd.shares == 10**15 and rd.args(s.address, {}) == (10**15, s.address, s.address)
    s.on_result(rd, False, "vault: loss pending")
    (rn,) = s.decide(world(vault=v(0.90, req), ts=10_901))                 # lapsed: renew, wait again
    assert isinstance(rn, RequestRedeem) and rn.shares == 0
    s.on_result(rn, True, None)
    s.on_result(rd, True, None)
    assert (s.requests, s.lapses, s.held_back, s.claims) == (1, 1, 1, 1)


def test_attacker_self_trade_is_signed_by_its_accomplice():
    a = Attacker("att", derive_key(1, 6), np.random.default_rng(0),
                 AttackerConfig(enabled=True, self_trade_block=5, self_trade_premium=0.2))
    setup = a.setup(world())
    assert any(isinstance(x, Deposit) and x.sender == a.maker_key.address for x in setup)
    (tr,) = a.decide(world(block=5, accounts={a.address: healthy()}))
    o = tr.entry.order
    assert o.limit_price == pytest.approx(30_000 * E18 * 1.2, rel=1e-9) and o.size < 0
    assert recover(order_digest(o, DOMAIN), tr.entry.signature) == a.maker_key.address


def test_keepers_spread_over_accounts_instead_of_racing():
    from simulation.agents.liquidator import visit_order

    weak = {f"0x{n:040x}": AccountView(1_000 * 10**6, 1_000 * 10**6, 3_000 * 10**6, 1_500 * 10**6, (E18,))
            for n in range(1, 9)}
    keepers = [Liquidator(f"liq{i}", derive_key(1, 40 + i), np.random.default_rng(i),
                          LiquidatorConfig(capital=500_000, reaction_delay=0, max_per_block=1)) for i in range(3)]
    firsts = set()
    for k in keepers:
        me = AccountView(500_000 * 10**6, 500_000 * 10**6, 0, 0, (0,))
        (act,) = k.decide(world(accounts={k.address: me, **weak}, max_liq={(a, 0): E18 // 2 for a in weak}))
        assert act.account == min(weak, key=lambda a: visit_order(k.address, a))
        firsts.add(act.account)
    assert len(firsts) > 1, "every keeper chased the same account"
    racer = Liquidator("r", derive_key(1, 50), np.random.default_rng(0),
                       LiquidatorConfig(capital=500_000, reaction_delay=0, max_per_block=1, selection="race"))
    me = AccountView(500_000 * 10**6, 500_000 * 10**6, 0, 0, (0,))
    (act,) = racer.decide(world(accounts={racer.address: me, **weak}, max_liq={(a, 0): E18 // 2 for a in weak}))
    assert act.account == min(weak, key=str.lower)  # the shared policy's deterministic order


def test_keeper_backs_off_after_a_revert_and_skips_unprofitable_liquidations():
    L = liq(backoff_blocks=2)
    me = AccountView(500_000 * 10**6, 500_000 * 10**6, 0, 0, (0,))
    weak = AccountView(1_000 * 10**6, 1_000 * 10**6, 3_000 * 10**6, 1_500 * 10**6, (E18,))
    w = world(block=5, accounts={L.address: me, "0xW": weak}, max_liq={("0xW", 0): E18})
    (act,) = L.decide(w)
    L.on_result(act, False, "liquidate: not liquidatable", w)
    for block, expect in ((6, False), (7, False), (8, True)):
        assert bool(L.decide(world(block=block, accounts={L.address: me, "0xW": weak},
                                   max_liq={("0xW", 0): E18}))) is expect
    greedy = liq(min_profit=1e9)   # no liquidation earns a billion
    assert greedy.decide(w) == [] and greedy.skipped_unprofitable == 1


def test_keeper_unwinds_after_its_latency_within_capacity_and_stops_after_losses():
    L = liq(unwind_delay=2, unwind_notional=30_000)
    book = book_with_quotes()
    me = AccountView(500_000 * 10**6, 500_000 * 10**6, 0, 0, (10 * E18,))
    L.taken_at[0] = 5
    assert L.decide(world(block=6, accounts={L.address: me}, book=book)) == []
    trades = L.decide(world(block=7, accounts={L.address: me}, book=book))
    assert trades and sum(t.fill_size for t in trades) == pytest.approx(E18, rel=1e-9)  # 30k notional at 30k
    assert all(not t.taker_buys for t in trades)  # sells its long
    poor = AccountView(100_000 * 10**6, 100_000 * 10**6, 0, 0, (0,))
    weak = AccountView(1_000 * 10**6, 1_000 * 10**6, 3_000 * 10**6, 1_500 * 10**6, (E18,))
    assert L.decide(world(block=9, accounts={L.address: poor, "0xW": weak}, max_liq={("0xW", 0): E18})) == []


def test_market_maker_hedges_inventory_above_its_threshold():
    m = mm(max_inventory_notional=100_000, hedge_threshold=0.5, hedge_fraction=0.5)
    other = mm(quote_notional=1_000_000)
    other.key = derive_key(1, 99)
    w0 = world(accounts={other.address: healthy()})
    (post,) = other.decide(w0)
    book = OrderBook()
    book.replace(other.address, post.entries)
    inv = 3 * E18   # 90k notional long, 40k above the 50k threshold -> hedge 20k
    intents = m.decide(world(accounts={m.address: healthy(inv)}, book=book))
    hedges = [i for i in intents if isinstance(i, Trade)]
    assert hedges and all(not h.taker_buys for h in hedges)
    assert sum(h.fill_size for h in hedges) * 30_000 / E18 == pytest.approx(20_000, rel=1e-6)
    assert m.hedge_size(world(accounts={m.address: healthy(E18)}), 0) == 0   # 30k: below the threshold


def test_stakers_are_heterogeneous_and_the_protocol_fund_never_leaves():
    from simulation.agents import ProtocolFund, ProtocolFundConfig

    cfg = StakerConfig(capital=10_000, capital_sigma=0.5, redeem_drawdown=0.1, threshold_spread=0.5,
                       horizon_blocks=50)
    stakers = [Staker(f"s{i}", derive_key(2, i), np.random.default_rng([2, i]), cfg) for i in range(6)]
    assert len({s.capital for s in stakers}) == 6 and len({s.threshold for s in stakers}) == 6
    assert all(0.05 <= s.threshold <= 0.15 for s in stakers) and all(s.horizon > 0 for s in stakers)
    s = min(stakers, key=lambda s: s.horizon)
    vault = VaultView(10**12, 10**12, 1.0, {s.address: 10**15})
    (rq,) = s.decide(world(block=int(s.horizon) + 1, vault=vault))   # leaves at its horizon, no drawdown
    assert isinstance(rq, RequestRedeem)
    fund = ProtocolFund("pf", derive_key(2, 9), np.random.default_rng(0), ProtocolFundConfig(capital=5_000))
    (_, dep) = fund.setup(world())
    assert isinstance(dep, VaultDeposit) and dep.assets == 5_000 * 10**6
    crashed = VaultView(10**12, 10**12, 0.1, {fund.address: 10**15})
    assert all(fund.decide(world(block=b, vault=crashed)) == [] for b in range(1, 200, 20))
    assert ProtocolFund.instances(ProtocolFundConfig()) == 0


def test_liquidator_deleverage_calls_of_one_block_do_not_name_winners_closed_by_an_earlier_one():
    """loss_policy adl (the crash finding, issue 10): two accounts are frozen, each long 1 BTC;
    W1 (short 1, best bucket) can close only one of them. Planned from the same readings, the
    second call used to name W1 again; the contract reverts a call naming a position that is
    gone ("deleverage: not an opposite position") and the keeper then backed the account off for
    `backoff_blocks` while the winners closed their shorts and left: bad debt. The block's calls
    are planned as one: the second names W2 and W3 only; W2, left partly open after the first
    call, keeps its place. A reverted deleverage does not back the keeper off. A bankrupt
    account not yet frozen (A3) is started by a deleverage that opens and fills it in one call
    (it used to wait for a liquidate_bankrupt, then a deleverage a block later)."""
    from simulation.agents import Deleverage
    from simulation.liquidation_policy import adl_bucket_of

    at_price = adl_bucket_of(18_000 * E18)
    L = liq(max_per_block=5)
    me = AccountView(500_000 * 10**6, 500_000 * 10**6, 0, 0, (0,))
    frozen = AccountView(-5_000 * 10**6, -5_000 * 10**6, 3_000 * 10**6, 1_500 * 10**6, (E18,))
    winner = AccountView(50_000 * 10**6, 60_000 * 10**6, 0, 0, (-6 * E18 // 10,))
    w = world(price=18_000.0, accounts={L.address: me, "0xA1": frozen, "0xA2": frozen, "0xA3": frozen,
                                        "0xW1": winner,
                        "0xW2": AccountView(50_000 * 10**6, 60_000 * 10**6, 0, 0, (-E18 // 2,)),
                        "0xW3": AccountView(50_000 * 10**6, 60_000 * 10**6, 0, 0, (-3 * E18,))})
    w.deleveraging = frozenset({"0xA1", "0xA2"})
    w.adl_rank = {("0xW1", 0): (9548, 10_000 * 10**6), ("0xW2", 0): (9547, 4_000 * 10**6),
                  ("0xW3", 0): (9547, 3_000 * 10**6)}
    w.vault = VaultView(flagged=frozenset({"0xA1", "0xA2"}))
    acts = L.decide(w)
    calls = [a for a in acts if isinstance(a, Deleverage)]
    assert len(calls) == 3 and not [a for a in acts if isinstance(a, LiquidateBankrupt)]
    # A3 is bankrupt but not frozen yet: one deleverage opens and fills it, after the others
    assert calls[2].account == "0xA3" and calls[2].counterparties == ("0xW3", "0xW2")
    first, second = sorted(calls[:2], key=lambda c: c.counterparties[0] != "0xW1")
    assert first.counterparties == ("0xW1", "0xW2", "0xW3")  # best bucket first, then the larger profit
    # W1 is closed by the first call, W2 left with 0.1 (still in its bucket, after W3 by profit)
    assert second.counterparties == ("0xW3", "0xW2"), second.counterparties
    L.on_result(second, False, "deleverage: not an opposite position", w)
    assert second.account not in L.backoff  # retried next block on fresh readings
    # a start by deleverage that reverted: the account is started plainly next time
    L.on_result(calls[2], False, "deleverage: market not under resolution", w)
    assert [a.account for a in L.decide(w) if isinstance(a, LiquidateBankrupt)] == ["0xA3"]
    # winners within a bucket of the price (exhausted): the new account is started plainly
    w.adl_rank = {k: (at_price, profit) for k, (_, profit) in w.adl_rank.items()}
    assert "0xA3" in [a.account for a in liq(max_per_block=5).decide(w) if isinstance(a, LiquidateBankrupt)]
