"""Momentum traders: go with the trend, entering when the `lookback` return passes the threshold
and leaving when it turns against the position."""
from __future__ import annotations

from pydantic import Field

from .noise_trader import NoiseTrader, TraderConfig
from .registry import register


class MomentumConfig(TraderConfig):
    count: int = Field(5, ge=0)
    lookback: int = Field(10, ge=1, description="momentum lookback (blocks)")
    threshold: float = Field(0.005, ge=0, description="momentum entry |return|")


@register
class MomentumTrader(NoiseTrader):
    kind = "momentum_trader"
    table = "momentum_traders"
    config = MomentumConfig

    def pick_side(self, w, market: int) -> int | None:
        r = w.last_return(market, self.cfg.lookback)
        if abs(r) < self.cfg.threshold:
            return None
        return 1 if r > 0 else -1

    def want_close(self, w, market: int, pos: int, pnl_ratio: float) -> bool:
        r = w.last_return(market, self.cfg.lookback)
        if (pos > 0 and r < -self.cfg.threshold) or (pos < 0 and r > self.cfg.threshold):
            return True
        return super().want_close(w, market, pos, pnl_ratio)
