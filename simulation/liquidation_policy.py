"""Liquidation decision policy, shared by the keeper (`ape run keeper`) and the simulation's
liquidator agent.

Pure functions over plain readings: no RPC, no ape, no web3. The caller reads the chain
(`account_summary`, `position_size`, `max_liquidatable_size`, `index_price`, the market's margin
ratios and its own account) and asks `plan(...)` what to do; the answer is an ordered list of
actions:

* ``Action(kind="liquidate_bankrupt", account, market=None, size=None)`` for an account whose
  equity is negative: the caller takes over all of its positions (``liquidate_bankrupt``);
* ``Action(kind="liquidate", account, market, size)`` for an account whose equity is not
  negative but below its maintenance margin (``liquidate(account, market, size)``).

Priority: bankrupt accounts first (largest deficit first), then liquidatable accounts by
shortfall (maintenance margin - equity, largest first); within an account, its markets by
notional (largest first). Ties break on the account address and market id, so a plan is
deterministic.

Capacity: the contract requires the liquidator to meet initial margin after every liquidation.
The planner charges each action's extra initial margin (taking over a position opposite to one
the keeper already holds *reduces* its margin) against the keeper's free margin (equity - initial
margin) times a safety factor, shrinks a partial liquidation to what fits, and skips a
bankruptcy takeover that does not fit entirely (it cannot be partial). The penalty share or
keeper reward the keeper earns is ignored (conservative).

Units follow the protocol (DESIGN.md): collateral amounts in token base units, prices and
ratios 1e18-scaled, sizes 1e18-scaled and signed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal, Mapping, Optional, Sequence

WAD = 10**18

LIQUIDATE = "liquidate"
LIQUIDATE_BANKRUPT = "liquidate_bankrupt"
DELEVERAGE = "deleverage"  # loss_policy "adl": deleverage(account, market, counterparties)
ActionKind = Literal["liquidate", "liquidate_bankrupt", "deleverage"]


@dataclass(frozen=True)
class MarketReading:
    """One market as the keeper sees it this block."""

    market: int
    price: int  # oracle index price, 1e18 = one collateral whole unit per base asset
    imr: int  # initial margin ratio, 1e18 = 100 %
    mmr: int = 0  # maintenance margin ratio (informational)


@dataclass(frozen=True)
class AccountReading:
    """One account's health (from `account_summary`) and positions."""

    account: str
    equity: int  # token base units, may be negative
    maintenance_margin: int  # token base units
    positions: Mapping[int, int] = field(default_factory=dict)  # market -> signed size (1e18)
    # market -> `max_liquidatable_size(account, market)`; a market missing here is assumed
    # fully liquidatable (|position|).
    max_liquidatable: Mapping[int, int] = field(default_factory=dict)
    collateral: Optional[int] = None
    initial_margin: Optional[int] = None

    @property
    def is_bankrupt(self) -> bool:
        return self.equity < 0

    @property
    def is_liquidatable(self) -> bool:
        return self.equity < self.maintenance_margin

    @property
    def shortfall(self) -> int:
        """Deficit (-equity) if bankrupt, else maintenance margin - equity (>0 if liquidatable)."""
        return -self.equity if self.equity < 0 else self.maintenance_margin - self.equity


@dataclass(frozen=True)
class KeeperState:
    """The liquidator's own account: what it can still take over."""

    free_margin: int  # equity - initial margin, token base units (may be <= 0)
    positions: Mapping[int, int] = field(default_factory=dict)  # market -> signed size
    address: Optional[str] = None  # never liquidate yourself

    @classmethod
    def from_summary(cls, equity: int, initial_margin: int, positions=None, address=None):
        return cls(free_margin=equity - initial_margin, positions=dict(positions or {}), address=address)


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    account: str
    market: Optional[int]
    size: Optional[int]
    shortfall: int  # deficit for a bankruptcy, maintenance shortfall otherwise (base units)
    # change of the keeper's initial margin this action causes (base units; negative when the
    # takeover offsets a position the keeper already holds)
    margin_used: int = 0
    counterparties: tuple = ()  # DELEVERAGE only: the winners, best-ranked first

    def call_args(self) -> tuple:
        """Arguments of the Clearinghouse function named by `kind`."""
        if self.kind == LIQUIDATE_BANKRUPT:
            return (self.account,)
        if self.kind == DELEVERAGE:
            return (self.account, self.market, list(self.counterparties))
        return (self.account, self.market, self.size)


