"""Does liquidate_bankrupt's gas grow with the number of open accounts?

    ape run bench_bankruptcy_scaling --network ethereum:local:foundry

DESIGN.md: the haircut is a cumulative per-market, per-side index settled lazily, so "gas must
not grow with the number of accounts". This script deploys a fresh protocol, opens a bankrupt
long (the trader, 1 unit at 50,000 with 6,000 of collateral) and a crowd of short accounts on
the side the haircut charges, and resolves the very same bankruptcy (price crash to 43,000,
the vault pays part, the haircut the rest) with 10, 100 and 500 crowd accounts: the crowd
grows between measurements and a chain snapshot rewinds each resolution, so nothing else
differs. It prints one row per crowd size and fails if 500 differs from 10 by 1 % or more.
"""
import sys
import time
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.fast_sender import FastSender  # noqa: E402
from support.protocol import WAD, build_protocol  # noqa: E402

UNIT = 10**6
P0 = 50_000 * WAD
CROWD_SIZE = WAD // 100  # each crowd account is short 0.01 (500 tokens of notional)
SIZES = (10, 100, 500)
TOLERANCE = 0.01


def open_crowd(protocol, whale, funder, count):
    """`count` new accounts, each depositing 1,000 and selling 0.01 to the whale."""
    ch, token = protocol.clearinghouse, protocol.token
    fast = FastSender(chain)
    crowd = [accounts.test_accounts.generate_test_account() for _ in range(count)]
    for account in crowd:
        fast.send(funder, account.address, value=10**17, gas=21_000)
        fast.call(funder, token, "mint", account.address, 1_000 * UNIT)
    fast.wait()  # the new accounts pay for their own transactions
    for account in crowd:
        fast.call(account, token, "approve", ch.address, 1_000 * UNIT)
        fast.call(account, ch, "deposit", 1_000 * UNIT)
        order = protocol.order(account, -CROWD_SIZE, P0)
        fast.call(whale, ch, "trade", order.as_tuple(), protocol.sign(account, order), CROWD_SIZE)
    fast.wait()


def resolve(protocol, trader, liquidator):
    ch = protocol.clearinghouse
    protocol.set_price(43_000)
    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)
    [log] = receipt.events.filter(ch.Bankruptcy)
    if log.insurance_paid == 0 or log.socialized == 0:
        raise click.ClickException("the scenario must exercise both the vault and the haircut")
    return receipt.gas_used, log


def measure(sizes=SIZES, loss_policy="pro_rata_size"):
    owner, trader, maker, liquidator, staker, whale = (accounts.test_accounts[i] for i in range(6))
    protocol = build_protocol(project, chain, owner, loss_policy=loss_policy)
    ch, vault, token = protocol.clearinghouse, protocol.vault, protocol.token
    for who in (maker, liquidator, whale):
        protocol.fund(who, 10_000_000)
    token.mint(staker, 1_000 * UNIT, sender=staker)
    token.approve(vault, 1_000 * UNIT, sender=staker)
    vault.deposit(1_000 * UNIT, staker, sender=staker)
    protocol.fund(trader, 6_000)
    protocol.fill(trader, maker, -WAD, P0)  # the trader is long 1 against the maker

    rows, opened = [], 0
    for size in sizes:
        started = time.monotonic()
        open_crowd(protocol, whale, owner, size - opened)
        opened = size
        if ch.open_interest(0) != WAD + size * CROWD_SIZE:
            raise click.ClickException("a crowd account failed to open its position")
        snapshot = chain.snapshot()
        gas, log = resolve(protocol, trader, liquidator)
        chain.restore(snapshot)
        rows.append((size, gas, log.deficit, log.insurance_paid, log.socialized, time.monotonic() - started))
    return rows


@click.command(cls=ConnectedProviderCommand)
@click.option("--loss-policy", default="pro_rata_size", type=click.Choice(["pro_rata_size", "profit_clawback"]))
def cli(loss_policy):
    rows = measure(loss_policy=loss_policy)
    base = rows[0][1]
    print(f"\nliquidate_bankrupt gas vs open accounts on the charged side ({loss_policy})")
    print(f"{'open accounts':>13}  {'gas':>9}  {'vs 10':>8}  {'deficit':>10}  {'vault paid':>10}  {'socialized':>10}  {'setup s':>7}")
    for size, gas, deficit, paid, socialized, seconds in rows:
        change = (gas - base) / base
        print(
            f"{size:>13}  {gas:>9,}  {change:>+8.3%}  {deficit / UNIT:>10,.2f}  {paid / UNIT:>10,.2f}"
            f"  {socialized / UNIT:>10,.2f}  {seconds:>7.1f}"
        )
    worst = max(abs(gas - base) / base for _, gas, *_ in rows)
    verdict = "within" if worst < TOLERANCE else "NOT within"
    print(f"\nlargest difference from 10 accounts: {worst:.3%} ({verdict} {TOLERANCE:.0%})")
    if worst >= TOLERANCE:
        raise click.ClickException("liquidate_bankrupt gas grows with the number of accounts")
