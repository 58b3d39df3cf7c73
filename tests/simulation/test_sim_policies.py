"""A short run per loss policy on revm, through the Hyperliquid scenario's crash: every policy
resolves its bankruptcies (solvent, no invariant violated); under adl the liquidators drive the
resolution with `deleverage` (Deleveraged fills at one bankruptcy price), the winners' concession
is in accounts.csv's haircut, and the summary names the policy and its fairness metrics."""
import csv
import json

import pytest

from simulation.runner import run_scenario
from simulation.scenario import load_scenario

BLOCKS = 60


def _run(tmp_path, policy):
    sc = load_scenario("hyperliquid-2025-10").with_overrides(
        {"protocol.loss_policy": policy, "agents.stakers.panic_prob": 0.0})
    res = run_scenario(sc, scenario_ref="hyperliquid-2025-10", seed=1, blocks=BLOCKS, chain="revm",
                       out=tmp_path / policy, progress=False, plots=False)
    events = [json.loads(x) for x in (tmp_path / policy / "events.jsonl").read_text().splitlines()]
    accounts = list(csv.DictReader(open(tmp_path / policy / "accounts.csv")))
    return res, events, accounts


@pytest.mark.parametrize("policy", ["pro_rata_size", "profit_clawback", "adl"])
def test_run_is_solvent_under_every_policy(tmp_path, artifacts, policy):
    res, events, accounts = _run(tmp_path, policy)
    s = res.summary
    assert res.violation is None, res.violation
    assert s["solvent"] and s["accounts_negative_equity_at_end"] == 0
    assert s["loss_policy"] == policy
    bk = [e for e in events if e["event"] == "Bankruptcy"]
    assert bk and s["total_deficit"] > s["insurance_paid"] > 0  # a residual reached the policy
    assert s["fairness"]["deficit"] == pytest.approx(s["total_deficit"])
    assert s["fairness"]["taken_from_winners"] > 0
    fills = [e for e in events if e["event"] == "Deleveraged"]
    if policy != "adl":
        assert not fills and s["fairness"]["oi_closed"] == 0
        return
    # adl: winners were deleveraged, every fill of one account at one price, each with its profit
    assert fills and all(e["tx_label"] == "deleverage" for e in fills)
    for acc in {e["account"] for e in fills}:
        assert len({(e["market"], e["price"]) for e in fills if e["account"] == acc}) == 1
    assert all(e["profit"] is not None and e["profit"] > 0 for e in fills)
    hit = {a["account"]: a for a in accounts}
    for cp in {e["counterparty"] for e in fills}:
        assert float(hit[cp]["haircut"]) >= float(hit[cp]["haircut_adl"]) > 0
    assert s["fairness"]["oi_closed"] == pytest.approx(sum(abs(int(e["size"])) for e in fills) / 1e18)
