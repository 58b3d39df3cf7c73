"""The agent registry: a new kind is one file (here: this test) and a scenario table, with no
engine edit; the engine loops over the registry and never names a kind."""
import ast
import json
from pathlib import Path

import pytest
from pydantic import Field

from simulation.agents import REGISTRY, Agent, Approve, Deposit, Note, register
from simulation.agents.registry import kinds_in_turn_order, unregister
from simulation.scenario import Scenario
from simulation.strict import Strict


class TipperConfig(Strict):
    count: int = Field(0, ge=0)
    tip: float = Field(1.0, gt=0)


class Tipper(Agent):
    """A made-up kind: deposits once, then tips a note every block."""

    kind = "tipper"
    table = "tippers"
    config = TipperConfig
    turn = 5

    def setup(self, w):
        return [Approve(spender="clearinghouse"), Deposit(amount=w.units(self.cfg.tip))]

    def decide(self, w):
        return [Note(kind="Tip", data={"block": w.block, "tip": self.cfg.tip})]


@pytest.fixture
def tipper():
    register(Tipper)
    yield Tipper
    unregister("tipper")


def test_a_registered_kind_gets_a_scenario_table(tipper, tiny):
    sc = tiny.with_overrides({})
    assert sc.agents.tippers.count == 0
    data = tiny.model_dump(mode="python")
    data["agents"]["tippers"] = {"count": 2, "tip": 3}
    sc = Scenario.model_validate(data)
    assert sc.agents.tippers.tip == 3
    assert sc.with_overrides({"agents.tippers.tip": 5}).agents["tippers"].tip == 5
    assert kinds_in_turn_order()[-1] is Tipper


def test_an_unregistered_table_is_an_error(tiny):
    data = tiny.model_dump(mode="python")
    data["agents"]["tippers"] = {"count": 1}
    with pytest.raises(Exception, match="unknown agent table"):
        Scenario.model_validate(data)


def test_register_needs_a_kind_and_a_table():
    class Nameless(Agent):
        pass

    with pytest.raises(TypeError, match="kind"):
        register(Nameless)


def test_engine_never_names_a_concrete_kind():
    src = (Path(__file__).parents[2] / "simulation" / "engine.py").read_text()
    tree = ast.parse(src)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "isinstance"]
    names = {ast.unparse(c.args[1]) for c in calls}
    assert names <= {"CallError", "tuple"}, names
    for kind in REGISTRY.values():
        assert kind.__name__ not in src, f"engine.py names {kind.__name__}"


def test_a_new_kind_runs_on_chain_without_engine_edits(tipper, tiny, tmp_path, artifacts, anvil_bin):
    from simulation.runner import run_scenario

    data = tiny.model_dump(mode="python")
    data["agents"]["tippers"] = {"count": 2, "tip": 7}
    data["blocks"] = 3
    data["prices"]["crash"]["block"] = 2
    res = run_scenario(Scenario.model_validate(data), scenario_ref="tiny", out=tmp_path, progress=False, plots=False)
    assert res.violation is None
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert sum(1 for e in events if e["event"] == "Tip") == 2 * 3
    accounts = (tmp_path / "accounts.csv").read_text()
    assert accounts.count(",tipper,") == 2
