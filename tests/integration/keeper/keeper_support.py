"""Helpers for the keeper tests: a test deployment config and positions opened with signed orders."""
import importlib.util
import sys
import textwrap
from pathlib import Path

from eth_account import Account

ROOT = Path(__file__).resolve().parents[3]
USDC = 10**6
WAD = 10**18
TEST_CONFIG = textwrap.dedent("""
    [collateral]
    mock = true
    decimals = 6
    [clearinghouse]
    keeper_reward = 5
    dust_notional = 10
    [insurance_vault]
    cooldown = "1h"
    [[markets]]
    name = "BTC-PERP"
    feed = { mock = true, decimals = 8, price = 50000 }
    imr = 0.10
    mmr = 0.05
    liquidation_penalty = 0.02
    close_factor = 0.5
    max_price_age = "7d"
    [[markets]]
    name = "ETH-PERP"
    feed = { mock = true, decimals = 8, price = 3000 }
    imr = 0.10
    mmr = 0.05
    max_price_age = "7d"
""")


def load_script(name):
    spec = importlib.util.spec_from_file_location(f"clawback_script_{name}", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses need the module registered
    spec.loader.exec_module(mod)
    return mod


def fund(contracts, account, amount):
    token, ch = contracts["token"], contracts["ch"]
    token.mint(account, amount, sender=account)
    token.approve(ch, amount, sender=account)
    ch.deposit(amount, sender=account)


def sign(account, digest: bytes) -> bytes:
    sig = Account.unsafe_sign_hash(bytes(digest), account.private_key)
    return sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v])


_nonce = [0]


def open_position(contracts, chain, maker, taker, market, maker_size, price):
    """The maker signs an order of `maker_size` at `price` (1e18); the taker fills all of it."""
    ch = contracts["ch"]
    _nonce[0] += 1
    order = (maker.address, market, maker_size, price, _nonce[0], chain.pending_timestamp + 3600)
    sig = sign(maker, ch.order_digest(order))
    ch.trade(order, sig, abs(maker_size), sender=taker)


class Web3Devnet:
    """Drive a deployment on an anvil devnet with plain web3 (anvil's default accounts are
    unlocked; ape's test accounts use the same mnemonic, so their keys sign orders)."""

    def __init__(self, url, manifest):
        import json

        from web3 import Web3

        self.w3 = Web3(Web3.HTTPProvider(url))
        self.d = json.loads(Path(manifest).read_text())
        types = json.loads((ROOT / ".build" / "__local__.json").read_text())["contractTypes"]
        c = lambda name, addr: self.w3.eth.contract(address=addr, abi=types[name]["abi"])  # noqa: E731
        self.ch = c("Clearinghouse", self.d["clearinghouse"]["address"])
        self.token = c("MockToken", self.d["collateral"]["address"])
        self.feeds = [c("MockAggregator", m["feed"]["address"]) for m in self.d["markets"]]
        self.nonce = 0

    def tx(self, fn, sender):
        h = fn.transact({"from": sender.address})
        r = self.w3.eth.wait_for_transaction_receipt(h)
        assert r.status == 1, r
        return r

    def fund(self, account, amount):
        self.tx(self.token.functions.mint(account.address, amount), account)
        self.tx(self.token.functions.approve(self.ch.address, amount), account)
        self.tx(self.ch.functions.deposit(amount), account)

    def open_position(self, maker, taker, market, maker_size, price):
        self.nonce += 1
        expiry = self.w3.eth.get_block("latest")["timestamp"] + 3600
        order = (maker.address, market, maker_size, price, self.nonce, expiry)
        sig = sign(maker, self.ch.functions.order_digest(order).call())
        self.tx(self.ch.functions.trade(order, sig, abs(maker_size)), taker)

    def set_price(self, market, whole_price, sender):
        self.tx(self.feeds[market].functions.set_answer(int(whole_price * 10**8)), sender)

    def position(self, account, market=0):
        return self.ch.functions.position_size(account.address, market).call()

    def liquidatable(self, account):
        return self.ch.functions.is_liquidatable(account.address).call()


class Web3Backend:
    """A minimal `simulation.deployment.Backend` over plain web3 and anvil's unlocked accounts
    (test-only; the simulation ships its own raw JSON-RPC backend). Deploying through it also
    proves the deploy flow does not depend on ape."""

    def __init__(self, w3, sender):
        import json

        self.w3 = w3
        self.sender = sender
        self.types = json.loads((ROOT / ".build" / "__local__.json").read_text())["contractTypes"]

    def _c(self, name, address=None):
        t = self.types[name]
        if address is None:
            return self.w3.eth.contract(abi=t["abi"], bytecode=t["deploymentBytecode"]["bytecode"])
        return self.w3.eth.contract(address=address, abi=t["abi"])

    def _wait(self, h):
        r = self.w3.eth.wait_for_transaction_receipt(h)
        if r.status != 1:
            raise RuntimeError(f"transaction {h.hex()} reverted")
        return r

    def deploy(self, name, *args):
        return self._wait(self._c(name).constructor(*args).transact({"from": self.sender})).contractAddress

    def transact(self, address, name, fn, *args, sender=None):
        return self._wait(getattr(self._c(name, address).functions, fn)(*args).transact({"from": sender or self.sender}))

    def call(self, address, name, fn, *args):
        return getattr(self._c(name, address).functions, fn)(*args).call()

    def chain_id(self):
        return self.w3.eth.chain_id

    def block_number(self):
        return self.w3.eth.block_number

    def get_code(self, address):
        return bytes(self.w3.eth.get_code(address))

    def deployer(self):
        return self.sender

    def can_sign(self, address):
        return address.lower() in {a.lower() for a in self.w3.eth.accounts}


def deploy_with_web3(url, manifest):
    import tomllib

    from web3 import Web3

    from simulation.deployment import deploy_and_record, parse_config

    w3 = Web3(Web3.HTTPProvider(url))
    cfg = parse_config(tomllib.loads(TEST_CONFIG), "keeper-test.toml")
    return deploy_and_record(Web3Backend(w3, w3.eth.accounts[0]), cfg, manifest, network="local-foundry")
