"""What agents see (World) and what they ask for (intents). Agents are plain Python: the engine
turns intents into transactions and feeds results back, so their logic is testable without a chain."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Sequence

import numpy as np

from ..keys import Key, Order, encode_trade_args, sign_digest, order_digest

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
    liquidation_penalty: float = 0.025   # of the liquidated notional (contract default mmr / 2)
    liquidator_share: float = 0.5
    depth: float = float("inf")          # current market depth (impact model), notional tokens
    impact_coef: float = 0.0             # relative move when `depth` tokens trade at once

    def impact(self, notional: float) -> float:
        """Relative price move a market order of `notional` tokens would cause now (impact model)."""
        if self.impact_coef <= 0 or notional <= 0 or self.depth <= 0:
            return 0.0
        return self.impact_coef * (notional / self.depth) ** 0.5


@dataclass(frozen=True)
class RedeemRequestView:
    """`redeem_request(controller)`: requested shares (held by the vault), their capped value and
    the claim window (timestamps, inclusive)."""

    shares: int = 0
    assets: int = 0
    claimable_from: int = 0
    claimable_until: int = 0

    def claimable(self, ts: int) -> bool:
        return self.shares > 0 and self.claimable_from <= ts <= self.claimable_until

    def lapsed(self, ts: int) -> bool:
        return self.shares > 0 and ts > self.claimable_until


@dataclass
class VaultView:
    total_assets: int = 0
    total_supply: int = 0
    share_price: float = 1.0          # assets per share (token units per share unit, raw ratio)
    shares: dict[str, int] = field(default_factory=dict)     # wallet balances (requested shares excluded)
    requests: dict[str, RedeemRequestView] = field(default_factory=dict)
    open_losses: int = 0              # flagged, unresolved losses: no claim succeeds while > 0
    flagged: frozenset[str] = frozenset()   # accounts with a loss flag (read for negative/flagged ones)

    def request(self, who: str) -> RedeemRequestView:
        return self.requests.get(who, RedeemRequestView())


class BookEntry:
    """A maker's signed order on the book and the size left to fill. The signature may be given
    as a function that makes it: it is then made the first time a taker's transaction needs it
    (most quotes are replaced before anyone fills them) and kept. Signing is deterministic
    (RFC 6979), so when it happens changes nothing a run writes."""

    __slots__ = ("order", "_signature", "remaining", "maker")

    def __init__(self, order: Order, signature: bytes | Callable[[], bytes], remaining: int, maker: str):
        self.order = order
        self._signature = signature
        self.remaining = remaining   # unsigned size left to fill
        self.maker = maker

    @property
    def signature(self) -> bytes:
        s = self._signature
        if not isinstance(s, bytes):
            s = self._signature = s()
        return s

    @property
    def maker_buys(self) -> bool:
        return self.order.size > 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BookEntry):
            return NotImplemented
        return ((self.order, self.signature, self.remaining, self.maker)
                == (other.order, other.signature, other.remaining, other.maker))

    __hash__ = None  # type: ignore[assignment]  # mutable (remaining), like the dataclass it was

    def __repr__(self) -> str:
        return f"BookEntry(order={self.order!r}, remaining={self.remaining}, maker={self.maker!r})"


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
    vault_claim_window: int = 0
    # loss_policy "adl" only (empty otherwise): accounts under resolution, and the ADL ranking
    # (account, market) -> (bucket, profit) of every open position while one is
    deleveraging: frozenset = frozenset()
    adl_rank: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)

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
# An intent says what to call: the target contract (a role: "clearinghouse", "vault", "token"), the
# function and its arguments. The engine has one generic encoder (`Engine.encode`) for all of them;
# `offchain` intents (posting quotes, notes) are applied by the engine without a transaction.

@dataclass(frozen=True)
class Intent:
    """Base class of everything an agent can ask the engine to do."""

    target: ClassVar[str] = ""        # contract role the call goes to
    fn: ClassVar[str] = ""            # function name in that contract's ABI
    offchain: ClassVar[bool] = False  # no transaction: `apply(ctx)` instead
    gas: int = 1_500_000
    sender: str = ""                  # default: the agent itself

    def args(self, sender: str, addresses: dict[str, str]) -> tuple:
        """The call's arguments (`addresses`: role -> address, e.g. for approvals)."""
        return ()

    def calldata(self, spec: Any, sender: str, addresses: dict[str, str]) -> bytes:
        """Selector + encoded arguments (override for a hand-written hot path)."""
        return spec.encode(*self.args(sender, addresses))

    @property
    def funding(self) -> int:
        """Collateral tokens the sender needs minted before the setup block (deposits)."""
        return 0

    @property
    def label(self) -> str:
        return self.fn or type(self).__name__.lower()


