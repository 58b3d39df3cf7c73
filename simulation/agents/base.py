"""What agents see (World) and what they ask for (intents). Agents are plain Python: the engine
turns intents into transactions and feeds results back, so their logic is testable without a chain."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..keys import Key, Order, sign_digest, order_digest

PRICE_ONE = 10**18
SIZE_ONE = 10**18


@dataclass
class AccountView:
    """An account's state in the Clearinghouse (token base units; sizes 1e18)."""

    collateral: int = 0
    equity: int = 0
    initial_margin: int = 0
    maintenance_margin: int = 0
    positions: tuple[int, ...] = ()

    @property
    def liquidatable(self) -> bool:
        return self.equity < self.maintenance_margin and any(self.positions)

    @property
    def bankrupt(self) -> bool:
        return self.equity < 0

    @property
    def flat(self) -> bool:
        return not any(self.positions)


@dataclass
class MarketView:
    """A market as agents see it: the oracle index (1e18) and margin ratios (floats)."""

    index_price: int
    open_interest: int = 0
    imr: float = 0.1
    mmr: float = 0.05


@dataclass
class VaultView:
    total_assets: int = 0
    total_supply: int = 0
    share_price: float = 1.0          # assets per share (token units per share unit, raw ratio)
    shares: dict[str, int] = field(default_factory=dict)


@dataclass
class BookEntry:
    order: Order
    signature: bytes
    remaining: int          # unsigned size left to fill
    maker: str

    @property
    def maker_buys(self) -> bool:
        return self.order.size > 0


class OrderBook:
    """Off-chain RFQ book of signed maker orders (price-time priority), shared by takers in a block."""

    def __init__(self) -> None:
        self._entries: dict[int, list[BookEntry]] = {}

    def replace(self, maker: str, entries: Sequence[BookEntry]) -> None:
        """Drop `maker`'s quotes and post new ones."""
        for m, lst in self._entries.items():
            self._entries[m] = [e for e in lst if e.maker != maker]
        for e in entries:
            self._entries.setdefault(e.order.market, []).append(e)

    def expire(self, now: int) -> None:
        for m, lst in self._entries.items():
            self._entries[m] = [e for e in lst if e.order.expiry > now and e.remaining > 0]

    def entries(self, market: int) -> list[BookEntry]:
        return list(self._entries.get(market, []))

    def best(self, market: int, taker_buys: bool) -> BookEntry | None:
        side = [e for e in self._entries.get(market, []) if e.remaining > 0 and e.maker_buys != taker_buys]
        if not side:
            return None
        return (min if taker_buys else max)(side, key=lambda e: e.order.limit_price)

    def take(self, market: int, taker_buys: bool, size: int, taker: str = "",
             worst_price: int | None = None) -> list[tuple[BookEntry, int]]:
        """Reserve fills for a taker (best price first); returns (entry, fill_size) pairs."""
        side = [e for e in self._entries.get(market, [])
                if e.remaining > 0 and e.maker_buys != taker_buys and e.maker != taker]
        side.sort(key=lambda e: e.order.limit_price, reverse=not taker_buys)
        fills: list[tuple[BookEntry, int]] = []
        left = size
        for e in side:
            if left <= 0:
                break
            if worst_price is not None and (e.order.limit_price > worst_price if taker_buys
                                            else e.order.limit_price < worst_price):
                break
            f = min(left, e.remaining)
            e.remaining -= f
            left -= f
            fills.append((e, f))
        return fills


