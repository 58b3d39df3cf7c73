"""Insurance stakers: deposit into the ERC-4626 vault for yield; after a drawdown of the share
price they queue a redemption (`request_redeem`) and `redeem` once the cooldown has passed."""
from __future__ import annotations

from ..scenario import StakerConfig
from .base import Agent, Approve, Intent, Redeem, RequestRedeem, VaultDeposit, World


class Staker(Agent):
    kind = "staker"

    def __init__(self, name, key, rng, cfg: StakerConfig):
        super().__init__(name, key, rng)
        self.cfg = cfg
        self.peak = 0.0
        self.requested_at: int | None = None
        self.requested_shares = 0
        self.redeemed = False

    @property
    def trades_on_clearinghouse(self) -> bool:
        return False

    def setup(self, w: World) -> list[Intent]:
        return [Approve(spender="vault"), VaultDeposit(assets=w.units(self.cfg.capital))]

    def decide(self, w: World) -> list[Intent]:
        sp = w.vault.share_price
        self.peak = max(self.peak, sp)
        shares = w.vault.shares.get(self.address, 0)
        if self.requested_at is None:
            if shares > 0 and self.peak > 0 and sp < self.peak * (1 - self.cfg.redeem_drawdown) \
                    and self.rng.random() < self.cfg.panic_prob:
                self.requested_at = w.timestamp
                self.requested_shares = shares
                return [RequestRedeem(shares=shares)]
            return []
        if not self.redeemed and w.timestamp >= self.requested_at + w.vault_cooldown + w.block_time:
            self.redeemed = True
            return [Redeem(shares=self.requested_shares)]
        return []

    def on_result(self, intent, ok, reason, w=None):
        super().on_result(intent, ok, reason, w)
        if isinstance(intent, RequestRedeem) and not ok:
            self.requested_at = None
        if isinstance(intent, Redeem) and not ok:
            self.redeemed = False  # try again next block
