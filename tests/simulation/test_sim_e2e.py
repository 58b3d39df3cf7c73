"""Short end-to-end runs on the real contracts: anvil (twice: determinism) and embedded."""
import csv
import json

import pytest

from simulation.cli import main
from simulation.engine import Engine, open_chain
from simulation.runner import run_scenario


def metrics(out):
    with open(out / "metrics.csv") as fh:
        return list(csv.DictReader(fh))


def test_anvil_run_outputs_and_determinism(tmp_path, artifacts, anvil_bin, tiny):
    sc = tiny
    a = run_scenario(sc, scenario_ref="tiny", chain="anvil", out=tmp_path / "a", progress=False, plots=True)
    b = run_scenario(sc, scenario_ref="tiny", chain="anvil", out=tmp_path / "b", progress=False, plots=False)
    assert a.violation is None, a.violation
    for f in ("metrics.csv", "events.jsonl", "summary.json", "prices.png", "vault.png", "waterfall.png", "haircuts.png"):
        assert (tmp_path / "a" / f).is_file(), f
    s = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert s["blocks"] == sc.blocks and s["agent_tx_sent"] > 0
    assert s["bankruptcies"] > 0, "the tiny crash should bankrupt someone"
    assert s["insurance_paid"] + s["socialized_loss"] + s["bad_debt"] == pytest.approx(s["total_deficit"], abs=1e-6)
    events = [json.loads(x) for x in (tmp_path / "a" / "events.jsonl").read_text().splitlines()]
    assert any(e["event"] == "Bankruptcy" and "insurance_paid" in e for e in events)
    assert metrics(tmp_path / "a") == metrics(tmp_path / "b")  # same scenario + seed + chain -> same metrics


def test_embedded_matches_anvil(tmp_path, artifacts, anvil_bin, tiny):
    sc = tiny.with_overrides({"blocks": 4, "prices.crash.block": 3})
    e = run_scenario(sc, scenario_ref="tiny", chain="embedded", out=tmp_path / "e", progress=False, plots=False)
    a = run_scenario(sc, scenario_ref="tiny", chain="anvil", out=tmp_path / "a", progress=False, plots=False)
    assert e.violation is None and len(metrics(tmp_path / "e")) == 5
    assert metrics(tmp_path / "e") == metrics(tmp_path / "a")


def test_onchain_digest_matches_python(artifacts, anvil_bin, tiny):
    from simulation.keys import Order, order_digest

    with open_chain("anvil") as chain:
        eng = Engine(tiny, chain)
        p = eng.deploy()
        o = Order(chain.default_sender, 0, -5 * 10**17, 123 * 10**18, 9, 2**40)
        (out,) = chain.call_many([(p.ch, p.CH.fn("order_digest").encode(o.as_tuple()))])
        assert out == order_digest(o, eng.domain)


def test_violation_stops_the_run_and_writes_violation_json(tmp_path, artifacts, anvil_bin, tiny_toml):
    bad = tmp_path / "zero-dust.toml"
    bad.write_text(tiny_toml + "\n[invariants]\ndust_per_account = 0\ndust_per_block = 0\n")
    rc = main(["run", str(bad), "--blocks", "8", "--out", str(tmp_path / "v"), "--quiet", "--no-plots"])
    v = json.loads((tmp_path / "v" / "violation.json").read_text())
    assert rc == 3
    assert v["check"] == "conservation" and v["seed"] == 3 and v["block"] >= 1
    assert v["replay"].startswith(f"clawback-sim run {bad} --seed 3 --blocks 8 --chain anvil")


def test_sweep_grid_in_parallel(tmp_path, tiny_toml, artifacts, anvil_bin, capsys):
    sc = tmp_path / "tiny.toml"
    sc.write_text(tiny_toml)
    rc = main(["sweep", str(sc), "--seeds", "1", "--set", "agents.stakers.capital=5000,50000", "--workers", "2",
               "--blocks", "8", "--out", str(tmp_path / "sw")])
    out = capsys.readouterr().out
    assert rc == 0, out
    with open(tmp_path / "sw" / "sweep.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["agents.stakers.capital"] for r in rows] == ["5000", "50000"]
    assert all(r["error"] == "" and r["violation"] == "" for r in rows)
    assert float(rows[0]["insurance_paid"]) <= float(rows[1]["insurance_paid"])  # a bigger fund pays more
    assert (tmp_path / "sw" / "sweep.png").is_file() and "agents.stakers.capital" in out


def test_grid_points():
    from simulation.sweep import grid_points

    assert grid_points({}) == [{}]
    assert grid_points({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]


def test_bench_smoke(small_bench):
    """`clawback-sim bench` with tiny counts: both paths run the same kind of trades without reverts."""
    r = small_bench
    assert r.batched_tx == 200 and r.batched_reverted == 0
    assert r.ape_tx == 3 and r.ape_reverted == 0
    assert r.batched_rate > r.ape_rate


def test_seed_range_extends_an_earlier_sweep(tmp_path, tiny_toml, artifacts, anvil_bin, capsys):
    sc = tmp_path / "tiny.toml"
    sc.write_text(tiny_toml)
    out = tmp_path / "sw"
    base = ["sweep", str(sc), "--blocks", "7", "--workers", "2", "--out", str(out)]
    assert main([*base, "--seeds", "1"]) == 0
    assert main([*base, "--seeds", "2-3"]) == 0
    rows = json.loads((out / "sweep.json").read_text())
    assert sorted(int(r["seed"]) for r in rows) == [1, 2, 3]
    stats = json.loads((out / "stats.json").read_text())
    assert stats[0]["runs"] == 3 and stats[0]["seeds"] == [1, 2, 3]
    report = (out / "report.md").read_text()
    assert "## Verdict" in report and "P(>0)" in report and "clawback-sim sweep" in report
    capsys.readouterr()
    assert main([*base, "--seeds", "3-4"]) == 2          # seed 3 is already there
    assert "already has 1 of these runs" in capsys.readouterr().err
    assert len(json.loads((out / "sweep.json").read_text())) == 3


def test_stakers_redeem_through_requests_and_losses_are_flagged(tmp_path, artifacts):
    """insurance-run on revm: stakers request (shares leave their wallet for the vault), claim inside
    the window; every bankruptcy is flagged on the vault and the flag cleared; invariants hold."""
    from simulation.scenario import load_scenario

    res = run_scenario(load_scenario("insurance-run"), scenario_ref="insurance-run", chain="revm",
                       out=tmp_path / "r", progress=False, plots=False)
    assert res.violation is None, res.violation
    events = [json.loads(x) for x in (tmp_path / "r" / "events.jsonl").read_text().splitlines()]
    stakers = {e["owner"] for e in events if e["event"] == "RedeemRequest" and e["agent"].startswith("staker")}
    claimed = {e["controller"] for e in events if e["event"] == "RedeemSettled" and e["assets"] > 0}
    assert len(stakers) >= 3 and stakers <= claimed
    flagged = [e["account"] for e in events if e["event"] == "LossFlagged"]
    cleared = [e["account"] for e in events if e["event"] == "LossCleared"]
    bankrupt = [e["account"] for e in events if e["event"] == "Bankruptcy"]
    assert bankrupt and set(bankrupt) <= set(flagged) and sorted(flagged) == sorted(cleared)
    for i, e in enumerate(events):  # each resolution: flagged before it, cleared after it
        if e["event"] == "Bankruptcy":
            assert any(f["event"] == "LossFlagged" and f["account"] == e["account"] for f in events[:i])
            assert any(c["event"] == "LossCleared" and c["account"] == e["account"] for c in events[i:])
