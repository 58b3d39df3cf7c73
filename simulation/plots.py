"""PNG plots of a run (matplotlib, Agg backend: no display needed)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _col(rows: Sequence[dict], key: str) -> list:
    return [r[key] for r in rows]


def plot_run(out: Path, rows: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]],
             market_names: Sequence[str], accounts: Sequence[dict[str, Any]], title: str) -> list[Path]:
    """Write the four run plots; returns their paths."""
    if not rows:
        return []
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    blocks = _col(rows, "block")
    liq_blocks = {e["block"] for e in events if e["event"] == "Liquidation"}
    bk_blocks = {e["block"] for e in events if e["event"] == "Bankruptcy"}

    fig, axes = plt.subplots(len(market_names), 1, figsize=(10, 3.2 * len(market_names)), squeeze=False)
    for ax, name in zip(axes[:, 0], market_names):
        ax.plot(blocks, _col(rows, f"price_{name}"), label=f"{name} true price", lw=1.2)
        ax.plot(blocks, _col(rows, f"oracle_{name}"), label="oracle", lw=0.8, ls="--")
        by_block = {r["block"]: r[f"oracle_{name}"] for r in rows}
        lb = sorted(b for b in liq_blocks if b in by_block)
        bb = sorted(b for b in bk_blocks if b in by_block)
        ax.scatter(lb, [by_block[b] for b in lb], marker="v", color="orange", s=25, label="liquidation", zorder=3)
        ax.scatter(bb, [by_block[b] for b in bb], marker="x", color="red", s=40, label="bankruptcy", zorder=4)
        ax.set_ylabel("price")
        ax.legend(loc="best", fontsize=8)
    axes[0, 0].set_title(f"{title}: prices, liquidations and bankruptcies")
    axes[-1, 0].set_xlabel("block")
    fig.tight_layout()
    p = out / "prices.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    paths.append(p)

    fig, ax1 = plt.subplots(figsize=(10, 4))
    ax1.plot(blocks, _col(rows, "vault_assets"), color="tab:blue", label="vault assets")
    ax1.set_ylabel("vault assets (tokens)", color="tab:blue")
    ax2 = ax1.twinx()
    sp = [(b, v) for b, v in zip(blocks, _col(rows, "vault_share_price")) if v != ""]
    ax2.plot([b for b, _ in sp], [v for _, v in sp], color="tab:green", label="share price")
    ax2.set_ylabel("share price", color="tab:green")
    ax1.set_xlabel("block")
    ax1.set_title(f"{title}: insurance vault")
    fig.tight_layout()
    p = out / "vault.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    paths.append(p)

    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(blocks, _col(rows, "insurance_paid_cum"), label="insurance paid")
    ax.plot(blocks, _col(rows, "socialized_loss_cum"), label="socialized loss (haircut)")
    ax.plot(blocks, _col(rows, "bad_debt"), label="bad debt")
    ax.set_xlabel("block")
    ax.set_ylabel("tokens (cumulative)")
    ax.set_title(f"{title}: who paid for the bankruptcies")
    ax.legend()
    fig.tight_layout()
    p = out / "waterfall.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    paths.append(p)

    fig, ax = plt.subplots(figsize=(8, 5))
    xs = [a["profit"] for a in accounts]
    ys = [a["haircut"] for a in accounts]
    colors = {"market_maker": "tab:blue", "noise_trader": "tab:gray", "momentum_trader": "tab:purple",
              "liquidator": "tab:orange", "attacker": "tab:red"}
    for kind, color in colors.items():
        sel = [(x, y) for x, y, a in zip(xs, ys, accounts) if a["kind"] == kind]
        if sel:
            ax.scatter([s[0] for s in sel], [s[1] for s in sel], color=color, label=kind, s=20)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("profit (tokens)")
    ax.set_ylabel("haircut paid (tokens)")
    ax.set_title(f"{title}: haircut against profit, per account")
    ax.legend(fontsize=8)
    fig.tight_layout()
    p = out / "haircuts.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    paths.append(p)
    return paths


# -- sweep plots ----------------------------------------------------------------------------------

def _points(rows: Sequence[dict[str, Any]], params: Sequence[str]) -> dict[tuple, list[dict[str, Any]]]:
    from .stats import group_rows

    return group_rows(rows, params)


def _label(params: Sequence[str], key: tuple) -> str:
    return ", ".join(f"{p.split('.')[-1]}={v}" for p, v in zip(params, key)) or "all seeds"


def plot_cdf(path: Path, rows: Sequence[dict[str, Any]], params: Sequence[str], title: str) -> Path:
    """Empirical CDF over seeds of the haircut, the deficit and the bad debt, one line per grid point."""
    import numpy as np

    from .stats import metric_values

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, metric in zip(axes, ("deficit", "haircut", "bad_debt")):
        for key, rs in _points(rows, params).items():
            v = np.sort(metric_values(rs, metric))
            if len(v):
                ax.step(v, np.arange(1, len(v) + 1) / len(v), where="post", label=_label(params, key))
        ax.set_xlabel(f"{metric} (tokens)")
        ax.set_ylabel("share of seeds <= x")
        ax.set_title(f"{title}: CDF of {metric}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_fan(path: Path, rows: Sequence[dict[str, Any]], params: Sequence[str], title: str) -> Path | None:
    """Fan chart: per block, the p5-p95 and p25-p75 bands over seeds of the cumulative deficit and
    socialized loss, for the first and last grid point (read from each run's metrics.csv)."""
    import csv

    import numpy as np

    groups = list(_points(rows, params).items())
    picks = groups if len(groups) <= 2 else [groups[0], groups[-1]]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    drew = False
    for (key, rs), color in zip(picks, ("tab:blue", "tab:red")):
        for ax, col in zip(axes, ("deficit_cum", "socialized_loss_cum")):
            series = []
            for r in rs:
                f = Path(str(r.get("out", ""))) / "metrics.csv"
                if not f.is_file():
                    continue
                with open(f, newline="") as fh:
                    series.append([float(x[col]) for x in csv.DictReader(fh)])
            if not series:
                continue
            n = min(len(s) for s in series)
            a = np.array([s[:n] for s in series])
            x = np.arange(n)
            ax.fill_between(x, np.percentile(a, 5, axis=0), np.percentile(a, 95, axis=0), color=color, alpha=0.15)
            ax.fill_between(x, np.percentile(a, 25, axis=0), np.percentile(a, 75, axis=0), color=color, alpha=0.3)
            ax.plot(x, np.median(a, axis=0), color=color, label=f"{_label(params, key)} (median, 50/90 % bands)")
            ax.set_title(f"{title}: {col.replace('_cum', '')} (cumulative)")
            ax.set_xlabel("block")
            ax.set_ylabel("tokens")
            drew = True
    if not drew:
        plt.close(fig)
        return None
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
