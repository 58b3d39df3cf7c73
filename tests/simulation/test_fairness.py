"""The fairness metrics of simulation.fairness against hand-computed values on the five-account
example (tests/support/fabricated_run.py), and the adapter that builds the outcome from a run's
files."""
from __future__ import annotations

import json
import math

import pytest

from simulation import fairness as F
from support import fabricated_run as X

QUEUE = X.outcome("adl", X.QUEUE_TAKEN, oi_closed=3.0)
PRO_RATA = X.outcome("profit_clawback", X.PRO_RATA_TAKEN)

# hand values: deficit 15 = 3 + 12, the vault paid 3 + 4.5, the winners 7.5 in both
HAND = {
    "queue": {
        "deficit": 15.0, "insurance_paid": 7.5, "taken_from_winners": 7.5, "bad_debt": 0.0,
        "resolution_blocks": 4.0,         # negative equity in blocks 4, 5, 6, 7
        "overshoot": 0.0,                 # 7.5 taken for a residual of 15 - 7.5
        "losers_charged": 0.0,
        "accounts_hit": 2.0,              # accounts 1 and 2
        "max_haircut_pct": 100.0,         # account 2 gave up 4 of its 4
        "haircut_gini": 16 / 45,          # (3.5, 4, 0): sum|xi-xj| = 16, 2 n^2 mean = 45
        "ptsr": 4.5 / 15,                 # largest winner keeps 8 - 3.5 = 4.5
        "pmr": 4.5 / 12,                  # largest single shortfall 12
        "oi_closed": 3.0,
        "later_bankruptcies": 1.0,        # 0xA5 at block 7 after 0xA4 at block 5
        "vault_recovery": 0.6,            # assets 60 at the end over 100 in block 4
        "stakers_left": 2.0, "traders_left": 1.0,
    },
    "pro_rata": {
        "deficit": 15.0, "insurance_paid": 7.5, "taken_from_winners": 7.5, "bad_debt": 0.0,
        "resolution_blocks": 4.0, "overshoot": 0.0, "losers_charged": 0.0,
        "accounts_hit": 3.0,
        "max_haircut_pct": 60.0,          # h = 0.6 of each winner's profit
        "haircut_gini": 18 / 45,          # (4.8, 2.4, 0.3): sum|xi-xj| = 18
        "ptsr": 3.2 / 15,                 # largest winner keeps 8 - 4.8 = 3.2
        "pmr": 3.2 / 12,
        "oi_closed": 0.0, "later_bankruptcies": 1.0, "vault_recovery": 0.6,
        "stakers_left": 2.0, "traders_left": 1.0,
    },
}


@pytest.mark.parametrize("name,o", [("queue", QUEUE), ("pro_rata", PRO_RATA)])
def test_every_metric_of_the_five_account_example(name, o):
    got = F.metrics(o)
    assert list(got) == list(F.METRIC_KEYS)
    for key, want in HAND[name].items():
        assert got[key] == pytest.approx(want, abs=1e-12), key


def test_post_resolution_equities_of_the_example():
    assert [a.profit for a in F.winners(QUEUE)] == [8.0, 4.0, 0.5]
    post = lambda o: [e - t for e, t in zip(X.EQUITY[:3], [a.taken for a in o.accounts[:3]])]  # noqa: E731
    assert post(QUEUE) == pytest.approx([6.5, 1.0, 1.0])
    assert post(PRO_RATA) == pytest.approx([5.2, 2.6, 0.7])
    assert F.residual(QUEUE) == 7.5 and F.largest_shortfall(QUEUE) == 12.0


def test_overshoot_and_losers_charged():
    # a residual of 5 (deficit 10, vault 5); winners give up 7, an account at a loss pays 1
    o = F.RunOutcome("adl", 1, (F.AccountOutcome("w1", "noise_trader", 10.0, 6.0),
                                F.AccountOutcome("w2", "noise_trader", 2.0, 1.0),
                                F.AccountOutcome("l1", "noise_trader", -1.0, 1.0),
                                F.AccountOutcome("l2", "noise_trader", 0.0, 0.0)),
                     (F.Resolution(3, "b", 10.0, 5.0, 8.0, 0.0),))
    assert F.overshoot(o) == pytest.approx(2.0)
    assert F.losers_charged(o) == pytest.approx(1 / 8)
    assert F.accounts_hit(o) == 3
    assert F.max_haircut_share(o) == pytest.approx(0.6)
    assert F.ptsr(o) == pytest.approx(0.4) and F.pmr(o) == pytest.approx(0.4)
    # bad debt: nothing reached the winners beyond what was left
    short = F.RunOutcome("pro_rata_size", 1, o.accounts[:1], (F.Resolution(3, "b", 20.0, 5.0, 6.0, 9.0),))
    assert F.overshoot(short) == 0.0 and F.bad_debt(short) == 9.0