@dataclass(frozen=True)
class Skipped:
    account: str
    market: Optional[int]
    reason: str


@dataclass(frozen=True)
class Plan:
    actions: list
    skipped: list

    def __iter__(self):
        return iter(self.actions)

    def __len__(self):
        return len(self.actions)


# --------------------------------------------------------------------------------------------
# arithmetic helpers


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def notional(size: int, price: int, token_decimals: int = 6) -> int:
    """|size| * price / 10**(36 - decimals), in token base units (rounded down)."""
    return abs(size) * price // 10 ** (36 - token_decimals)


def margin_for(size: int, price: int, ratio: int, token_decimals: int = 6) -> int:
    """Margin of a position, rounded exactly as the contract charges it (clearing.vy `_health`):
    the notional rounded up to a base unit, then the ratio of it rounded up again. Rounding once
    (ceil(|size| * price * ratio / ...)) can be one unit short, and a keeper planning with that
    would send takeovers the contract rejects for initial margin."""
    return _ceil_div(_ceil_div(abs(size) * price, 10 ** (36 - token_decimals)) * ratio, WAD)


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def takeover_margin_delta(keeper_pos: int, account_pos_sign: int, size: int, price: int, imr: int,
                          token_decimals: int = 6) -> int:
    """Change in the keeper's initial margin when it takes over `size` of a position whose sign is
    `account_pos_sign` (the keeper ends up on the same side as the liquidated account)."""
    new_pos = keeper_pos + account_pos_sign * size
    return margin_for(new_pos, price, imr, token_decimals) - margin_for(keeper_pos, price, imr, token_decimals)