@dataclass(frozen=True)
class Approve(Intent):
    target: ClassVar[str] = "token"
    fn: ClassVar[str] = "approve"
    spender: str = "clearinghouse"   # a role: "clearinghouse" or "vault"
    amount: int = 2**256 - 1
    gas: int = 100_000

    def args(self, sender, addresses):
        return (addresses[self.spender], self.amount)


@dataclass(frozen=True)
class Deposit(Intent):
    target: ClassVar[str] = "clearinghouse"
    fn: ClassVar[str] = "deposit"
    amount: int = 0

    def args(self, sender, addresses):
        return (self.amount,)

    @property
    def funding(self) -> int:
        return self.amount


@dataclass(frozen=True)
class Withdraw(Intent):
    target: ClassVar[str] = "clearinghouse"
    fn: ClassVar[str] = "withdraw"
    amount: int = 0

    def args(self, sender, addresses):
        return (self.amount,)


@dataclass(frozen=True)
class Trade(Intent):
    """Fill a signed maker order as the taker."""

    target: ClassVar[str] = "clearinghouse"
    fn: ClassVar[str] = "trade"
    entry: BookEntry | None = None
    fill_size: int = 0

    def calldata(self, spec, sender, addresses):
        e = self.entry
        return spec.selector + encode_trade_args(e.order, e.signature, self.fill_size)

    @property
    def taker_buys(self) -> bool:
        return not self.entry.maker_buys


@dataclass(frozen=True)
class Liquidate(Intent):
    target: ClassVar[str] = "clearinghouse"
    fn: ClassVar[str] = "liquidate"
    account: str = ""
    market: int = 0
    size: int = 0

    def args(self, sender, addresses):
        return (self.account, self.market, self.size)


@dataclass(frozen=True)
class LiquidateBankrupt(Intent):
    target: ClassVar[str] = "clearinghouse"
    fn: ClassVar[str] = "liquidate_bankrupt"
    account: str = ""
    gas: int = 3_000_000

    def args(self, sender, addresses):
        return (self.account,)


@dataclass(frozen=True)
class Deleverage(Intent):
    """loss_policy "adl": close `account`'s position in `market` against `counterparties`."""

    target: ClassVar[str] = "clearinghouse"
    fn: ClassVar[str] = "deleverage"
    account: str = ""
    market: int = 0
    counterparties: tuple = ()
    gas: int = 3_000_000

    def args(self, sender, addresses):
        return (self.account, self.market, list(self.counterparties))


# The vault calls: the only place the vault's deposit / redemption / loss-flag interface is named.
@dataclass(frozen=True)
class VaultDeposit(Intent):
    target: ClassVar[str] = "vault"
    fn: ClassVar[str] = "deposit"
    assets: int = 0

    def args(self, sender, addresses):
        return (self.assets, sender)

    @property
    def funding(self) -> int:
        return self.assets


@dataclass(frozen=True)
class RequestRedeem(Intent):
    target: ClassVar[str] = "vault"
    fn: ClassVar[str] = "request_redeem"
    shares: int = 0

    def args(self, sender, addresses):
        return (self.shares,)


