"""Price impact: how trading on the venue moves the true price.

The true price of market m at block b is the exogenous path (GBM / jumps / crash / historical
replay) times a cumulative impact factor:

    P_b = X_b * exp(I_b),        I_{b+1} = (1 - decay) * I_b + sign(Q_b) * coef * sqrt(|Q_b| / D_b)

Q_b is the block's net taker flow in market m in notional tokens (taker buys > 0), so forced
selling - liquidators unwinding what they took over, makers hedging, traders dumping - pushes the
price down and can feed a cascade. This is the square-root law of market impact (a metaorder of
volume Q moves the price by about Y * sigma * sqrt(Q / V); Almgren et al. 2005, Toth et al. 2011):
`coef` is the move when one `depth` of notional trades at once. The depth thins in a crash:

    D_b = depth * max(min_depth, (X_b / max_{t<=b} X_t) ** thinning)

so at a 30 % drawdown with thinning 4 only 0.7^4 = 24 % of the calm depth is left (order books on
centralized venues lost 80-90 % of their depth on 2020-03-12 and 2022-11-09). `decay` is the
share of the impact that relaxes each block (resilience: arbitrageurs restoring the price).
`model = "none"` keeps the exogenous path untouched (the old behaviour)."""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from .strict import Strict


class ImpactConfig(Strict):
    model: Literal["sqrt", "none"] = Field("sqrt", description="sqrt: square-root impact of net taker flow; "
                                                               "none: the exogenous path only")
    coef: float = Field(0.01, ge=0, description="relative move when `depth` notional trades in one block")
    depth: float = Field(2_000_000, gt=0, description="calm-market depth, notional tokens")
    thinning: float = Field(3.0, ge=0, description="depth shrinks as (price / running peak) ** thinning")
    min_depth: float = Field(0.1, gt=0, le=1, description="depth never falls below this share of `depth`")
    decay: float = Field(0.05, ge=0, le=1, description="share of the accumulated impact that relaxes per block")


class ImpactModel:
    """Turns the exogenous paths (markets, blocks + 1) into the true prices block by block."""

    def __init__(self, cfg: ImpactConfig, exogenous: np.ndarray):
        self.cfg = cfg
        self.exo = np.asarray(exogenous, dtype=float)
        self.true = self.exo.copy()
        self.offset = np.zeros(self.exo.shape[0])        # I_b, log units
        self.peak = self.exo[:, 0].copy()
        self.flow_history: list[np.ndarray] = []

    @property
    def active(self) -> bool:
        return self.cfg.model != "none" and self.cfg.coef > 0

    def depth(self, block: int) -> np.ndarray:
        """D_b per market (notional tokens)."""
        c = self.cfg
        x = self.exo[:, min(block, self.exo.shape[1] - 1)]
        peak = np.maximum(self.peak, x)
        return c.depth * np.maximum(c.min_depth, (x / peak) ** c.thinning)

    def move(self, notional_flow: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """The log-price move caused by a signed notional flow per market."""
        q = np.asarray(notional_flow, dtype=float)
        return np.sign(q) * self.cfg.coef * np.sqrt(np.abs(q) / depth)

    def advance(self, block: int, notional_flow: np.ndarray) -> np.ndarray:
        """Block `block` executed with this net taker flow: fix the true price of block + 1."""
        self.flow_history.append(np.asarray(notional_flow, dtype=float))
        nxt = block + 1
        if nxt >= self.exo.shape[1]:
            return self.true[:, -1]
        self.peak = np.maximum(self.peak, self.exo[:, block])
        if self.active:
            self.offset = (1 - self.cfg.decay) * self.offset + self.move(notional_flow, self.depth(block))
        self.true[:, nxt] = self.exo[:, nxt] * np.exp(self.offset)
        return self.true[:, nxt]