def max_takeover_size(keeper_pos: int, account_pos_sign: int, budget: int, price: int, imr: int,
                      token_decimals: int = 6) -> int:
    """Largest size the keeper can take over without its extra initial margin exceeding `budget`."""
    if price <= 0:
        return 0
    opposite = abs(keeper_pos) if _sign(keeper_pos) == -account_pos_sign else 0
    if imr <= 0:
        return 2**255 - 1
    # size that `budget` margin buys (rounded down), plus twice the opposite position: the first
    # |opposite| of the takeover frees margin, the next |opposite| consumes what it freed.
    budget = max(budget, 0)
    by_budget = budget * WAD * 10 ** (36 - token_decimals) // (price * imr)
    cand = by_budget + 2 * opposite
    # the two roundings up (notional, then margin) can push the delta a unit or two over: step
    # down, with growing steps, until it fits
    step = max(1, cand // 10**12)
    while cand > 0 and takeover_margin_delta(keeper_pos, account_pos_sign, cand, price, imr, token_decimals) > budget:
        cand -= step
        step *= 2
    return max(cand, 0)


# --------------------------------------------------------------------------------------------
# the planner


def plan(
    accounts: Iterable[AccountReading],
    markets: Mapping[int, MarketReading] | Sequence[MarketReading],
    keeper: Optional[KeeperState] = None,
    *,
    token_decimals: int = 6,
    safety: int = 9 * 10**17,
    min_size: int = 0,
    max_actions: Optional[int] = None,
) -> Plan:
    """Decide which liquidations to send this block.

    accounts: readings of the accounts to consider (healthy ones are ignored).
    markets: market id -> MarketReading (or a sequence of them).
    keeper: the liquidator's state; None means unlimited capacity (e.g. for analysis).
    safety: fraction (1e18 = 100 %) of the keeper's free margin the plan may use.
    min_size: partial liquidations smaller than this (1e18-scaled size) are skipped as dust.
    max_actions: cap on the number of actions returned (highest priority first).
    """
    if not isinstance(markets, Mapping):
        markets = {m.market: m for m in markets}
    if not 0 <= safety <= WAD:
        raise ValueError("safety must be within [0, 1e18]")

    unlimited = keeper is None
    budget = 0 if unlimited else keeper.free_margin * safety // WAD
    kpos: dict = {} if unlimited else {int(k): int(v) for k, v in keeper.positions.items()}
    self_addr = None if unlimited or keeper.address is None else keeper.address.lower()

    candidates = [
        a for a in accounts
        if a.is_liquidatable and (self_addr is None or a.account.lower() != self_addr)
    ]
    # bankrupt first, then by shortfall, largest first; deterministic tie-break
    candidates.sort(key=lambda a: (0 if a.is_bankrupt else 1, -a.shortfall, a.account.lower()))

    actions: list = []
    skipped: list = []

    def _open_positions(acc: AccountReading):
        rows = []
        for m, size in acc.positions.items():
            if size == 0:
                continue
            mk = markets.get(int(m))
            if mk is None:
                skipped.append(Skipped(acc.account, int(m), "no reading for this market"))
                continue
            rows.append((int(m), int(size), mk))
        rows.sort(key=lambda r: (-notional(r[1], r[2].price, token_decimals), r[0]))
        return rows

    for acc in candidates:
        if max_actions is not None and len(actions) >= max_actions:
            break
        rows = _open_positions(acc)
        if acc.is_bankrupt:
            # all positions at once: must fit entirely
            needed = 0
            trial = dict(kpos)
            for m, size, mk in rows:
                before = trial.get(m, 0)
                after = before + size
                needed += margin_for(after, mk.price, mk.imr, token_decimals) - margin_for(before, mk.price, mk.imr, token_decimals)
                trial[m] = after
            if not unlimited and needed > budget:
                skipped.append(Skipped(acc.account, None,
                                       f"bankrupt takeover needs {needed} margin, keeper has {budget}"))
                continue
            actions.append(Action(LIQUIDATE_BANKRUPT, acc.account, None, None, acc.shortfall, needed))
            if not unlimited:
                budget -= needed
                kpos = trial
            continue

        for m, size, mk in rows:
            if max_actions is not None and len(actions) >= max_actions:
                break
            limit = acc.max_liquidatable.get(m)
            want = abs(size) if limit is None else min(abs(int(limit)), abs(size))
            if want <= 0:
                skipped.append(Skipped(acc.account, m, "max_liquidatable_size is 0"))
                continue
            direction = _sign(size)
            if not unlimited:
                cap = max_takeover_size(kpos.get(m, 0), direction, budget, mk.price, mk.imr, token_decimals)
                if cap < want:
                    if cap <= 0:
                        skipped.append(Skipped(acc.account, m, "no free margin left for a takeover"))
                        continue
                    want = cap
            if want < min_size:
                skipped.append(Skipped(acc.account, m, f"size {want} below min_size {min_size}"))
                continue
            used = 0
            if not unlimited:
                used = takeover_margin_delta(kpos.get(m, 0), direction, want, mk.price, mk.imr, token_decimals)
                budget -= used
                kpos[m] = kpos.get(m, 0) + direction * want
            actions.append(Action(LIQUIDATE, acc.account, m, want, acc.shortfall, used))

    return Plan(actions=actions, skipped=skipped)


@dataclass(frozen=True)
class WinnerReading:
    """One candidate counterparty of a deleveraging fill (loss_policy "adl"), from
    `position_size(account, market)` and `adl_rank(account, market)`."""

    account: str
    size: int  # signed position in the market (1e18)
    bucket: int  # adl_rank(...).bucket: entry-price bucket, 0 when not ranked
    profit: int  # adl_rank(...).profit: profit at the oracle price net of funding (base units)


def adl_counterparties(bankrupt_size: int, winners: Iterable[WinnerReading], limit: int = 16) -> list:
    """The counterparties for `deleverage(account, market, counterparties)`, in the order the
    contract enforces: opposite positions in profit, best bucket first (longs: the lowest entry
    bucket, shorts: the highest), inside a bucket the largest profit first, then by address.
    The contract closes each for what the bankrupt position still needs and ignores the rest of
    the list, so the first `limit` (at most 16 per call) are returned."""
    long_side = bankrupt_size < 0  # the winners' side
    rows = [w for w in winners if w.bucket > 0 and w.profit > 0 and (w.size > 0) == long_side and w.size != 0]
    rows.sort(key=lambda w: (w.bucket if long_side else -w.bucket, -w.profit, w.account.lower()))
    return [w.account for w in rows[:limit]]


def deleverage_actions(account: str, positions: Mapping[int, int],
                       winners: Mapping[int, Iterable[WinnerReading]], shortfall: int = 0,
                       limit: int = 16) -> list:
    """The calls that continue an ADL resolution of `account` (frozen, `is_deleveraging`): per
    market where it still holds a position (largest |size| first, then market id), a
    `deleverage` with the counterparties `adl_counterparties` picks from that market's readings;
    when no market has a winner left, one `liquidate_bankrupt` (the caller takes what remains in
    every market whose winners are exhausted, and the resolution ends once the account is flat)."""
    out = []
    rows = sorted(((int(m), int(s)) for m, s in positions.items() if s), key=lambda r: (-abs(r[1]), r[0]))
    for m, size in rows:
        cps = adl_counterparties(size, [w for w in winners.get(m, ()) if w.account.lower() != account.lower()], limit)
        if cps:
            out.append(Action(DELEVERAGE, account, m, None, shortfall, 0, tuple(cps)))
    if not out and rows:
        out.append(Action(LIQUIDATE_BANKRUPT, account, None, None, shortfall, 0))
    return out


def adl_bucket_of(price: int) -> int:
    """The ADL ranking bucket of a 1e18-scaled price (contracts/modules/adl.vy `_bucket_of`: a
    float with a 7-bit mantissa, 1 + 128 * msb + the next 7 bits)."""
    m = max(price.bit_length() - 1, 0)
    mantissa = (price >> (m - 7)) & 127 if m >= 7 else (price << (7 - m)) & 127
    return 1 + (m << 7) + mantissa


def adl_has_winner(bankrupt_size: int, winners: Iterable[WinnerReading], price: int) -> bool:
    """Whether the market is not exhausted for a bankrupt position of `bankrupt_size` (adl.vy
    `_is_exhausted`): some opposite position in profit ranks at least two buckets beyond the
    oracle price's bucket, so a resolution starting now gives the market a bankruptcy price."""
    at = adl_bucket_of(price)
    long_side = bankrupt_size < 0
    return any(w.bucket and w.profit > 0 and (w.size > 0) == long_side and w.size
               and (w.bucket + 1 < at if long_side else w.bucket > at + 1) for w in winners)


def plan_deleverages(resolutions: Iterable[tuple[str, Mapping[int, int], int]],
                     winners: Mapping[int, Iterable[WinnerReading]], limit: int = 16) -> list:
    """`deleverage_actions` for several resolutions sent one after another in one block, from
    one set of readings: each call's winners are taken off the book as the contract will fill
    them (in list order, each for what the bankrupt position still needs, at most its whole
    size), so a later call never names a winner an earlier call closed; the contract reverts the
    whole call on a named position that is gone ("deleverage: not an opposite position"), and
    with the same readings every call after the first would name the same closed winners. A
    winner left partly open keeps its place (a pro-rata reduction keeps its bucket).
    `resolutions`: (account, {market: size}, shortfall) in sending order."""
    book = {m: list(ws) for m, ws in winners.items()}
    out = []
    for account, positions, shortfall in resolutions:
        acts = deleverage_actions(account, positions, book, shortfall, limit)
        for act in acts:
            if act.kind == DELEVERAGE:
                book[act.market] = _after_fills(book[act.market], act.counterparties, abs(int(positions[act.market])))
        out += acts
    return out


def _after_fills(winners: list, named: Iterable[str], need: int) -> list:
    """The winners of one market after a `deleverage` that closes `need` of a bankrupt position
    against `named` in order (by size: each fill is what is still needed, at most the winner's
    size; its profit shrinks pro rata)."""
    left: dict[str, int] = {}
    by_account = {w.account: w for w in winners}
    for a in named:
        if need <= 0:
            break
        take = min(need, abs(by_account[a].size))
        need -= take
        left[a] = abs(by_account[a].size) - take
    out = []
    for w in winners:
        if w.account not in left:
            out.append(w)
        elif left[w.account] > 0:
            rest = left[w.account]
            out.append(WinnerReading(w.account, rest if w.size > 0 else -rest, w.bucket,
                                     w.profit * rest // abs(w.size)))
    return out


def plan_liquidations(accounts, markets, keeper=None, **kwargs) -> list:
    """`plan(...)` without the skipped list: the ordered actions only."""
    return plan(accounts, markets, keeper, **kwargs).actions


__all__ = [
    "WAD", "LIQUIDATE", "LIQUIDATE_BANKRUPT", "DELEVERAGE", "WinnerReading", "adl_counterparties",
    "deleverage_actions", "plan_deleverages", "adl_bucket_of", "adl_has_winner",
    "MarketReading", "AccountReading", "KeeperState",
    "Action", "Skipped", "Plan", "plan", "plan_liquidations", "notional", "margin_for",
    "takeover_margin_delta", "max_takeover_size",
]
