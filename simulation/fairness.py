"""How a loss policy treated the traders in one run: a small outcome model and the fairness metrics
over it, as pure functions (no chain, no files). `load_outcome` builds the model from a run's
output folder (accounts.csv, events.jsonl, metrics.csv).

Terms (amounts in collateral tokens):
- an account's *profit* w is its profit over the run gross of what the loss policy took from it
  (final equity + withdrawn - deposited + taken); a *winner* has w > 0, every other account is
  *not in profit*;
- *taken* h is what the loss policy took from an account: the haircut it paid (`pro_rata_size`,
  `profit_clawback`, the Settled events), or for `adl` the value its closed positions gave up
  against the oracle price: |size| x |oracle price - fill price| over its Deleveraged fills;
- the *deficit* D is the sum of the Bankruptcy events' deficits, of which the insurance vault paid
  I; the *residual* R = D - I is what was left for the loss policy; a *shortfall* is one
  Bankruptcy event's deficit.

Metrics (`metrics(outcome)` returns them all, keyed as in METRICS):
- deficit D, insurance paid I, taken from winners H_w = sum of h over winners, bad debt;
- resolution_blocks: blocks from the first block with an account at negative equity to the last
  one (inclusive); NaN if the run ended with an account still at negative equity;
- overshoot: what winners lost beyond the residual, max(0, sum over winners of max(h, p) - R),
  where p is the profit their ADL-closed positions carried (0 for haircuts): zero for an exact
  haircut, and for ADL the profit the closed winners gave up beyond the residual (p needs the
  Deleveraged record's optional `profit`; without it ADL is measured by h alone);
- losers_charged: the share of all that was taken that came from accounts not in profit;
- accounts_hit: accounts with h > 0; max_haircut_pct: max over winners of h / w;
  haircut_gini: the Gini coefficient of h over the winners (0: equal amounts; 1: one pays all);
- PTSR and PMR as in T. Chitra, "Autodeleveraging: Impossibilities and Optimization" (2025),
  here: PTSR = max over winners of (w - h) / D, the largest winner's profit left after the
  resolution over the deficit, and PMR = max over winners of (w - h) / (the largest single
  shortfall). A policy that spares the largest winner has the higher ratio;
- oi_closed: open interest (base-asset size) the policy closed; ADL closes positions, haircuts
  close none;
- what happened next: later_bankruptcies (Bankruptcy events after the block of the first one),
  vault_recovery (the vault's assets at the end over its assets in the block before the first
  bankruptcy), stakers_left (stakers who asked to redeem from the first bankruptcy on) and
  traders_left (traders who withdrew and left at most 1 % of their deposits behind, bankrupt
  accounts excluded).
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

WAD = 10**18
TRADER_KINDS = ("noise_trader", "momentum_trader")
LEFT_EQUITY_SHARE = 0.01  # a trader "left" if it withdrew and kept at most this share of its deposits
EPS = 1e-9                # amounts below this (tokens) count as zero


@dataclass(frozen=True)
class AccountOutcome:
    """One Clearinghouse account at the end of a run."""

    account: str
    kind: str
    profit: float       # w: profit over the run gross of what the policy took
    taken: float = 0.0  # h: what the loss policy took from it (>= 0)
    left: bool = False  # a trader that cashed out (see TRADER_KINDS / LEFT_EQUITY_SHARE)
    closed_profit: float = 0.0  # adl: unrealized profit of the positions the policy closed (0 if unknown)

    @property
    def winner(self) -> bool:
        """In profit (before the policy took anything)."""
        return self.profit > EPS

    @property
    def lost(self) -> float:
        """What the policy cost it: the amount taken, or for positions closed by ADL the profit
        they carried, whichever is larger."""
        return max(self.taken, self.closed_profit)

    @property
    def profit_after(self) -> float:
        """Profit left after the policy took its share."""
        return self.profit - self.taken


@dataclass(frozen=True)
class Resolution:
    """One Bankruptcy event (amounts in tokens)."""

    block: int
    account: str
    deficit: float
    insurance_paid: float
    socialized: float
    bad_debt: float


@dataclass(frozen=True)
class BlockPoint:
    """One block of the run's metrics."""

    block: int
    price: float                      # the first market's oracle price
    pending_deficit: float = 0.0      # sum of negative equities after the block
    share_price: float | None = None  # vault assets per share (None while nobody holds shares)
    open_interest: float = 0.0        # summed over markets (base-asset units)
    vault_assets: float | None = None  # the insurance vault's assets (tokens)


