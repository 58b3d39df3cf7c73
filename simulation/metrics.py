"""Per-block metrics rows (metrics.csv) and the event log (events.jsonl)."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .invariants import Event, Readings

WAD = 10**18


def _tok(x: int, decimals: int) -> float:
    return x / 10**decimals


@dataclass
class MetricsRecorder:
    """Turns each block's readings and events into one metrics row and event-log lines."""

    market_names: Sequence[str]
    decimals: int = 6
    rows: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    cum_insurance: int = 0
    cum_socialized: int = 0
    cum_deficit: int = 0
    cum_liquidations: int = 0
    cum_bankruptcies: int = 0

    def record(self, block: int, r: Readings, true_prices: Sequence[float], events: Sequence[Event],
               sent: int, reverted: int, t0: int) -> dict[str, Any]:
        d = self.decimals
        liq = [e for e in events if e.name == "Liquidation"]
        bk = [e for e in events if e.name == "Bankruptcy"]
        ins = sum(e.args["insurance_paid"] for e in bk)
        soc = sum(e.args["socialized"] for e in bk)
        deficit = sum(e.args["deficit"] for e in bk)
        traded = sum(abs(e.args["maker_size"]) / WAD * e.args["price"] / WAD for e in events
                     if e.name == "Trade" and e.contract == "Clearinghouse")
        self.cum_insurance += ins
        self.cum_socialized += soc
        self.cum_deficit += deficit
        self.cum_liquidations += len(liq)
        self.cum_bankruptcies += len(bk)
        below = sum(1 for a in r.accounts.values() if any(a.positions) and a.equity < a.maintenance_margin)
        negative = sum(1 for a in r.accounts.values() if a.equity < 0)
        pos_eq = sum(max(0, a.equity) for a in r.accounts.values())
        slack = r.ch_balance + r.bad_debt - r.treasury - sum(a.equity for a in r.accounts.values())
        row: dict[str, Any] = {"block": block, "time_s": r.timestamp - t0}
        for m, name in enumerate(self.market_names):
            row[f"price_{name}"] = round(float(true_prices[m]), 6)
            row[f"oracle_{name}"] = r.index_prices[m] / WAD
            row[f"open_interest_{name}"] = r.open_interest[m] / WAD
        row.update({
            "vault_assets": _tok(r.vault_total_assets, d),
            # assets per share; undefined (empty) while nobody holds shares: revenue then accrues to the
            # vault's virtual shares and the figure would explode
            "vault_share_price": round(r.share_price, 9) if r.vault_total_supply > 0 else "",
            "vault_shares": r.vault_total_supply,
            "insurance_paid": _tok(ins, d),
            "insurance_paid_cum": _tok(self.cum_insurance, d),
            "socialized_loss": _tok(soc, d),
            "socialized_loss_cum": _tok(self.cum_socialized, d),
            "bad_debt": _tok(r.bad_debt, d),
            "deficit_cum": _tok(self.cum_deficit, d),
            "traded_notional": round(traded, 2),
            "liquidations": len(liq),
            "bankruptcies": len(bk),
            "accounts_below_maintenance": below,
            "accounts_negative_equity": negative,
            "solvency_margin": _tok(r.ch_balance - r.treasury + r.bad_debt - pos_eq, d),
            "pending_deficit": _tok(sum(-a.equity for a in r.accounts.values() if a.equity < 0), d),
            "conservation_slack": slack,
            "treasury": _tok(r.treasury, d),
            "tx_sent": sent,
            "tx_reverted": reverted,
        })
        self.rows.append(row)
        for e in events:
            if not e.contract or e.name in ("Liquidation", "Bankruptcy", "BankruptcyTakeover", "Socialized", "Cover",
                                            "RedeemRequest", "RedeemScheduled", "RedeemSettled", "LossFlagged",
                                            "LossCleared", "KeeperRewarded", "Deleveraged"):
                self.events.append({"block": block, "event": e.name, "agent": e.agent, "tx_label": e.tx_label,
                                    **{k: (v.hex() if isinstance(v, bytes) else v) for k, v in e.args.items()}})
        return row

    def note(self, block: int, kind: str, **data: Any) -> None:
        self.events.append({"block": block, "event": kind, **data})

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        if self.rows:
            with open(out / "metrics.csv", "w", newline="") as fh:
                wr = csv.DictWriter(fh, fieldnames=list(self.rows[0].keys()))
                wr.writeheader()
                wr.writerows(self.rows)
        with open(out / "events.jsonl", "w") as fh:
            for e in self.events:
                fh.write(json.dumps(e, default=str) + "\n")
