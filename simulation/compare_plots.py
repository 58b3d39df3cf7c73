"""PNG plots of a loss-policy comparison (matplotlib, Agg backend): the metrics per policy, each
account's haircut against its profit, Lorenz curves of the haircuts, and the price path with every
resolution marked."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from . import fairness as F  # noqa: E402

MARKERS = ("x", "o", "^", "s", "D", "v")


def plot_metrics(path: Path, rows: Sequence[dict[str, Any]], policies: Sequence[str], title: str) -> Path:
    """One small bar chart per metric: the mean over seeds per policy, a dot at p50 and a whisker
    up to p95."""
    from .compare import aggregate  # noqa: PLC0415

    agg = aggregate(rows, policies)
    n = len(F.METRICS)
    cols = 4
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.4 * cols, 2.6 * nrows), squeeze=False)
    xs = list(range(len(policies)))
    colors = [f"C{i}" for i in xs]
    for ax, (key, label) in zip(axes.flat, F.METRICS):
        means = [agg[p][key]["mean"] for p in policies]
        p50 = [agg[p][key]["p50"] for p in policies]
        p95 = [agg[p][key]["p95"] for p in policies]
        ax.bar(xs, [m if math.isfinite(m) else 0.0 for m in means], color=colors, alpha=0.8)
        for x, m, lo, hi in zip(xs, means, p50, p95):
            if math.isfinite(lo):
                ax.plot([x], [lo], "k.", ms=5)
            if math.isfinite(hi) and math.isfinite(m):
                ax.plot([x, x], [m, hi], "k-", lw=0.8)
        ax.set_title(label, fontsize=8)
        ax.set_xticks(xs, policies, fontsize=6, rotation=15)
        ax.tick_params(axis="y", labelsize=6)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(f"{title}: loss policies compared (bar: mean over seeds, dot: p50, whisker: to p95)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_haircuts(path: Path, outcomes: Sequence[F.RunOutcome], policies: Sequence[str], title: str) -> Path:
    """Per policy, one panel: each account's taken amount against its profit (all seeds)."""
    fig, axes = plt.subplots(1, len(policies), figsize=(4.4 * len(policies), 4), squeeze=False, sharey=True)
    for ax, p in zip(axes[0], policies):
        accs = [a for o in outcomes if o.policy == p for a in o.accounts]
        win = [a for a in accs if a.winner]
        rest = [a for a in accs if not a.winner]
        ax.scatter([a.profit for a in win], [a.taken for a in win], s=12, color="tab:green", label="winners")
        ax.scatter([a.profit for a in rest], [a.taken for a in rest], s=12, color="tab:red", label="not in profit")
        top = max([a.profit for a in win] + [1.0])
        ax.plot([0, top], [0, top], "k--", lw=0.6, label="taken = profit")
        ax.axvline(0, color="k", lw=0.4)
        # profits span losers and winners over orders of magnitude: linear within one token
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_title(p, fontsize=9)
        ax.set_xlabel("profit before the policy (tokens, symlog)")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("taken by the policy (tokens, symlog)")
    fig.suptitle(f"{title}: what each account paid against its profit", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_lorenz(path: Path, outcomes: Sequence[F.RunOutcome], policies: Sequence[str], title: str) -> Path:
    """Lorenz curve of the winners' haircuts per policy (winners of all seeds pooled)."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], "k:", lw=0.8, label="equal amounts")
    for i, p in enumerate(policies):
        taken = [a.taken for o in outcomes if o.policy == p for a in F.winners(o)]
        x, y = F.lorenz(taken)
        ax.plot(x, y, color=f"C{i}", label=f"{p} (Gini {F.gini(taken):.2f})")
    ax.set_xlabel("share of winners (smallest haircut first)")
    ax.set_ylabel("share of the haircuts")
    ax.set_title(f"{title}: concentration of haircuts", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_prices(path: Path, outcomes: Sequence[F.RunOutcome], policies: Sequence[str], title: str) -> Path:
    """The first seed's price path per policy with every resolution marked (size ~ deficit)."""
    seed = min(o.seed for o in outcomes)
    fig, ax = plt.subplots(figsize=(10, 4))
    biggest = max((r.deficit for o in outcomes for r in o.resolutions), default=1.0) or 1.0
    for i, p in enumerate(policies):
        o = next((o for o in outcomes if o.policy == p and o.seed == seed), None)
        if o is None or not o.timeline:
            continue
        price = {b.block: b.price for b in o.timeline}
        ax.plot(list(price), list(price.values()), color=f"C{i}", lw=1.0, alpha=0.7, label=f"{p}: oracle price")
        rs = [r for r in o.resolutions if r.block in price]
        ax.scatter([r.block for r in rs], [price[r.block] for r in rs], marker=MARKERS[i % len(MARKERS)],
                   s=[20 + 180 * r.deficit / biggest for r in rs], color=f"C{i}", zorder=3,
                   label=f"{p}: bankruptcies ({len(o.resolutions)})")
    ax.set_xlabel("block")
    ax.set_ylabel("price")
    ax.set_title(f"{title} (seed {seed}): price path, every resolution marked (size ~ deficit)", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_compare(out: Path, outcomes: Sequence[F.RunOutcome], rows: Sequence[dict[str, Any]],
                 policies: Sequence[str], title: str) -> list[Path]:
    """Write the four comparison plots into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    return [plot_metrics(out / "compare_metrics.png", rows, policies, title),
            plot_haircuts(out / "compare_haircuts.png", outcomes, policies, title),
            plot_lorenz(out / "compare_lorenz.png", outcomes, policies, title),
            plot_prices(out / "compare_prices.png", outcomes, policies, title)]
