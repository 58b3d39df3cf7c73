"""summary.json contents, the printed summary table and the one-paragraph verdict."""
from __future__ import annotations

from typing import Any, TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine
    from .metrics import MetricsRecorder
    from .scenario import Scenario


BUILDUP_SHARE = 0.8   # the opening build-up ends once open interest reaches this share of its mean


def turnover_after_buildup(oi: list[float], traded: list[float], block_time: int) -> tuple[float | None, int]:
    """Traded notional per day over mean open interest, after the opening build-up, and the blocks
    that build-up took. Every run starts from an empty book, so the first trades build the open
    interest a venue already has; counting them adds 1 / days (18x a day in an 80-minute run)
    whatever the traders do. The build-up ends at the first block whose open interest reaches
    BUILDUP_SHARE of the run's mean (that block included); None when nothing is left after it."""
    if not oi:
        return None, 0
    mean = sum(oi) / len(oi)
    start = next((i for i, x in enumerate(oi) if mean > 0 and x >= BUILDUP_SHARE * mean), len(oi))
    rest_oi, rest_traded = oi[start + 1:], traded[start + 1:]
    days = len(rest_oi) * block_time / 86400
    rest_mean = sum(rest_oi) / len(rest_oi) if rest_oi else 0.0
    if not rest_mean or not days:
        return None, start
    return round(sum(rest_traded) / rest_mean / days, 3), start


def build_summary(sc: "Scenario", eng: "Engine", rec: "MetricsRecorder", accounts: list[dict], *, chain: str,
                  seed: int, wall_s: float, setup_s: float, loop_s: float, violation: dict | None) -> dict[str, Any]:
    rows = rec.rows
    assets = [r["vault_assets"] for r in rows]
    share = [r["vault_share_price"] for r in rows if r["vault_share_price"] != ""]
    peak_assets = 0.0
    max_dd = 0.0
    for a in assets:
        peak_assets = max(peak_assets, a)
        if peak_assets > 0:
            max_dd = max(max_dd, (peak_assets - a) / peak_assets)
    sp_peak, sp_dd, sp_dd_from, sp_dd_to = 0.0, 0.0, None, None
    for v in share:
        if v > sp_peak:
            sp_peak = v
        elif sp_peak > 0 and (sp_peak - v) / sp_peak > sp_dd:
            sp_dd, sp_dd_from, sp_dd_to = (sp_peak - v) / sp_peak, sp_peak, v
    solvency = [r["solvency_margin"] for r in rows]
    haircut_payers = sorted((a for a in accounts if a["haircut"] > 0), key=lambda a: -a["haircut"])
    top_reasons = sorted(eng.revert_reasons.items(), key=lambda kv: -kv[1])[:10]
    neg_final = rows[-1]["accounts_negative_equity"] if rows else 0
    attacks = [n for n in eng.agent_reports() if n.get("event") == "Attack"]
    race = None
    attacker = next((a.address for a in eng.agents if a.kind == "attacker"), None)
    if attacker:
        req = [e for e in rec.events if e["event"] == "RedeemScheduled" and e.get("controller") == attacker]
        done = [e for e in rec.events if e["event"] == "RedeemSettled" and e.get("controller") == attacker]
        if req:
            d = 10**eng.decimals
            race = {"requested_block": req[0]["block"], "value_at_request": req[0]["assets"] / d,
                    "redeemed_block": done[0]["block"] if done else None,
                    "redeemed": done[0]["assets"] / d if done else None,
                    "forfeited": done[0]["forfeited"] / d if done else None}
    names = [m.name for m in sc.markets]
    oi_notional = [sum(r[f"open_interest_{n}"] * r[f"oracle_{n}"] for n in names) for r in rows]
    mean_oi = sum(oi_notional) / len(oi_notional) if oi_notional else 0.0
    turnover, buildup = turnover_after_buildup(oi_notional, [r.get("traded_notional", 0.0) for r in rows],
                                               sc.block_time)
    return {
        "scenario": sc.name,
        "traded_notional": round(eng.volume, 2),
        "mean_open_interest_notional": round(mean_oi, 2),
        "turnover_per_day": turnover,
        "turnover_buildup_blocks": buildup,
        "insurance_to_open_interest": round(assets[0] / mean_oi, 5) if mean_oi and assets else None,
        "description": sc.description,
        "seed": seed,
        "chain": chain,
        "blocks": eng.block,
        "blocks_planned": eng.blocks,
        "agents": len(eng.agents),
        "accounts": len(eng.accounts),
        "wall_time_s": round(wall_s, 2),
        "setup_time_s": round(setup_s, 2),
        "loop_time_s": round(loop_s, 2),
        "agent_tx_sent": eng.sent,
        "agent_tx_reverted": eng.reverted,
        "agent_tx_per_s": round(eng.sent / loop_s, 1) if loop_s > 0 else None,
        "top_revert_reasons": dict(top_reasons),
        "liquidations": rec.cum_liquidations,
        "bankruptcies": rec.cum_bankruptcies,
        "total_deficit": rec.cum_deficit / 10**eng.decimals,
        "insurance_paid": rec.cum_insurance / 10**eng.decimals,
        "socialized_loss": rec.cum_socialized / 10**eng.decimals,
        "bad_debt": rows[-1]["bad_debt"] if rows else 0.0,
        "vault_assets_start": assets[0] if assets else None,
        "vault_assets_end": assets[-1] if assets else None,
        "vault_assets_min": min(assets) if assets else None,
        "vault_max_drawdown": round(max_dd, 6),
        "share_price_start": share[0] if share else None,
        "share_price_end": share[-1] if share else None,
        "vault_emptied": bool(rows) and rows[-1]["vault_shares"] == 0,
        "share_price_min": min(share) if share else None,
        "share_price_max_drawdown": round(sp_dd, 6),
        "share_price_drawdown_from_to": [sp_dd_from, sp_dd_to],
        "min_solvency_margin": min(solvency) if solvency else None,
        "accounts_negative_equity_at_end": neg_final,
        "haircut_paid_by": [{"account": a["account"], "kind": a["kind"], "haircut": a["haircut"],
                             "profit": a["profit"]} for a in haircut_payers[:10]],
        "haircut_total_settled": sum(a["haircut"] for a in accounts),
        "attacks": attacks,
        "stake_race": race,
        "max_conservation_slack_base_units": max((r["conservation_slack"] for r in rows), default=0),
        "max_pending_deficit": max((r["pending_deficit"] for r in rows), default=0.0),
        "max_blocks_negative_equity": _max_negative_run(rows),
        "solvent": violation is None and neg_final == 0 and (solvency[-1] >= 0 if solvency else True),
        "invariants": "violated" if violation else "held every block",
        "violation": violation,
    }


