"""Insurance stakers: deposit into the ERC-4626 vault for yield. They are heterogeneous: each draws
its own capital (lognormal around `capital`), its own drawdown threshold (uniform within
`redeem_drawdown` ± `threshold_spread`) and its own horizon (exponential around `horizon_blocks`).
After a share-price drawdown past its threshold (with `panic_prob` per block) or at the end of
its horizon it requests a redemption (ERC-7540 `request_redeem`: the shares move into the vault)
and claims it (`redeem`) inside the request's claim window, as read from `redeem_request(me)`. A
claim held back by a pending loss ("vault: loss pending") is retried next block; a request that
lapsed is renewed (`request_redeem(0)`), which restarts the cooldown.
The vault calls themselves are the intents VaultDeposit / RequestRedeem / Redeem in base.py."""
from __future__ import annotations

from pydantic import Field

from ..strict import Strict
from .base import Agent, Approve, Intent, Redeem, RequestRedeem, VaultDeposit, World, lognormal_capital
from .registry import register


class StakerConfig(Strict):
    count: int = Field(3, ge=0)
    capital: float = Field(100_000, gt=0, description="mean stake per staker (tokens)")
    capital_sigma: float = Field(0.0, ge=0, description="lognormal dispersion of stakes (0: all equal)")
    redeem_drawdown: float = Field(0.05, gt=0, description="share-price drawdown that triggers request_redeem")
    threshold_spread: float = Field(0.0, ge=0, lt=1, description="each staker's threshold is uniform in "
                                                                 "redeem_drawdown x (1 +- spread)")
    panic_prob: float = Field(0.5, ge=0, le=1, description="chance per block of acting once past the threshold")
    horizon_blocks: float | None = Field(None, gt=0, description="mean blocks a staker stays before leaving "
                                                                 "anyway (exponential; None: forever)")


@register
class Staker(Agent):
    kind = "staker"
    table = "stakers"
    config = StakerConfig
    turn = 3
    margin_account = False
    vault_shares = True

    def __init__(self, name, key, rng, cfg: StakerConfig):
        super().__init__(name, key, rng, cfg)
        self.capital = lognormal_capital(rng, cfg.capital, cfg.capital_sigma) if cfg.capital_sigma else cfg.capital
        s = cfg.threshold_spread
        self.threshold = cfg.redeem_drawdown * (1 + s * (2 * rng.random() - 1)) if s else cfg.redeem_drawdown
        self.horizon = float(rng.exponential(cfg.horizon_blocks)) if cfg.horizon_blocks else None
        self.peak = 0.0
        self.requests = 0     # successful request_redeem calls (renewals counted in `renewals`)
        self.renewals = 0
        self.claims = 0
        self.lapses = 0
        self.held_back = 0    # claims reverted by a pending loss

    def setup(self, w: World) -> list[Intent]:
        return [Approve(spender="vault"), VaultDeposit(assets=w.units(self.capital))]

    def wants_out(self, w: World) -> bool:
        sp = w.vault.share_price
        self.peak = max(self.peak, sp)
        if self.horizon is not None and w.block >= self.horizon:
            return True
        return self.peak > 0 and sp < self.peak * (1 - self.threshold) and self.rng.random() < self.cfg.panic_prob

    def decide(self, w: World) -> list[Intent]:
        req = w.vault.request(self.address)
        if req.shares == 0:
            shares = w.vault.shares.get(self.address, 0)
            if shares > 0 and self.wants_out(w):
                return [RequestRedeem(shares=shares)]
            return []
        if req.lapsed(w.timestamp):
            return [RequestRedeem(shares=0)]   # renew: the cooldown starts again
        if req.claimable(w.timestamp) and w.vault.open_losses == 0:
            return [Redeem(shares=req.shares)]
        return []

    def on_result(self, intent, ok, reason, w=None):
        super().on_result(intent, ok, reason, w)
        if isinstance(intent, RequestRedeem) and ok:
            if intent.shares == 0:
                self.renewals += 1
                self.lapses += 1
            else:
                self.requests += 1
        if isinstance(intent, Redeem):
            if ok:
                self.claims += 1
            elif reason and "loss pending" in reason:
                self.held_back += 1
