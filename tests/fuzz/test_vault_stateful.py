"""Stateful fuzzing of the InsuranceVault against a plain-Python model of its accounting.

Hypothesis drives random sequences of deposits, mints, revenue (paid at once, or accrued in the
Clearinghouse and swept in by the next deposit/mint/request), covers, visible bankruptcies (an
account's equity turns negative and is flagged before the cover resolves it), parameter
changes (cover ratio, reserve, cooldown), redeem requests and renewals, time passing, claims
(redeem/withdraw), share transfers and donations. MockVaultClearinghouse plays the
Clearinghouse. After every step the contract must agree exactly with the model: total assets,
supply, every balance and redeem request, pending/claimable request shares,
maxRedeem/maxWithdraw, and every token balance. Also:

- preview exactness: previewDeposit/previewMint equal what deposit/mint then mint/pull (pending
  revenue included); previewRedeem/previewWithdraw revert (ERC-7540), and every allowed claim
  pays exactly floor(shares * maxWithdraw / maxRedeem) or burns exactly
  ceil(assets * maxRedeem / maxWithdraw), read from the views just before it;
- no exit races a visible loss: while a flagged account is unresolved every claim reverts
  ("vault: loss pending") and the claim views are 0;
- no claim outside a request's window (cooldown fixed at request time, then claim_window);
- the vault holds at least its accounted assets (exactly: assets + donations); the sum of
  the balances is the total supply;
- the share price moved only the way the step allows: revenue and sweeps up; cover down
  (unchanged if it paid nothing); claims never down; deposit/mint never down and up by less
  than one share's worth after the sweep (rounding dust); everything else unchanged.

Speed: the vault is deployed once and every example starts from a chain snapshot. After each
step the totals and the accounts the step touched are read in one call through MockVaultLens;
every account is checked at the end of each example.
"""
import functools
import os

import ape
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

USDC = 10**6
DAY = 86_400
COOLDOWN = DAY
WINDOW = 2 * DAY  # short, so some requests lapse within an example
STEP_TIME = 6 * 3600  # every step happens this long after the previous one
V_SHARES = 10**6
V_ASSETS = 1
WAD = 10**18
START_TOKENS = 10**9 * USDC

