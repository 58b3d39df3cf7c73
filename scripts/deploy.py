"""Deploy Clawback from a TOML config and write deployments/<network>.json.

    ape run deploy --network ethereum:local:foundry
    ape run deploy --network ethereum:local:foundry --config deployments/config/local.toml --replace
    ape run deploy --network ethereum:sepolia:node --account deployer   # addresses from sepolia.toml

The logic lives in simulation/deployment.py (shared with the simulation); this script is the ape
front end: it picks the network, the deployer account, the config and the manifest path.
See README.md ("Operations").
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.ape_backend import require_external_node, resolve_account  # noqa: E402
from simulation.deployment import (  # noqa: E402
    LOCAL_CHAIN_IDS,
    ConfigError,
    DeployError,
    VerificationError,
    default_config_path,
    deploy_and_record,
    load_config,
    manifest_name,
)
from simulation.manifest import display_path  # noqa: E402


def run(*, ecosystem_name: str, network_name: str, provider_name: str, config_path=None, manifest_path=None,
        replace: bool = False, deployer=None, signers=(), log=click.echo, root: Path = ROOT):
    """Programmatic entry point (used by the CLI and by tests running in an ape session)."""
    import ape

    from simulation.ape_backend import ApeBackend

    name = manifest_name(ecosystem_name, network_name, provider_name)
    config_path = Path(config_path) if config_path else default_config_path(root, name)
    manifest_path = Path(manifest_path) if manifest_path else root / "deployments" / f"{name}.json"
    try:  # record the config relative to the project when it lives there
        config_path = config_path.resolve().relative_to(root) if config_path.is_absolute() else config_path
    except ValueError:
        pass
    config = load_config(config_path if config_path.is_absolute() else root / config_path)
    config = config.with_source(str(config_path))
    # mocks only on a devnet chain id (1337, 31337), whatever ape calls the network: an anvil
    # started with --chain-id 11155111 is treated like Sepolia
    local = int(ape.chain.chain_id) in LOCAL_CHAIN_IDS
    deployer = deployer or resolve_account(None, network_name == "local")
    log(f"network {ecosystem_name}:{network_name}:{provider_name} (chain {ape.chain.chain_id}), "
        f"config {config_path}, deployer {deployer.address}")
    try:  # messages name the manifest as the README does: relative to the project
        manifest_path = manifest_path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        pass
    backend = ApeBackend(deployer, signers=signers)
    return deploy_and_record(backend, config, manifest_path, network=name, replace=replace, local=local, log=log)


@click.command(cls=ConnectedProviderCommand, short_help="Deploy Clawback from a TOML config")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Deployment config (default: deployments/config/<network>.toml, e.g. local.toml).")
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the manifest (default: deployments/<network>.json).")
@click.option("--replace", is_flag=True, default=False, envvar="CLAWBACK_REPLACE",
              help="Deploy even if a deployment is already recorded for this network (env CLAWBACK_REPLACE=1).")
@click.option("--account", "account", default=None,
              help="Deployer: an ape account alias or TEST::<n>; default TEST::0 on local networks.")
@click.option("--signer", "signer_aliases", multiple=True,
              help="Another account that may sign in this run (e.g. the new owner, to accept ownership).")
@click.option("--check-config", is_flag=True, default=False, help="Only validate the config, deploy nothing.")
def cli(ecosystem, network, provider, config_path, manifest_path, replace, account, signer_aliases, check_config):
    """Deploy the collateral token (mock on local networks), feeds, Clearinghouse, InsuranceVault
    and markets; hand over ownership; read everything back; write the manifest."""
    name = manifest_name(ecosystem.name, network.name, provider.name)
    try:
        if check_config:
            path = Path(config_path) if config_path else default_config_path(ROOT, name)
            cfg = load_config(path)
            click.echo(f"{display_path(path)}: valid ({len(cfg.markets)} markets, collateral "
                       f"{'mock' if cfg.collateral.mock else cfg.collateral.address})")
            return
        require_external_node(provider, "deploy")
        local = network.name == "local"
        deployer = resolve_account(account, local)
        signers = [resolve_account(a, local) for a in signer_aliases]
        d = run(ecosystem_name=ecosystem.name, network_name=network.name, provider_name=provider.name,
                config_path=config_path, manifest_path=manifest_path, replace=replace,
                deployer=deployer, signers=signers)
    except (ConfigError, DeployError, VerificationError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Clearinghouse   {d.clearinghouse_address}")
    click.echo(f"InsuranceVault  {d.vault_address}")
    click.echo(f"collateral      {d.token_address}")
    for m in d.markets:
        click.echo(f"market {m['id']} {m.get('name', '')}: feed {m['feed']['address']}")
