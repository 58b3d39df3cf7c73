"""Clawback liquidation keeper.

    ape run keeper --network ethereum:local:foundry                      # until Ctrl-C
    ape run keeper --network ethereum:local:foundry --once               # one pass, then exit
    ape run keeper --network ethereum:local:foundry --max-blocks 100 --account TEST::3 --deposit 100000

It reads the Clearinghouse address and deployment block from the manifest
(deployments/<network>.json, written by `ape run deploy`), learns accounts from the
Clearinghouse's Deposit / Trade / Liquidation / BankruptcyTakeover logs, checks their health every
new block with batched eth_calls (one `account_summary` per account, then positions and
`max_liquidatable_size` for the unhealthy ones), and sends `liquidate_bankrupt` /
`liquidate` as decided by `simulation.liquidation_policy.plan` - the same code as the
simulation's liquidator agent. Reverted transactions are logged and skipped; a node that
goes away is retried with backoff (a chain that went back in time is re-scanned); Ctrl-C or
SIGTERM stops it cleanly after the current step.
"""
from __future__ import annotations

import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import click

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.liquidation_policy import (  # noqa: E402
    LIQUIDATE,
    LIQUIDATE_BANKRUPT,
    WAD,
    AccountReading,
    KeeperState,
    MarketReading,
    plan,
)

log = logging.getLogger("clawback.keeper")

# events whose indexed address topics name accounts that may hold positions
ACCOUNT_EVENTS = ("Deposit", "Trade", "Liquidation", "BankruptcyTakeover")


def _fmt_size(x: int) -> str:
    return f"{x / WAD:.6g}"


def _fmt_amount(x: int, decimals: int) -> str:
    return f"{x / 10**decimals:,.{min(decimals, 6)}f}"


# ============================================================================================
# chain access


class Web3Chain:
    """What the keeper needs from the chain, over web3: batched eth_calls to the Clearinghouse,
    its logs, and a `send` callable (ape account in the CLI) for transactions."""

    def __init__(self, w3, address: str, abi: list, send: Callable[[str, tuple], Any],
                 batch_size: int = 256):
        from eth_utils import event_abi_to_log_topic, to_checksum_address

        self.w3 = w3
        self.address = to_checksum_address(address)
        self.contract = w3.eth.contract(address=self.address, abi=abi)
        self._send = send
        self.batch_size = batch_size
        self._batch_ok: Optional[bool] = None
        # topic0 -> positions (1-based) of indexed address topics
        self.topics: dict = {}
        for item in abi:
            if item.get("type") == "event" and item.get("name") in ACCOUNT_EVENTS:
                idx = [i for i in item["inputs"] if i.get("indexed")]
                pos = [n + 1 for n, i in enumerate(idx) if i["type"] == "address"]
                self.topics["0x" + event_abi_to_log_topic(item).hex().removeprefix("0x")] = pos

    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def has_code(self) -> bool:
        return len(self.w3.eth.get_code(self.address)) > 0

    def accounts_in_logs(self, from_block: int, to_block: int) -> set:
        from eth_utils import to_checksum_address

        out = set()
        logs = self.w3.eth.get_logs({
            "address": self.address, "fromBlock": from_block, "toBlock": to_block,
            "topics": [list(self.topics)],
        })
        for entry in logs:
            topics = entry["topics"]
            t0 = topics[0]
            t0 = "0x" + (t0.hex() if isinstance(t0, (bytes, bytearray)) else str(t0)).removeprefix("0x")
            for pos in self.topics.get(t0, ()):
                if pos < len(topics):
                    t = topics[pos]
                    raw = bytes(t) if isinstance(t, (bytes, bytearray)) else bytes.fromhex(str(t).removeprefix("0x"))
                    out.add(to_checksum_address(raw[-20:]))
        return out

    def call_many(self, calls: Sequence[tuple]) -> list:
        """[(fn_name, args)] -> results in order; a failed call yields its exception."""
        fns = [getattr(self.contract.functions, name)(*args) for name, args in calls]
        results: list = []
        for i in range(0, len(fns), self.batch_size):
            chunk = fns[i:i + self.batch_size]
            results.extend(self._call_chunk(chunk))
        return results

    def _call_chunk(self, fns) -> list:
        """One JSON-RPC batch of eth_calls, decoded per item (a revert fails only its item);
        providers without batch support (the in-process chain) get the calls one by one."""
        provider = self.w3.provider
        if self._batch_ok is not False and len(fns) > 1 and hasattr(provider, "make_batch_request"):
            try:
                payload = [("eth_call", [{"to": self.address, "data": f._encode_transaction_data()}, "latest"])
                           for f in fns]
                responses = provider.make_batch_request(payload)
                if isinstance(responses, list) and len(responses) == len(fns):
                    self._batch_ok = True
                    return [self._decode(f, r) for f, r in zip(fns, responses)]
                raise ValueError(f"unexpected batch response: {str(responses)[:200]}")
            except Exception as exc:  # noqa: BLE001
                if _is_connection_error(exc):
                    raise
                if self._batch_ok is None:
                    log.debug("batched calls unavailable (%s); calling one by one", exc)
                    self._batch_ok = False
        out = []
        for f in fns:
            try:
                out.append(f.call())
            except Exception as exc:  # noqa: BLE001
                if _is_connection_error(exc):
                    raise
                out.append(exc)
        return out

    def _decode(self, fn, response):
        from eth_utils.abi import get_abi_output_types
        from hexbytes import HexBytes

        if "error" in response:
            err = response["error"]
            msg = err.get("message", str(err)) if isinstance(err, dict) else str(err)
            exc = RuntimeError(msg)
            exc.revert_message = msg
            return exc
        try:
            values = self.w3.codec.decode(get_abi_output_types(fn.abi), HexBytes(response["result"]))
        except Exception as exc:  # noqa: BLE001 - e.g. empty return data from a missing contract
            return exc
        return values[0] if len(values) == 1 else tuple(values)

    def send(self, fn_name: str, args: tuple):
        return self._send(fn_name, args)