@dataclass(frozen=True)
class Redeem(Intent):
    target: ClassVar[str] = "vault"
    fn: ClassVar[str] = "redeem"
    shares: int = 0

    def args(self, sender, addresses):
        return (self.shares, sender, sender)


@dataclass(frozen=True)
class FlagLoss(Intent):
    """Hold back every vault claim while `account` has negative equity (anyone may call it)."""

    target: ClassVar[str] = "vault"
    fn: ClassVar[str] = "flag_loss"
    account: str = ""
    gas: int = 200_000

    def args(self, sender, addresses):
        return (self.account,)


@dataclass(frozen=True)
class ClearLoss(Intent):
    """Lift `account`'s loss flag once its equity is back at or above zero."""

    target: ClassVar[str] = "vault"
    fn: ClassVar[str] = "clear_loss"
    account: str = ""
    gas: int = 200_000

    def args(self, sender, addresses):
        return (self.account,)


@dataclass(frozen=True)
class Post(Intent):
    """Off-chain: replace the agent's quotes on the book (no transaction)."""

    offchain: ClassVar[bool] = True
    entries: tuple[BookEntry, ...] = ()

    def apply(self, ctx: "OffchainContext", agent: "Agent") -> None:
        ctx.book.replace(agent.address, self.entries)


@dataclass(frozen=True)
class Note(Intent):
    """Off-chain: something worth recording in events.jsonl (no transaction)."""

    offchain: ClassVar[bool] = True
    kind: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def apply(self, ctx: "OffchainContext", agent: "Agent") -> None:
        ctx.notes.append((agent.name, self.kind, dict(self.data)))


@dataclass
class OffchainContext:
    """What off-chain intents may touch: the shared order book and the block's notes."""

    book: OrderBook
    notes: list[tuple[str, str, dict]] = field(default_factory=list)


# -- agents -----------------------------------------------------------------------------------

class Agent:
    """Base agent. A kind declares, as class attributes, what the engine needs to know; the engine
    never inspects the concrete class.

    kind            registry key (simulation.agents.registry), also the scenario's agent kind
    table           its scenario table under [agents] (e.g. "market_makers")
    config          its pydantic config model (kept in the kind's own file)
    turn            order within a block: lower first (makers 0, keepers 1, takers 2, vault users 3)
    shuffled        whether agents of this turn are shuffled every block (competition)
    margin_account  holds a Clearinghouse account that is read every block
    wallet          its collateral-token wallet balance is read every block
    vault_shares    its vault share balance is read every block
    Every kind has the same constructor: (name, key, rng, cfg)."""

    kind: ClassVar[str] = "agent"
    table: ClassVar[str] = ""
    config: ClassVar[type] = type(None)
    turn: ClassVar[int] = 2
    shuffled: ClassVar[bool] = False
    margin_account: ClassVar[bool] = True
    wallet: ClassVar[bool] = False
    vault_shares: ClassVar[bool] = False

    def __init__(self, name: str, key: Key, rng: np.random.Generator, cfg: Any):
        self.name = name
        self.key = key
        self.rng = rng
        self.cfg = cfg
        self.sent = 0
        self.reverted = 0
        self.reports: list[dict[str, Any]] = []   # this agent's own outcomes, for events.jsonl

    @classmethod
    def instances(cls, cfg: Any) -> int:
        """How many agents of this kind the config asks for."""
        return int(getattr(cfg, "count", 0))

    @property
    def address(self) -> str:
        return self.key.address

    def extra_keys(self) -> list[Key]:
        """Further keys this agent signs with (funded and unlocked by the engine)."""
        return []

    def extra_accounts(self) -> list[str]:
        """Further Clearinghouse accounts of this agent the engine must read every block."""
        return []

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


def lognormal_capital(rng: np.random.Generator, mean: float, sigma: float = 0.5) -> float:
    """A capital draw with the given mean (lognormal across agents), rounded to cents."""
    return round(float(mean * np.exp(sigma * rng.standard_normal() - sigma**2 / 2)), 2)
