"""Scenario files: shipped ones load, bad input gives one clear line."""
import pytest

from simulation.scenario import ScenarioError, load_scenario, parse_value, shipped_scenarios

REQUIRED = {"default", "covid-2020", "ftx-2022", "gbm-calm", "multi-market-crash"}


def test_shipped_scenarios_load_and_have_paths():
    names = set(shipped_scenarios())
    assert REQUIRED <= names
    for n in names:
        sc = load_scenario(n)
        paths = sc.price_paths()
        assert paths.true.shape[0] == len(sc.markets)
        assert paths.true.shape[1] >= min(sc.blocks, sc.effective_blocks()) + 1 or sc.prices.model == "historical"
        assert (paths.true > 0).all()


def test_multi_market_scenario_is_correlated():
    sc = load_scenario("multi-market-crash")
    assert len(sc.markets) >= 2 and sc.prices.crash is not None


def _write(tmp_path, text):
    p = tmp_path / "s.toml"
    p.write_text(text)
    return str(p)


def test_unknown_key_is_an_error(tmp_path):
    with pytest.raises(ScenarioError, match=r"agents.stakers.captial: unknown key"):
        load_scenario(_write(tmp_path, 'name="x"\n[agents.stakers]\ncaptial = 5\n'))


def test_bad_value_is_an_error(tmp_path):
    with pytest.raises(ScenarioError, match=r"markets.0.imr"):
        load_scenario(_write(tmp_path, 'name="x"\n[[markets]]\nimr = 2\n'))
    with pytest.raises(ScenarioError, match="mmr must be below imr"):
        load_scenario(_write(tmp_path, 'name="x"\n[[markets]]\nimr = 0.1\nmmr = 0.2\n'))


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(_write(tmp_path, "name = \n"))
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(str(tmp_path / "nope.toml"))
    with pytest.raises(ScenarioError, match="unknown scenario"):
        load_scenario("no-such-scenario")


def test_historical_needs_its_table_and_a_day_clock(tmp_path):
    with pytest.raises(ScenarioError, match="needs a \\[prices.historical\\] table"):
        load_scenario(_write(tmp_path, 'name="x"\n[prices]\nmodel="historical"\n'))
    with pytest.raises(ScenarioError, match="must be one day"):
        load_scenario(_write(tmp_path, 'name="x"\nblock_time=60\n[prices]\nmodel="historical"\n'
                                       'historical={start=2020-03-01, end=2020-03-02, blocks_per_day=48}\n'))


def test_overrides(tiny):
    sc = tiny.with_overrides({"agents.stakers.capital": 1234, "markets.0.imr": 0.2, "prices.crash.size": -0.5})
    assert sc.agents.stakers.capital == 1234 and sc.markets[0].imr == 0.2 and sc.prices.crash.size == -0.5
    with pytest.raises(ScenarioError, match="unknown parameter 'agents.stakers.nope'"):
        tiny.with_overrides({"agents.stakers.nope": 1})
    with pytest.raises(ScenarioError, match="capital"):
        tiny.with_overrides({"agents.stakers.capital": -1})


def test_parse_value():
    assert parse_value("3") == 3 and parse_value("0.5") == 0.5 and parse_value("true") is True
    assert parse_value("abc") == "abc"