@dataclass(frozen=True)
class RunOutcome:
    """What one run under one loss policy produced."""

    policy: str
    seed: int
    accounts: tuple[AccountOutcome, ...]
    resolutions: tuple[Resolution, ...]
    timeline: tuple[BlockPoint, ...] = ()
    oi_closed: float = 0.0  # base-asset size closed by the policy (ADL fills)
    stakers_left: int = 0


# -- elementary metrics ---------------------------------------------------------------------------

def deficit(o: RunOutcome) -> float:
    """D: the sum of the Bankruptcy events' deficits."""
    return sum(r.deficit for r in o.resolutions)


def insurance_paid(o: RunOutcome) -> float:
    """I: what the insurance vault paid."""
    return sum(r.insurance_paid for r in o.resolutions)


def bad_debt(o: RunOutcome) -> float:
    """What nobody could be charged for."""
    return sum(r.bad_debt for r in o.resolutions)


def residual(o: RunOutcome) -> float:
    """R = D - I: the deficit left for the loss policy."""
    return deficit(o) - insurance_paid(o)


def winners(o: RunOutcome) -> list[AccountOutcome]:
    """The accounts in profit before the policy took anything."""
    return [a for a in o.accounts if a.winner]


def taken_total(o: RunOutcome) -> float:
    """Everything the policy took, from winners and from the rest."""
    return sum(a.taken for a in o.accounts)


def taken_from_winners(o: RunOutcome) -> float:
    """H_w: what the policy took from winners."""
    return sum(a.taken for a in winners(o))


def overshoot(o: RunOutcome) -> float:
    """What winners lost beyond the residual: max(0, sum of `lost` over winners - R); with
    haircuts `lost` is what was taken, so an exact haircut has none."""
    return max(0.0, sum(a.lost for a in winners(o)) - residual(o))


def losers_charged(o: RunOutcome) -> float:
    """The share of all that was taken that came from accounts not in profit (0 if nothing was taken)."""
    total = taken_total(o)
    if total <= EPS:
        return 0.0
    return sum(a.taken for a in o.accounts if not a.winner) / total


def accounts_hit(o: RunOutcome) -> int:
    """Accounts the policy took something from."""
    return sum(1 for a in o.accounts if a.taken > EPS)


def max_haircut_share(o: RunOutcome) -> float:
    """The largest h / w over winners (1.0 = a winner lost all its profit; 0 without winners)."""
    return max((a.taken / a.profit for a in winners(o)), default=0.0)


def gini(values: Iterable[float]) -> float:
    """Gini coefficient of non-negative amounts: sum_ij |x_i - x_j| / (2 n^2 mean); 0 for an
    empty or all-zero list."""
    xs = sorted(float(v) for v in values)
    n = len(xs)
    total = sum(xs)
    if n == 0 or total <= EPS:
        return 0.0
    # sum_ij |x_i - x_j| = 2 sum_i (2i - n + 1) x_(i) over the sorted values (i from 0)
    pair_sum = 2 * sum((2 * i - n + 1) * x for i, x in enumerate(xs))
    return pair_sum / (2 * n * total)


def lorenz(values: Iterable[float]) -> tuple[list[float], list[float]]:
    """The Lorenz curve of the amounts: (population share, cumulative share of the total), both
    from 0 to 1, smallest amounts first."""
    xs = sorted(float(v) for v in values)
    n = len(xs)
    total = sum(xs)
    if n == 0 or total <= EPS:
        return [0.0, 1.0], [0.0, 1.0]
    pop, cum, acc = [0.0], [0.0], 0.0
    for i, x in enumerate(xs, 1):
        acc += x
        pop.append(i / n)
        cum.append(acc / total)
    return pop, cum


def haircut_gini(o: RunOutcome) -> float:
    """Gini coefficient of what was taken from each winner (winners who paid nothing included)."""
    return gini(a.taken for a in winners(o))


def largest_profit_after(o: RunOutcome) -> float:
    """The largest winner's profit after the resolution (0 without winners)."""
    return max((a.profit_after for a in winners(o)), default=0.0)


def largest_shortfall(o: RunOutcome) -> float:
    """The largest single Bankruptcy deficit."""
    return max((r.deficit for r in o.resolutions), default=0.0)


def ptsr(o: RunOutcome) -> float:
    """Profit-to-shortfall ratio (Chitra 2025), as implemented here: the largest winner's profit
    after the resolution over the total deficit D; NaN without a deficit."""
    d = deficit(o)
    return largest_profit_after(o) / d if d > EPS else math.nan


def pmr(o: RunOutcome) -> float:
    """Profit-to-max-shortfall ratio (Chitra 2025), as implemented here: the largest winner's
    profit after the resolution over the largest single shortfall; NaN without a deficit."""
    s = largest_shortfall(o)
    return largest_profit_after(o) / s if s > EPS else math.nan


