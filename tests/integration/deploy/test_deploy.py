"""`ape run deploy` and the shared deploy flow: in-process and on anvil; manifest, read-back,
refusal to redeploy, ownership hand-over, bad configs."""
import importlib.util
import json
import sys
import textwrap
import tomllib

import pytest
from eth_utils import keccak

from ops_anvil import ROOT, ape_run
from simulation.ape_backend import ApeBackend
from simulation.deployment import (
    DeployError,
    VerificationError,
    deploy_and_record,
    parse_config,
    read_manifest,
    verify_deployment,
)

LOCAL = ROOT / "deployments" / "config" / "local.toml"


def local_config(**overrides):
    data = tomllib.loads(LOCAL.read_text())
    for path, value in overrides.items():
        node = data
        *parents, leaf = path.split(".")
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        node[leaf] = value
    return parse_config(data, "test-config")


@pytest.fixture(scope="module")
def deploy_script():
    spec = importlib.util.spec_from_file_location("clawback_script_deploy", ROOT / "scripts" / "deploy.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module", autouse=True)
def _early(owner, other, guardian, staker, chain, project, deploy_script):
    """Create the wider-scoped fixtures before ape's per-test isolation starts."""


# --------------------------------------------------------------------------------------------
# in-process chain (ethereum:local:test)


def test_deploy_in_process_manifest_and_read_back(owner, chain, project, deploy_script, tmp_path):
    manifest = tmp_path / "local-test.json"
    d = deploy_script.run(ecosystem_name="ethereum", network_name="local", provider_name="test",
                          manifest_path=manifest, deployer=owner, log=lambda m: None)
    data = json.loads(manifest.read_text())
    assert data["format"] == "clawback-deployment/1" and data["network"] == "local-test"
    assert data["chain_id"] == chain.chain_id
    assert 0 < data["deployment_block"] <= chain.blocks.height
    assert data["compiler"]["vyper"] == "0.4.3" and data["compiler"]["evm_version"] == "cancun"
    assert data["verified"]["all_ok"] and data["verified"]["checks"] > 30
    # every contract's code hash is the keccak of the code on chain
    for entry in data["contracts"].values():
        code = chain.provider.get_code(entry["address"])
        assert entry["code_hash"] == "0x" + keccak(bytes(code)).hex().removeprefix("0x")
    ch = project.Clearinghouse.at(data["clearinghouse"]["address"])
    assert ch.insurance_vault() == data["insurance_vault"]["address"]
    assert ch.market_count() == 2 and ch.owner() == owner.address
    btc = data["markets"][0]
    assert btc["name"] == "BTC-PERP" and btc["params"]["imr"] == 10**17
    assert btc["params"]["max_price_age"] == 3600 and btc["params"]["price_multiplier"] == 10**10
    assert btc["index_price"] == 50_000 * 10**18
    assert data["markets"][1]["params"]["taker_fee"] == 5 * 10**14  # contract default, recorded
    assert data["insurance_vault"]["cooldown"] == 3600
    assert data["insurance_vault"]["min_reserve"] == 100 * 10**6
    # the manifest reads back and re-verifies
    verify_deployment(ApeBackend(owner), read_manifest(manifest), local_config())


def test_two_step_ownership_handover(owner, other, guardian, staker, project, tmp_path):
    cfg = local_config(**{"ownership.owner": other.address, "ownership.guardian": guardian.address,
                          "ownership.vault_owner": staker.address})
    d = deploy_and_record(ApeBackend(owner), cfg, tmp_path / "m.json", network="local-test")
    ch = project.Clearinghouse.at(d.clearinghouse_address)
    vault = project.InsuranceVault.at(d.vault_address)
    assert ch.owner() == other.address and ch.pending_owner() == "0x" + "00" * 20
    assert ch.guardian() == guardian.address
    assert vault.owner() == staker.address
    assert d.clearinghouse["owner"] == other.address


