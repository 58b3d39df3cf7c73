"""Liquidator keepers: limited capital, a reaction delay, competition with each other. The decision
(which accounts, which path, how much) is `simulation.liquidation_policy`, shared with the ops keeper."""
from __future__ import annotations

from .. import liquidation_policy as LP
from ..scenario import LiquidatorConfig
from .base import (Agent, Approve, Deposit, Intent, Liquidate, LiquidateBankrupt, World,
                   take_intents)

WAD = 10**18


def readings_for_policy(w: World, me: str) -> tuple[list[LP.AccountReading], list[LP.MarketReading], LP.KeeperState | None]:
    """World -> the shared policy's plain readings."""
    markets = [LP.MarketReading(m, mk.index_price, int(round(mk.imr * WAD)), int(round(mk.mmr * WAD)))
               for m, mk in enumerate(w.markets)]
    accounts = []
    for addr, a in w.accounts.items():
        if addr == me or not any(a.positions):
            continue
        accounts.append(LP.AccountReading(
            account=addr, equity=a.equity, maintenance_margin=a.maintenance_margin,
            positions={m: p for m, p in enumerate(a.positions) if p},
            max_liquidatable={m: w.max_liquidatable[(addr, m)] for m in range(len(w.markets))
                              if (addr, m) in w.max_liquidatable},
            collateral=a.collateral, initial_margin=a.initial_margin))
    mine = w.accounts.get(me)
    keeper = None
    if mine is not None:
        keeper = LP.KeeperState.from_summary(mine.equity, mine.initial_margin,
                                             {m: p for m, p in enumerate(mine.positions) if p}, me)
    return accounts, markets, keeper


class Liquidator(Agent):
    kind = "liquidator"

    def __init__(self, name, key, rng, cfg: LiquidatorConfig):
        super().__init__(name, key, rng)
        self.cfg = cfg
        self.first_seen: dict[str, int] = {}
        self.liquidations = 0
        self.bankruptcies = 0

    def setup(self, w: World) -> list[Intent]:
        return [Approve(spender="clearinghouse"), Deposit(amount=w.units(self.cfg.capital))]

    def eligible(self, w: World) -> set[str]:
        """Accounts liquidatable for at least `reaction_delay` blocks (tracks first sighting)."""
        now = {a for a, v in w.accounts.items() if v.liquidatable and a != self.address}
        for a in list(self.first_seen):
            if a not in now:
                del self.first_seen[a]
        for a in now:
            self.first_seen.setdefault(a, w.block)
        return {a for a in now if w.block - self.first_seen[a] >= self.cfg.reaction_delay}

    def decide(self, w: World) -> list[Intent]:
        ready = self.eligible(w)
        out: list[Intent] = []
        if ready:
            accounts, markets, keeper = readings_for_policy(w, self.address)
            accounts = [a for a in accounts if a.account in ready]
            for act in LP.plan_liquidations(accounts, markets, keeper, token_decimals=w.decimals,
                                            max_actions=self.cfg.max_per_block):
                if act.kind == LP.LIQUIDATE_BANKRUPT:
                    out.append(LiquidateBankrupt(account=act.account))
                else:
                    out.append(Liquidate(account=act.account, market=act.market, size=act.size))
        if out or not self.cfg.unwind:
            return out
        me = w.accounts.get(self.address)
        if me is None:
            return out
        for m, p in enumerate(me.positions):  # unwind inherited positions against the makers
            if p:
                out += take_intents(w, self.address, m, p < 0, abs(p), max_slippage=0.03)
        return out

    def on_result(self, intent, ok, reason, w=None):
        super().on_result(intent, ok, reason, w)
        if ok and isinstance(intent, Liquidate):
            self.liquidations += 1
        if ok and isinstance(intent, LiquidateBankrupt):
            self.bankruptcies += 1
