"""Fixtures and glue for the stateful property tests under tests/fuzz
(test_trading_stateful.py, test_waterfall_stateful.py).

- `traders`: four trader accounts for the state machines (accounts 1, 2, 8, 9; the first two
  are also the root conftest's `trader` and `maker`).
- `evm_factory`: builds an `Evm`, a thin, fast driver over the in-process py-evm chain of ape's
  `test` provider. A machine makes thousands of calls per run; going to the backend directly
  (calldata from eth_abi, views batched on one EVM state, no receipt enrichment, no
  revert-traceback lookup) keeps each machine within its time budget and keeps expected
  reverts quiet. It controls block time exactly: every transaction is mined in its own block
  at a timestamp readable beforehand (`next_timestamp`), so the model can predict the
  transaction's effect at that exact time; views run at the head block's time.
- `clawback_harness`: the `Harness` class, which runs each transaction on the plain-Python
  model (tests/support/model.py) first, sends it, asserts the contract agrees (success, revert
  reason, settlements), and compares every account and global with the model; plus the
  DESIGN.md invariant checks shared by both machines (conservation, balanced book, solvency).
"""
import itertools
from dataclasses import dataclass, field

import pytest
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from support.model import Revert
from support.orders import Order, order_digest, sign_digest

GAS = 8_000_000


def _split_sig(signature: str) -> tuple[str, list[str]]:
    """'f(address,(uint256,int256),bytes)' -> ('f', ['address', '(uint256,int256)', 'bytes'])."""
    name, rest = signature.split("(", 1)
    rest = rest[:-1]
    types, depth, cur = [], 0, ""
    for ch in rest:
        if ch == "," and depth == 0:
            types.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        types.append(cur)
    return name, types


@dataclass
class Event:
    """One decoded log: `name`, `address` and its fields by name."""

    name: str
    address: str
    args: dict

    def __getitem__(self, key):
        return self.args[key]


@dataclass
class TxResult:
    ok: bool
    timestamp: int
    reason: str | None = None
    events: list = field(default_factory=list)

    def events_named(self, name: str) -> list:
        return [e for e in self.events if e.name == name]


class EventSpec:
    def __init__(self, declaration: str):
        # "Bankruptcy(address indexed account,uint256 deficit,...)"
        name, rest = declaration.split("(", 1)
        fields = [f.strip().split() for f in rest[:-1].split(",")]
        self.name = name
        self.types = [f[0] for f in fields]
        self.indexed = [len(f) == 3 and f[1] == "indexed" for f in fields]
        self.names = [f[-1] for f in fields]
        self.topic0 = keccak(text=f"{name}({','.join(self.types)})")

    def decode(self, address: str, topics: list, data: bytes) -> Event:
        idx = iter(topics[1:])
        body = iter(decode([t for t, i in zip(self.types, self.indexed) if not i], data))
        args = {}
        for n, t, i in zip(self.names, self.types, self.indexed):
            v = decode([t], bytes(next(idx)))[0] if i else next(body)
            args[n] = to_checksum_address(v) if t == "address" else v
        return Event(self.name, address, args)


