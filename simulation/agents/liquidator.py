"""Liquidator keepers: limited capital, a reaction delay, competition with each other. The decision
(which path, how much) is `simulation.liquidation_policy`, shared with the ops keeper. Like a real
venue's keepers they
- spread out instead of all chasing the same account: each keeper visits candidates in its own
  order (a hash of keeper and account, `selection = "hash"`; "race" is the old everyone-same order)
  and backs off an account for `backoff_blocks` after one of its calls on it reverted (not after a
  reverted `deleverage`: a frozen resolution is retried next block, see `on_result`);
- unwind what they take over, `unwind_delay` blocks later and at most `unwind_notional` per block
  (their execution capacity), against the makers' book;
- stop when it stops paying: a liquidation whose expected reward (penalty share) is below the cost
  of unwinding it through the current depth (impact model) is skipped, and a keeper that has lost
  `max_loss` of its capital stops taking anything over.
Visible losses: a keeper flags (`flag_loss` on the vault) every account it sees with negative
equity at once, whatever its reaction delay or capital, so every staker's claim is held back
while the loss is visible; resolving it is flag (if nobody did yet), `liquidate_bankrupt`,
`clear_loss` in one block. A flagged account whose equity is back at or above zero is cleared by
whichever keeper sees it first."""
from __future__ import annotations

from pydantic import Field
from typing import Literal

from .. import liquidation_policy as policy
from ..keys import _keccak
from ..strict import Strict
from .base import (Agent, Approve, ClearLoss, Deleverage, Deposit, FlagLoss, Intent, Liquidate, LiquidateBankrupt,
                   World, take_intents)
from .registry import register

WAD = 10**18


class LiquidatorConfig(Strict):
    count: int = Field(2, ge=0)
    capital: float = Field(500_000, gt=0)
    reaction_delay: int = Field(1, ge=0, description="blocks an account must have been liquidatable")
    max_per_block: int = Field(5, ge=1)
    selection: Literal["hash", "race"] = Field("hash", description="hash: own order per keeper; race: all the same")
    backoff_blocks: int = Field(3, ge=0, description="blocks an account is left alone after a reverted call on it")
    unwind: bool = True
    unwind_delay: int = Field(1, ge=0, description="blocks between a takeover and its unwind (latency)")
    unwind_notional: float = Field(500_000, gt=0, description="most notional unwound per block per market")
    unwind_slippage: float = Field(0.03, ge=0, description="worst fill accepted when unwinding, from the index")
    min_profit: float = Field(0.0, description="skip a partial liquidation expected to earn less (tokens)")
    max_loss: float = Field(0.5, gt=0, le=1, description="stop taking over once this share of capital is lost")


def readings_for_policy(w: World, me: str) -> tuple[list[policy.AccountReading], list[policy.MarketReading],
                                                    policy.KeeperState | None]:
    """World -> the shared policy's plain readings."""
    markets = [policy.MarketReading(m, mk.index_price, int(round(mk.imr * WAD)), int(round(mk.mmr * WAD)))
               for m, mk in enumerate(w.markets)]
    accounts = []
    for addr, a in w.accounts.items():
        if addr == me or not any(a.positions):
            continue
        accounts.append(policy.AccountReading(
            account=addr, equity=a.equity, maintenance_margin=a.maintenance_margin,
            positions={m: p for m, p in enumerate(a.positions) if p},
            max_liquidatable={m: w.max_liquidatable[(addr, m)] for m in range(len(w.markets))
                              if (addr, m) in w.max_liquidatable},
            collateral=a.collateral, initial_margin=a.initial_margin))
    mine = w.accounts.get(me)
    keeper = None
    if mine is not None:
        keeper = policy.KeeperState.from_summary(mine.equity, mine.initial_margin,
                                                 {m: p for m, p in enumerate(mine.positions) if p}, me)
    return accounts, markets, keeper


def visit_order(keeper: str, account: str) -> bytes:
    """A keeper's own, stable pseudo-random rank of an account."""
    return _keccak(bytes.fromhex(keeper[2:]) + bytes.fromhex(account[2:]) if account.startswith("0x")
                   and len(account) == 42 else (keeper + account).encode())


