"""Market makers: EIP-712 signed quotes around the oracle index, with spread, levels and an
inventory limit; they widen under stress and pull their quotes in a crash."""
from __future__ import annotations

from ..keys import Order
from ..scenario import MarketMakerConfig
from .base import Agent, Approve, BookEntry, Deposit, Intent, Post, SIZE_ONE, PRICE_ONE, World, take_intents


class MarketMaker(Agent):
    kind = "market_maker"

    def __init__(self, name, key, rng, cfg: MarketMakerConfig):
        super().__init__(name, key, rng)
        self.cfg = cfg
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

    def quotes(self, w: World, market: int) -> list[Order]:
        """The orders this maker wants on the book for `market` (pure)."""
        half = self.spread_for(w, market)
        me = w.accounts.get(self.address)
        if half is None or me is None:
            return []
        if me.equity <= 0 or me.maintenance_margin * 2 > me.equity:
            return []  # too stressed to add risk: only the liquidators' book remains
        idx = w.markets[market].index_price
        pos = me.positions[market] if market < len(me.positions) else 0
        inv = pos * idx / SIZE_ONE / PRICE_ONE  # whole-token notional, signed
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

    def decide(self, w: World) -> list[Intent]:
        entries = []
        for m in range(len(w.markets)):
            for o in self.quotes(w, m):
                entries.append(BookEntry(o, self.sign(o, w.domain), abs(o.size), self.address))
        self.quoting = bool(entries)
        intents: list[Intent] = [Post(entries=entries)]
        me = w.accounts.get(self.address)
        if me is not None and not entries and me.equity > 0 and me.maintenance_margin * 2 > me.equity:
            for m, p in enumerate(me.positions):  # de-risk against other makers' quotes
                if p:
                    intents += take_intents(w, self.address, m, p < 0, abs(p) // 4)
        return intents