class Evm:
    """Calls and transactions straight into the test provider's py-evm backend."""

    def __init__(self, chain, caller, events: list[str] = ()):
        self.chain = chain
        self.backend = chain.provider.tester.ethereum_tester.backend
        self._fns: dict[str, tuple[bytes, list[str]]] = {}
        self._events = {spec.topic0: spec for spec in map(EventSpec, events)}
        # eth_call needs a sender that can afford the gas at the current base fee
        self._caller = bytes.fromhex(str(caller)[2:])

    # ---------------------------------------------------------------- abi
    def _fn(self, signature: str):
        fn = self._fns.get(signature)
        if fn is None:
            _, types = _split_sig(signature)
            fn = (keccak(text=signature)[:4], types)
            self._fns[signature] = fn
        return fn

    def calldata(self, signature: str, *args) -> bytes:
        selector, types = self._fn(signature)
        return selector + encode(types, list(args))

    # ---------------------------------------------------------------- time
    def head_timestamp(self) -> int:
        """block.timestamp seen by views (they run against the latest mined block)."""
        return self.backend.chain.get_canonical_head().timestamp

    def next_timestamp(self) -> int:
        """block.timestamp the next transaction will run at (the pending block's)."""
        return self.backend.chain.header.timestamp

    def set_next_timestamp(self, timestamp: int):
        header = self.backend.chain.header
        assert timestamp > self.head_timestamp()
        self.backend.chain.header = header.copy(timestamp=timestamp)

    # ---------------------------------------------------------------- calls
    def call(self, to, signature: str, *args, returns: str | list[str] = "uint256"):
        """One view against the latest block (see call_many; a revert fails the test)."""
        return self.call_many([(to, signature, args, returns)])[0]

    def call_many(self, calls) -> list:
        """Several views [(to, signature, args, returns)] against the latest block, on one
        shared EVM state (reads are cached across the calls, which makes a batch ~25 % cheaper
        than separate eth_calls).

        Each view runs as the message an eth_call would run (same sender, target, calldata, code,
        block and transaction context, the same warm addresses), without the parts of a
        transaction a view cannot observe: no nonce lookup on a freshly built state per call
        (the caller's nonce is read once), no gas purchase, nonce bump, refund or coinbase fee
        (all reverted afterwards anyway). That is most of the machines' time: their invariant
        checks read every account after every step."""
        from eth.vm.message import Message
        from eth.vm.spoof import SpoofTransaction

        backend = self.backend
        state = backend.chain.get_vm(at_header=backend.chain.get_canonical_head()).state
        executor = state.get_transaction_executor()
        nonce = state.get_nonce(self._caller)
        results = []
        for to, signature, args, returns in calls:
            target = bytes.fromhex(str(to)[2:])
            data = self.calldata(signature, *args)
            raw = {"from": self._caller, "to": target, "data": data, "gas": 30_000_000, "nonce": nonce}
            tx = SpoofTransaction(backend._get_normalized_and_unsigned_evm_transaction(raw, "latest"), from_=self._caller)
            code, _ = executor.get_code_at_address(target)
            message = Message(gas=tx.gas - tx.intrinsic_gas, to=target, sender=self._caller, value=0, data=data,
                              code=code)
            snapshot = state.snapshot()
            computation = executor.build_computation(message, tx)
            state.revert(snapshot)
            state.clear_transient_storage()
            assert not computation.is_error, f"view {signature}{args} reverted: {computation._error!r}"
            types = [returns] if isinstance(returns, str) else returns
            values = decode(types, computation.output)
            results.append(values[0] if isinstance(returns, str) else values)
        return results

    def send(self, sender, to, signature: str, *args) -> TxResult:
        """Send one transaction and mine it in its own block. A revert is data, not an exception:
        `ok` is False and `reason` is the revert string (replayed on the mined block, whose state
        the reverted transaction left unchanged)."""
        from eth_tester.exceptions import TransactionFailed

        sender_bytes = bytes.fromhex(str(sender)[2:])
        raw = {"from": sender_bytes, "to": bytes.fromhex(str(to)[2:]), "data": self.calldata(signature, *args),
               "gas": GAS, "value": 0}
        timestamp = self.next_timestamp()
        tx_hash = self.backend.send_transaction(raw)
        self.backend.mine_blocks()
        receipt = self.backend.get_transaction_receipt(tx_hash)
        block_timestamp = self.head_timestamp()
        assert block_timestamp == timestamp, "driver: the transaction was mined at an unexpected time"
        if receipt["status"] == 1:
            events = []
            for log in receipt["logs"]:
                spec = self._events.get(bytes(log["topics"][0])) if log["topics"] else None
                if spec is not None:
                    events.append(spec.decode(to_checksum_address(log["address"]), log["topics"], bytes(log["data"])))
            return TxResult(True, timestamp, events=events)
        replay = {"from": sender_bytes, "to": raw["to"], "data": raw["data"], "gas": GAS}
        try:
            self.backend.call(replay, "latest")
            reason = "reverted (replay succeeded)"
        except TransactionFailed as exc:
            arg = exc.args[0] if exc.args else None
            reason = arg if isinstance(arg, str) else repr(arg)
        return TxResult(False, timestamp, reason=reason)


TRADE = "trade((address,uint256,int256,uint256,uint256,uint256),bytes,uint256)"
SUMMARY = ["int256", "int256", "uint256", "uint256"]
FEED_DECIMALS = 8
FEED_MULTIPLIER = 10 ** (18 - FEED_DECIMALS)

