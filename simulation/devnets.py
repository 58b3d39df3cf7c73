"""Which chain a run gets (`open_chain`), and deploy-once reuse of the deployed protocol.

`open_chain(kind, reuse=True)` hands out this process's long-lived chain of that kind (revm: one
in-process EVM per worker process) instead of a new one. `deploy_or_restore` then deploys the
protocol on it once per deployment configuration and takes a snapshot; every later run with the
same configuration reverts to that snapshot instead of deploying again. The snapshot is taken
after deployment and before anything seed-dependent (agent keys, ether, token mints, approvals,
first deposits), so a run restored from it is the same, block for block, as a run on a fresh
chain: same addresses, timestamps, nonces and transaction hashes.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import json
from typing import Any, Callable, Iterator

from .anvil import Anvil
from .chain import Chain, RpcChain

CHAIN_KINDS = ("anvil", "revm", "embedded")
_POOL: dict[str, Chain] = {}


def normalize_kind(kind: str) -> str:
    """'embedded' is the old name of the in-process chain (py-evm then, revm now)."""
    return "revm" if kind == "embedded" else kind


def _new_revm() -> Chain:
    from .revm_chain import RevmChain

    return RevmChain()


@contextlib.contextmanager
def open_chain(kind: str, reuse: bool = False) -> Iterator[Chain]:
    """'anvil' (start a private anvil, always stopped), 'revm' (in process; 'embedded' is an alias),
    or an http(s) URL. `reuse`: the process's long-lived revm chain (see `deploy_or_restore`)."""
    kind = normalize_kind(kind)
    if kind == "anvil":
        with Anvil() as node:
            chain = RpcChain(node.url, owned=True)
            try:
                yield chain
            finally:
                chain.close()
    elif kind == "revm":
        if not reuse:
            yield _new_revm()
            return
        chain = _POOL.get(kind)
        if chain is None:
            chain = _POOL[kind] = _new_revm()
            chain.genesis = chain.snapshot()
        try:
            yield chain
        except BaseException:
            _POOL.pop(kind, None)  # state of a failed run is not trusted: next run starts afresh
            raise
    elif kind.startswith(("http://", "https://")):
        chain = RpcChain(kind)
        try:
            yield chain
        finally:
            chain.close()
    else:
        raise ValueError(f"--chain must be anvil, embedded or an http(s) URL (or revm, the in-process chain "
                         f"'embedded' now names), got {kind!r}")


def deploy_key(*parts: Any) -> str:
    """A stable key for everything a deployment depends on."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()


def deploy_or_restore(chain: Chain, key: str, deploy: Callable[[], Any]) -> Any:
    """Run `deploy()` on a chain from `open_chain(..., reuse=True)` once per `key`, snapshot the
    result, and on later calls with the same key revert to that snapshot instead. On any other
    chain just deploy."""
    genesis = getattr(chain, "genesis", None)
    if genesis is None:
        return deploy()
    bases: dict[str, tuple[int, Any]] = chain.bases
    hit = bases.get(key)
    if hit is not None:
        sid, dep = hit
        chain.revert(sid)
    else:
        chain.revert(genesis)  # back to an empty chain: drops every base taken after it
        bases.clear()
        chain.genesis = chain.snapshot()
        dep = deploy()
    bases[key] = (chain.snapshot(), dep)
    return copy.deepcopy(dep)