def test_handover_left_pending_when_new_owner_cannot_sign(owner, project, tmp_path):
    outsider = "0x1111111111111111111111111111111111111111"
    cfg = local_config(**{"ownership.owner": outsider})
    d = deploy_and_record(ApeBackend(owner), cfg, tmp_path / "m.json", network="local-test")
    ch = project.Clearinghouse.at(d.clearinghouse_address)
    assert ch.owner() == owner.address and ch.pending_owner() == outsider
    assert d.clearinghouse["pending_owner"] == outsider
    cfg = local_config(**{"ownership.owner": outsider, "ownership.accept": "always"})
    with pytest.raises(DeployError, match="cannot sign"):
        deploy_and_record(ApeBackend(owner), cfg, tmp_path / "m2.json", network="local-test")


def test_mocks_refused_on_non_local_chain_and_chain_id_checked(owner, tmp_path):
    with pytest.raises(DeployError, match="only deployed on local networks"):
        deploy_and_record(ApeBackend(owner), local_config(), tmp_path / "m.json", network="x", local=False)
    with pytest.raises(DeployError, match="is for chain id 1"):
        deploy_and_record(ApeBackend(owner), local_config(**{"network.chain_id": 1}), tmp_path / "m.json",
                          network="x")
    assert not (tmp_path / "m.json").exists()


def test_existing_token_and_feed_addresses(owner, project, tmp_path):
    """A non-mock config (as on a public network): existing token and feeds are used as is."""
    token = owner.deploy(project.MockToken, "USD Coin", "USDC", 6)
    feed = owner.deploy(project.MockAggregator, 8, 2_000 * 10**8)
    cfg = parse_config(tomllib.loads(textwrap.dedent(f"""
        [collateral]
        address = "{token.address}"
        decimals = 6
        [insurance_vault]
        cooldown = "7d"
        [[markets]]
        name = "ETH-PERP"
        feed = {{ address = "{feed.address}", decimals = 8 }}
        imr = "20%"
        mmr = "10%"
    """)), "existing.toml")
    d = deploy_and_record(ApeBackend(owner), cfg, tmp_path / "m.json", network="fork", local=False)
    assert d.token_address == token.address and d.markets[0]["feed"]["address"] == feed.address
    assert d.collateral["mock"] is False and d.markets[0]["params"]["imr"] == 2 * 10**17
    bad = parse_config({**cfg.raw, "markets": [{**cfg.raw["markets"][0], "feed": {"address": feed.address,
                                                                                  "decimals": 18}}]}, "bad.toml")
    with pytest.raises(DeployError, match="has 8 decimals, config says 18"):
        deploy_and_record(ApeBackend(owner), bad, tmp_path / "m2.json", network="fork", local=False)


def test_read_back_detects_drift(owner, project, tmp_path):
    d = deploy_and_record(ApeBackend(owner), local_config(), tmp_path / "m.json", network="local-test")
    project.Clearinghouse.at(d.clearinghouse_address).set_fees(0, 10**15, 10**14, sender=owner)
    with pytest.raises(VerificationError, match=r"markets\[0\] \(BTC-PERP\).taker_fee: expected 500000000000000"):
        verify_deployment(ApeBackend(owner), d, local_config())


# --------------------------------------------------------------------------------------------
# the CLI (`ape run deploy`): in-process through click, and for real on anvil


def invoke(deploy_script, *args, env=None):
    from click.testing import CliRunner

    return CliRunner().invoke(deploy_script.cli, ["--network", "ethereum:local:test", *map(str, args)],
                              env={"CLAWBACK_REPLACE": None, **(env or {})})


def test_cli_refuses_and_replaces(deploy_script, tmp_path):
    manifest = tmp_path / "local-test.json"
    first = invoke(deploy_script, "--manifest", manifest)
    assert first.exit_code == 0, first.output
    data = json.loads(manifest.read_text())
    assert "read back" in first.output and data["clearinghouse"]["address"] in first.output

    again = invoke(deploy_script, "--manifest", manifest)
    assert again.exit_code == 1
    assert "already deployed on this network" in again.output and "--replace" in again.output
    assert json.loads(manifest.read_text()) == data

    replaced = invoke(deploy_script, "--manifest", manifest, env={"CLAWBACK_REPLACE": "1"})
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(manifest.read_text())["clearinghouse"]["address"] != data["clearinghouse"]["address"]
    # the replaced manifest is kept beside the new one
    [backup] = tmp_path.glob("local-test.replaced-*.json")
    assert json.loads(backup.read_text()) == data
    assert invoke(deploy_script, "--manifest", manifest, "--replace").exit_code == 0


