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
