"""The Clawback liquidation keeper: the loop behind `ape run keeper` (scripts/keeper.py is only its
command line).

It reads the Clearinghouse address and deployment block from the manifest
(deployments/<network>.json, written by `ape run deploy`), learns accounts from the
Clearinghouse's Deposit / Trade / Liquidation / BankruptcyTakeover logs, checks their health every
new block with batched eth_calls (one `account_summary` per account, then positions and
`max_liquidatable_size` for the unhealthy ones), and sends `liquidate_bankrupt` /
`liquidate` as decided by `simulation.liquidation_policy.plan` - the same code as the
simulation's liquidator agent. With the insurance vault known (the manifest's), a bankruptcy is
flag, resolve, clear: every account seen with negative equity is flagged at once
(`vault.flag_loss`, holding back every staker's claim while the loss is visible), resolved with
`liquidate_bankrupt`, and cleared (`vault.clear_loss`); a flagged account found back at or above
zero equity is cleared too. Under loss policy "adl" (a Clearinghouse ABI with `deleverage`) it
continues every resolution in progress (`is_deleveraging`) with `deleverage` calls naming the
winners `adl_counterparties` picks from `position_size` / `adl_rank` readings. Reverted
transactions are logged and skipped; a node that
goes away is retried with backoff (a chain that went back in time is re-scanned); a stop request
(Ctrl-C, SIGTERM) ends it cleanly after the current step.
"""
from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence

from simulation.liquidation_policy import (  
    DELEVERAGE,
    LIQUIDATE,
    LIQUIDATE_BANKRUPT,
    WAD,
    AccountReading,
    KeeperState,
    MarketReading,
    WinnerReading,
    plan_deleverages,
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
                 batch_size: int = 256, vault_address: Optional[str] = None, vault_abi: Optional[list] = None,
                 send_vault: Optional[Callable[[str, tuple], Any]] = None):
        from eth_utils import event_abi_to_log_topic, to_checksum_address

        self.w3 = w3
        self.address = to_checksum_address(address)
        self.contract = w3.eth.contract(address=self.address, abi=abi)
        self.functions = {i.get("name") for i in abi if i.get("type") == "function"}
        self._send = send
        # the insurance vault (loss flags), optional: without it the keeper only liquidates
        self.vault_address = to_checksum_address(vault_address) if vault_address and send_vault else None
        self.vault = w3.eth.contract(address=self.vault_address, abi=vault_abi) if self.vault_address else None
        self._send_vault = send_vault
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

    def loss_flagged(self, account: str) -> bool:
        """vault.loss_flagged(account)."""
        return bool(self.vault.functions.loss_flagged(account).call())

    def send_vault(self, fn_name: str, args: tuple):
        return self._send_vault(fn_name, args)


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


class KeeperError(RuntimeError):
    """The keeper cannot start (no manifest, wrong chain, no deployment on this chain); one line."""


@dataclass
class KeeperOptions:
    """Keeper settings."""

    poll_interval: float = 1.0
    once: bool = False
    max_blocks: Optional[int] = None
    safety: int = 9 * 10**17  # share (1e18 = 100 %) of the keeper's free margin it may commit
    min_size: int = 0  # skip partial liquidations smaller than this (1e18-scaled)
    log_chunk: int = 5_000  # blocks per eth_getLogs
    dry_run: bool = False
    max_backoff: float = 30.0
    token_decimals: int = 6


@dataclass
class KeeperStats:
    """What the keeper did, for its closing summary line."""

    blocks: int = 0
    liquidations: int = 0
    bankruptcies: int = 0
    losses_flagged: int = 0
    losses_cleared: int = 0
    deleverages: int = 0
    failed: int = 0
    errors: int = 0
    resets: int = 0
    sent: list = field(default_factory=list)  # (kind, account, market, size, tx)

    def summary(self) -> str:
        return (f"{self.blocks} blocks, {self.liquidations} liquidations, {self.bankruptcies} bankruptcies "
                f"resolved, {self.deleverages} deleverage calls, {self.losses_flagged} losses flagged / "
                f"{self.losses_cleared} cleared, {self.failed} reverted, {self.errors} node errors, "
                f"{self.resets} chain resets")


