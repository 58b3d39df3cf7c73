"""The protocol's invariants (DESIGN.md), recomputed independently from on-chain reads after
every block. Pure: give it Readings (and the block's decoded events), get Violations back."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from .liquidation_policy import adl_bucket_of
from .scenario import InvariantConfig

WAD = 10**18


@dataclass
class AccountReading:
    collateral: int
    equity: int
    initial_margin: int
    maintenance_margin: int
    positions: tuple[int, ...]


@dataclass
class Readings:
    """Everything read from the chain after one block (token base units, 1e18 prices/sizes)."""

    block: int
    timestamp: int
    ch_balance: int                     # token.balanceOf(clearinghouse)
    treasury: int
    bad_debt: int
    open_interest: tuple[int, ...]
    index_prices: tuple[int, ...]
    socialized_loss: tuple[int, ...]
    accounts: dict[str, AccountReading]
    vault_total_assets: int
    vault_total_supply: int
    vault_balance: int                  # token.balanceOf(vault)
    share_price: float                  # assets per whole share (token units)
    wallets: dict[str, int] = field(default_factory=dict)
    vault_shares: dict[str, int] = field(default_factory=dict)     # wallet balances (requests excluded)
    # redeem_request(controller): (shares, assets, claimable_from, claimable_until)
    vault_requests: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    vault_open_losses: int = 0
    vault_flagged: frozenset[str] = frozenset()
    policy_excess: int = 0              # profit_clawback: Σ policy_excess(account), not yet settled


@dataclass
class Event:
    """A decoded log with the transaction that emitted it."""

    name: str
    args: dict[str, Any]
    contract: str = ""
    tx_label: str = ""
    agent: str = ""
    subject: str = ""  # the account the emitting transaction acted on (liquidations), if any


@dataclass
class Violation:
    check: str
    expected: str
    actual: str
    detail: str = ""

    def to_dict(self) -> dict:
        return {"check": self.check, "expected": self.expected, "actual": self.actual, "detail": self.detail}


@dataclass
class BlockFlags:
    """Facts about the block the engine knows (not read from the chain)."""

    donated_to_vault: bool = False


class InvariantChecker:
    """Checks one block at a time; keeps only what it needs across blocks."""

    def __init__(self, config: InvariantConfig, imrs: Sequence[float], mmrs: Sequence[float], decimals: int = 6):
        self.cfg = config
        self.imrs = list(imrs)
        self.mmrs = list(mmrs)
        self.decimals = decimals
        self.negative_since: dict[str, int] = {}
        self.donations = False
        self.vault_max_cover_ratio: int | None = None  # 1e18; set from the deployed vault
        self.vault_min_reserve: int = 0
        # adl: a resolution's Cover comes with its start, its Bankruptcy with its end (later calls)
        self.open_covers: dict[str, dict] = {}
        self.policy = "pro_rata_size"  # the deployment's loss policy (set by the engine)
        # adl: last block's reads, set by the engine before `check` (bankruptcy prices of the
        # accounts under resolution; (bucket, profit) of every open position)
        self.adl_prev_prices: dict[tuple[str, int], int] = {}
        self.adl_prev_rank: dict[tuple[str, int], tuple[int, int]] = {}
        # profit_clawback: running sums (base units) of the residual charged (ProfitClawedBack),
        # the charges settled (Settled.haircut) and the excess of clamped positions (Settled.excess)
        self.pc_residual = self.pc_charged = self.pc_excess = self.pc_settles = 0

    # -- helpers ------------------------------------------------------------------------------
    def _notional(self, size: int, price: int) -> int:
        return abs(size) * price // 10 ** (36 - self.decimals)

    def _mm_at(self, a: AccountReading, prices: Sequence[int]) -> float:
        return sum(self._notional(p, px) * mmr for p, px, mmr in zip(a.positions, prices, self.mmrs))

    def _im_at(self, a: AccountReading, prices: Sequence[int]) -> float:
        return sum(self._notional(p, px) * imr for p, px, imr in zip(a.positions, prices, self.imrs))

    def _equity_at(self, a: AccountReading, old: Sequence[int], new: Sequence[int]) -> float:
        """Equity re-marked from old to new index prices (funding drift ignored: covered by tolerance)."""
        return a.equity + sum(p * (n - o) / 10 ** (36 - self.decimals) for p, o, n in zip(a.positions, old, new))

    # -- the checks ---------------------------------------------------------------------------
    def check(self, cur: Readings, prev: Readings | None, events: Sequence[Event] = (),
              flags: BlockFlags | None = None) -> list[Violation]:
        flags = flags or BlockFlags()
        v: list[Violation] = []
        v += self.conservation(cur)
        v += self.balanced_book(cur)
        v += self.solvency(cur)
        v += self.waterfall(cur, prev, events)
        v += self.liquidations(cur, prev, events)
        v += self.vault(cur, prev, events, flags)
        if self.policy == "profit_clawback":
            v += self.profit_clawback(events)
        elif self.policy == "adl":
            v += self.adl(cur, prev, events)
        return v

    # -- per loss policy (DESIGN.md invariant 7) ----------------------------------------------
    def profit_clawback(self, events: Sequence[Event]) -> list[Violation]:
        """h <= 1 per event (amount <= the side's profit); a settled position is either charged
        (in profit) or clamped (its excess goes to the vault), never both: no charge without
        profit. The sums feed `final` (total charged = residual + excess + rounding)."""
        out = []
        for e in events:
            a = e.args
            if e.name == "ProfitClawedBack":
                self.pc_residual += a["amount"]
                if a["amount"] > a["side_profit"]:
                    out.append(Violation("profit_clawback.h_le_1", "amount <= side_profit (h <= 1)",
                                         f"amount {a['amount']} side_profit {a['side_profit']}", f"market {a['market']}"))
            elif e.name == "Settled" and e.contract == "Clearinghouse":
                if a["haircut"] or a["excess"]:
                    self.pc_settles += 1
                self.pc_charged += a["haircut"]
                self.pc_excess += a["excess"]
                if a["haircut"] > 0 and a["excess"] > 0:
                    out.append(Violation("profit_clawback.no_charge_without_profit",
                                         "a position is charged (in profit) or clamped (not in profit), not both",
                                         f"haircut {a['haircut']} excess {a['excess']}",
                                         f"account {a['account']} market {a['market']}"))
        return out

    def final(self, events: Sequence[Event] = ()) -> list[Violation]:
        """After every account was settled (the run's last block): for profit_clawback, total
        charged - residual - excess in [0, 2 base units per settled position] (the README /
        NatSpec bound: the side pays the residual plus h x the losers' loss, which is what the
        clamped positions' excess sums to, plus rounding below 2 base units per position)."""
        out = []
        if self.policy == "profit_clawback":
            out += self.profit_clawback(events)
            gap = self.pc_charged - self.pc_excess - self.pc_residual
            bound = 2 * self.pc_settles + self.cfg.dust_per_account
            if gap < 0 or gap > bound:
                out.append(Violation("profit_clawback.total_charged",
                                     f"residual <= charged - excess <= residual + {bound}",
                                     f"charged {self.pc_charged} excess {self.pc_excess} residual {self.pc_residual}"))
        return out

    def adl(self, cur: Readings, prev: Readings | None, events: Sequence[Event]) -> list[Violation]:
        """Every Deleveraged fill at the account's bankruptcy price (when the resolution started
        in an earlier block), against an opposite-side winner, from the best bucket: no position
        of that side ranked better last block (longs: lower bucket, shorts: higher), in profit,
        is left untouched this block."""
        out = []
        fills = [e.args for e in events if e.name == "Deleveraged"]
        if not fills or prev is None:
            return out
        filled = {(a["counterparty"], a["market"]) for a in fills}
        for a in fills:
            acc, cp, m = a["account"], a["counterparty"], a["market"]
            who = f"account {acc} counterparty {cp} market {m}"
            bp = self.adl_prev_prices.get((acc, m))
            if bp is not None and a["price"] != bp:
                out.append(Violation("adl.bankruptcy_price", f"fill at the bankruptcy price {bp}", str(a["price"]), who))
            before = prev.accounts.get(acc)
            cpb = prev.accounts.get(cp)
            side = before.positions[m] if before is not None else 0
            cps = cpb.positions[m] if cpb is not None else 0
            if side and cps and (side > 0) == (cps > 0):
                out.append(Violation("adl.opposite_side", "the counterparty holds the opposite side",
                                     f"bankrupt {side} counterparty {cps}", who))
            rank = self.adl_prev_rank.get((cp, m))
            if rank is None or not cps:
                continue
            long_side = cps > 0
            for (y, my), (bucket, profit) in self.adl_prev_rank.items():
                if my != m or y in (cp, acc) or (y, m) in filled or bucket == 0 or profit <= 0:
                    continue
                yb, yc = prev.accounts.get(y), cur.accounts.get(y)
                if yb is None or yc is None or yb.positions[m] != yc.positions[m] or (yb.positions[m] > 0) != long_side:
                    continue
                if (bucket < rank[0]) if long_side else (bucket > rank[0]):
                    out.append(Violation("adl.ranking", "winners are taken from the best bucket first",
                                         f"{cp} (bucket {rank[0]}) filled while {y} (bucket {bucket}) was not", who))
                    break
        return out

    def adl_bad_debt(self, cur: Readings, prev: Readings | None, takeovers: Sequence[dict], bad: int,
                     who: str) -> list[Violation]:
        """`waterfall.bad_debt_only_when_nobody_can_pay` under adl. ADL's winners are opposite
        positions in profit, and an account's deficit goes to bad debt only for what the keeper
        took at the oracle price once its market's winners were exhausted: no ranked opposite
        position at least two buckets (>= one bucket width, 0.39-0.78 %) beyond the oracle
        price's bucket, the contract's rule (adl._is_exhausted). Opposite size as such proves
        nothing: shorts opened after a crash, or winners re-based at the oracle once a fill spent
        their profit, hold size without profit. So a violation is a takeover (BankruptcyTakeover
        of the resolution's last transaction) while some account not under resolution held an
        opposite position the contract would have accepted: ranked at least two buckets beyond
        the takeover price with a profit at the last read (`adl_prev_rank`) and unchanged since
        (neither filled nor closed this block)."""
        out = []
        if prev is None:
            return out
        for t in takeovers:
            m = t["market"]
            long_side = t["size"] < 0  # the winners' side
            at = adl_bucket_of(t["price"])
            for (y, my), (bucket, profit) in self.adl_prev_rank.items():
                if my != m or y == t["account"] or bucket == 0 or profit <= 0:
                    continue
                beyond = bucket + 1 < at if long_side else bucket > at + 1
                yb, yc = prev.accounts.get(y), cur.accounts.get(y)
                if not beyond or yb is None or yc is None or yb.positions[m] != yc.positions[m] \
                        or yc.positions[m] == 0 or (yc.positions[m] > 0) != long_side:
                    continue
                out.append(Violation("waterfall.bad_debt_only_when_nobody_can_pay",
                                     f"bad_debt only when market {m} has no winner ADL would accept",
                                     f"bad_debt {bad} while {y} (bucket {bucket}, price bucket {at}, profit {profit}) "
                                     f"held {yc.positions[m]}", who))
                break
        return out

    def conservation(self, r: Readings) -> list[Violation]:
        """balanceOf(ch) + bad_debt - treasury - sum(equity) - Σ policy_excess in [0, dust] (the
        profit_clawback excess of clamped positions is owed to the vault until they settle)."""
        total_eq = sum(a.equity for a in r.accounts.values())
        slack = r.ch_balance + r.bad_debt - r.treasury - total_eq - r.policy_excess
        dust = self.cfg.dust_per_account * max(1, len(r.accounts)) + self.cfg.dust_per_block * max(0, r.block)
        if slack < 0 or slack > dust:
            return [Violation("conservation", f"0 <= balance + bad_debt - treasury - sum(equity) <= {dust}",
                              str(slack), f"balance={r.ch_balance} bad_debt={r.bad_debt} treasury={r.treasury} "
                              f"sum_equity={total_eq} policy_excess={r.policy_excess} accounts={len(r.accounts)}")]
        return []

    def balanced_book(self, r: Readings) -> list[Violation]:
        out = []
        for m, oi in enumerate(r.open_interest):
            longs = sum(a.positions[m] for a in r.accounts.values() if a.positions[m] > 0)
            shorts = -sum(a.positions[m] for a in r.accounts.values() if a.positions[m] < 0)
            if not (longs == shorts == oi):
                out.append(Violation("balanced_book", f"market {m}: sum(long) == sum(short) == open_interest",
                                     f"long={longs} short={shorts} open_interest={oi}"))
        return out

    def solvency(self, r: Readings) -> list[Violation]:
        """Σ max(0, equity) <= balance - treasury + bad_debt once no account is left with negative
        equity (between a price move and the liquidators' action, a bankrupt account's deficit is
        pending: then conservation, checked separately, is the identity that must hold). With
        `negative_equity_grace_blocks` set, an account left negative longer is a violation."""
        out = []
        pos_eq = sum(max(0, a.equity) for a in r.accounts.values())
        cap = r.ch_balance - r.treasury + r.bad_debt
        pending = sum(-a.equity for a in r.accounts.values() if a.equity < 0)
        if pending == 0 and pos_eq > cap:
            out.append(Violation("solvency", f"sum(max(0, equity)) <= balance - treasury + bad_debt = {cap}",
                                 str(pos_eq)))
        for addr, a in r.accounts.items():
            if a.equity < 0:
                self.negative_since.setdefault(addr, r.block)
            else:
                self.negative_since.pop(addr, None)
        g = self.cfg.negative_equity_grace_blocks
        if g is not None:
            for addr, since in self.negative_since.items():
                if r.block - since > g:
                    out.append(Violation("solvency.negative_equity_left",
                                         f"no account left with negative equity more than {g} blocks",
                                         f"{addr} negative since block {since}"))
        return out

    def waterfall(self, cur: Readings, prev: Readings | None, events: Sequence[Event]) -> list[Violation]:
        out = []
        bks = [e for e in events if e.name == "Bankruptcy"]
        ev_bad = ev_soc = 0
        vault_before = prev.vault_total_assets if prev else cur.vault_total_assets  # fallback only
        covers = {e.args.get("tx"): e.args for e in events if e.name == "Cover"}
        bk_txs = {e.args.get("tx") for e in bks}
        for e in events:  # a resolution started but not ended in this transaction (adl)
            if e.name == "Cover" and e.args.get("tx") not in bk_txs and e.subject:
                self.open_covers[e.subject] = e.args
        takeovers: dict[Any, list[dict]] = {}
        for e in events:
            if e.name == "BankruptcyTakeover":
                takeovers.setdefault(e.args.get("tx"), []).append(e.args)
        for e in bks:
            a = e.args
            d, ins, soc, bad = a["deficit"], a["insurance_paid"], a["socialized"], a["bad_debt"]
            ev_bad += bad
            ev_soc += soc
            who = f"account {a['account']}"
            if ins + soc + bad != d:
                out.append(Violation("waterfall.split", f"insurance + socialized + bad_debt == deficit ({d})",
                                     str(ins + soc + bad), who))
            cover = covers.get(a.get("tx"))
            started = self.open_covers.pop(a["account"], None)
            if cover is None:
                cover = started
            if cover is not None:
                before = cover["total_assets"] + cover["paid"]
                if ins > before or ins > cover["paid"]:
                    out.append(Violation("waterfall.insurance",
                                         f"insurance_paid <= what the vault paid ({cover['paid']}) <= its assets ({before})",
                                         str(ins), who))
            elif ins > 0:
                out.append(Violation("waterfall.insurance", "insurance is paid only through the vault's cover",
                                     f"insurance_paid {ins} without a Cover event", who))
            if d > 0 and (soc + bad) > 0:
                if cover is None:
                    if vault_before > 0:
                        out.append(Violation("waterfall.order", "the insurance vault is asked before anyone is haircut",
                                             f"socialized={soc} bad_debt={bad} with no Cover call",
                                             f"{who}, vault assets {vault_before}"))
                else:
                    before = cover["total_assets"] + cover["paid"]
                    d0 = d
                    if self.policy == "adl" and soc == 0 and cover is started:
                        # a resolution started in an earlier transaction whose winners paid
                        # nothing: its Bankruptcy deficit is insurance + bad debt, above the
                        # deficit at the start by what the oracle's move since cost the keeper's
                        # take-over at the oracle; the start's deficit is what the vault was asked
                        d0 = min(d, cover["requested"])
                    if cover["requested"] < d0:
                        out.append(Violation("waterfall.order", f"the vault is asked for the whole deficit ({d0})",
                                             f"requested {cover['requested']}", who))
                    elif self.vault_max_cover_ratio is not None:
                        limit = before * self.vault_max_cover_ratio // WAD
                        limit = min(limit, before - self.vault_min_reserve) if before > self.vault_min_reserve else 0
                        if min(cover["paid"], d0) < min(limit, d0):
                            out.append(Violation("waterfall.order",
                                                 f"the vault pays its limit ({min(limit, d0)}) before any haircut",
                                                 f"paid {cover['paid']} then socialized {soc}, bad debt {bad}", who))
            if bad > 0 and self.policy == "adl":
                out += self.adl_bad_debt(cur, prev, takeovers.get(a.get("tx"), []), bad, who)
            elif bad > 0:
                for t in takeovers.get(a.get("tx"), []):
                    if t.get("loss", 0) > 0 and t["market"] < len(cur.open_interest):
                        m = t["market"]
                        opposite = sum(-x.positions[m] if t["size"] > 0 else x.positions[m]
                                       for x in cur.accounts.values()
                                       if (x.positions[m] < 0 if t["size"] > 0 else x.positions[m] > 0))
                        if opposite > 0:
                            out.append(Violation("waterfall.bad_debt_only_when_nobody_can_pay",
                                                 f"bad_debt only when market {m} has no opposite open interest",
                                                 f"bad_debt {bad} with opposite-side size {opposite}", who))
        repaid = sum(e.args["amount"] for e in events if e.name == "BadDebtRepaid")
        if self.policy == "adl":  # socialized_loss counts each fill's concession against the oracle
            scale = 10 ** (36 - self.decimals)
            fills = [e.args for e in events if e.name == "Deleveraged"]
            ev_soc = max(0, sum(abs(a["size"]) * abs(cur.index_prices[a["market"]] - a["price"]) // scale
                                for a in fills) - 2 * len(fills))  # the contract rounds each fill's notional
        if prev is not None:
            d_bad = cur.bad_debt - prev.bad_debt
            if d_bad != ev_bad - repaid:
                out.append(Violation("waterfall.bad_debt", f"bad_debt grows only by Bankruptcy events (+{ev_bad}), less BadDebtRepaid ({repaid})",
                                     f"+{d_bad}"))
            d_soc = sum(cur.socialized_loss) - sum(prev.socialized_loss)
            dust = self.cfg.dust_per_account * max(1, len(cur.accounts)) * max(1, len(bks))
            if d_soc < 0 or d_soc > ev_soc + dust or (ev_soc > 0 and d_soc < ev_soc):
                out.append(Violation("waterfall.haircut",
                                     f"socialized_loss grows by the socialized residual ({ev_soc}, + rounding <= {dust})",
                                     f"+{d_soc}"))
        return out

    def liquidations(self, cur: Readings, prev: Readings | None, events: Sequence[Event]) -> list[Violation]:
        """No healthy account liquidated (re-marked to this block's prices); liquidator >= IM after."""
        out = []
        if prev is None:
            return out
        tol = self.cfg.liquidation_tolerance
        liquidators = set()
        for e in events:
            if e.name not in ("Liquidation", "Bankruptcy"):
                continue
            acct = e.args["account"]
            a = prev.accounts.get(acct)
            if a is None:
                continue
            eq = self._equity_at(a, prev.index_prices, cur.index_prices)
            mm = self._mm_at(a, cur.index_prices)
            if e.name == "Liquidation":
                liquidators.add(e.args["liquidator"])
                if eq > mm * (1 + tol) + 1 + tol * abs(eq):
                    out.append(Violation("no_healthy_liquidation", "equity < maintenance margin when liquidated",
                                         f"equity~{eq:.0f} maintenance~{mm:.0f}", f"account {acct}"))
            else:
                bound = tol * (mm + abs(a.equity)) + 1
                if eq > bound:
                    out.append(Violation("no_healthy_liquidation", "equity < 0 when liquidated as bankrupt",
                                         f"equity~{eq:.0f}", f"account {acct}"))
        for liq in liquidators:
            a = cur.accounts.get(liq)
            if a is not None and a.equity < a.initial_margin * (1 - tol) - 1:
                out.append(Violation("liquidator_margin", "liquidator meets initial margin after liquidating",
                                     f"equity={a.equity} initial_margin={a.initial_margin}", f"liquidator {liq}"))
        return out

    def vault(self, cur: Readings, prev: Readings | None, events: Sequence[Event], flags: BlockFlags) -> list[Violation]:
        out = []
        self.donations = self.donations or flags.donated_to_vault
        if cur.vault_balance < cur.vault_total_assets or (not self.donations and cur.vault_balance != cur.vault_total_assets):
            out.append(Violation("vault.assets", "vault totalAssets == token.balanceOf(vault) (donations aside)",
                                 f"totalAssets={cur.vault_total_assets} balance={cur.vault_balance}"))
        if prev is not None and prev.share_price > 0 and cur.vault_total_supply > 0:
            paid = any(e.name in ("Cover",) and e.args.get("paid", 0) > 0 for e in events) or \
                any(e.name == "Bankruptcy" and e.args["insurance_paid"] > 0 for e in events) or \
                any(e.name == "KeeperRewarded" for e in events)
            drop = (prev.share_price - cur.share_price) / prev.share_price
            if drop > 1e-9 and not paid:
                out.append(Violation("vault.share_price", "share price falls only through cover",
                                     f"{prev.share_price:.9f} -> {cur.share_price:.9f}"))
            earned = any(e.name == "Revenue" and e.args.get("amount", 0) > 0 for e in events) or \
                any(e.name == "RedeemSettled" and e.args.get("forfeited", 0) > 0 for e in events)
            if -drop > 1e-6 and not earned:
                out.append(Violation("vault.share_price", "share price rises only through revenue",
                                     f"{prev.share_price:.9f} -> {cur.share_price:.9f} with no Revenue event"))
        out += self.vault_claims(cur, prev, events)
        return out

    def vault_claims(self, cur: Readings, prev: Readings | None, events: Sequence[Event]) -> list[Violation]:
        """Every claim (RedeemSettled) is of a request that was inside its claim window at the block's
        timestamp (the request as read after the previous block, updated by this block's
        RedeemScheduled events in order), and none succeeds while a flagged loss is open."""
        out = []
        windows = {a: (q[2], q[3]) for a, q in (prev.vault_requests if prev else {}).items() if q[0] > 0}
        open_losses = prev.vault_open_losses if prev else 0
        for e in events:
            if e.contract != "InsuranceVault":
                continue
            if e.name == "RedeemScheduled":
                windows[e.args["controller"]] = (e.args["claimable_from"], e.args["claimable_until"])
            elif e.name in ("LossFlagged", "LossCleared"):
                open_losses = e.args["open_losses"]
            elif e.name == "RedeemSettled":
                who = e.args["controller"]
                win = windows.get(who)
                if win is None or not win[0] <= cur.timestamp <= win[1]:
                    out.append(Violation("vault.redeem_cooldown", "no redemption without a matured request",
                                         f"{who} claimed at {cur.timestamp} outside its claim window {win}"))
                if open_losses > 0:
                    out.append(Violation("vault.loss_pending", "no claim while a flagged loss is pending",
                                         f"{who} claimed with {open_losses} open loss flag(s)"))
                if e.args.get("remaining_shares", 0) == 0:
                    windows.pop(who, None)
        if prev is not None and open_losses != cur.vault_open_losses:
            out.append(Violation("vault.loss_flags", "open_losses changes only by LossFlagged / LossCleared",
                                 f"{prev.vault_open_losses} -> {cur.vault_open_losses} (events say {open_losses})"))
        return out
