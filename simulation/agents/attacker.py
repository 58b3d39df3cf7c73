"""The optional attacker: a self-trade at an off-market price between two accounts it controls
(a maker key, derived from its own key, and a taker), and a staker racing a known loss out of the
vault. Every attempt is kept in its own `reports`."""
from __future__ import annotations

from pydantic import Field

from ..keys import Key, Order, _keccak, order_digest, sign_digest, SECP256K1_N
from ..strict import Strict
from .base import (Agent, Approve, BookEntry, Deposit, Intent, PRICE_ONE, Redeem, RequestRedeem,
                   SIZE_ONE, Trade, VaultDeposit, World)
from .registry import register


class AttackerConfig(Strict):
    enabled: bool = False
    capital: float = Field(50_000, gt=0)
    self_trade_block: int | None = Field(None, ge=0)
    self_trade_premium: float = Field(0.2, description="off-market price premium of the self-trade")
    stake_race_block: int | None = Field(None, ge=0, description="stake, then race the crash to redeem")


def accomplice_key(key: Key) -> Key:
    """The attacker's second (maker) key, derived from its own."""
    pk = _keccak(key.private_key + b"clawback-sim/attacker-maker")
    while not 0 < int.from_bytes(pk, "big") < SECP256K1_N:  # pragma: no cover - astronomically unlikely
        pk = _keccak(pk)
    return Key.from_private(pk)


@register
class Attacker(Agent):
    """Acts as the taker; its accomplice key signs the off-market order."""

    kind = "attacker"
    table = "attacker"
    config = AttackerConfig
    turn = 3
    vault_shares = True

    def __init__(self, name, key, rng, cfg: AttackerConfig):
        super().__init__(name, key, rng, cfg)
        self.maker_key = accomplice_key(key)
        self.requested_at: int | None = None
        self.shares = 0

    @classmethod
    def instances(cls, cfg: AttackerConfig) -> int:
        return 1 if cfg.enabled else 0

    def extra_keys(self) -> list[Key]:
        return [self.maker_key]

    def extra_accounts(self) -> list[str]:
        return [self.maker_key.address] if self.cfg.self_trade_block is not None else []

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
        block = w.block if w is not None else None
        if isinstance(intent, Trade):
            self.reports.append({"block": block, "event": "Attack", "attack": "self_trade", "action": "trade",
                                 "succeeded": ok, "reason": reason})
        if isinstance(intent, (Redeem, RequestRedeem)):
            self.reports.append({"block": block, "event": "Attack", "attack": "stake_race", "action": intent.fn,
                                 "succeeded": ok, "reason": reason})
            if ok and isinstance(intent, Redeem):
                self.shares = 0