class Keeper:
    def __init__(self, chain: Web3Chain, keeper_address: str, start_block: int,
                 options: Optional[KeeperOptions] = None, extra_accounts: Iterable[str] = ()):
        self.chain = chain
        self.me = keeper_address
        self.start_block = max(int(start_block), 0)
        self.opt = options or KeeperOptions()
        self.accounts: set = {a for a in extra_accounts if a.lower() != keeper_address.lower()}
        self.next_log_block = self.start_block
        self.last_block: Optional[int] = None
        self.stats = KeeperStats()
        self._stop = False
        # loss policy "adl": the Clearinghouse has `deleverage` (a chain without a function list is not adl)
        self.adl = "deleverage" in getattr(chain, "functions", ())
        self.heartbeat = 60.0  # seconds between "all healthy" log lines
        self._last_heartbeat = -1e9
        self.flagged: set = set()  # accounts carrying a vault loss flag, as far as the keeper knows

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
            new = {a for a in self.chain.accounts_in_logs(self.next_log_block, to) - self.accounts
                   if a.lower() != self.me.lower()}  # the keeper's own account is read anyway
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
        accounts = sorted(self.accounts)
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
        self._loss_flags({a: int(s[1]) for a, s in zip(accounts, summaries) if not isinstance(s, Exception)})
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
        adl_actions = self._deleverage_actions(readings, accounts, n_markets) if self.adl else []
        frozen = {a.account for a in adl_actions}
        decision = plan([r for r in readings if r.account not in frozen], markets, keeper,
                        token_decimals=self.opt.token_decimals, safety=self.opt.safety, min_size=self.opt.min_size)
        decision.actions[:0] = adl_actions
        log.info("block %d: %d accounts, %d unhealthy, %d action(s); keeper free margin %s",
                 head, len(accounts), len(unhealthy), len(decision.actions),
                 _fmt_amount(keeper.free_margin, self.opt.token_decimals))
        for s in decision.skipped:
            log.info("  skipped %s market %s: %s", s.account, s.market, s.reason)
        return self._execute(decision.actions)

    @property
    def _has_vault(self) -> bool:
        return bool(getattr(self.chain, "vault_address", None))

    def _loss_flags(self, equity: dict) -> None:
        """Flag every account with negative equity not flagged yet; clear flagged ones back at >= 0."""
        if not self._has_vault:
            return
        for a in sorted(a for a, e in equity.items() if e >= 0 and a in self.flagged):
            self._vault_call("clear_loss", a)
        for a in sorted(a for a, e in equity.items() if e < 0 and a not in self.flagged):
            try:
                already = self.chain.loss_flagged(a)
            except Exception as exc:  # noqa: BLE001
                if _is_connection_error(exc):
                    raise
                already = False
            if already:
                self.flagged.add(a)
            else:
                self._vault_call("flag_loss", a)

    def _vault_call(self, fn: str, account: str) -> bool:
        """Send vault.flag_loss / clear_loss(account); a revert is logged and skipped."""
        if self.opt.dry_run:
            log.info("dry run: would send %s(%s)", fn, account)
            return False
        try:
            tx = self.chain.send_vault(fn, (account,))
        except Exception as exc:  # noqa: BLE001 - a revert must not stop the keeper
            if _is_connection_error(exc):
                raise
            self.stats.failed += 1
            log.warning("%s(%s) reverted: %s", fn, account, revert_reason(exc))
            return False
        if fn == "flag_loss":
            self.flagged.add(account)
            self.stats.losses_flagged += 1
        else:
            self.flagged.discard(account)
            self.stats.losses_cleared += 1
        self.stats.sent.append((fn, account, None, None, str(getattr(tx, "txn_hash", None) or tx)))
        log.info("sent %s(%s)", fn, account)
        return True

    def _deleverage_actions(self, readings, accounts, n_markets) -> list:
        """Loss policy "adl": for every bankrupt account under resolution (`is_deleveraging`),
        the `deleverage` calls (or the closing `liquidate_bankrupt`) that continue it, the winners
        read from `position_size` and `adl_rank` of every tracked account (and the keeper)."""
        bankrupt = [r for r in readings if r.equity < 0]
        if not bankrupt:
            return []
        res = self.chain.call_many([("is_deleveraging", (r.account,)) for r in bankrupt])
        frozen = [r for r, f in zip(bankrupt, res) if not isinstance(f, Exception) and f]
        if not frozen:
            return []
        markets = sorted({m for r in frozen for m in r.positions})
        others = [a for a in [*accounts, self.me] if a not in {r.account for r in frozen}]
        calls = [c for a in others for m in markets for c in (("position_size", (a, m)), ("adl_rank", (a, m)))]
        res = self.chain.call_many(calls)
        winners: dict = {m: [] for m in markets}
        k = 0
        for a in others:
            for m in markets:
                p, rank = res[k], res[k + 1]
                k += 2
                if isinstance(p, Exception) or isinstance(rank, Exception) or int(p) == 0:
                    continue
                winners[m].append(WinnerReading(a, int(p), int(rank[0]), int(rank[1])))
        return plan_deleverages([(r.account, r.positions, r.shortfall) for r in frozen], winners)

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
                    f"deleverage({act.account}, market {act.market}, {len(act.counterparties)} counterparties)"
                    if act.kind == DELEVERAGE else
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
            elif act.kind == DELEVERAGE:
                self.stats.deleverages += 1
            else:
                self.stats.liquidations += 1
            self.stats.sent.append((act.kind, act.account, act.market,
                                    args[2] if act.kind == LIQUIDATE else None, str(txh)))
            log.info("sent %s: tx %s", what, txh)
            done.append(act)
            if act.kind == LIQUIDATE_BANKRUPT and act.account in self.flagged:
                self._vault_call("clear_loss", act.account)  # resolved: lift the flag
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
# starting against a deployment