def resolution_blocks(o: RunOutcome) -> float:
    """Blocks from the first block with an account at negative equity to the last one, both
    included (0 if no account ever was; NaN if one still was when the run ended)."""
    pending = [p.block for p in o.timeline if p.pending_deficit > EPS]
    if not pending:
        return 0.0
    if o.timeline[-1].pending_deficit > EPS:
        return math.nan
    return float(pending[-1] - pending[0] + 1)


def first_resolution_block(o: RunOutcome) -> int | None:
    """Block of the first Bankruptcy event (None without one)."""
    return min((r.block for r in o.resolutions), default=None)


def later_bankruptcies(o: RunOutcome) -> int:
    """Bankruptcy events in blocks after the first one's."""
    first = first_resolution_block(o)
    return 0 if first is None else sum(1 for r in o.resolutions if r.block > first)


def vault_recovery(o: RunOutcome) -> float:
    """The insurance vault's assets at the end over its assets in the last block before the
    first bankruptcy (1.0: the backstop is as large as before; below 1: what payouts and stakers
    leaving took away, net of the fees earned since); NaN without a bankruptcy."""
    first = first_resolution_block(o)
    if first is None:
        return math.nan
    before = [p.vault_assets for p in o.timeline if p.block < first and p.vault_assets is not None]
    after = [p.vault_assets for p in o.timeline if p.vault_assets is not None]
    if not before or not after or before[-1] <= 0:
        return math.nan
    return after[-1] / before[-1]


def traders_left(o: RunOutcome) -> int:
    """Traders that cashed out (AccountOutcome.left)."""
    return sum(1 for a in o.accounts if a.left)


# -- all of them ----------------------------------------------------------------------------------

# key, label for tables and plots
METRICS: tuple[tuple[str, str], ...] = (
    ("deficit", "deficit"),
    ("insurance_paid", "insurance paid"),
    ("taken_from_winners", "taken from winners"),
    ("bad_debt", "bad debt"),
    ("resolution_blocks", "blocks to full resolution"),
    ("overshoot", "overshoot"),
    ("losers_charged", "losers charged (share)"),
    ("accounts_hit", "accounts hit"),
    ("max_haircut_pct", "max haircut (% of profit)"),
    ("haircut_gini", "Gini of haircuts (winners)"),
    ("ptsr", "PTSR"),
    ("pmr", "PMR"),
    ("oi_closed", "open interest closed"),
    ("later_bankruptcies", "later bankruptcies"),
    ("vault_recovery", "vault recovery (assets)"),
    ("stakers_left", "stakers who left"),
    ("traders_left", "traders who left"),
)
METRIC_KEYS = tuple(k for k, _ in METRICS)


def metrics(o: RunOutcome) -> dict[str, float]:
    """Every metric of one run, keyed as in METRICS."""
    return {
        "deficit": deficit(o),
        "insurance_paid": insurance_paid(o),
        "taken_from_winners": taken_from_winners(o),
        "bad_debt": bad_debt(o),
        "resolution_blocks": resolution_blocks(o),
        "overshoot": overshoot(o),
        "losers_charged": losers_charged(o),
        "accounts_hit": float(accounts_hit(o)),
        "max_haircut_pct": 100.0 * max_haircut_share(o),
        "haircut_gini": haircut_gini(o),
        "ptsr": ptsr(o),
        "pmr": pmr(o),
        "oi_closed": o.oi_closed,
        "later_bankruptcies": float(later_bankruptcies(o)),
        "vault_recovery": vault_recovery(o),
        "stakers_left": float(o.stakers_left),
        "traders_left": float(traders_left(o)),
    }


# -- from a run's output folder -------------------------------------------------------------------

class OutcomeError(ValueError):
    """A run folder lacks a file the comparison needs, or a file is malformed (one line)."""


def _float(text: str) -> float | None:
    return None if text in ("", None) else float(text)


def read_metrics_rows(path: Path) -> list[dict[str, str]]:
    """metrics.csv as a list of rows (strings)."""
    try:
        with open(path, newline="") as fh:
            return list(csv.DictReader(fh))
    except OSError as exc:
        raise OutcomeError(f"{path}: {exc.strerror}") from None


