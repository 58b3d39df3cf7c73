"""Every shipped scenario loads, and each new one runs a short smoke on anvil (its crash moved early)."""
import json

import pytest

from simulation.runner import run_scenario
from simulation.scenario import load_scenario, shipped_scenarios

NEW = ("crash", "cascade", "insurance-run", "attack")


def test_every_shipped_scenario_loads_with_realistic_margins():
    for name in shipped_scenarios():
        sc = load_scenario(name)
        assert sc.prices.crash is None or sc.prices.crash.block <= sc.effective_blocks()
        for m in sc.markets:
            assert 0.02 <= m.imr <= 0.15 and 0.01 <= m.mmr <= 0.075, (name, m)
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
