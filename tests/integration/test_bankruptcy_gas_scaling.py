"""liquidate_bankrupt costs the same gas whatever the number of open accounts, under both
haircut policies: the charge is a per-market, per-side index, settled lazily (DESIGN.md: "Gas
must not grow with the number of accounts"). The same bankruptcy is resolved with 10 and with
60 short accounts on the charged side (chain snapshots make everything else identical); the gas
differs by less than 1 % and stays under the 250,000 target. scripts/bench_bankruptcy_scaling.py
runs the same comparison with 500 accounts.
"""
import pytest
from support.fast_sender import FastSender
from support.protocol import WAD

UNIT = 10**6
SCALE = 10**30
P0 = 50_000 * WAD
CROWD_SIZE = WAD // 100  # each crowd account is short 0.01 (500 tokens of notional)
TARGET = 250_000


@pytest.fixture(scope="module")
def crowd_accounts(accounts):
    return [accounts.generate_test_account() for _ in range(60)]


@pytest.fixture(scope="module", params=["pro_rata_size", "profit_clawback"])
def market(request, protocol_builder, trader, maker, liquidator, other, staker):
    """The trader is long 1 against the maker; `other` is the long side of the crowd; the
    vault holds 1,000 tokens, so it pays part of the deficit and the haircut the rest."""
    protocol = protocol_builder(loss_policy=request.param)
    for who in (maker, liquidator, other):
        protocol.fund(who, 1_000_000)
    protocol.token.mint(staker, 1_000 * UNIT, sender=staker)
    protocol.token.approve(protocol.vault, 1_000 * UNIT, sender=staker)
    protocol.vault.deposit(1_000 * UNIT, staker, sender=staker)
    protocol.fund(trader, 6_000)
    protocol.fill(trader, maker, -WAD, P0)
    return protocol


def open_crowd(protocol, chain, funder, whale, crowd):
    """Each crowd account gets ether and 1,000 tokens, deposits them and sells 0.01 to the
    whale."""
    ch, token = protocol.clearinghouse, protocol.token
    fast = FastSender(chain)
    for account in crowd:
        fast.send(funder, account.address, value=10**17, gas=21_000)
        fast.call(funder, token, "mint", account.address, 1_000 * UNIT)
    fast.wait()
    for account in crowd:
        fast.call(account, token, "approve", ch.address, 1_000 * UNIT)
        fast.call(account, ch, "deposit", 1_000 * UNIT)
        order = protocol.order(account, -CROWD_SIZE, P0)
        fast.call(whale, ch, "trade", order.as_tuple(), protocol.sign(account, order), CROWD_SIZE)
    fast.wait()


def resolve(protocol, trader, liquidator, crowd):
    """Crash the price, resolve the bankruptcy; return its gas and check the haircut ran."""
    ch = protocol.clearinghouse
    protocol.set_price(43_000)
    before = ch.equity(crowd[0])
    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)
    [log] = receipt.events.filter(ch.Bankruptcy)
    assert log.insurance_paid > 0 and log.socialized > 0
    # charged lazily: the crowd account's view includes its share, nothing was written to it
    if ch.loss_policy() == "pro_rata_size":
        delta = ch.haircut_index(0, False)
        assert ch.equity(crowd[0]) == before - (-(-CROWD_SIZE * delta // SCALE))
    else:
        # each short pays the same fraction of its profit: 500 - 0.01 * 43,000 = 70 tokens each
        x, y = ch.clawback_index(0, False)
        profit = 500 * UNIT - CROWD_SIZE * 43_000 * WAD // SCALE
        owed = -(-CROWD_SIZE * x // SCALE) + -(-500 * UNIT * y // WAD)
        assert 0 < owed <= profit and ch.equity(crowd[0]) == before - owed
    return receipt.gas_used


def test_bankruptcy_gas_does_not_grow_with_open_accounts(market, chain, owner, trader, liquidator, other, crowd_accounts):
    ch = market.clearinghouse
    open_crowd(market, chain, owner, other, crowd_accounts[:10])
    assert ch.open_interest(0) == WAD + 10 * CROWD_SIZE
    snapshot = chain.snapshot()
    gas_10 = resolve(market, trader, liquidator, crowd_accounts[:10])
    chain.restore(snapshot)

    open_crowd(market, chain, owner, other, crowd_accounts[10:])
    assert ch.open_interest(0) == WAD + 60 * CROWD_SIZE
    assert ch.position_size(trader, 0) == WAD  # the same bankruptcy, not yet resolved
    gas_60 = resolve(market, trader, liquidator, crowd_accounts)

    assert abs(gas_60 - gas_10) < gas_10 / 100, (gas_10, gas_60)
    assert gas_10 < TARGET and gas_60 < TARGET, (gas_10, gas_60)