def test_cli_rejects_bad_config(deploy_script, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(LOCAL.read_text().replace("mmr = 0.05                  # maintenance", "mmr = 0.5 # maint")
                   .replace('cooldown = "1h"', 'cooldown = "1h"\ncooldwn = 5'))
    for extra in ((), ("--check-config",)):
        r = invoke(deploy_script, "--config", bad, "--manifest", tmp_path / "m.json", *extra)
        assert r.exit_code == 1
        assert "invalid deployment config" in r.output and str(bad) in r.output
        assert "markets[0] (BTC-PERP).mmr: must be below imr (10 %), got 50 %" in r.output
        assert "insurance_vault.cooldwn: unknown key (did you mean 'cooldown'?)" in r.output
    assert not (tmp_path / "m.json").exists()
    ok = invoke(deploy_script, "--check-config")
    assert ok.exit_code == 0 and "local.toml: valid (2 markets" in ok.output


def test_cli_deploy_on_anvil_then_refuses(anvil, tmp_path):
    manifest = tmp_path / "local-foundry.json"
    r = ape_run("deploy", "--manifest", str(manifest), anvil=anvil)
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(manifest.read_text())
    assert data["chain_id"] == 31337 and data["network"] == "local-foundry"
    assert data["verified"]["all_ok"] and data["contracts"]["Clearinghouse"]["code_size"] > 0

    again = ape_run("deploy", "--manifest", str(manifest), anvil=anvil)
    out = again.stdout + again.stderr
    assert again.returncode != 0
    assert "already deployed" in out and "--replace" in out
    assert json.loads(manifest.read_text()) == data


# --------------------------------------------------------------------------------------------
# no silent wrong chain: ape starts a throwaway anvil when nothing answers; deploying there
# wrote a manifest for a chain that was gone when the command ended


def _one_line_error(r):
    lines = [x for x in (r.stdout + r.stderr).splitlines() if x.strip()]
    assert r.returncode != 0, r.stdout + r.stderr
    return lines[-1]


def test_deploy_refuses_a_host_that_does_not_answer(tmp_path):
    from ops_anvil import free_port, port_answers

    port = free_port()
    manifest = tmp_path / "local-foundry.json"
    r = ape_run("deploy", "--manifest", str(manifest), env={"APE_FOUNDRY_HOST": f"http://127.0.0.1:{port}"})
    line = _one_line_error(r)
    assert f"nothing answers at http://127.0.0.1:{port} (APE_FOUNDRY_HOST)" in line, r.stdout + r.stderr
    assert not manifest.exists() and not port_answers(port)


def test_deploy_refuses_apes_private_anvil(tmp_path):
    manifest = tmp_path / "local-foundry.json"
    r = ape_run("deploy", "--manifest", str(manifest))  # no APE_FOUNDRY_HOST: ape starts its own
    assert "refusing to deploy on the private anvil ape started" in _one_line_error(r)
    assert not manifest.exists()


def test_mocks_follow_the_chain_id_not_the_network_name(tmp_path):
    """README: mocks only on a devnet chain id (1337, 31337). An anvil that calls itself Sepolia
    (--chain-id 11155111) behind ape's `local` network gets no mocks."""
    from ops_anvil import AnvilProcess

    node = AnvilProcess(args=["--chain-id", "11155111"]).start()
    try:
        manifest = tmp_path / "local-foundry.json"
        r = ape_run("deploy", "--manifest", str(manifest), anvil=node)
        assert "only deployed on local networks; this is chain 11155111" in _one_line_error(r)
        assert not manifest.exists()
    finally:
        node.stop()
