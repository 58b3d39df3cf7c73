"""Deployment config validation, value parsing and the manifest (no chain needed)."""
import copy
import json
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from simulation.deployment import (
    ConfigError,
    Deployment,
    check_existing,
    default_config_path,
    load_config,
    manifest_name,
    parse_address,
    parse_amount,
    parse_config,
    parse_duration,
    parse_ratio,
    read_manifest,
)

ROOT = Path(__file__).resolve().parents[3]
LOCAL = ROOT / "deployments" / "config" / "local.toml"
WAD = 10**18


def base():
    with LOCAL.open("rb") as fh:
        return tomllib.load(fh, parse_float=Decimal)


def problems_of(data):
    with pytest.raises(ConfigError) as exc:
        parse_config(data, "test.toml")
    return str(exc.value)


def test_shipped_local_config_is_valid():
    cfg = load_config(LOCAL)
    assert cfg.collateral.mock and cfg.collateral.decimals == 6
    assert [m.name for m in cfg.markets] == ["BTC-PERP", "ETH-PERP"]
    btc = cfg.markets[0]
    assert btc.imr == WAD // 10 and btc.mmr == WAD // 20
    assert btc.taker_fee == 5 * 10**14 and btc.max_price_age == 3600 and btc.funding_period == 8 * 3600
    assert btc.max_open_interest == 1000 * WAD and btc.feed.initial_answer == 50_000 * 10**8
    assert cfg.vault.cooldown == 3600 and cfg.vault.min_reserve == 100 * 10**6
    assert cfg.clearinghouse.keeper_reward == 5 * 10**6
    assert cfg.markets[1].taker_fee is None  # contract default


@pytest.mark.parametrize("value,expected", [
    (Decimal("0.05"), 5 * 10**16), (0.05, 5 * 10**16), ("5%", 5 * 10**16), ("50bp", 5 * 10**15),
    ("2 bps", 2 * 10**14), (1, WAD), (0, 0), ("0.000000000000000001", 1),
])
def test_parse_ratio(value, expected):
    assert parse_ratio(value) == expected


def test_parse_helpers_reject_garbage():
    for bad in ("abc", True, "0.0000000000000000001", [1]):
        with pytest.raises((ValueError, TypeError)):
            parse_ratio(bad)
    assert parse_duration("8h") == 28800 and parse_duration("1.5m") == 90 and parse_duration(7) == 7
    assert parse_duration("1w") == 604800
    for bad in ("8 hours", "1.5s", True, 1.5):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert parse_amount("1_000.5", 6) == 1_000_500_000
    with pytest.raises(ValueError, match="more precision"):
        parse_amount("0.0000001", 6)
    addr = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert parse_address(addr.lower()) == addr
    with pytest.raises(ValueError, match="checksum"):
        parse_address(addr[:-1] + "c")
    for bad in ("0x1234", "70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x" + "0" * 40, 5):
        with pytest.raises(ValueError):
            parse_address(bad)


def test_unknown_keys_are_errors_with_a_hint():
    d = base()
    d["markets"][0]["taker_fees"] = 0.1
    d["insurance_vault"]["cooldwn"] = "1h"
    d["extra"] = 1
    msg = problems_of(d)
    assert "markets[0] (BTC-PERP).taker_fees: unknown key (did you mean 'taker_fee'?)" in msg
    assert "insurance_vault.cooldwn: unknown key (did you mean 'cooldown'?)" in msg
    assert "extra: unknown key" in msg
    assert "test.toml" in msg


@pytest.mark.parametrize("key,value,fragment", [
    ("mmr", 0.2, "mmr: must be below imr (10 %), got 20 %"),
    ("imr", 1.5, "imr: must be > 0 % and <= 100 %, got 150 %"),
    ("imr", 0, "imr: must be > 0 %"),
    ("taker_fee", "2%", "taker_fee: must be >= 0 % and <= 1 %, got 2 %"),
    ("price_band", 0.6, "price_band: must be > 0 % and <= 50 %"),
    ("liquidation_penalty", 0.06, "liquidation_penalty: must be <= mmr (5 %)"),
    ("liquidator_share", 1.1, "liquidator_share: must be >= 0 % and <= 100 %"),
    ("close_factor", 0, "close_factor: must be > 0 %"),
    ("max_price_age", "8d", "max_price_age: must be > 0 s and <= 604800 s, got 691200 s"),
    ("funding_period", 30, "funding_period: must be >= 60 s"),
    ("max_funding_premium", 0.2, "max_funding_premium: must be >= 0 % and <= 10 %"),
    ("max_open_interest", 0, "max_open_interest: must be > 0"),
    ("max_price_age", "soon", "max_price_age: expected a duration"),
    ("imr", "ten", "imr: expected a number"),
])
def test_out_of_range_market_values(key, value, fragment):
    d = base()
    d["markets"][0][key] = value
    assert fragment in problems_of(d)


def test_every_problem_is_reported_at_once():
    d = base()
    d["markets"][0]["mmr"] = 0.3
    d["markets"][1]["taker_fee"] = 0.5
    d["insurance_vault"]["max_cover_ratio"] = 0
    d["collateral"]["decimals"] = 30
    with pytest.raises(ConfigError) as exc:
        parse_config(d, "x.toml")
    assert len(exc.value.problems) == 4, exc.value.problems


