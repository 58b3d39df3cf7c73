"""Gas table for Clawback's hot external functions, one column per loss policy.

    ape run gas_table --network ethereum:local:foundry [--scaling]

Deploys a fresh protocol per loss policy on the selected (local) network, performs each
operation in the situation the README's targets name, and prints gas used per operation and
policy against its target, then the runtime code size of each deployable. With --scaling it
also resolves the same bankruptcy with 10, 100 and 500 open accounts on the charged side
(scripts/bench_bankruptcy_scaling.py) per haircut policy.
"""
import sys
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from support.protocol import WAD, build_protocol  # noqa: E402

TARGETS = {
    "deposit (first)": 70_000,
    "trade: open two new positions": 200_000,
    "trade: change two existing positions": 150_000,
    "liquidate_bankrupt (one market)": 250_000,
}


POLICIES = ("pro_rata_size", "profit_clawback", "adl")
DEPLOYABLES = ("Clearinghouse", "LiquidationProRataSize", "ClearinghouseProfitClawback", "LiquidationProfitClawback",
               "ClearinghouseAdl", "LiquidationAdl", "InsuranceVault")
# the policies whose liquidate_bankrupt charges a side by index (the scaling claim); adl fills
# named counterparties instead (tests/integration/test_adl_gas.py)
HAIRCUT_POLICIES = ("pro_rata_size", "profit_clawback")
EIP170 = 24_576


def measure(loss_policy: str = "pro_rata_size") -> list[tuple[str, int]]:
    owner, trader, maker, liquidator, staker, other = (accounts.test_accounts[i] for i in range(6))
    protocol = build_protocol(project, chain, owner, loss_policy=loss_policy)
    ch, vault, token = protocol.clearinghouse, protocol.vault, protocol.token
    rows = []

    def record(name, receipt):
        rows.append((name, receipt.gas_used))

    for who in (trader, maker, liquidator, other):
        protocol.fund(who, 0, deposit=False)
        token.mint(who, 1_000_000 * 10**6, sender=who)
    # The protocol's very first deposit and trade also pay one-time writes (the clearinghouse's
    # token balance, open interest, fee and funding slots going from zero). The targets are
    # about an account's own first deposit and a pair's own new positions, so warm up first.
    record("deposit (protocol's first ever)", ch.deposit(100_000 * 10**6, sender=liquidator))
    record("deposit (first)", ch.deposit(100_000 * 10**6, sender=trader))
    record("deposit (again)", ch.deposit(1_000 * 10**6, sender=trader))
    ch.deposit(100_000 * 10**6, sender=maker)
    ch.deposit(10_000 * 10**6, sender=other)

    price = protocol.price()
    record("trade: protocol's first ever", protocol.fill(liquidator, other, WAD // 100, price))
    protocol.fill(liquidator, other, -WAD // 100, price)
    record("trade: open two new positions", protocol.fill(trader, maker, WAD // 10, price))
    record("trade: change two existing positions", protocol.fill(trader, maker, WAD // 10, price))
    record("trade: reduce two positions", protocol.fill(trader, maker, -WAD // 20, price))
    record("trade: close two positions", protocol.fill(trader, maker, -(WAD * 3) // 20, price))
    # the same change with funding live: fills 0.1 % above the oracle set a premium, so each
    # later fill also accrues the funding index and settles both positions' funding
    above = price + price // 1000
    # (the first accrual turns the index and both snapshots from zero to non-zero: one-time
    # storage costs, so warm up once before measuring)
    protocol.fill(trader, maker, WAD // 10, above)
    chain.pending_timestamp += 600
    protocol.fill(trader, maker, WAD // 10, above)
    chain.pending_timestamp += 600
    record("trade: change two existing (funding accruing)", protocol.fill(trader, maker, WAD // 10, above))
    protocol.fill(trader, maker, -(WAD * 3) // 10, price)
    order = protocol.order(maker, WAD, price)
    record("cancel", ch.cancel(order.as_tuple(), sender=maker))
    record("withdraw", ch.withdraw(1_000 * 10**6, sender=trader))

    # vault
    token.approve(vault, 2**256 - 1, sender=staker)
    token.mint(staker, 1_000_000 * 10**6, sender=staker)
    record("vault deposit (first)", vault.deposit(100_000 * 10**6, staker, sender=staker))
    record("vault deposit (again)", vault.deposit(1_000 * 10**6, staker, sender=staker))
    record("vault request_redeem", vault.request_redeem(vault.balanceOf(staker) // 10, sender=staker))
    chain.pending_timestamp += vault.cooldown() + 1
    protocol.set_price(50_000)

    # liquidate: other opens 10x, the price drops 6 %
    protocol.fill(other, maker, -(WAD * 19) // 10, protocol.price())  # other long 1.9 (95k notional, ~10x)
    protocol.set_price(46_800)
    size = ch.max_liquidatable_size(other, 0)
    record("liquidate (partial)", ch.liquidate(other, 0, size, sender=liquidator))
    # bankrupt: the price gaps down
    protocol.set_price(40_000)
    record("liquidate_bankrupt (one market)", ch.liquidate_bankrupt(other, sender=liquidator))
    shares = vault.balanceOf(staker) // 10
    record("vault redeem", vault.redeem(min(shares, vault.maxRedeem(staker)), staker, staker, sender=staker))
    return rows


def code_sizes() -> list[tuple[str, int]]:
    """Runtime code size (bytes) of each deployable, from the compiled artifacts."""
    sizes = []
    for name in DEPLOYABLES:
        runtime = getattr(project, name).contract_type.runtime_bytecode.bytecode
        sizes.append((name, (len(runtime) - 2) // 2))
    return sizes


@click.command(cls=ConnectedProviderCommand)
@click.option("--scaling", is_flag=True, help="also liquidate_bankrupt with 10/100/500 open accounts")
def cli(scaling):
    columns = {}
    for policy in POLICIES:
        snapshot = chain.snapshot()
        columns[policy] = dict(measure(policy))
        if scaling and policy in HAIRCUT_POLICIES:
            from bench_bankruptcy_scaling import measure as measure_scaling

            for size, gas, *_ in measure_scaling(loss_policy=policy):
                columns[policy][f"liquidate_bankrupt, {size} open accounts"] = gas
        chain.restore(snapshot)
    names = list(columns[POLICIES[0]])
    width = max(len(name) for name in names)
    print(f"\n{'operation':<{width}}  " + "  ".join(f"{p:>15}" for p in POLICIES) + f"  {'target':>9}  ok")
    for name in names:
        target = TARGETS.get(name)
        gases = [columns[p].get(name) for p in POLICIES]
        mark = "" if target is None else ("yes" if all(g < target for g in gases if g is not None) else "NO")
        print(f"{name:<{width}}  " + "  ".join(f"{'-' if g is None else f'{g:,}':>15}" for g in gases)
              + f"  {'' if target is None else f'{target:,}':>9}  {mark}")
    print(f"\n{'deployable':<30}  {'runtime bytes':>13}  {'EIP-170 headroom':>16}")
    for name, size in code_sizes():
        print(f"{name:<30}  {size:>13,}  {EIP170 - size:>16,}")
