"""The protocol-owned share of the insurance fund: the protocol's treasury stakes `capital` in the
vault at setup and never redeems (as dYdX's, GMX's and Binance's funds are protocol-owned). It
bears losses like any share but cannot flee, so it is the part of the fund a run can rely on."""
from __future__ import annotations

from pydantic import Field

from ..strict import Strict
from .base import Agent, Approve, Intent, VaultDeposit, World
from .registry import register


class ProtocolFundConfig(Strict):
    capital: float = Field(0.0, ge=0, description="tokens the protocol stakes and never redeems (0: none)")


@register
class ProtocolFund(Agent):
    kind = "protocol_fund"
    table = "protocol_fund"
    config = ProtocolFundConfig
    turn = 3
    margin_account = False
    vault_shares = True

    @classmethod
    def instances(cls, cfg: ProtocolFundConfig) -> int:
        return 1 if cfg.capital > 0 else 0

    def setup(self, w: World) -> list[Intent]:
        return [Approve(spender="vault"), VaultDeposit(assets=w.units(self.cfg.capital))]
