"""The optional attacker: a self-trade at an off-market price between two accounts it controls
(a maker key and a taker), and a staker racing a known loss out of the vault."""
from __future__ import annotations

from ..keys import Key, Order
from ..scenario import AttackerConfig
from .base import (Agent, Approve, BookEntry, Deposit, Intent, PRICE_ONE, Redeem, RequestRedeem,
                   SIZE_ONE, Trade, VaultDeposit, World)


class Attacker(Agent):
    """Acts as the taker; `maker_key` signs the off-market order. Every attempt is noted."""

    kind = "attacker"

    def __init__(self, name, key, rng, cfg: AttackerConfig, maker_key: Key):
        super().__init__(name, key, rng)
        self.cfg = cfg
        self.maker_key = maker_key
        self.requested_at: int | None = None
        self.shares = 0
        self.outcomes: list[dict] = []

    def setup(self, w: World) -> list[Intent]:
        out: list[Intent] = [Approve(spender="clearinghouse"), Deposit(amount=w.units(self.cfg.capital))]
        if self.cfg.self_trade_block is not None:  # the accomplice maker account needs margin too
            mk = self.maker_key.address
            out += [Approve(spender="clearinghouse", sender=mk), Deposit(amount=w.units(self.cfg.capital), sender=mk)]
        if self.cfg.stake_race_block is not None:
            out += [Approve(spender="vault"), VaultDeposit(assets=w.units(self.cfg.capital))]
        return out

    def self_trade(self, w: World) -> Trade:
        """Maker (own second key) sells to the taker (self) far above the oracle."""
        idx = w.markets[0].index_price
        price = int(idx * (1 + self.cfg.self_trade_premium))
        me = w.accounts.get(self.address)
        eq = me.equity if me else w.units(self.cfg.capital)
        size = int(eq / 10**w.decimals * 2 / (idx / PRICE_ONE) * SIZE_ONE)
        order = Order(self.maker_key.address, 0, -size, price, 1, w.timestamp + 10 * w.block_time)
        from ..keys import order_digest, sign_digest
        sig = sign_digest(self.maker_key.private_key, order_digest(order, w.domain))
        return Trade(entry=BookEntry(order, sig, size, self.maker_key.address), fill_size=size)

    def decide(self, w: World) -> list[Intent]:
        out: list[Intent] = []
        if self.cfg.self_trade_block is not None and w.block == self.cfg.self_trade_block:
            out.append(self.self_trade(w))
        if self.cfg.stake_race_block is not None:
            shares = w.vault.shares.get(self.address, 0)
            if w.block == self.cfg.stake_race_block and shares > 0:
                self.shares = shares
                self.requested_at = w.timestamp
                out.append(RequestRedeem(shares=shares))
            elif self.requested_at is not None and self.shares > 0:
                out.append(Redeem(shares=self.shares))  # tries every block: must fail until matured
        return out

    def on_result(self, intent, ok, reason, w=None):
        super().on_result(intent, ok, reason, w)
        if isinstance(intent, Trade):
            self.outcomes.append({"attack": "self_trade", "succeeded": ok, "reason": reason})
        if isinstance(intent, Redeem):
            if ok:
                self.outcomes.append({"attack": "stake_race", "succeeded": True, "reason": None})
                self.shares = 0