CLEARINGHOUSE_EVENTS = [
    "Settled(address indexed account,uint256 indexed market,int256 funding,uint256 haircut,uint256 excess)",
    "Liquidation(address indexed account,address indexed liquidator,uint256 indexed market,int256 size,"
    "uint256 price,uint256 penalty,uint256 liquidator_reward)",
    "Bankruptcy(address indexed account,uint256 deficit,uint256 insurance_paid,uint256 socialized,uint256 bad_debt)",
    "BankruptcyTakeover(address indexed account,address indexed liquidator,uint256 indexed market,int256 size,"
    "uint256 price,uint256 loss)",
    "FeesSwept(address indexed vault,uint256 to_vault,uint256 to_protocol)",
    "Socialized(uint256 indexed market,bool long_side,uint256 amount,uint256 index)",
    "ProfitClawedBack(uint256 indexed market,bool long_side,uint256 amount,uint256 side_profit,int256 index_x,"
    "int256 index_y)",
    "Trade(bytes32 indexed digest,address indexed maker,address indexed taker,uint256 market,int256 maker_size,"
    "uint256 price,uint256 maker_fee,uint256 taker_fee)",
    "Deleveraged(address indexed account,address indexed counterparty,uint256 indexed market,int256 size,uint256 price)",
]
VAULT_EVENTS = [
    "Deposit(address indexed sender,address indexed owner,uint256 assets,uint256 shares)",
    "Cover(uint256 requested,uint256 paid,uint256 total_assets)",
    "Revenue(uint256 amount,uint256 total_assets)",
    "RedeemSettled(address indexed owner,uint256 shares,uint256 assets,uint256 forfeited,uint256 remaining_shares,"
    "uint256 remaining_assets)",
]