def _max_negative_run(rows: list[dict]) -> int:
    """Longest stretch of blocks with some account at negative equity (liquidators too slow/poor)."""
    best = run = 0
    for r in rows:
        run = run + 1 if r["accounts_negative_equity"] else 0
        best = max(best, run)
    return best


def verdict(s: dict[str, Any]) -> str:
    """A few sentences a risk auditor can read at a glance."""
    lines = []
    if s["violation"]:
        v = s["violation"]
        lines.append(f"INVARIANT VIOLATED at block {v['block']}: {v['check']} (expected {v['expected']}, got {v['actual']}).")
        lines.append(f"Replay: {v['replay']}")
    else:
        if s["solvent"]:
            lines.append(f"SOLVENT: every invariant held for all {s['blocks']} blocks; every deficit was resolved "
                         f"(largest pending deficit {s['max_pending_deficit']:,.2f} tokens, cleared within "
                         f"{s['max_blocks_negative_equity']} blocks).")
        else:
            lines.append(f"NOT SOLVENT at the end: {s['accounts_negative_equity_at_end']} accounts still have negative "
                         f"equity (liquidators lacked capacity or time).")
    if s["bankruptcies"]:
        d = s["total_deficit"] or 1e-18
        lines.append(
            f"{s['bankruptcies']} bankruptcies left a deficit of {s['total_deficit']:,.2f}: the insurance vault paid "
            f"{s['insurance_paid']:,.2f} ({100 * s['insurance_paid'] / d:.1f}%), opposite-side traders were haircut "
            f"{s['socialized_loss']:,.2f} ({100 * s['socialized_loss'] / d:.1f}%), bad debt {s['bad_debt']:,.2f}.")
    else:
        lines.append("No bankruptcies: liquidations alone kept every account solvent.")
    if s["vault_assets_start"]:
        a, b = s["share_price_drawdown_from_to"]
        fall = (f"fell {100 * s['share_price_max_drawdown']:.1f}% at worst ({a:.4f} -> {b:.4f})" if a is not None
                else "never fell")
        lines.append(f"Insurance vault: share price {fall}, {s['share_price_start']:.4f} at the start, "
                     f"{s['share_price_end']:.4f} last; assets {s['vault_assets_start']:,.0f} -> min "
                     f"{s['vault_assets_min']:,.0f} -> {s['vault_assets_end']:,.0f} tokens (payouts and redemptions)"
                     + ("; every staker left." if s.get("vault_emptied") else "."))
    r = s.get("stake_race")
    if r and r["redeemed"] is not None:
        lines.append(f"Stake race: the attacker queued its vault shares at block {r['requested_block']} (worth "
                     f"{r['value_at_request']:,.2f}) just before the crash and got {r['redeemed']:,.2f} at block "
                     f"{r['redeemed_block']}: " + ("it bore the loss like every staker."
                                                   if r["redeemed"] <= r["value_at_request"] + 1e-6
                                                   else "it redeemed MORE than its value at request."))
    for action in dict.fromkeys(a["action"] for a in s["attacks"]):
        tries = [a for a in s["attacks"] if a["action"] == action]
        ok = [a for a in tries if a["succeeded"]]
        failed = [a for a in tries if not a["succeeded"]]
        reasons = sorted({str(a["reason"]) for a in failed})
        lines.append(f"Attacker {action}: {len(tries)} attempt(s) from block {tries[0]['block']}, "
                     + (f"succeeded at block {ok[0]['block']}" if ok else "never succeeded")
                     + (f"; {len(failed)} reverted ({'; '.join(reasons)})" if failed else ""))
    return "\n".join(lines)


