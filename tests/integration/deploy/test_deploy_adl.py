"""`loss_policy = "adl"` in the deploy config deploys ClearinghouseAdl with its LiquidationAdl
engine (the path `ape run deploy` takes), verifies it and reads it back."""
import tomllib

from ops_anvil import ROOT
from simulation.ape_backend import ApeBackend
from simulation.deployment import deploy_and_record, parse_config, read_manifest, verify_deployment


def test_deploy_adl_policy(owner, project, tmp_path):
    data = tomllib.loads((ROOT / "deployments" / "config" / "local.toml").read_text())
    data.setdefault("clearinghouse", {})["loss_policy"] = "adl"
    cfg = parse_config(data, "adl-config")
    d = deploy_and_record(ApeBackend(owner), cfg, tmp_path / "m.json", network="local-test")
    ch = project.ClearinghouseAdl.at(d.clearinghouse_address)
    assert ch.loss_policy() == "adl"
    assert project.LiquidationAdl.at(ch.loss_engine()).loss_policy() == "adl"
    assert ch.market_count() == 2 and not ch.is_deleveraging(owner)
    verify_deployment(ApeBackend(owner), read_manifest(tmp_path / "m.json"), cfg)