def test_gini_and_lorenz():
    assert F.gini([1, 1, 1]) == 0.0
    assert F.gini([0, 0, 1]) == pytest.approx(2 / 3)
    assert F.gini([]) == 0.0 and F.gini([0, 0]) == 0.0
    x, y = F.lorenz([0, 0, 3])
    assert x == pytest.approx([0, 1 / 3, 2 / 3, 1]) and y == pytest.approx([0, 0, 0, 1])
    x, y = F.lorenz([2, 1, 1])
    assert y == pytest.approx([0, 0.25, 0.5, 1])


def test_degenerate_runs():
    calm = F.RunOutcome("adl", 1, (F.AccountOutcome("w", "noise_trader", 5.0),), (),
                        (F.BlockPoint(0, 1.0), F.BlockPoint(1, 1.0)))
    m = F.metrics(calm)
    assert m["deficit"] == 0 and m["resolution_blocks"] == 0 and m["max_haircut_pct"] == 0
    assert math.isnan(m["ptsr"]) and math.isnan(m["pmr"]) and math.isnan(m["vault_recovery"])
    assert m["later_bankruptcies"] == 0
    stuck = F.RunOutcome("adl", 1, (), (F.Resolution(1, "b", 1.0, 1.0, 0.0, 0.0),),
                         (F.BlockPoint(0, 1.0, 0.0), F.BlockPoint(1, 1.0, 2.0), F.BlockPoint(2, 1.0, 1.0)))
    assert math.isnan(F.resolution_blocks(stuck))  # still at negative equity when the run ended


@pytest.mark.parametrize("policy,want", [("adl", "queue"), ("profit_clawback", "pro_rata")])
def test_load_outcome_from_run_files(tmp_path, policy, want):
    run = X.write_run(tmp_path / policy, policy)
    o = F.load_outcome(run, policy=policy, seed=1)
    assert [a.account for a in o.accounts] == list(X.ACCOUNTS)
    taken = X.QUEUE_TAKEN if policy == "adl" else X.PRO_RATA_TAKEN
    assert [a.taken for a in o.accounts] == pytest.approx(taken)
    assert [a.profit for a in o.accounts] == pytest.approx([e - c for e, c in zip(X.EQUITY, X.CASH)])
    assert [a.left for a in o.accounts] == [False, False, True, False, False]
    assert o.resolutions == X.RESOLUTIONS
    got = F.metrics(o)
    for key, value in HAND[want].items():
        assert got[key] == pytest.approx(value, abs=1e-9), key


def test_adl_overshoot_counts_the_profit_of_closed_positions(tmp_path):
    # the same queue, the Deleveraged records now carrying the closed positions' profit: account 1's
    # closed short carried 6, account 2's 4, so the winners gave up 10 for a residual of 7.5
    run = X.write_run(tmp_path / "adl", "adl")
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    for e in events:
        if e["event"] == "Deleveraged":
            e["profit"] = {"0xA1": 6, "0xA2": 4}[e["counterparty"]] * X.DEC
    (run / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    o = F.load_outcome(run, policy="adl", seed=1)
    assert [a.closed_profit for a in o.accounts[:3]] == [6.0, 4.0, 0.0]
    assert [a.lost for a in o.accounts[:3]] == [6.0, 4.0, 0.0]
    assert F.overshoot(o) == pytest.approx(2.5)
    assert F.taken_from_winners(o) == pytest.approx(7.5)  # the value moved is still the residual


def test_load_outcome_errors(tmp_path):
    with pytest.raises(F.OutcomeError, match="events.jsonl"):
        F.load_outcome(tmp_path, policy="adl", seed=1)
    run = X.write_run(tmp_path / "r", "adl")
    (run / "events.jsonl").write_text('{"block": 7, "event": "Deleveraged", "counterparty": "0xA1", '
                                      '"market": 3, "size": 1, "price": 1}\n')
    with pytest.raises(F.OutcomeError, match="no oracle price"):
        F.load_outcome(run, policy="adl", seed=1)
    (run / "events.jsonl").write_text("not json\n")
    with pytest.raises(F.OutcomeError, match="not JSON"):
        F.load_outcome(run, policy="adl", seed=1)