def read_events(path: Path) -> list[dict]:
    """events.jsonl as a list of dicts."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise OutcomeError(f"{path}: {exc.strerror}") from None
    try:
        return [json.loads(line) for line in lines if line.strip()]
    except json.JSONDecodeError as exc:
        raise OutcomeError(f"{path}: not JSON lines: {exc}") from None


def adl_taken(events: Sequence[dict], metric_rows: Sequence[dict[str, str]],
              decimals: int = 6) -> tuple[dict[str, float], float, dict[str, float]]:
    """From Deleveraged(account, counterparty, market, size, price) events: per counterparty the
    value its fills gave up against the oracle price of that block (tokens), the total size
    closed (base-asset units), and per counterparty the unrealized profit of the closed size if
    the record carries it (`profit`, base units). Size and price are 1e18-scaled as on chain."""
    markets = [k[len("oracle_"):] for k in (metric_rows[0].keys() if metric_rows else ()) if k.startswith("oracle_")]
    oracle = {int(r["block"]): r for r in metric_rows}
    taken: dict[str, float] = {}
    closed = 0.0
    closed_profit: dict[str, float] = {}
    for e in events:
        if e.get("event") != "Deleveraged":
            continue
        size = abs(int(e["size"])) / WAD
        price = int(e["price"]) / WAD
        row = oracle.get(int(e["block"]))
        m = int(e.get("market", 0))
        if row is None or m >= len(markets):
            raise OutcomeError(f"Deleveraged at block {e['block']} in market {m}: no oracle price in metrics.csv")
        mark = float(row[f"oracle_{markets[m]}"])
        who = e["counterparty"]
        taken[who] = taken.get(who, 0.0) + size * abs(mark - price)
        if e.get("profit") is not None:
            closed_profit[who] = closed_profit.get(who, 0.0) + int(e["profit"]) / 10**decimals
        closed += size
    return taken, closed, closed_profit


def load_outcome(run_dir: Path | str, *, policy: str, seed: int, decimals: int = 6) -> RunOutcome:
    """The outcome model of one run from its folder: accounts.csv (account, kind, deposited,
    withdrawn, equity, profit, haircut [, haircut_adl: the ADL part already in haircut]; tokens), events.jsonl
    (Bankruptcy, RedeemRequest and,
    for `adl`, Deleveraged; base units) and metrics.csv (block, oracle_<market>, pending_deficit,
    vault_share_price, vault_assets, open_interest_<market>)."""
    run_dir = Path(run_dir)
    d = 10**decimals
    events = read_events(run_dir / "events.jsonl")
    rows = read_metrics_rows(run_dir / "metrics.csv")
    resolutions = tuple(
        Resolution(int(e["block"]), e["account"], int(e["deficit"]) / d, int(e["insurance_paid"]) / d,
                   int(e["socialized"]) / d, int(e["bad_debt"]) / d)
        for e in events if e.get("event") == "Bankruptcy")
    bankrupt = {r.account for r in resolutions}
    adl, closed, adl_profit = adl_taken(events, rows, decimals)
    accounts = []
    path = run_dir / "accounts.csv"
    try:
        with open(path, newline="") as fh:
            for a in csv.DictReader(fh):
                # a simulation run's haircut already holds the ADL concession (haircut_adl is its
                # share); a folder without that column gets it from the Deleveraged records
                taken = float(a["haircut"]) + (0.0 if "haircut_adl" in a else adl.get(a["account"], 0.0))
                deposited, withdrawn, equity = float(a["deposited"]), float(a["withdrawn"]), float(a["equity"])
                left = (a["kind"] in TRADER_KINDS and a["account"] not in bankrupt and withdrawn > 0
                        and equity <= LEFT_EQUITY_SHARE * deposited)
                accounts.append(AccountOutcome(a["account"], a["kind"], float(a["profit"]) + taken, taken, left,
                                               adl_profit.get(a["account"], 0.0)))
    except OSError as exc:
        raise OutcomeError(f"{path}: {exc.strerror}") from None
    except (KeyError, ValueError) as exc:
        raise OutcomeError(f"{path}: malformed ({exc})") from None
    markets = [k[len("oracle_"):] for k in (rows[0].keys() if rows else ()) if k.startswith("oracle_")]
    timeline = tuple(
        BlockPoint(int(r["block"]), float(r[f"oracle_{markets[0]}"]) if markets else math.nan,
                   float(r.get("pending_deficit") or 0.0), _float(r.get("vault_share_price", "")),
                   sum(float(r[f"open_interest_{m}"]) for m in markets
                       if r.get(f"open_interest_{m}") not in (None, "")),
                   _float(r.get("vault_assets", "")))
        for r in rows)
    first = min((r.block for r in resolutions), default=None)
    stakers = {e.get("owner") for e in events if e.get("event") == "RedeemRequest" and e.get("agent") != "attacker"
               and first is not None and int(e["block"]) >= first}
    return RunOutcome(policy, seed, tuple(accounts), resolutions, timeline, closed, len(stakers))