def test_structural_errors():
    d = base()
    del d["markets"]
    assert "markets: missing" in problems_of(d)
    d = base()
    d["markets"] = []
    assert "at least one market" in problems_of(d)
    d = base()
    del d["insurance_vault"]
    assert "insurance_vault: missing" in problems_of(d)
    d = base()
    del d["insurance_vault"]["cooldown"]
    assert "insurance_vault.cooldown: missing (required)" in problems_of(d)
    d = base()
    d["collateral"] = {"decimals": 6}
    assert "collateral: needs address" in problems_of(d)
    d = base()
    d["collateral"]["address"] = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert "either mock = true or address" in problems_of(d)
    d = base()
    d["markets"][0]["feed"] = {"mock": True, "decimals": 8}
    assert "feed.price: missing" in problems_of(d)
    d = base()
    d["markets"][0]["feed"] = {"address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "price": 5}
    assert "applies to a mock feed only" in problems_of(d)
    d = base()
    d["markets"][1]["name"] = "BTC-PERP"
    assert "duplicate market name" in problems_of(d)
    d = base()
    d["markets"] = [copy.deepcopy(d["markets"][1]) for _ in range(17)]
    for i, m in enumerate(d["markets"]):
        m["name"] = f"M{i}"
    assert "at most 16 markets" in problems_of(d)
    d = base()
    d["ownership"]["accept"] = "maybe"
    assert "ownership.accept" in problems_of(d)
    d = base()
    d["ownership"]["owner"] = "0xnope"
    assert "ownership.owner: expected a 0x-prefixed" in problems_of(d)


def test_load_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[collateral\nmock = true\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    good = tmp_path / "good.toml"
    good.write_text(LOCAL.read_text().replace("imr = 0.10                  # initial", "imr = 0.5 # initial"))
    assert load_config(good).markets[0].imr == WAD // 2


def test_manifest_and_config_names():
    assert manifest_name("ethereum", "local", "foundry") == "local-foundry"
    assert manifest_name("ethereum", "local", "test") == "local-test"
    assert manifest_name("ethereum", "sepolia", "node") == "sepolia"
    assert manifest_name("arbitrum", "mainnet-fork", "foundry") == "arbitrum-mainnet-fork"
    assert default_config_path(ROOT, "local-foundry") == LOCAL
    assert default_config_path(ROOT, "sepolia").name == "sepolia.toml"


class FakeChain:
    def __init__(self, chain_id, code):
        self._id, self._code = chain_id, code

    def chain_id(self):
        return self._id

    def get_code(self, address):
        return self._code


def _manifest(tmp_path, chain_id=31337):
    d = Deployment(network="local-foundry", chain_id=chain_id, deployment_block=3, deployer=None,
                   collateral={"address": "0x" + "11" * 20}, clearinghouse={"address": "0x" + "22" * 20},
                   insurance_vault={"address": "0x" + "33" * 20}, markets=[], compiler={"vyper": "0.4.3"})
    return d.write(tmp_path / "local-foundry.json")


def test_manifest_round_trip_and_existing_checks(tmp_path):
    path = _manifest(tmp_path)
    data = json.loads(path.read_text())
    assert data["format"] == "clawback-deployment/1" and data["chain_id"] == 31337
    assert read_manifest(path).clearinghouse_address == "0x" + "22" * 20
    assert check_existing(FakeChain(31337, b"\x60"), tmp_path / "none.json").status == "none"
    live = check_existing(FakeChain(31337, b"\x60\x00"), path)
    assert live.status == "live" and live.blocks and "already deployed" in live.message
    stale = check_existing(FakeChain(31337, b""), path)
    assert stale.status == "stale" and not stale.blocks  # restarted devnet: fine to overwrite
    other = check_existing(FakeChain(1, b""), path)
    assert other.status == "other-chain" and other.blocks
    _manifest(tmp_path, chain_id=11155111)
    assert check_existing(FakeChain(11155111, b""), path).blocks  # stale on a public chain: refuse
    (tmp_path / "junk.json").write_text("{}")
    assert check_existing(FakeChain(31337, b""), tmp_path / "junk.json").status == "unreadable"


def test_scenarios_and_deploy_configs_share_the_unit_parsers():
    """One set of parsers (simulation/units.py): a scenario's durations read like a config's."""
    from simulation import deploy_config, scenario, units

    assert deploy_config.parse_amount is units.parse_amount and parse_ratio is units.parse_ratio
    assert scenario.ProtocolConfig(vault_cooldown="1h", max_price_age="2h").max_price_age == 7200
    with pytest.raises(ValueError, match="expected a duration"):
        scenario.ProtocolConfig(vault_cooldown="soon")


def test_bounds_are_read_from_the_compiled_contracts():
    """The registry's and the vault's bounds come from contracts/modules/constants.vy (through the
    compiled ProtocolConstants lens), and the config enforces exactly those."""
    import re

    from simulation.protocol_constants import bounds

    b = bounds()
    source = (ROOT / "contracts" / "modules" / "constants.vy").read_text()
    for name in ("MAX_FEE", "MAX_PRICE_AGE", "MAX_FUNDING_PERIOD", "MAX_COOLDOWN", "MAX_MARKETS"):
        assert re.search(rf"^{name}: public\(constant\(uint256\)\) = ", source, re.M), name
    assert b["WAD"] == WAD and b["MAX_MARKETS"] == 16 and b["MAX_FEE"] == 10**16
    d = base()
    d["markets"][0]["max_price_age"] = b["MAX_PRICE_AGE"] + 1
    assert f"must be > 0 s and <= {b['MAX_PRICE_AGE']} s" in problems_of(d)
    d = base()
    d["insurance_vault"]["cooldown"] = b["MAX_COOLDOWN"]
    parse_config(d, "edge.toml")  # the bound itself is allowed