def summary_table(s: dict[str, Any]) -> str:
    """The printed summary table."""
    rows = [
        ("scenario", f"{s['scenario']} (seed {s['seed']}, {s['chain']})"),
        ("loss policy", s.get("loss_policy", "pro_rata_size")),
        ("blocks", s["blocks"]),
        ("agents / accounts", f"{s['agents']} / {s['accounts']}"),
        ("wall time", f"{s['wall_time_s']} s (setup {s['setup_time_s']} s)"),
        ("agent tx sent / reverted", f"{s['agent_tx_sent']} / {s['agent_tx_reverted']}  ({s['agent_tx_per_s']} tx/s)"),
        ("liquidations", s["liquidations"]),
        ("bankruptcies", s["bankruptcies"]),
        ("deficit", f"{s['total_deficit']:,.2f}"),
        ("  paid by insurance", f"{s['insurance_paid']:,.2f}"),
        ("  socialized (haircut)", f"{s['socialized_loss']:,.2f}"),
        ("  bad debt", f"{s['bad_debt']:,.2f}"),
        ("vault assets start/min/end", f"{s['vault_assets_start']:,.0f} / {s['vault_assets_min']:,.0f} / {s['vault_assets_end']:,.0f}"),
        ("vault assets max drawdown", f"{100 * s['vault_max_drawdown']:.2f} % (payouts and redemptions)"),
        ("share price max drawdown", f"{100 * s['share_price_max_drawdown']:.2f} %"),
        ("share price start/min/last", f"{s['share_price_start']:.6f} / {s['share_price_min']:.6f} / {s['share_price_end']:.6f}"
                                       + ("  (all stakers left)" if s.get("vault_emptied") else "")),
        ("max pending deficit", f"{s['max_pending_deficit']:,.2f} (negative-equity stretch {s['max_blocks_negative_equity']} blocks)"),
        ("turnover / insurance", f"{s.get('turnover_per_day') or 0:.2f} x open interest per day; vault "
                                 f"{100 * (s.get('insurance_to_open_interest') or 0):.2f} % of mean open interest"),
        ("invariants", s["invariants"]),
    ]
    f = s.get("fairness")
    if f:  # simulation.fairness: who paid how much relative to what they had
        rows += [
            ("taken from winners", f"{f['taken_from_winners']:,.2f} (overshoot {f['overshoot']:,.2f}, "
                                   f"losers charged {100 * f['losers_charged']:.1f} %)"),
            ("accounts hit", f"{f['accounts_hit']:.0f} (max haircut {f['max_haircut_pct']:.1f} % of profit, "
                             f"Gini {f['haircut_gini']:.3f})"),
            ("PTSR / PMR", f"{f['ptsr']:.3f} / {f['pmr']:.3f}"),
            ("open interest closed", f"{f['oi_closed']:,.4f} (later bankruptcies {f['later_bankruptcies']:.0f})"),
        ]
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(w)}  {v}" for k, v in rows)
