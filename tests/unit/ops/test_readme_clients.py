"""The README's client examples (web3.py and cast), extracted from README.md and run as written
against a fresh deployment on anvil, so the documentation and the protocol cannot drift apart."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "integration" / "keeper"))

from ops_anvil import ANVIL, FOUNDRY_BIN, AnvilProcess  # noqa: E402

SIZE = 10**17


def readme_block(marker: str) -> str:
    """The fenced code block that follows `<!-- marker -->` in README.md."""
    text = (ROOT / "README.md").read_text()
    after = text[text.index(f"<!-- {marker} -->"):]
    start = after.index("```") + after[after.index("```"):].index("\n") + 1
    return after[start:after.index("\n```", start)] + "\n"


def find_cast():
    for native in sorted((ROOT / "node_modules" / "@foundry-rs").glob("cast-*/bin/cast")):
        return str(native)
    return shutil.which("cast")


@pytest.fixture(scope="module")
def devnet(tmp_path_factory):
    """anvil + the shipped local config deployed by the shared flow, ABIs written beside the manifest."""
    import json

    from keeper_support import Web3Backend
    from web3 import Web3

    from simulation.deployment import deploy_and_record, load_config

    assert ANVIL, "anvil is not installed: run ./clawback setup"
    node = AnvilProcess().start()
    types = json.loads((ROOT / ".build" / "__local__.json").read_text())["contractTypes"]

    class Backend(Web3Backend):
        def abi(self, name):
            return types[name]["abi"]

    w3 = Web3(Web3.HTTPProvider(node.url))
    manifest = tmp_path_factory.mktemp("readme") / "local-foundry.json"
    deploy_and_record(Backend(w3, w3.eth.accounts[0]), load_config(ROOT / "deployments/config/local.toml"),
                      manifest, network="local-foundry")
    yield node, manifest
    node.stop()


def _env(node, manifest, **extra):
    return {**os.environ, "CLAWBACK_MANIFEST": str(manifest), "RPC_URL": node.url, **extra}


def test_the_web3_example_trades(devnet, tmp_path):
    node, manifest = devnet
    before = _maker_position(node, manifest)
    r = subprocess.run([sys.executable, "-c", readme_block("readme-web3-example")], cwd=tmp_path,
                       env=_env(node, manifest), capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"maker {before + SIZE} taker {-(before + SIZE)}" in r.stdout


def test_signing_the_digest_with_personal_sign_is_refused(devnet):
    """README: order_digest signed with eth_sign / personal_sign recovers to another address."""
    import json

    from eth_account import Account
    from eth_account.messages import encode_defunct
    from web3 import Web3

    node, manifest = devnet
    m = json.loads(manifest.read_text())
    w3 = Web3(Web3.HTTPProvider(node.url))
    abi = json.loads((manifest.parent / m["contracts"]["Clearinghouse"]["abi"]).read_text())
    ch = w3.eth.contract(address=m["clearinghouse"]["address"], abi=abi)
    maker = Account.from_key("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
    order = (maker.address, 0, SIZE, ch.functions.index_price(0).call(), 12345,
             w3.eth.get_block("latest")["timestamp"] + 600)
    digest = ch.functions.order_digest(order).call()
    wrong = Account.sign_message(encode_defunct(primitive=digest), maker.key).signature
    with pytest.raises(Exception, match="signer is not the order account"):
        ch.functions.trade(order, wrong, SIZE).call({"from": w3.eth.accounts[2]})


def _maker_position(node, manifest):
    import json

    from web3 import Web3

    m = json.loads(manifest.read_text())
    w3 = Web3(Web3.HTTPProvider(node.url))
    abi = json.loads((manifest.parent / m["contracts"]["Clearinghouse"]["abi"]).read_text())
    ch = w3.eth.contract(address=m["clearinghouse"]["address"], abi=abi)
    return ch.functions.position_size("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 0).call()


def test_the_cast_example_trades(devnet, tmp_path):
    node, manifest = devnet
    before = _maker_position(node, manifest)  # the web3 example may have traded on this devnet
    cast = find_cast()
    assert cast, "cast is not installed: run ./clawback setup (it installs @foundry-rs/cast from npm)"
    path = os.pathsep.join([str(Path(cast).parent), FOUNDRY_BIN, os.environ["PATH"]])
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_block("readme-cast-example")], cwd=tmp_path,
                       env=_env(node, manifest, PATH=path), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.split()
    assert lines[0] == str(before + SIZE) and lines[-1] == "ok", r.stdout
    assert _maker_position(node, manifest) == before + SIZE
