"""Every shipped scenario loads, and each new one runs a short smoke on anvil (its crash moved early);
every shipped scenario resembles a real venue (simulation.venue_ranges): its margins, and on a short
run on revm its vault against open interest and its turnover."""
import json

import pytest

from simulation import venue_ranges as V
from simulation.runner import run_scenario
from simulation.scenario import load_scenario, shipped_scenarios

NEW = ("crash", "cascade", "insurance-run", "attack")


def test_every_shipped_scenario_loads_with_realistic_margins():
    for name in shipped_scenarios():
        sc = load_scenario(name)
        assert sc.prices.crash is None or sc.prices.crash.block <= sc.effective_blocks()
        for m in sc.markets:
            assert V.within(m.imr, V.IMR) and V.within(m.mmr, V.MMR), (name, m)
    assert set(NEW) <= set(shipped_scenarios())
    assert load_scenario("crash").prices.crash.duration == 1 and load_scenario("crash").prices.crash.size == -0.4
    c = load_scenario("cascade")
    assert c.prices.crash.size == -0.6 and c.prices.crash.duration * c.block_time == 86400


@pytest.mark.parametrize("name", NEW)
def test_new_scenario_smoke(name, tmp_path, artifacts, anvil_bin):
    sc = load_scenario(name).with_overrides({"prices.crash.block": 3, "blocks": 6})
    res = run_scenario(sc, scenario_ref=name, out=tmp_path, progress=False, plots=False, report=True)
    assert res.violation is None, res.violation
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["blocks"] == 6 and s["agent_tx_sent"] > 0
    assert (tmp_path / "report.md").read_text().startswith(f"# Run report: {name}")


PREFIX = 30  # blocks of the short run (fewer when the crash comes earlier)


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_scenario_resembles_a_venue_before_its_crash(name, tmp_path, artifacts):
    # the calm part of every scenario (up to 30 blocks, before its crash): the vault is 0.5-5 % of the
    # open interest and, once the book is built, traders turn it over no faster than on a crash day
    # (the short prefix still carries the tail of the build-up, and may have no trade after it); the
    # whole-run figures are in the README table
    sc = load_scenario(name)
    n = min(PREFIX, sc.prices.crash.block - 1) if sc.prices.crash else PREFIX
    res = run_scenario(sc.with_overrides({"prices.crash": None}), scenario_ref=name, blocks=n, chain="revm",
                       out=tmp_path, progress=False, plots=False, report=False)
    s = res.summary
    assert res.violation is None, res.violation
    assert V.within(s["insurance_to_open_interest"], V.INSURANCE_TO_OI), s["insurance_to_open_interest"]
    if name not in V.EVENT_WINDOWS:
        assert V.within(s["turnover_per_day"], (0.0, V.TURNOVER_STRESS[1])), s["turnover_per_day"]


def test_a_whole_crash_run_turns_over_as_a_crash_day(tmp_path, artifacts):
    # attack, the shortest crash scenario, run to its end: the crash's forced trading stays within a
    # crash day's turnover and the vault within its share of open interest
    res = run_scenario(load_scenario("attack"), scenario_ref="attack", chain="revm", out=tmp_path,
                       progress=False, plots=False, report=False)
    s = res.summary
    assert s["bankruptcies"] > 0 and s["turnover_buildup_blocks"] > 0
    assert V.within(s["turnover_per_day"], V.TURNOVER_STRESS), s["turnover_per_day"]
    assert V.within(s["insurance_to_open_interest"], V.INSURANCE_TO_OI), s["insurance_to_open_interest"]


def test_turnover_leaves_out_the_opening_build_up():
    from simulation.report import turnover_after_buildup

    # 1,000 of open interest built in blocks 1-2 (1,500 traded), then 100 a block for 10 one-hour blocks
    oi = [0.0, 500.0, 1000.0] + [1000.0] * 10
    traded = [0.0, 600.0, 900.0] + [100.0] * 10
    t, start = turnover_after_buildup(oi, traded, 3600)
    assert start == 2  # first block at 80 % of the mean (mean 884.6)
    assert t == pytest.approx(1000 / 1000 / (10 / 24))
    assert turnover_after_buildup([], [], 60) == (None, 0)
    assert turnover_after_buildup([0.0, 0.0], [0.0, 0.0], 60) == (None, 2)
