"""The chain layer against anvil and the in-process revm chain, with the mock contracts."""
import pytest

from simulation.anvil import Anvil
from simulation.chain import ChainBackend, Tx
from simulation.revm_chain import RevmChain
from simulation.rpc import ChainUnreachable, RpcClient

OTHER = "0x000000000000000000000000000000000000dEaD"


def exercise(chain, artifacts):
    b = ChainBackend(chain, artifacts)
    tok = b.deploy("MockToken", "Mock USD", "mUSD", 6)
    feed = b.deploy("MockAggregator", 8, 50_000 * 10**8)
    assert b.call(tok, "MockToken", "decimals") == 6
    assert b.call(feed, "MockAggregator", "latestRoundData")[1] == 50_000 * 10**8
    T = artifacts["MockToken"]
    me = chain.default_sender
    ts = chain.latest_timestamp() + 12
    res = chain.send_block([Tx(me, tok, T.fn("mint").encode(me, 10**9)),
                            Tx(me, tok, T.fn("transfer").encode(OTHER, 2 * 10**9)),   # reverts: data
                            Tx(me, tok, T.fn("transfer").encode(OTHER, 5))], ts)
    assert [r.ok for r in res] == [True, False, True]
    assert res[1].reason == "token: insufficient balance"
    assert len(res[0].logs) == 1 and len(res[1].logs) == 0
    assert chain.latest_timestamp() == ts  # one explicit mine at the given timestamp
    out = chain.call_many([(tok, T.fn("balanceOf").encode(OTHER)), (tok, T.fn("balanceOf").encode(me)),
                           (tok, T.fn("transferFrom").encode(OTHER, me, 1))])
    assert T.fn("balanceOf").decode(out[0]) == 5 and T.fn("balanceOf").decode(out[1]) == 10**9 - 5
    assert not out[2] and "allowance" in out[2].reason  # a reverting call is data too
    with pytest.raises(RuntimeError, match="insufficient balance"):
        b.transact(tok, "MockToken", "transfer", OTHER, 10**18)


def test_rpc_chain_on_anvil(anvil_chain, artifacts):
    exercise(anvil_chain, artifacts)


def test_revm_chain(artifacts):
    exercise(RevmChain(), artifacts)


def snapshots(chain, artifacts):
    """A revert restores balances, the clock and the nonces (the next tx hash is the same)."""
    b = ChainBackend(chain, artifacts)
    tok = b.deploy("MockToken", "Mock USD", "mUSD", 6)
    T = artifacts["MockToken"]
    me = chain.default_sender
    ts0, n0 = chain.latest_timestamp(), chain.block_number()
    sid = chain.snapshot()
    (first,) = chain.send_block([Tx(me, tok, T.fn("mint").encode(OTHER, 7))], ts0 + 5)
    assert T.fn("balanceOf").decode(chain.call_many([(tok, T.fn("balanceOf").encode(OTHER))])[0]) == 7
    chain.revert(sid)
    assert (chain.latest_timestamp(), chain.block_number()) == (ts0, n0)
    assert T.fn("balanceOf").decode(chain.call_many([(tok, T.fn("balanceOf").encode(OTHER))])[0]) == 0
    (again,) = chain.send_block([Tx(me, tok, T.fn("mint").encode(OTHER, 7))], ts0 + 5)
    assert again.hash == first.hash and again.ok
    with pytest.raises(KeyError):
        chain.revert(sid)  # used up, as on anvil


def test_snapshots_on_anvil(anvil_chain, artifacts):
    snapshots(anvil_chain, artifacts)


def test_snapshots_on_revm(artifacts):
    snapshots(RevmChain(), artifacts)


def test_anvil_is_always_stopped(anvil_bin):
    with pytest.raises(KeyboardInterrupt):
        with Anvil() as node:
            proc = node.proc
            RpcClient(node.url).call("eth_chainId")
            raise KeyboardInterrupt
    assert proc.poll() is not None


def test_unreachable_url_is_one_clear_error():
    with pytest.raises(ChainUnreachable, match="cannot reach a JSON-RPC node at http://127.0.0.1:9"):
        RpcClient("http://127.0.0.1:9", timeout=2).call("eth_chainId")
