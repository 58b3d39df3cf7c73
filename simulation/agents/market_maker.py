"""Market makers: EIP-712 signed quotes around the oracle index, with spread and levels. They
manage inventory rather than hold it: quotes are skewed against the position, the side that would
add to it is pulled at the inventory limit, and above `hedge_threshold` of the limit they hedge
part of it away as takers every block. They widen under stress and pull all quotes in a crash."""
from __future__ import annotations

from functools import partial

from pydantic import Field

from ..keys import Order
from ..strict import Strict
from .base import Agent, Approve, BookEntry, Deposit, Intent, Post, SIZE_ONE, PRICE_ONE, World, take_intents
from .registry import register


class MarketMakerConfig(Strict):
    count: int = Field(2, ge=0)
    capital: float = Field(2_000_000, gt=0)
    spread_bps: float = Field(10, ge=0)
    levels: int = Field(3, ge=1)
    level_step_bps: float = Field(10, ge=0)
    quote_notional: float = Field(50_000, gt=0, description="notional per level")
    max_inventory_notional: float = Field(2_000_000, gt=0)
    hedge_threshold: float = Field(0.5, gt=0, description="inventory (share of the limit) above which it hedges")
    hedge_fraction: float = Field(0.25, ge=0, le=1, description="share of the excess inventory hedged per block")
    stress_return: float = Field(0.01, gt=0, description="|1-block return| that counts as stress")
    stress_widen: float = Field(4.0, ge=1, description="spread multiplier under stress")
    withdraw_return: float = Field(0.04, gt=0, description="|return| at which quotes are pulled")
    order_ttl_blocks: int = Field(2, ge=1)


@register
class MarketMaker(Agent):
    kind = "market_maker"
    table = "market_makers"
    config = MarketMakerConfig
    turn = 0

    def __init__(self, name, key, rng, cfg: MarketMakerConfig):
        super().__init__(name, key, rng, cfg)
        self.nonce = 0
        self.quoting = True

    def setup(self, w: World) -> list[Intent]:
        return [Approve(spender="clearinghouse"), Deposit(amount=w.units(self.cfg.capital))]

    def spread_for(self, w: World, market: int) -> float | None:
        """Half-spread as a fraction of the index, or None to withdraw quotes."""
        r = abs(w.last_return(market))
        if r >= self.cfg.withdraw_return:
            return None
        s = self.cfg.spread_bps / 1e4
        return s * self.cfg.stress_widen if r >= self.cfg.stress_return else s

    def inventory(self, w: World, market: int) -> float:
        """Signed inventory notional in whole tokens."""
        me = w.accounts.get(self.address)
        pos = me.positions[market] if me is not None and market < len(me.positions) else 0
        return pos * w.markets[market].index_price / SIZE_ONE / PRICE_ONE

    def quotes(self, w: World, market: int) -> list[Order]:
        """The orders this maker wants on the book for `market` (pure)."""
        half = self.spread_for(w, market)
        me = w.accounts.get(self.address)
        if half is None or me is None:
            return []
        if me.equity <= 0 or me.maintenance_margin * 2 > me.equity:
            return []  # too stressed to add risk: only the liquidators' book remains
        idx = w.markets[market].index_price
        inv = self.inventory(w, market)
        cap = self.cfg.max_inventory_notional
        skew = -max(-1.0, min(1.0, inv / cap)) * half  # long inventory -> lower both quotes
        size = int(self.cfg.quote_notional / (idx / PRICE_ONE) * SIZE_ONE)
        expiry = w.timestamp + self.cfg.order_ttl_blocks * w.block_time
        step = self.cfg.level_step_bps / 1e4
        out = []
        for lvl in range(self.cfg.levels):
            off = half + lvl * step
            if inv < cap:   # bid: maker buys
                self.nonce += 1
                out.append(Order(self.address, market, size, int(idx * (1 - off + skew)), self.nonce, expiry))
            if inv > -cap:  # ask: maker sells
                self.nonce += 1
                out.append(Order(self.address, market, -size, int(idx * (1 + off + skew)), self.nonce, expiry))
        return out

    def hedge_size(self, w: World, market: int) -> int:
        """Unsigned size to hedge away this block (0 below the hedge threshold)."""
        inv = abs(self.inventory(w, market))
        excess = inv - self.cfg.hedge_threshold * self.cfg.max_inventory_notional
        if excess <= 0 or self.cfg.hedge_fraction <= 0:
            return 0
        return int(excess * self.cfg.hedge_fraction / w.price(market) * SIZE_ONE)

    def decide(self, w: World) -> list[Intent]:
        entries = []
        for m in range(len(w.markets)):
            for o in self.quotes(w, m):
                entries.append(BookEntry(o, partial(self.sign, o, w.domain), abs(o.size), self.address))
        self.quoting = bool(entries)
        intents: list[Intent] = [Post(entries=tuple(entries))]
        me = w.accounts.get(self.address)
        if me is None or me.equity <= 0:
            return intents
        stressed = me.maintenance_margin * 2 > me.equity
        for m, p in enumerate(me.positions):
            if not p:
                continue
            size = abs(p) // 4 if stressed and not entries else self.hedge_size(w, m)
            intents += take_intents(w, self.address, m, p < 0, min(size, abs(p)), max_slippage=0.03)
        return intents
