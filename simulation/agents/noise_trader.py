"""Noise traders: deposit, open leveraged positions as takers against the makers' signed orders,
take profits, cut losses or panic (get liquidated otherwise), withdraw."""
from __future__ import annotations

from pydantic import Field

from ..strict import Strict
from .base import (Agent, Approve, Deposit, Intent, PRICE_ONE, SIZE_ONE, Withdraw, World,
                   lognormal_capital, lognormal_leverage, take_intents)
from .registry import register


class LeverageConfig(Strict):
    """Lognormal leverage distribution, capped."""

    median: float = Field(3.0, gt=0)
    sigma: float = Field(0.5, ge=0)
    max: float = Field(9.0, gt=0)


class TraderConfig(Strict):
    count: int = Field(20, ge=0)
    capital: float = Field(20_000, gt=0, description="mean deposit (lognormal across traders)")
    leverage: LeverageConfig = LeverageConfig()
    trade_prob: float = Field(0.2, ge=0, le=1)
    take_profit: float = Field(0.3, gt=0, description="close when PnL/margin reaches this")
    stop_loss: float | None = Field(None, gt=0, description="close when loss/margin reaches this (None: hold)")
    panic_return: float | None = Field(None, gt=0, description="dump the position when the 1-block return "
                                                                "against it exceeds this (None: never)")
    close_prob: float = Field(0.02, ge=0, le=1)
    withdraw_prob: float = Field(0.3, ge=0, le=1, description="withdraw profits when flat")


@register
class NoiseTrader(Agent):
    kind = "noise_trader"
    table = "noise_traders"
    config = TraderConfig
    turn = 2
    shuffled = True
    wallet = True

    def __init__(self, name, key, rng, cfg: TraderConfig):
        super().__init__(name, key, rng, cfg)
        self.capital = lognormal_capital(rng, cfg.capital)
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
        if c.panic_return is not None and (w.last_return(market) * (1 if pos > 0 else -1)) <= -c.panic_return:
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
