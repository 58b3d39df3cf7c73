"""Clawback liquidation keeper: `ape run keeper` (the loop lives in simulation/keeper.py).

    ape run keeper --network ethereum:local:foundry                      # until Ctrl-C
    ape run keeper --network ethereum:local:foundry --once               # one pass, then exit
    ape run keeper --network ethereum:local:foundry --max-blocks 100 --account TEST::3 --deposit 100000

See README.md ("Running the keeper").
"""
from __future__ import annotations

import signal
import sys
from decimal import Decimal
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.ape_backend import require_external_node, resolve_account  # noqa: E402
from simulation.deployment import manifest_name  # noqa: E402
from simulation.keeper import (  # noqa: E402
    KeeperError,
    KeeperOptions,
    build_keeper,
    deposit_for_keeper,
    setup_logging,
)
from simulation.liquidation_policy import WAD  # noqa: E402
from simulation.manifest import display_path  # noqa: E402


@click.command(cls=ConnectedProviderCommand, short_help="Run the Clawback liquidation keeper")
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Deployment manifest (default: deployments/<network>.json).")
@click.option("--account", "account_alias", default=None,
              help="Keeper account: an ape alias or TEST::<n> (default TEST::0 on local networks).")
@click.option("--once", is_flag=True, default=False, help="Check the current block once, act, and exit.")
@click.option("--max-blocks", type=click.IntRange(min=1), default=None, help="Stop after this many new blocks.")
@click.option("--poll-interval", type=click.FloatRange(min=0.05), default=1.0, show_default=True,
              help="Seconds between checks for a new block.")
@click.option("--safety", type=click.FloatRange(0, 1), default=0.9, show_default=True,
              help="Share of the keeper's free margin (equity - initial margin) it may commit.")
@click.option("--min-size", type=float, default=0.0, help="Skip partial liquidations smaller than this (base units).")
@click.option("--deposit", "deposit_amount", type=float, default=None,
              help="Deposit this much collateral (whole tokens) first; minted on a mock token.")
@click.option("--from-block", type=int, default=None, help="Scan logs from here (default: the deployment block).")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True, help="eth_calls per batch.")
@click.option("--dry-run", is_flag=True, default=False, help="Decide and log, send nothing.")
@click.option("--debug", "verbose", is_flag=True, default=False, help="Log every block, not just actions.")
def cli(ecosystem, network, provider, manifest_path, account_alias, once, max_blocks, poll_interval, safety,
        min_size, deposit_amount, from_block, batch_size, dry_run, verbose):
    """Watch the Clearinghouse and liquidate unhealthy accounts."""
    setup_logging(verbose)
    require_external_node(provider, "keep")
    name = manifest_name(ecosystem.name, network.name, provider.name)
    manifest_path = Path(manifest_path) if manifest_path else ROOT / "deployments" / f"{name}.json"
    if not manifest_path.is_file():
        raise click.ClickException(f"no deployment manifest at {display_path(manifest_path)}: run `ape run deploy "
                                   f"--network {ecosystem.name}:{network.name}:{provider.name}` first, or pass --manifest")
    account = resolve_account(account_alias, network.name == "local")
    opts = KeeperOptions(poll_interval=poll_interval, once=once, max_blocks=max_blocks,
                         safety=int(Decimal(str(safety)) * WAD), min_size=int(Decimal(str(min_size)) * WAD),
                         dry_run=dry_run)
    try:
        keeper = build_keeper(manifest_path, account, opts, from_block=from_block, batch_size=batch_size)
        if deposit_amount:
            deposit_for_keeper(manifest_path, account,
                               int(Decimal(str(deposit_amount)) * 10**keeper.opt.token_decimals))
    except KeeperError as exc:
        raise click.ClickException(str(exc)) from None
    # ape's own SIGINT handler exits at once (status 130); the keeper finishes its step instead
    previous = {sig: signal.signal(sig, keeper.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        stats = keeper.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"keeper: {stats.summary()}")
