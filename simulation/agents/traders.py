"""Noise and momentum traders: deposit, open leveraged positions as takers against the makers'
signed orders, take profits (or get liquidated), withdraw."""
from __future__ import annotations

from ..scenario import TraderConfig
from .base import (Agent, Approve, Deposit, Intent, PRICE_ONE, SIZE_ONE, Withdraw, World,
                   lognormal_leverage, take_intents)


class NoiseTrader(Agent):
    kind = "noise_trader"

    def __init__(self, name, key, rng, cfg: TraderConfig, capital: float):
        super().__init__(name, key, rng)
        self.cfg = cfg
        self.capital = capital
        self.entry_equity: int | None = None
        self.deposited = 0
        self.withdrawn = 0

    def setup(self, w: World) -> list[Intent]:
        self.deposited = w.units(self.capital)
        return [Approve(spender="clearinghouse"), Deposit(amount=self.deposited)]

    def pick_side(self, w: World, market: int) -> int | None:
        """+1 long, -1 short, None: no trade."""
        return 1 if self.rng.random() < 0.5 else -1

    def want_close(self, w: World, market: int, pos: int, pnl_ratio: float) -> bool:
        c = self.cfg
        if pnl_ratio >= c.take_profit:
            return True
        if c.stop_loss is not None and pnl_ratio <= -c.stop_loss:
            return True
        return self.rng.random() < c.close_prob

    def open_size(self, w: World, market: int, equity: int) -> int:
        """Unsigned size (1e18) for a new position at a leverage draw."""
        mk = w.markets[market]
        cap = min(self.cfg.leverage.max, 0.9 / mk.imr)
        lev = lognormal_leverage(self.rng, self.cfg.leverage.median, self.cfg.leverage.sigma, cap)
        notional = equity / 10**w.decimals * lev
        return int(notional / (mk.index_price / PRICE_ONE) * SIZE_ONE)

    def decide(self, w: World) -> list[Intent]:
        me = w.accounts.get(self.address)
        if me is None:
            return []
        if me.flat:
            self.entry_equity = None
            wallet = w.wallets.get(self.address, 0)
            if me.collateral > self.deposited and self.rng.random() < self.cfg.withdraw_prob:
                amt = me.collateral - self.deposited // 2  # bank the profit and half the stake
                self.withdrawn += amt
                return [Withdraw(amount=amt)]
            if me.equity < self.deposited // 4 and wallet > 0:
                return [Deposit(amount=wallet)]  # top up from the wallet
            if me.equity <= 0 or self.rng.random() >= self.cfg.trade_prob:
                return []
            m = int(self.rng.integers(len(w.markets)))
            side = self.pick_side(w, m)
            if side is None:
                return []
            size = self.open_size(w, m, me.equity)
            self.entry_equity = me.equity
            return take_intents(w, self.address, m, side > 0, size)
        if self.entry_equity is None:
            self.entry_equity = max(me.equity, 1)
        pnl_ratio = (me.equity - self.entry_equity) / max(self.entry_equity, 1)
        out: list[Intent] = []
        for m, pos in enumerate(me.positions):
            if pos and not me.bankrupt and self.want_close(w, m, pos, pnl_ratio):
                out += take_intents(w, self.address, m, pos < 0, abs(pos), max_slippage=0.05)
        return out


class MomentumTrader(NoiseTrader):
    """Goes with the trend: enters when the `lookback` return passes the threshold, exits when it
    turns against the position."""

    kind = "momentum_trader"

    def pick_side(self, w: World, market: int) -> int | None:
        r = w.last_return(market, self.cfg.lookback)
        if abs(r) < self.cfg.threshold:
            return None
        return 1 if r > 0 else -1

    def want_close(self, w: World, market: int, pos: int, pnl_ratio: float) -> bool:
        r = w.last_return(market, self.cfg.lookback)
        if (pos > 0 and r < -self.cfg.threshold) or (pos < 0 and r > self.cfg.threshold):
            return True
        return super().want_close(w, market, pos, pnl_ratio)
