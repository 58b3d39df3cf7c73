"""Fixtures for the simulation tests: a tiny scenario, anvil chains, compiled artifacts.

These tests run under plain pytest (no ape network needed); chain tests skip when the contracts
are not compiled or anvil is missing.
"""
from __future__ import annotations

import tomllib

import pytest

from simulation.abi import ArtifactError, Artifacts
from simulation.paths import find_anvil
from simulation.scenario import Scenario

TINY = """
name = "tiny"
description = "a few agents, a crash at block 6"
seed = 3
blocks = 12
block_time = 60

[[markets]]
name = "BTC"
initial_price = 30000
imr = 0.10
mmr = 0.05

[prices]
model = "jump"
sigma = 0.5
crash = { block = 6, size = -0.35, duration = 2 }

[protocol]
vault_cooldown = 120
max_cover_ratio = 0.3

[agents.market_makers]
count = 1
capital = 1_000_000

[agents.noise_traders]
count = 4
capital = 20_000
trade_prob = 1.0
leverage = { median = 8, sigma = 0.1, max = 9 }

[agents.momentum_traders]
count = 0

[agents.liquidators]
count = 1
capital = 400_000
reaction_delay = 0

[agents.stakers]
count = 1
capital = 20_000
"""


@pytest.fixture
def tiny_toml() -> str:
    return TINY


@pytest.fixture
def tiny() -> Scenario:
    return Scenario.model_validate(tomllib.loads(TINY))


@pytest.fixture(scope="session")
def artifacts() -> Artifacts:
    try:
        a = Artifacts()
    except ArtifactError as exc:
        pytest.fail(f"compiled artifacts missing ({exc}): run ./clawback setup")
    for name in ("Clearinghouse", "InsuranceVault", "MockToken", "MockAggregator"):
        if name not in a:
            pytest.fail(f"{name} is not compiled: run ./clawback setup")
    return a


@pytest.fixture(scope="session")
def anvil_bin() -> str:
    b = find_anvil()
    if not b:
        pytest.fail("anvil is not installed: run ./clawback setup")
    return b


@pytest.fixture
def anvil_chain(anvil_bin):
    from simulation.anvil import Anvil
    from simulation.chain import RpcChain

    with Anvil() as node:
        chain = RpcChain(node.url)
        yield chain
        chain.close()


@pytest.fixture(scope="session")
def small_bench(artifacts, anvil_bin):
    """`simulation.bench.measure` with tiny counts (200 batched fills, 3 through ape, 100 per
    block), run once for test_sim_bench.py and test_sim_e2e.py, which assert on it."""
    from simulation.bench import measure

    return measure(n_batched=200, n_ape=3, per_block=100)