def check_deployment(chain: Web3Chain, deployment, manifest_path, chain_id: int) -> None:
    """Refuse a chain that does not hold the manifest's deployment: another chain id, no code at
    the recorded Clearinghouse address, or code other than the recorded `code_hash`."""
    from eth_utils import keccak

    from simulation.manifest import display_path

    where = display_path(manifest_path)
    if int(chain_id) != int(deployment.chain_id):
        raise KeeperError(f"{where} is for chain {deployment.chain_id}, but this network is chain {chain_id}")
    code = bytes(chain.w3.eth.get_code(chain.address))
    if not code:
        raise KeeperError(f"no Clearinghouse code at {chain.address} on this chain (block {chain.block_number()}): "
                          f"the node does not hold the deployment recorded in {where}; point the keeper at the "
                          f"node that does (APE_FOUNDRY_HOST), or deploy again")
    want = (deployment.contracts.get("Clearinghouse") or {}).get("code_hash")
    if want and "0x" + keccak(code).hex().removeprefix("0x") != want:
        raise KeeperError(f"the code at {chain.address} is not the Clearinghouse recorded in {where} "
                          f"(code hash differs)")


# ============================================================================================
# ape wiring (the ape imports stay inside: the loop above runs without ape)


def build_keeper(manifest_path, account, options: Optional[KeeperOptions] = None, project=None,
                 from_block: Optional[int] = None, batch_size: int = 256) -> Keeper:
    """A Keeper for the deployment in `manifest_path`, sending as the ape `account`; raises
    KeeperError unless the connected chain holds that deployment."""
    import ape

    from simulation.deployment import read_manifest

    project = project if project is not None else ape.project
    d = read_manifest(manifest_path)
    # the policy's Clearinghouse ABI (ClearinghouseAdl has `deleverage`), as the manifest records it
    container = project.get_contract((d.contracts.get("Clearinghouse") or {}).get("contract") or "Clearinghouse")
    vault_container = project.get_contract("InsuranceVault")
    ch = vault = None  # bound below, once the chain is known to hold the deployment
    abi = [a.model_dump(mode="json", by_alias=True, exclude_none=True) for a in container.contract_type.abi]
    vault_abi = [a.model_dump(mode="json", by_alias=True, exclude_none=True)
                 for a in vault_container.contract_type.abi]

    def send(fn_name, args):
        return getattr(ch, fn_name)(*args, sender=account)

    def send_vault(fn_name, args):
        return getattr(vault, fn_name)(*args, sender=account)

    vault_address = getattr(d, "vault_address", None)
    chain = Web3Chain(ape.chain.provider.web3, d.clearinghouse_address, abi, send, batch_size=batch_size,
                      vault_address=vault_address, vault_abi=vault_abi, send_vault=send_vault)
    check_deployment(chain, d, manifest_path, int(ape.chain.chain_id))
    ch = container.at(d.clearinghouse_address)
    vault = vault_container.at(vault_address) if vault_address else None
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
            raise KeeperError(f"{account.address} holds less than {amount} base units of the collateral")
        token.mint(account, amount - token.balanceOf(account), sender=account)
    token.approve(ch, amount, sender=account)
    ch.deposit(amount, sender=account)
    log.info("deposited %s collateral for the keeper", _fmt_amount(amount, int(d.collateral.get("decimals", 6))))


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (click's test runner swaps it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def setup_logging(verbose: bool) -> None:
    """One stderr handler for the keeper's logger (idempotent), INFO or DEBUG."""
    if not any(getattr(h, "clawback_keeper", False) for h in log.handlers):
        handler = StderrHandler()
        handler.clawback_keeper = True
        handler.setFormatter(logging.Formatter("%(asctime)s keeper %(levelname)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