# Derandomized by default: the same sequences every run, so CI never flakes and the coverage
# check at the end is stable. CLAWBACK_FUZZ_RANDOM=1 explores fresh random sequences instead;
# CLAWBACK_FUZZ_EXAMPLES=N changes the number of examples (the coverage check needs the default).
RANDOM = os.environ.get("CLAWBACK_FUZZ_RANDOM") == "1"
EXAMPLES = int(os.environ.get("CLAWBACK_FUZZ_EXAMPLES", "20"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=25,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

amounts = st.one_of(st.integers(1, 1_000), st.integers(1, 10**12))  # dust, and up to 1M tokens
actor_ids = st.integers(0, 3)
per_mille = st.integers(1, 1_000)


def mul_div(x, y, d, up=False):
    q, r = divmod(x * y, d)
    return q + 1 if up and r else q


class VaultModel:
    """What the vault's accounting should be, in plain integers."""

    def __init__(self, actors, clearinghouse):
        self.ch = clearinghouse
        self.total_assets = 0
        self.supply = 0
        self.donated = 0
        self.pending = 0  # revenue accrued in the Clearinghouse, not yet swept
        self.shares = {a: 0 for a in actors}  # wallet balances (requested shares sit in the vault)
        self.held = 0  # requested shares held by the vault
        self.requests = {a: (0, 0, 0, 0) for a in actors}  # shares, assets, claimable from, until
        self.tokens = {a: START_TOKENS for a in actors + [clearinghouse]}
        self.max_cover_ratio = WAD // 2
        self.min_reserve = USDC
        self.cooldown = COOLDOWN
        self.flagged = set()

    def to_shares(self, assets, up=False):
        return mul_div(assets, self.supply + V_SHARES, self.total_assets + V_ASSETS, up)

    def to_assets(self, shares, up=False):
        return mul_div(shares, self.total_assets + V_ASSETS, self.supply + V_SHARES, up)

    def sweep(self):
        swept, self.pending = self.pending, 0
        self.total_assets += swept
        self.tokens[self.ch] -= swept
        return swept

    def claim_block(self, actor, ts):
        """Why a claim by `actor` at `ts` reverts (None: it may claim)."""
        rs, _, start, end = self.requests[actor]
        if rs == 0:
            return "vault: no redeem request"
        if ts < start:
            return "vault: cooldown not over"
        if ts > end:
            return "vault: request lapsed, renew it"
        if self.flagged:
            return "vault: loss pending"
        return None

    def claim_value(self, actor):
        """What the whole request is claimed for: min(value now, value at request)."""
        rs, ra, _, _ = self.requests[actor]
        return min(self.to_assets(rs), ra)

    def settle(self, actor, shares, assets):
        rs, ra, start, end = self.requests[actor]
        rest = rs - shares
        self.requests[actor] = (rest, ra * rest // rs, start, end) if rest else (0, 0, 0, 0)
        self.held -= shares
        self.supply -= shares
        self.total_assets -= assets
        self.tokens[actor] += assets


def step(rule_function):
    """Mark the machine as mid-step until the step's checks complete (see teardown)."""

    @functools.wraps(rule_function)
    def run(self, *args, **kwargs):
        self.failed = True
        return rule_function(self, *args, **kwargs)

    return run


def flush_pending_block(chain):
    """On the in-process test provider a reverted transaction can stay in the pending block
    (holding the whole block's gas), which would make the next transaction overflow the block
    or survive a snapshot restore. Mine it, so every step starts from a clean pending block."""
    backend = getattr(chain.provider, "evm_backend", None)
    if backend is not None and backend.get_block_by_number("pending")["transactions"]:
        chain.mine()


def test_vault_stateful(project, chain, accounts, owner, staker, other, attacker, trader):
    actors = [staker, other, attacker, trader]
    bankrupts = [accounts[8], accounts[9]]  # Clearinghouse accounts that can go bankrupt
    token = owner.deploy(project.MockToken, "Fuzz USD", "fUSD", 6)
    ch = owner.deploy(project.MockVaultClearinghouse, token)
    vault = owner.deploy(project.InsuranceVault, token, ch, COOLDOWN)
    ch.set_vault(vault, sender=owner)
    vault.set_claim_window(WINDOW, sender=owner)
    lens = owner.deploy(project.MockVaultLens)
    token.mint(ch, START_TOKENS, sender=owner)
    for acct in actors:
        token.mint(acct, START_TOKENS, sender=acct)
        token.approve(vault, 2**256 - 1, sender=acct)
    # Run well ahead of the wall clock, so that no block time depends on it: steps pin the time
    # of the transactions the model needs (next_timestamp) and mine the time between steps.
    chain.mine(timestamp=chain.blocks.head.timestamp + 400 * DAY)
    snapshot = [chain.snapshot()]
    stats = {"steps": 0, "redeems": 0, "blocked": 0, "covers_paid": 0, "forfeits": 0,
             "sweeps": 0, "held_by_loss": 0, "lapsed": 0}

    class reverts:
        """ape.reverts, then clear the pending block (see flush_pending_block)."""

        def __init__(self, reason):
            self.inner = ape.reverts(reason)

        def __enter__(self):
            return self.inner.__enter__()

        def __exit__(self, *exc):
            result = self.inner.__exit__(*exc)
            flush_pending_block(chain)
            return result

    def vault_events(tx, name):
        return [e for e in tx.events if e.event_name == name and e.contract_address == vault.address]

    class VaultMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            flush_pending_block(chain)
            chain.restore(snapshot[0])
            snapshot[0] = chain.snapshot()
            self.m = VaultModel(actors, ch)
            self.price = (V_ASSETS, V_SHARES)  # (assets + 1, supply + 10**6) after the last step
            self.expect = "same"  # how the price may move in the current step
            self.touched = set()  # accounts whose shares, request or tokens the step may change
            self.failed = True  # set by every step, cleared once its checks pass (see teardown)

        def next_timestamp(self):
            """Pin the next block one second after the head (the same on both providers)."""
            ts = chain.blocks.head.timestamp + 1
            chain.pending_timestamp = ts
            return ts

        def swept(self):
            """Apply the sweep a deposit/mint/request performs; return the price before it."""
            before = (self.m.total_assets + V_ASSETS, self.m.supply + V_SHARES)
            if self.m.sweep():
                stats["sweeps"] += 1
            self.touched.add(ch)
            return before

        @initialize(
            deposits=st.lists(
                st.one_of(st.integers(1, 1_000), st.integers(10**6, 10**10)), min_size=len(actors), max_size=len(actors)
            ),
            requests=st.lists(st.integers(0, 1_000), min_size=len(actors), max_size=len(actors)),
            revenue=st.integers(0, 10**10),
        )
        def stakers_join(self, deposits, requests, revenue):
            """Every actor stakes, some ask to leave right away, then the vault earns."""
            for i, (assets, frac) in enumerate(zip(deposits, requests)):
                self.deposit(i, assets)
                if frac:
                    self.request_redeem(i, frac)
            self.revenue(revenue, False)
            self.expect = "same"
            self.price = (self.m.total_assets + V_ASSETS, self.m.supply + V_SHARES)

        # --- deposits ---------------------------------------------------------------------

        @rule(i=actor_ids, assets=amounts)
        @step
        def deposit(self, i, assets):
            actor, m = actors[i], self.m
            self.touched.add(actor)
            preview = vault.previewDeposit(assets)
            # priced after the sweep of the pending revenue
            shares = mul_div(assets, m.supply + V_SHARES, m.total_assets + m.pending + V_ASSETS)
            assert preview == shares  # exact, pending revenue included
            if shares == 0:
                with reverts("deposit: zero shares"):
                    vault.deposit(assets, actor, sender=actor)
                return
            before = self.swept()
            tx = vault.deposit(assets, actor, sender=actor)
            (ev,) = vault_events(tx, "Deposit")
            assert (ev.assets, ev.shares) == (assets, shares)
            self.price_after_sweep(before)
            m.total_assets += assets
            m.supply += shares
            m.shares[actor] += shares
            m.tokens[actor] -= assets
            self.expect = ("dust", assets, shares)

        @rule(i=actor_ids, shares=st.one_of(st.integers(1, 10**6), st.integers(1, 10**18)))
        @step
        def mint(self, i, shares):
            actor, m = actors[i], self.m
            self.touched.add(actor)
            preview = vault.previewMint(shares)
            assets = mul_div(shares, m.total_assets + m.pending + V_ASSETS, m.supply + V_SHARES, up=True)
            assert preview == assets  # exact, pending revenue included
            if assets > m.tokens[actor]:
                with reverts("token: insufficient balance"):
                    vault.mint(shares, actor, sender=actor)
                return
            before = self.swept()
            tx = vault.mint(shares, actor, sender=actor)
            assert vault_events(tx, "Deposit")[0].assets == assets
            self.price_after_sweep(before)
            m.total_assets += assets
            m.supply += shares
            m.shares[actor] += shares
            m.tokens[actor] -= assets
            self.expect = ("dust", assets, shares)

        def price_after_sweep(self, before):
            """A sweep may only raise the price; the step's dust is checked against the swept price."""
            after = (self.m.total_assets + V_ASSETS, self.m.supply + V_SHARES)
            gain = after[0] * before[1] - before[0] * after[1]
            assert gain > 0 if after != before else gain == 0
            self.price = after

        # --- the Clearinghouse ------------------------------------------------------------

        @rule(amount=st.one_of(st.integers(0, 1_000), st.integers(10**6, 10**11)), later=st.booleans())
        @step
        def revenue(self, amount, later):
            """Revenue paid at once, or accrued in the Clearinghouse until the next sweep."""
            m = self.m
            self.touched.add(ch)
            if later:
                ch.accrue(amount, sender=owner)
                m.pending += amount
                return
            ch.pay_revenue(amount, sender=owner)
            m.total_assets += amount
            m.tokens[ch] -= amount
            self.expect = "up" if amount else "same"

        @rule()
        @step
        def sweep_fees(self):
            m = self.m
            self.touched.add(ch)
            ch.sweep_fees(sender=attacker)
            self.expect = "up" if m.sweep() else "same"

        # Covers are drawn smaller than revenue so prices drift up and redeems forfeit upside.
        @rule(amount=st.one_of(st.integers(0, 1_000), st.integers(0, 2 * 10**9)))
        @step
        def cover(self, amount):
            self.do_cover(amount)

        def do_cover(self, amount):
            m = self.m
            self.touched.add(ch)
            ta = m.total_assets
            paid = min(amount, ta * m.max_cover_ratio // WAD, max(ta - m.min_reserve, 0))
            tx = ch.cover(amount, sender=owner)
            (ev,) = vault_events(tx, "Cover")
            assert (ev.requested, ev.paid, ev.total_assets) == (amount, paid, ta - paid)
            m.total_assets -= paid
            m.tokens[ch] += paid
            self.expect = "down" if paid else "same"
            stats["covers_paid"] += paid > 0

        @rule(j=st.integers(0, 1), deficit=st.integers(1, 10**9))
        @step
        def bankruptcy_visible(self, j, deficit):
            """An account's equity turns negative; a staker flags it before the cover."""
            account, m = bankrupts[j], self.m
            ch.set_equity(account, -deficit, sender=owner)
            if account in m.flagged:
                with reverts("flag_loss: already flagged"):
                    vault.flag_loss(account, sender=staker)
                return
            vault.flag_loss(account, sender=staker)
            m.flagged.add(account)

        @rule(data=st.data(), amount=st.integers(0, 10**9))
        @step
        def bankruptcy_resolved(self, data, amount):
            """liquidate_bankrupt: the vault covers, the account is flat, anyone clears the flag."""
            m = self.m
            if not m.flagged:
                return
            account = data.draw(st.sampled_from(sorted(m.flagged, key=lambda a: a.address)), label="account")
            with reverts("clear_loss: equity still negative"):
                vault.clear_loss(account, sender=other)
            self.do_cover(amount)
            ch.set_equity(account, 0, sender=owner)
            vault.clear_loss(account, sender=other)
            m.flagged.discard(account)

        @rule(ratio=st.integers(1, WAD), reserve=st.one_of(st.integers(1, 10), st.integers(1, 10**7)),
              cooldown=st.sampled_from([0, 3600, DAY // 2, DAY, 2 * DAY]))
        @step
        def set_params(self, ratio, reserve, cooldown):
            vault.set_max_cover_ratio(ratio, sender=owner)
            vault.set_min_reserve(reserve, sender=owner)
            vault.set_cooldown(cooldown, sender=owner)  # pending requests keep their window
            self.m.max_cover_ratio, self.m.min_reserve, self.m.cooldown = ratio, reserve, cooldown

        # --- redeem requests and time -----------------------------------------------------

        @rule(i=actor_ids, frac=st.integers(0, 1_000))
        @step
        def request_redeem(self, i, frac):
            """Request part of the wallet (frac 0 renews an existing request)."""
            actor, m = actors[i], self.m
            self.touched.add(actor)
            rs, ra, _, _ = m.requests[actor]
            shares = m.shares[actor] * frac // 1000
            if shares == 0 and rs == 0:
                with reverts("requestRedeem: zero shares"):
                    vault.request_redeem(0, sender=actor)
                return
            ts = self.next_timestamp()
            tx = vault.request_redeem(shares, sender=actor)
            assert tx.timestamp == ts
            before = self.swept()
            self.price_after_sweep(before)
            m.shares[actor] -= shares
            m.held += shares
            start = ts + m.cooldown
            m.requests[actor] = (rs + shares, ra + m.to_assets(shares), start, start + WINDOW)

        @rule(seconds=st.one_of(st.integers(1, 3_600), st.integers(DAY // 4, DAY)))
        @step
        def time_passes(self, seconds):
            chain.mine(timestamp=chain.blocks.head.timestamp + seconds)

        @rule(data=st.data(), frac=per_mille, mode=st.sampled_from(["redeem", "withdraw", "withdraw too much"]))
        @step
        def exit(self, data, frac, mode):
            """A staker tries to leave: only a claimable request lets shares out, at most its value."""
            m, ts = self.m, self.next_timestamp()
            # Mostly someone who may leave; otherwise anyone with a request (that attempt fails).
            candidates = [a for a in actors if m.claim_block(a, ts) is None] or [
                a for a in actors if m.requests[a][0]] or actors
            actor = data.draw(st.sampled_from(candidates), label="actor")
            self.touched.add(actor)
            if m.claim_block(actor, ts) is not None:
                self.exit_is_blocked(actor, frac, mode, ts)
            elif mode == "redeem":
                self.redeem(actor, frac, ts)
            elif mode == "withdraw":
                self.withdraw(actor, frac, ts)
            else:  # asking for more than the claimable request is worth always fails
                with reverts("withdraw: exceeds claimable assets"):
                    vault.withdraw(m.claim_value(actor) + frac, actor, actor, sender=actor)

        @rule(data=st.data(), frac=per_mille, mode=st.sampled_from(["redeem", "withdraw"]))
        @step
        def claim(self, data, frac, mode):
            """A staker whose request is claimable claims part of it (if there is one)."""
            ts = self.next_timestamp()
            ready = [a for a in actors if self.m.claim_block(a, ts) is None]
            if ready:
                actor = data.draw(st.sampled_from(ready), label="actor")
                self.touched.add(actor)
                (self.redeem if mode == "redeem" else self.withdraw)(actor, frac, ts)

        def exit_is_blocked(self, actor, frac, mode, ts):
            m = self.m
            reason = m.claim_block(actor, ts)
            rs = m.requests[actor][0]
            with reverts(reason):
                if mode != "withdraw":
                    vault.redeem(max(rs * frac // 1000, 1), actor, actor, sender=actor)
                else:
                    vault.withdraw(max(m.to_assets(rs) * frac // 1000, 1), actor, actor, sender=actor)
            stats["blocked"] += 1
            stats["held_by_loss"] += reason == "vault: loss pending"
            stats["lapsed"] += reason == "vault: request lapsed, renew it"

        def claim_views(self, actor):
            """maxRedeem and maxWithdraw as the claim will see them (at the pinned timestamp)."""
            chain.mine(timestamp=chain.blocks.head.timestamp + 1)
            ts = self.next_timestamp()
            return vault.maxRedeem(actor), vault.maxWithdraw(actor), ts

        def redeem(self, actor, frac, _ts):
            m = self.m
            max_redeem, max_withdraw, ts = self.claim_views(actor)
            if m.claim_block(actor, ts) is not None:  # the extra second closed the window
                return self.exit_is_blocked(actor, frac, "redeem", ts)
            rs = m.requests[actor][0]
            assert (max_redeem, max_withdraw) == (rs, m.claim_value(actor))
            shares = max(rs * frac // 1000, 1)
            fair = m.to_assets(shares)
            assets = mul_div(shares, max_withdraw, max_redeem)  # exactly what the views promise
            tx = vault.redeem(shares, actor, actor, sender=actor)
            assert tx.timestamp == ts
            (ev,) = vault_events(tx, "RedeemSettled")
            assert (ev.shares, ev.assets, ev.forfeited) == (shares, assets, fair - assets)
            m.settle(actor, shares, assets)
            self.expect = "not down"
            stats["redeems"] += 1
            stats["forfeits"] += fair - assets > 1

        def withdraw(self, actor, frac, _ts):
            m = self.m
            max_redeem, max_withdraw, ts = self.claim_views(actor)
            if m.claim_block(actor, ts) is not None:
                return self.exit_is_blocked(actor, frac, "withdraw", ts)
            if max_withdraw == 0:
                with reverts("withdraw: exceeds claimable assets"):
                    vault.withdraw(1, actor, actor, sender=actor)
                return
            assets = max(max_withdraw * frac // 1000, 1)
            shares = mul_div(assets, max_redeem, max_withdraw, up=True)  # exactly what the views promise
            assert shares <= max_redeem
            tx = vault.withdraw(assets, actor, actor, sender=actor)
            assert tx.timestamp == ts
            (ev,) = vault_events(tx, "Withdraw")
            assert (ev.assets, ev.shares) == (assets, shares)
            fair = m.to_assets(shares)
            m.settle(actor, shares, assets)
            self.expect = "not down"
            stats["redeems"] += 1
            stats["forfeits"] += fair - assets > 1

        # --- shares and tokens moving around ----------------------------------------------

        @rule(i=actor_ids, j=actor_ids, frac=st.integers(0, 1_100))
        @step
        def transfer_shares(self, i, j, frac):
            sender, receiver, m = actors[i], actors[j], self.m
            self.touched.update((sender, receiver))
            amount = m.shares[sender] * frac // 1000
            if amount > m.shares[sender]:
                with reverts("erc20: transfer amount exceeds balance"):
                    vault.transfer(receiver, amount, sender=sender)
            else:
                vault.transfer(receiver, amount, sender=sender)
                m.shares[sender] -= amount
                m.shares[receiver] += amount

        @rule(amount=amounts)
        @step
        def donate(self, amount):
            self.touched.add(attacker)
            token.transfer(vault, amount, sender=attacker)
            self.m.donated += amount
            self.m.tokens[attacker] -= amount

        # --- invariants -------------------------------------------------------------------

        def check_against_model(self, owners):
            m = self.m
            state = lens.read(vault, owners)
            head = chain.blocks.head.timestamp
            assert state.total_assets == m.total_assets
            assert state.total_supply == m.supply
            assert state.vault_tokens == m.total_assets + m.donated >= m.total_assets
            assert state.held == m.held
            assert state.open_losses == len(m.flagged)
            for owner_, pos in zip(owners, state.positions):
                assert pos.tokens == m.tokens[owner_]
                if owner_ == ch:
                    continue
                rs, ra, start, end = m.requests[owner_]
                assert pos.shares == m.shares[owner_]
                assert (pos.request_shares, pos.request_assets, pos.claimable_from, pos.claimable_until) == (
                    rs, ra, start, end)
                claimable = m.claim_block(owner_, head) is None
                assert pos.max_redeem == pos.claimable == (rs if claimable else 0)
                assert pos.pending == (0 if claimable else rs)
                assert pos.max_withdraw == (m.claim_value(owner_) if claimable else 0)
                if m.flagged:  # no exit while a visible loss is unresolved
                    assert pos.max_redeem == pos.max_withdraw == 0
            return state

        @invariant()
        def after_each_step(self):
            stats["steps"] += 1
            touched, self.touched = self.touched, set()
            self.check_against_model(sorted(touched, key=lambda a: a.address))
            self.check_price_move()
            # Time runs on between steps, so requests mature (and lapse) while other things happen.
            chain.mine(timestamp=chain.blocks.head.timestamp + STEP_TIME)
            self.failed = False

        def teardown(self):
            if self.failed:
                return  # a step or check failed: let its error be reported, not a follow-on one
            state = self.check_against_model(actors + [ch])
            assert ch.pending_vault_revenue() == self.m.pending
            # ERC-7540: the previews of asynchronous exits always revert
            with reverts("vault: async redeem, use maxRedeem"):
                vault.previewRedeem(1)
            with reverts("vault: async redeem, use maxWithdraw"):
                vault.previewWithdraw(1)
            assert sum(p.shares for p in state.positions) + self.m.held == state.total_supply == self.m.supply

        def check_price_move(self):
            m = self.m
            (a0, s0), (a1, s1) = self.price, (m.total_assets + V_ASSETS, m.supply + V_SHARES)
            gain = a1 * s0 - a0 * s1  # sign of price_after - price_before
            expect, self.expect = self.expect, "same"
            if expect == "same":
                assert gain == 0
            elif expect == "up":
                assert gain > 0
            elif expect == "down":
                assert gain < 0
            elif expect == "not down":
                assert gain >= 0
            else:  # deposit / mint: rounding dust kept by the vault, below one share's worth
                _, assets, shares = expect
                assert gain == assets * s0 - shares * a0
                assert 0 <= gain < max(a0, s0)
            self.price = (a1, s1)

    run_state_machine_as_test(VaultMachine, settings=FUZZ_SETTINGS)
    print(f"vault fuzz coverage: {stats}")
    if not RANDOM and EXAMPLES >= 20:
        # The fixed sequences must exercise the interesting paths, not only revert around them.
        # The choices are fixed but their outcomes depend on the chain's clock, which differs
        # when the machine runs inside the full suite, so the floors leave room.
        # Inside the full suite (a later clock) a clean-clone run counted redeems 1, forfeits 0,
        # blocked 17, covers 42, held by a loss 1: the floors are what holds in both settings.
        assert stats["redeems"] >= 1 and stats["blocked"] >= 3, stats
        assert stats["covers_paid"] >= 5 and stats["held_by_loss"] >= 1, stats
