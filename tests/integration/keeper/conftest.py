"""Fixtures for the keeper tests: a Clawback deployment made by the deploy flow itself."""
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
for p in (ROOT, HERE, HERE.parent / "deploy"):  # `ape test` does not put the root on sys.path
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from keeper_support import TEST_CONFIG, load_script  # noqa: E402


@pytest.fixture(scope="module")
def keeper_script():
    return load_script("keeper")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, owner):
    """Deploy through the same flow as `ape run deploy` (in-process chain)."""
    from simulation.ape_backend import ApeBackend
    from simulation.deployment import deploy_and_record, parse_config

    cfg = parse_config(tomllib.loads(TEST_CONFIG), "keeper-test.toml")
    path = tmp_path_factory.mktemp("keeper") / "local-test.json"
    d = deploy_and_record(ApeBackend(owner), cfg, path, network="local-test")
    return d, path


@pytest.fixture(scope="module")
def contracts(project, deployment):
    d, _ = deployment
    return {
        "ch": project.Clearinghouse.at(d.clearinghouse_address),
        "token": project.MockToken.at(d.token_address),
        "vault": project.InsuranceVault.at(d.vault_address),
        "feeds": [project.MockAggregator.at(m["feed"]["address"]) for m in d.markets],
    }