class Harness:
    """Drives one deployed protocol through an `Evm` driver and keeps a `ClearinghouseModel`
    in step: every transaction is first run on the model at the block time it will be mined at;
    the contract must then succeed exactly when the model does, with the model's revert reason.
    `check_against_model` compares every account, market and global the model tracks."""

    def __init__(self, protocol, evm, model, accounts):
        self.protocol = protocol
        self.evm = evm
        self.model = model
        self.ch = protocol.clearinghouse.address
        self.token = protocol.token.address
        self.vault = protocol.vault.address if protocol.vault is not None else None
        self.feeds = [f.address for f in protocol.feeds]
        self.owner = protocol.owner.address
        self.accounts = [a.address for a in accounts]
        self.keys = {a.address: a.private_key for a in accounts}
        self.chain_id = protocol.chain.chain_id
        self._nonces = itertools.count(1)
        self.answers = [self.evm.call(f, "latestRoundData()", returns=["uint80", "int256", "uint256", "uint256", "uint80"])[1]
                        for f in self.feeds]
        # socializations so far (from the contract's logs); each rounds its index up
        self.socializations = 0
        # haircut charges settled so far, and how many settlements carried one (contract logs)
        self.haircut_settled = 0
        self.haircut_settlements = 0
        self.step_events = []  # every decoded event of the current step

    # ---------------------------------------------------------------- transactions
    def send(self, sender, to, signature, *args, model=None):
        """Predict with `model(now)` (a callable running a model transaction), send, and
        assert the contract agrees. Returns (TxResult, the model's return value)."""
        now = self.evm.next_timestamp()
        expected, value = None, None
        self.model.events = []
        if model is not None:
            try:
                value = model(now)
            except Revert as revert:
                expected = revert.reason
        tx = self.evm.send(sender, to, signature, *args)
        assert tx.ok == (expected is None), (
            f"{signature}{args}: contract {'succeeded' if tx.ok else 'reverted: ' + str(tx.reason)}, "
            f"model {'succeeded' if expected is None else 'reverted: ' + expected}"
        )
        if not tx.ok:
            assert tx.reason == expected, f"revert reason: contract {tx.reason!r}, model {expected!r}"
            return tx, value
        self.step_events.extend(tx.events)
        # lazy settlement: the contract settled exactly what the model settled
        settled = [(e["account"], e["market"], e["funding"], e["haircut"]) for e in tx.events if e.name == "Settled"]
        assert settled == [ev[1:] for ev in self.model.events if ev[0] == "Settled"], (
            f"settlements: contract {settled}, model {[ev for ev in self.model.events if ev[0] == 'Settled']}")
        self.socializations += len(tx.events_named("Socialized")) + len(tx.events_named("ProfitClawedBack"))
        self.socializations += len(tx.events_named("Deleveraged"))  # adl: each fill rounds its notional
        haircuts = [e["haircut"] for e in tx.events_named("Settled") if e["haircut"] > 0]
        self.haircut_settled += sum(haircuts)
        self.haircut_settlements += len(haircuts)
        return tx, value

    def deposit(self, account, amount):
        return self.send(account, self.ch, "deposit(uint256)", amount,
                         model=lambda now: self.model.transact("deposit", account, amount, now))

    def withdraw(self, account, amount):
        return self.send(account, self.ch, "withdraw(uint256)", amount,
                         model=lambda now: self.model.transact("withdraw", account, amount, now))

    def trade(self, taker, maker, market, order_size, limit_price, fill_size):
        """`maker` signs an order of `order_size` (> 0: maker buys) at `limit_price`; `taker`
        fills `fill_size` of it."""
        expiry = self.evm.next_timestamp() + 3600
        order = Order(maker, market, order_size, limit_price, next(self._nonces), expiry)
        digest = order_digest(order, self.chain_id, self.ch)
        signature = sign_digest(self.keys[maker], digest)
        return self.send(
            taker, self.ch, TRADE, order.as_tuple(), signature, fill_size,
            model=lambda now: self.model.transact(
                "trade", taker, maker, market, order_size, limit_price, fill_size, digest, expiry, now),
        )

    def liquidate(self, liquidator, account, market, size):
        return self.send(liquidator, self.ch, "liquidate(address,uint256,uint256)", account, market, size,
                         model=lambda now: self.model.transact("liquidate", liquidator, account, market, size, now))

    def liquidate_bankrupt(self, liquidator, account):
        return self.send(liquidator, self.ch, "liquidate_bankrupt(address)", account,
                         model=lambda now: self.model.transact("liquidate_bankrupt", liquidator, account, now))

    def deleverage(self, keeper, account, market, counterparties):
        """adl: close `account`'s position in `market` against `counterparties` (in order)."""
        counterparties = list(counterparties)
        return self.send(keeper, self.ch, "deleverage(address,uint256,address[])", account, market, counterparties,
                         model=lambda now: self.model.transact("deleverage", keeper, account, market, counterparties,
                                                               now))

    def check_adl_state(self):
        """adl: the resolution state and the ranking equal the model's: `is_deleveraging` and
        `bankruptcy_price` of every account, `adl_best_bucket` of every market side (the model
        recomputes the ranking from its positions, the contract keeps bucket counts in step)."""
        model, ch = self.model, self.ch
        markets = range(len(model.markets))
        # bankruptcy prices of the accounts under resolution (is_deleveraging must agree for all)
        frozen = [a for a in self.accounts if model.is_frozen(a)]
        calls = [(ch, "is_deleveraging(address)", (a,), "bool") for a in self.accounts]
        calls += [(ch, "bankruptcy_price(address,uint256)", (a, m), "uint256") for a in frozen for m in markets]
        calls += [(ch, "adl_best_bucket(uint256,bool)", (m, side), "uint256") for m in markets for side in (True, False)]
        out = iter(self.evm.call_many(calls))
        assert [next(out) for _ in self.accounts] == [model.is_frozen(a) for a in self.accounts], "is_deleveraging"
        targets = [next(out) for _ in frozen for _ in markets]
        assert targets == [model.adl_targets.get((a, m), (0, 0))[0] for a in frozen for m in markets], (
            "bankruptcy_price", targets, model.adl_targets)
        ranking = model.adl_ranking()
        best = [next(out) for _ in markets for _ in (True, False)]
        assert best == [ranking.best(m, side) for m in markets for side in (True, False)], ("adl_best_bucket", best)

    def sweep_fees(self, sender):
        return self.send(sender, self.ch, "sweep_fees()", model=lambda now: self.model.transact("sweep_fees", now))

    def stake(self, staker, assets):
        return self.send(staker, self.vault, "deposit(uint256,address)", assets, staker,
                         model=lambda now: self.model.transact("vault_deposit", staker, assets, staker, now))

    def request_redeem(self, staker, shares):
        return self.send(staker, self.vault, "request_redeem(uint256)", shares,
                         model=lambda now: self.model.transact("vault_request_redeem", staker, shares, now))

    def redeem(self, staker, shares):
        return self.send(staker, self.vault, "redeem(uint256,address,address)", shares, staker, staker,
                         model=lambda now: self.model.vault.transact("redeem", staker, shares, staker, staker, now))

    def set_answer(self, market, answer):
        """Move (or re-stamp) a market's oracle: the feed has 8 decimals."""
        tx, _ = self.send(self.owner, self.feeds[market], "set_answer(int256)", answer)
        self.answers[market] = answer
        self.model.set_price(market, answer * FEED_MULTIPLIER)
        return tx

    def pass_time(self, seconds):
        """Let `seconds` pass, then re-stamp every feed so no price is stale."""
        self.evm.set_next_timestamp(self.evm.head_timestamp() + seconds)
        for market, answer in enumerate(self.answers):
            self.set_answer(market, answer)

    # ---------------------------------------------------------------- reads
    def summary(self, account):
        return self.evm.call(self.ch, "account_summary(address)", account, returns=SUMMARY)

    def equity(self, account):
        return self.evm.call(self.ch, "equity(address)", account, returns="int256")

    def equities(self, accounts) -> list:
        """`equity` of several accounts in one batch of views."""
        return self.evm.call_many([(self.ch, "equity(address)", (a,), "int256") for a in accounts])

    def position_size(self, account, market):
        return self.evm.call(self.ch, "position_size(address,uint256)", account, market, returns="int256")

    def open_interest(self, market):
        return self.evm.call(self.ch, "open_interest(uint256)", market)

    def token_balance(self, holder):
        return self.evm.call(self.token, "balanceOf(address)", holder)

    def check_against_model(self, funding=True, haircut=True):
        """Compare the contract with the model at the head block's time; returns the contract
        readings: {"accounts": {a: (collateral, equity, im, mm, [sizes])}, "open_interest": [...],
        "balance", "treasury", "bad_debt", "now"}."""
        model, now, ch = self.model, self.evm.head_timestamp(), self.ch
        markets = range(len(model.markets))
        calls = []
        for account in self.accounts:
            calls.append((ch, "account_summary(address)", (account,), SUMMARY))
            calls.extend((ch, "position_size(address,uint256)", (account, m), "int256") for m in markets)
        calls.extend((ch, "open_interest(uint256)", (m,), "uint256") for m in markets)
        if funding:
            calls.extend((ch, "funding_index(uint256)", (m,), "int256") for m in markets)
            calls.extend((ch, "funding_premium(uint256)", (m,), "int256") for m in markets)
        if haircut:
            calls.extend((ch, "socialized_loss(uint256)", (m,), "uint256") for m in markets)
        calls += [(self.token, "balanceOf(address)", (ch,), "uint256"), (ch, "treasury()", (), "uint256"),
                  (ch, "bad_debt()", (), "uint256")]
        out = iter(self.evm.call_many(calls))

        readings = {}
        for account in self.accounts:
            collateral, equity, im, mm = next(out)
            sizes = [next(out) for _ in markets]
            health = model.health(account, now)
            expected = (model.collateral.get(account, 0) - health.owed, health.equity, health.initial_margin,
                        health.maintenance_margin, [model.position_size(account, m) for m in markets])
            assert (collateral, equity, im, mm, sizes) == expected, (
                f"account {account}: contract (collateral, equity, im, mm, sizes) = "
                f"{(collateral, equity, im, mm, sizes)}, model {expected}")
            readings[account] = (collateral, equity, im, mm, sizes)
        open_interest = [next(out) for _ in markets]
        assert open_interest == model.long_open_interest, (open_interest, model.long_open_interest)
        if funding:
            index = [next(out) for _ in markets]
            premium = [next(out) for _ in markets]
            assert index == [model.funding_index_view(m, now) for m in markets], "funding index"
            assert premium == [model.funding_premium_view(m, now) for m in markets], "funding premium"
        if haircut:
            socialized = [next(out) for _ in markets]
            assert socialized == model.socialized_loss, (socialized, model.socialized_loss)
        balance, treasury, bad_debt = next(out), next(out), next(out)
        assert (balance, treasury, bad_debt) == (model.token_balance, model.treasury(), model.bad_debt), (
            (balance, treasury, bad_debt), (model.token_balance, model.treasury(), model.bad_debt))
        return {"accounts": readings, "open_interest": open_interest, "balance": balance,
                "treasury": treasury, "bad_debt": bad_debt, "now": now,
                "socialized": socialized if haircut else None}

    def check_vault(self, stakers):
        """Compare the vault with the model; returns (totalAssets, totalSupply)."""
        vault, model = self.vault, self.model.vault
        calls = [(vault, "totalAssets()", (), "uint256"), (vault, "totalSupply()", (), "uint256"),
                 (self.token, "balanceOf(address)", (vault,), "uint256")]
        for staker in stakers:
            calls.append((vault, "balanceOf(address)", (staker,), "uint256"))
            calls.append((vault, "redeem_request(address)", (staker,), ["uint256"] * 4))
        out = iter(self.evm.call_many(calls))
        assets, supply, balance = next(out), next(out), next(out)
        # DESIGN.md invariant 1, vault half: internal assets == token balance (no donations here)
        assert assets == balance, f"vault totalAssets {assets} != token balance {balance}"
        assert (assets, supply, balance) == (model.total_assets, model.total_supply, model.token_balance), (
            "vault (assets, supply, balance)", (assets, supply, balance),
            (model.total_assets, model.total_supply, model.token_balance))
        for staker in stakers:
            shares, request = next(out), next(out)
            req = model.request(staker)
            assert (shares, tuple(request)) == (
                model.balance(staker), (req.shares, req.assets, req.claimable_from, req.claimable_until)), (
                f"staker {staker}", shares, request, model.balance(staker), req)
        return assets, supply

    # ---------------------------------------------------------------- DESIGN.md invariants
    @staticmethod
    def conservation_gap(readings) -> int:
        """token.balanceOf(ch) + bad_debt - treasury - sum(equity), from contract readings."""
        equity = sum(r[1] for r in readings["accounts"].values())
        return readings["balance"] + readings["bad_debt"] - readings["treasury"] - equity

    def rounding_dust(self, readings) -> int:
        """The most the protocol's favourable rounding can have kept so far: under one base unit
        for each open position's value (floored), pending funding and each term of its pending
        haircut (rounded up; two terms under profit_clawback), and under one for every settlement (the model counts them: a payment that
        rounds to zero leaves no log) and every socialization that happened."""
        open_positions = sum(1 for r in readings["accounts"].values() for size in r[4] if size != 0)
        # profit_clawback: what positions not in profit will credit to the vault when settled
        # (Clearinghouse.policy_excess) is still inside the gap
        excess = sum(self.model.pending_excess(m, p) for (_, m), p in self.model.positions.items())
        # a pending charge has two rounded terms under profit_clawback (|size| x X, |cost| x Y)
        per_position = 4 if self.model.loss_policy == "profit_clawback" else 3
        return per_position * open_positions + self.model.settlements + self.socializations + excess

    def check_conservation(self, readings, dust: int | None = None):
        """DESIGN.md invariant 1 from contract readings: 0 <= gap <= rounding dust."""
        gap = self.conservation_gap(readings)
        dust = self.rounding_dust(readings) if dust is None else dust
        assert 0 <= gap <= dust, f"conservation: gap {gap} outside [0, {dust}]"
        return gap

    def check_balanced_book(self, readings):
        for market, open_interest in enumerate(readings["open_interest"]):
            sizes = [r[4][market] for r in readings["accounts"].values()]
            longs = sum(s for s in sizes if s > 0)
            shorts = -sum(s for s in sizes if s < 0)
            assert longs == shorts == open_interest, f"market {market}: longs {longs}, shorts {shorts}, OI {open_interest}"

    def check_solvency(self, readings) -> list:
        """DESIGN.md invariant 3: sum(max(0, equity)) <= balance - treasury + bad_debt. It can
        only hold once every bankrupt account is resolved: an unresolved deficit is a loss
        nobody has paid yet (neither the vault, a haircut nor bad debt), so it is checked
        whenever no account has negative equity. Returns the accounts that have."""
        negative = [a for a, r in readings["accounts"].items() if r[1] < 0]
        if not negative:
            owed_to_traders = sum(max(0, r[1]) for r in readings["accounts"].values())
            assets = readings["balance"] - readings["treasury"] + readings["bad_debt"]
            assert owed_to_traders <= assets, f"solvency: sum(max(0, equity)) {owed_to_traders} > {assets}"
        return negative


@pytest.fixture(scope="session")
def clawback_harness():
    """The `Harness` class (test files cannot import a conftest)."""
    return Harness


@pytest.fixture(scope="session")
def traders(accounts):
    """Four trader accounts for the state machines."""
    return [accounts[i] for i in (1, 2, 8, 9)]


@pytest.fixture(scope="session")
def evm_factory(chain, accounts):
    """Build an `Evm` driver that decodes the given event declarations (default: the
    Clearinghouse's and the InsuranceVault's)."""

    def make(events: list[str] | None = None):
        return Evm(chain, accounts[0].address, CLEARINGHOUSE_EVENTS + VAULT_EVENTS if events is None else events)

    return make