def _is_connection_error(exc: BaseException) -> bool:
    import requests

    names = {type(e).__name__ for e in _chain(exc)}
    return any(isinstance(e, (ConnectionError, requests.exceptions.ConnectionError, TimeoutError,
                              requests.exceptions.Timeout)) for e in _chain(exc)) or bool(
        names & {"ProviderNotConnectedError", "ChainUnreachable", "ProviderConnectionError"})


def _chain(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def revert_reason(exc: BaseException) -> str:
    for e in _chain(exc):
        msg = getattr(e, "revert_message", None) or getattr(e, "message", None)
        if msg:
            return str(msg)
    return f"{type(exc).__name__}: {exc}"


# ============================================================================================
# the keeper


class KeeperOptions:
    """Keeper settings. (Plain classes, not dataclasses: `ape run` loads scripts without
    registering them in sys.modules, which dataclasses need.)"""

    def __init__(self, poll_interval: float = 1.0, once: bool = False, max_blocks: Optional[int] = None,
                 safety: int = 9 * 10**17, min_size: int = 0, log_chunk: int = 5_000, dry_run: bool = False,
                 max_backoff: float = 30.0, token_decimals: int = 6):
        self.poll_interval = poll_interval
        self.once = once
        self.max_blocks = max_blocks
        self.safety = safety  # share (1e18 = 100 %) of the keeper's free margin it may commit
        self.min_size = min_size  # skip partial liquidations smaller than this (1e18-scaled)
        self.log_chunk = log_chunk  # blocks per eth_getLogs
        self.dry_run = dry_run
        self.max_backoff = max_backoff
        self.token_decimals = token_decimals


class KeeperStats:
    def __init__(self):
        self.blocks = 0
        self.liquidations = 0
        self.bankruptcies = 0
        self.failed = 0
        self.errors = 0
        self.resets = 0
        self.sent: list = []  # (kind, account, market, size, tx)

    def summary(self) -> str:
        return (f"{self.blocks} blocks, {self.liquidations} liquidations, {self.bankruptcies} bankruptcies "
                f"resolved, {self.failed} reverted, {self.errors} node errors, {self.resets} chain resets")


class Keeper:
    def __init__(self, chain: Web3Chain, keeper_address: str, start_block: int,
                 options: Optional[KeeperOptions] = None, extra_accounts: Iterable[str] = ()):
        self.chain = chain
        self.me = keeper_address
        self.start_block = max(int(start_block), 0)
        self.opt = options or KeeperOptions()
        self.accounts: set = set(extra_accounts)
        self.next_log_block = self.start_block
        self.last_block: Optional[int] = None
        self.stats = KeeperStats()
        self._stop = False
        self.heartbeat = 60.0  # seconds between "all healthy" log lines
        self._last_heartbeat = -1e9

    def stop(self, *_args):
        """Signal handler (SIGINT / SIGTERM): finish the current step, then stop. A second
        signal while stopping exits at once."""
        if self._stop:
            raise KeyboardInterrupt
        log.info("stop requested: finishing the current step (Ctrl-C again to abort)")
        self._stop = True

    # --- one block ---------------------------------------------------------------------
    def _sync_accounts(self, head: int):
        while self.next_log_block <= head:
            to = min(head, self.next_log_block + self.opt.log_chunk - 1)
            new = self.chain.accounts_in_logs(self.next_log_block, to) - self.accounts
            if new:
                log.info("tracking %d new account(s) from blocks %d..%d", len(new), self.next_log_block, to)
                self.accounts |= new
            self.next_log_block = to + 1

    def _read_markets(self) -> dict:
        n = self.chain.call_many([("market_count", ())])[0]
        if isinstance(n, Exception):
            raise n
        n = int(n)
        res = self.chain.call_many([c for m in range(n) for c in (("market_params", (m,)), ("index_price", (m,)))])
        markets = {}
        for m in range(n):
            params, price = res[2 * m], res[2 * m + 1]
            if isinstance(params, Exception):
                raise params
            if isinstance(price, Exception):
                log.warning("market %d: no usable oracle price (%s); skipped this block", m, revert_reason(price))
                continue
            markets[m] = MarketReading(m, int(price), int(params[1]), int(params[2]))
        return markets, n

    def step(self) -> list:
        """Process the chain head once; returns the actions sent (or planned, in dry-run)."""
        head = self.chain.block_number()
        if self.last_block is not None and head < self.last_block:
            log.warning("chain head went back from %d to %d (node restarted or reset): re-scanning accounts",
                        self.last_block, head)
            self.accounts = set()
            self.next_log_block = self.start_block
            self.stats.resets += 1
        self.last_block = head
        if not self.chain.has_code():
            log.warning("no Clearinghouse code at %s at block %d (a fresh devnet?): waiting", self.chain.address, head)
            return []
        self._sync_accounts(head)
        markets, n_markets = self._read_markets()
        accounts = sorted(a for a in self.accounts if a.lower() != self.me.lower())
        summaries = self.chain.call_many([("account_summary", (a,)) for a in accounts] +
                                         [("account_summary", (self.me,))] +
                                         [("position_size", (self.me, m)) for m in range(n_markets)])
        mine = summaries[len(accounts)]
        my_pos = summaries[len(accounts) + 1:]
        summaries = summaries[:len(accounts)]
        unhealthy = []
        for a, s in zip(accounts, summaries):
            if isinstance(s, Exception):
                log.warning("account_summary(%s) failed: %s", a, revert_reason(s))
                continue
            equity, mm = int(s[1]), int(s[3])
            if equity < mm:
                unhealthy.append((a, int(s[0]), equity, int(s[2]), mm))
        if isinstance(mine, Exception):
            raise mine
        keeper = KeeperState(
            free_margin=int(mine[1]) - int(mine[2]),
            positions={m: int(p) for m, p in enumerate(my_pos) if not isinstance(p, Exception) and int(p) != 0},
            address=self.me,
        )
        if not unhealthy:
            now = time.monotonic()
            if now - self._last_heartbeat >= self.heartbeat:
                log.info("block %d: %d accounts, all healthy; keeper free margin %s", head, len(accounts),
                         _fmt_amount(keeper.free_margin, self.opt.token_decimals))
                self._last_heartbeat = now
            else:
                log.debug("block %d: %d accounts, all healthy", head, len(accounts))
            return []
        calls = [c for (a, *_r) in unhealthy for m in range(n_markets)
                 for c in (("position_size", (a, m)), ("max_liquidatable_size", (a, m)))]
        res = self.chain.call_many(calls)
        readings, k = [], 0
        for a, coll, equity, im, mm in unhealthy:
            pos, mx = {}, {}
            for m in range(n_markets):
                p, q = res[k], res[k + 1]
                k += 2
                if not isinstance(p, Exception) and int(p) != 0:
                    pos[m] = int(p)
                    mx[m] = 0 if isinstance(q, Exception) else int(q)
            readings.append(AccountReading(a, equity, mm, pos, mx, collateral=coll, initial_margin=im))
        decision = plan(readings, markets, keeper, token_decimals=self.opt.token_decimals,
                        safety=self.opt.safety, min_size=self.opt.min_size)
        log.info("block %d: %d accounts, %d unhealthy, %d action(s); keeper free margin %s",
                 head, len(accounts), len(unhealthy), len(decision.actions),
                 _fmt_amount(keeper.free_margin, self.opt.token_decimals))
        for s in decision.skipped:
            log.info("  skipped %s market %s: %s", s.account, s.market, s.reason)
        return self._execute(decision.actions)

    def _execute(self, actions) -> list:
        done, touched = [], set()
        for act in actions:
            if self._stop:
                break
            args = act.call_args()
            if act.account in touched:
                # an earlier action this block may have healed the account or moved the limit
                (s,) = self.chain.call_many([("account_summary", (act.account,))])
                if isinstance(s, Exception):
                    continue
                equity, mm = int(s[1]), int(s[3])
                if equity >= mm or (act.kind == LIQUIDATE and equity < 0):
                    continue
                if act.kind == LIQUIDATE:
                    (mx,) = self.chain.call_many([("max_liquidatable_size", (act.account, act.market))])
                    if isinstance(mx, Exception) or int(mx) == 0:
                        continue
                    args = (act.account, act.market, min(act.size, int(mx)))
            touched.add(act.account)
            what = (f"liquidate_bankrupt({act.account}) deficit {_fmt_amount(act.shortfall, self.opt.token_decimals)}"
                    if act.kind == LIQUIDATE_BANKRUPT else
                    f"liquidate({act.account}, market {act.market}, size {_fmt_size(args[2])}) "
                    f"shortfall {_fmt_amount(act.shortfall, self.opt.token_decimals)}")
            if self.opt.dry_run:
                log.info("dry run: would send %s", what)
                done.append(act)
                continue
            try:
                tx = self.chain.send(act.kind, args)
            except Exception as exc:  # noqa: BLE001 - a revert must not stop the keeper
                if _is_connection_error(exc):
                    raise
                self.stats.failed += 1
                log.warning("%s reverted: %s", what, revert_reason(exc))
                continue
            txh = getattr(tx, "txn_hash", None) or getattr(tx, "transaction_hash", None) or tx
            if act.kind == LIQUIDATE_BANKRUPT:
                self.stats.bankruptcies += 1
            else:
                self.stats.liquidations += 1
            self.stats.sent.append((act.kind, act.account, act.market, args[2] if len(args) > 2 else None, str(txh)))
            log.info("sent %s: tx %s", what, txh)
            done.append(act)
        return done

    # --- the loop ------------------------------------------------------------------------
    def run(self) -> KeeperStats:
        backoff = 0.0
        processed_head: Optional[int] = None
        log.info("keeper %s watching Clearinghouse %s from block %d", self.me, self.chain.address, self.start_block)
        try:
            while not self._stop:
                try:
                    head = self.chain.block_number()
                    if backoff:
                        log.info("node is back at block %s", head)
                        backoff = 0.0
                    if processed_head is not None and head == processed_head and not self.opt.once:
                        self._sleep(self.opt.poll_interval)
                        continue
                    self.step()
                    processed_head = self.last_block
                    self.stats.blocks += 1
                except KeyboardInterrupt:
                    raise
                except Exception as exc:  # noqa: BLE001 - keep running through node trouble
                    self.stats.errors += 1
                    backoff = min(self.opt.max_backoff, max(0.5, backoff * 2))
                    if _is_connection_error(exc):
                        log.warning("node unreachable (%s); retrying in %.1f s", type(exc).__name__, backoff)
                    else:
                        log.exception("keeper step failed; retrying in %.1f s", backoff)
                    if self.opt.once and self.stats.errors >= 3:
                        break
                    self._sleep(backoff)
                    continue
                if self.opt.once or (self.opt.max_blocks is not None and self.stats.blocks >= self.opt.max_blocks):
                    break
        except KeyboardInterrupt:
            log.info("interrupted: stopping")
        log.info("keeper stopped: %s", self.stats.summary())
        return self.stats

    def _sleep(self, seconds: float):
        end = time.monotonic() + seconds
        while not self._stop and time.monotonic() < end:
            time.sleep(min(0.2, end - time.monotonic()))


# ============================================================================================
# ape wiring


def build_keeper(manifest_path, account, options: Optional[KeeperOptions] = None, project=None,
                 from_block: Optional[int] = None, batch_size: int = 256) -> Keeper:
    """A Keeper for the deployment in `manifest_path`, sending as the ape `account`."""
    import ape

    from simulation.deployment import read_manifest

    project = project if project is not None else ape.project
    d = read_manifest(manifest_path)
    if int(ape.chain.chain_id) != d.chain_id:
        raise click.ClickException(f"{manifest_path} is for chain {d.chain_id}, but this network is chain "
                                   f"{ape.chain.chain_id}")
    container = project.get_contract("Clearinghouse")
    ch = container.at(d.clearinghouse_address)
    abi = [a.model_dump(mode="json", by_alias=True, exclude_none=True) for a in container.contract_type.abi]

    def send(fn_name, args):
        return getattr(ch, fn_name)(*args, sender=account)

    chain = Web3Chain(ape.chain.provider.web3, d.clearinghouse_address, abi, send, batch_size=batch_size)
    opts = options or KeeperOptions()
    opts.token_decimals = int(d.collateral.get("decimals", 6))
    start = d.deployment_block if from_block is None else from_block
    return Keeper(chain, account.address, start, opts)


def deposit_for_keeper(manifest_path, account, amount: int, project=None):
    """Approve and deposit `amount` base units (minting them first on a mock token)."""
    import ape

    from simulation.deployment import read_manifest

    project = project if project is not None else ape.project
    d = read_manifest(manifest_path)
    token = project.MockToken.at(d.token_address)
    ch = project.Clearinghouse.at(d.clearinghouse_address)
    if token.balanceOf(account) < amount:
        if not d.collateral.get("mock"):
            raise click.ClickException(f"{account.address} holds less than {amount} base units of the collateral")
        token.mint(account, amount - token.balanceOf(account), sender=account)
    token.approve(ch, amount, sender=account)
    ch.deposit(amount, sender=account)
    log.info("deposited %s collateral for the keeper", _fmt_amount(amount, int(d.collateral.get("decimals", 6))))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (click's test runner swaps it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def _setup_logging(verbose: bool):
    if not any(getattr(h, "clawback_keeper", False) for h in log.handlers):
        handler = _StderrHandler()
        handler.clawback_keeper = True
        handler.setFormatter(logging.Formatter("%(asctime)s keeper %(levelname)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
    log.setLevel(logging.DEBUG if verbose else logging.INFO)


from ape.cli import ConnectedProviderCommand  # noqa: E402


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
    from decimal import Decimal

    from simulation.deployment import manifest_name

    _setup_logging(verbose)
    name = manifest_name(ecosystem.name, network.name, provider.name)
    manifest_path = Path(manifest_path) if manifest_path else ROOT / "deployments" / f"{name}.json"
    if not manifest_path.is_file():
        raise click.ClickException(f"no deployment manifest at {manifest_path}: run `ape run deploy --network "
                                   f"{ecosystem.name}:{network.name}:{provider.name}` first, or pass --manifest")
    from simulation.ape_backend import resolve_account

    account = resolve_account(account_alias, network.name == "local")
    opts = KeeperOptions(poll_interval=poll_interval, once=once, max_blocks=max_blocks,
                         safety=int(Decimal(str(safety)) * WAD), min_size=int(Decimal(str(min_size)) * WAD),
                         dry_run=dry_run)
    keeper = build_keeper(manifest_path, account, opts, from_block=from_block, batch_size=batch_size)
    if deposit_amount:
        deposit_for_keeper(manifest_path, account,
                           int(Decimal(str(deposit_amount)) * 10**keeper.opt.token_decimals))
    # ape's own SIGINT handler exits at once (status 130); the keeper finishes its step instead
    previous = {sig: signal.signal(sig, keeper.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        stats = keeper.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"keeper: {stats.summary()}")