@dataclass
class World:
    """The state after the previous block, as agents see it when deciding the next one."""

    block: int
    timestamp: int                    # timestamp of the block being built
    block_time: int
    markets: list[MarketView]
    accounts: dict[str, AccountView]
    wallets: dict[str, int]           # collateral-token wallet balances
    vault: VaultView
    index_history: list[np.ndarray]   # index prices (float, whole tokens) per past block
    book: OrderBook
    domain: bytes                     # EIP-712 domain separator
    decimals: int = 6
    max_liquidatable: dict[tuple[str, int], int] = field(default_factory=dict)
    vault_cooldown: int = 0

    def price(self, market: int) -> float:
        return self.markets[market].index_price / PRICE_ONE

    def last_return(self, market: int, lookback: int = 1) -> float:
        h = self.index_history
        if len(h) <= lookback:
            return 0.0
        a, b = h[-1 - lookback][market], h[-1][market]
        return b / a - 1.0 if a > 0 else 0.0

    def units(self, amount: float) -> int:
        """Whole tokens -> base units."""
        return int(amount * 10**self.decimals)

    def notional_units(self, size: int, market: int) -> int:
        """|size| * index in token base units."""
        return abs(size) * self.markets[market].index_price // 10 ** (36 - self.decimals)


# -- intents ----------------------------------------------------------------------------------

@dataclass
class Intent:
    """Base class of everything an agent can ask the engine to do."""

    gas: int = 1_500_000
    sender: str = ""          # default: the agent itself


@dataclass
class Approve(Intent):
    spender: str = "clearinghouse"   # or "vault"
    amount: int = 2**256 - 1


@dataclass
class Deposit(Intent):
    amount: int = 0


@dataclass
class Withdraw(Intent):
    amount: int = 0


@dataclass
class Post(Intent):
    """Off-chain: post signed orders to the book (no transaction)."""

    entries: list[BookEntry] = field(default_factory=list)


@dataclass
class Trade(Intent):
    entry: BookEntry | None = None
    fill_size: int = 0


@dataclass
class Liquidate(Intent):
    account: str = ""
    market: int = 0
    size: int = 0


@dataclass
class LiquidateBankrupt(Intent):
    account: str = ""
    gas: int = 3_000_000


@dataclass
class VaultDeposit(Intent):
    assets: int = 0


@dataclass
class RequestRedeem(Intent):
    shares: int = 0


@dataclass
class Redeem(Intent):
    shares: int = 0


@dataclass
class Note(Intent):
    """Off-chain: something worth recording in events.jsonl (no transaction)."""

    kind: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class Agent:
    """Base agent: a name, a key (address), its own RNG, and decide()/on_result() hooks."""

    kind = "agent"

    def __init__(self, name: str, key: Key, rng: np.random.Generator):
        self.name = name
        self.key = key
        self.rng = rng
        self.sent = 0
        self.reverted = 0

    @property
    def address(self) -> str:
        return self.key.address

    @property
    def trades_on_clearinghouse(self) -> bool:
        return True

    def setup(self, w: World) -> list[Intent]:
        """Intents for the setup block (approvals, first deposits)."""
        return []

    def decide(self, w: World) -> list[Intent]:
        """Intents for the next block."""
        return []

    def on_result(self, intent: Intent, ok: bool, reason: str | None, w: World | None = None) -> None:
        """Told what became of each of its transactions."""
        self.sent += 1
        if not ok:
            self.reverted += 1

    # helpers
    def sign(self, order: Order, domain: bytes) -> bytes:
        return sign_digest(self.key.private_key, order_digest(order, domain))


def take_intents(w: World, taker: str, market: int, taker_buys: bool, size: int,
                 max_slippage: float = 0.02) -> list[Trade]:
    """Trades filling `size` (unsigned) against the book, no worse than max_slippage from the index."""
    if size <= 0:
        return []
    idx = w.markets[market].index_price
    worst = int(idx * (1 + max_slippage)) if taker_buys else int(idx * (1 - max_slippage))
    return [Trade(entry=e, fill_size=f) for e, f in w.book.take(market, taker_buys, size, taker, worst)]


def lognormal_leverage(rng: np.random.Generator, median: float, sigma: float, cap: float) -> float:
    """A leverage draw: lognormal around `median`, capped at `cap`, at least 1."""
    return float(min(cap, max(1.0, median * np.exp(sigma * rng.standard_normal()))))