@register
class Liquidator(Agent):
    kind = "liquidator"
    table = "liquidators"
    config = LiquidatorConfig
    turn = 1
    shuffled = True

    def __init__(self, name, key, rng, cfg: LiquidatorConfig):
        super().__init__(name, key, rng, cfg)
        self.first_seen: dict[str, int] = {}
        self.backoff: dict[str, int] = {}      # account -> first block it may be tried again
        self.taken_at: dict[int, int] = {}     # market -> block of the last takeover there
        self.liquidations = 0
        self.bankruptcies = 0
        self.deleverages = 0
        self.adl_open_failed: set[str] = set()  # adl: a start by `deleverage` reverted; start these plainly
        self.skipped_unprofitable = 0
        self.stopped = False

    def setup(self, w: World) -> list[Intent]:
        return [Approve(spender="clearinghouse"), Deposit(amount=w.units(self.cfg.capital))]

    def eligible(self, w: World) -> set[str]:
        """Accounts liquidatable for at least `reaction_delay` blocks and not backed off."""
        now = {a for a, v in w.accounts.items() if v.liquidatable and a != self.address}
        for a in list(self.first_seen):
            if a not in now:
                del self.first_seen[a]
        for a in now:
            self.first_seen.setdefault(a, w.block)
        return {a for a in now if w.block - self.first_seen[a] >= self.cfg.reaction_delay
                and self.backoff.get(a, 0) <= w.block}

    def expected_profit(self, w: World, act: policy.Action) -> float:
        """Penalty share earned on a partial liquidation minus the cost of unwinding it (tokens)."""
        mk = w.markets[act.market]
        notional = act.size * mk.index_price / WAD / WAD
        reward = notional * mk.liquidation_penalty * mk.liquidator_share
        return reward - notional * mk.impact(notional)

    def losing_too_much(self, w: World) -> bool:
        me = w.accounts.get(self.address)
        return me is not None and me.equity < w.units(self.cfg.capital) * (1 - self.cfg.max_loss)

    def deleverage(self, w: World, ready: set[str]) -> list[Intent]:
        """loss_policy "adl": continue every resolution in progress (accounts `is_deleveraging`)
        with `deleverage` calls naming the best-ranked winners, then start the new ones the
        same way (a `deleverage` on a bankrupt account opens its resolution and fills it in one
        call: one call per account, before its winners can close and leave; an account with no
        winner in any market gets `liquidate_bankrupt`). `plan_deleverages`: the calls of one
        block do not name winners an earlier one of them closes."""
        out: list[Intent] = []
        M = len(w.markets)
        winners = {m: [policy.WinnerReading(a, v.positions[m], *w.adl_rank.get((a, m), (0, 0)))
                       for a, v in w.accounts.items() if v.positions[m]] for m in range(M)}
        frozen = sorted(w.deleveraging & ready, key=lambda a: visit_order(self.address, a))
        new = sorted((a for a in ready - w.deleveraging if w.accounts[a].bankrupt),
                     key=lambda a: visit_order(self.address, a))
        resolutions = [(acc, {m: p for m, p in enumerate(w.accounts[acc].positions) if p},
                        max(0, -w.accounts[acc].equity)) for acc in frozen]
        start = []  # new accounts no market of which gets a bankruptcy price: liquidate_bankrupt
        for acc in new:
            v = w.accounts[acc]
            # only markets whose winners are not exhausted get a bankruptcy price at the start
            markets = {m: p for m, p in enumerate(v.positions)
                       if p and policy.adl_has_winner(p, winners[m], w.markets[m].index_price)}
            if markets and acc not in self.adl_open_failed:
                resolutions.append((acc, markets, max(0, -v.equity)))
            else:
                start.append(LiquidateBankrupt(account=acc))
        # one plan for all of this block's calls: a later call does not name the winners an
        # earlier one closes (the contract would revert it whole)
        for act in policy.plan_deleverages(resolutions, winners):
            if act.kind == policy.DELEVERAGE:
                out.append(Deleverage(account=act.account, market=act.market, counterparties=act.counterparties))
            else:
                out.append(LiquidateBankrupt(account=act.account))
        return (out + start)[: self.cfg.max_per_block]

    def decide(self, w: World) -> list[Intent]:
        out: list[Intent] = []
        loss_flags: list[Intent] = [ClearLoss(account=a) for a in sorted(w.vault.flagged)
                                    if a in w.accounts and w.accounts[a].equity >= 0]
        flagged = set(w.vault.flagged)
        for a in sorted(w.accounts):
            if w.accounts[a].bankrupt and a != self.address and a not in flagged:
                loss_flags.append(FlagLoss(account=a))
                flagged.add(a)
        self.stopped = self.stopped or self.losing_too_much(w)
        ready = self.eligible(w) if not self.stopped else set()
        if w.adl_rank:  # loss_policy adl, while some account has negative equity
            # deleveraging takes nothing over (but what exhausted winners leave): no capital stop
            out += self.deleverage(w, self.eligible(w))
            ready -= w.deleveraging | {a for a in ready if w.accounts[a].bankrupt}
        if ready:
            accounts, markets, keeper = readings_for_policy(w, self.address)
            accounts = [a for a in accounts if a.account in ready]
            if self.cfg.selection == "hash":  # own order, bankrupt accounts still first
                accounts.sort(key=lambda a: (not a.is_bankrupt, visit_order(self.address, a.account)))
                accounts = accounts[: self.cfg.max_per_block]
            for act in policy.plan_liquidations(accounts, markets, keeper, token_decimals=w.decimals,
                                                max_actions=max(0, self.cfg.max_per_block - len(out))):
                if act.kind == policy.LIQUIDATE_BANKRUPT:
                    # flagged above (this block at the latest), resolved, then cleared
                    out += [LiquidateBankrupt(account=act.account), ClearLoss(account=act.account)]
                elif self.expected_profit(w, act) >= self.cfg.min_profit:
                    out.append(Liquidate(account=act.account, market=act.market, size=act.size))
                else:
                    self.skipped_unprofitable += 1
        if out or not self.cfg.unwind:
            return loss_flags + out
        return loss_flags + self.unwind(w)

    def unwind(self, w: World) -> list[Intent]:
        """Close inherited positions against the makers, after the latency, within capacity."""
        me = w.accounts.get(self.address)
        if me is None:
            return []
        out: list[Intent] = []
        for m, p in enumerate(me.positions):
            if not p or w.block - self.taken_at.get(m, -10**9) < self.cfg.unwind_delay:
                continue
            cap = int(self.cfg.unwind_notional / w.price(m) * WAD)
            out += take_intents(w, self.address, m, p < 0, min(abs(p), cap), max_slippage=self.cfg.unwind_slippage)
        return out

    def on_result(self, intent, ok, reason, w=None):
        super().on_result(intent, ok, reason, w)
        account = getattr(intent, "account", None)
        if isinstance(intent, (FlagLoss, ClearLoss)):
            return  # a lost flag/clear race says nothing about the account
        # a reverted deleverage is retried next block on fresh readings, not backed off: the
        # account is frozen with its deficit fixed while its winners are free to close and leave
        if account and not ok and w is not None and not isinstance(intent, Deleverage):
            self.backoff[account] = w.block + 1 + self.cfg.backoff_blocks
        if account and not ok and w is not None and isinstance(intent, Deleverage) and account not in w.deleveraging:
            self.adl_open_failed.add(account)
        if ok and isinstance(intent, (Liquidate, LiquidateBankrupt)) and w is not None:
            for m in ([intent.market] if isinstance(intent, Liquidate) else range(len(w.markets))):
                self.taken_at[m] = w.block
        if ok and isinstance(intent, Liquidate):
            self.liquidations += 1
        if ok and isinstance(intent, LiquidateBankrupt):
            self.bankruptcies += 1
        if ok and isinstance(intent, Deleverage):
            self.deleverages += 1
