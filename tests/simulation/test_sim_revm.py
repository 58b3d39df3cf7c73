"""The in-process revm chain against anvil: same transactions, same results, same run outputs;
deploy once per configuration and restore from the snapshot."""
from simulation import deployment as D
from simulation.chain import ChainBackend, Tx
from simulation.devnets import open_chain
from simulation.revm_chain import RevmChain
from simulation.runner import run_scenario

OTHER = "0x000000000000000000000000000000000000dEaD"
OUTPUTS = ("metrics.csv", "events.jsonl", "accounts.csv")


def _block(chain, artifacts):
    chain.send_block([], 2_000_000_000)  # the same clock on both (anvil's genesis is wall time)
    b = ChainBackend(chain, artifacts)
    tok = b.deploy("MockToken", "Mock USD", "mUSD", 6)
    T = artifacts["MockToken"]
    me = chain.default_sender
    ts = chain.latest_timestamp() + 12
    res = chain.send_block([Tx(me, tok, T.fn("mint").encode(me, 10**9)),
                            Tx(me, tok, T.fn("transfer").encode(OTHER, 2 * 10**9)),
                            Tx(OTHER, tok, T.fn("approve").encode(me, 5)),
                            Tx(me, None, artifacts["MockAggregator"].deploy_data(8, 3), gas=5_000_000)], ts)
    return tok, [(r.hash, r.ok, r.contract_address, [(lg.address, lg.topics, lg.data) for lg in r.logs])
                 for r in res]


def test_same_transactions_same_hashes_addresses_and_logs(anvil_chain, artifacts):
    """revm hashes, addresses, logs and outcomes are anvil's (anvil's impersonated-tx hash)."""
    a = _block(anvil_chain, artifacts)
    r = _block(RevmChain(), artifacts)
    assert r == a
    assert [x[1] for x in r[1]] == [True, False, True, True] and r[1][3][2]


def _same_outputs(x, y):
    for f in OUTPUTS:
        assert (x / f).read_bytes() == (y / f).read_bytes(), f


def test_revm_run_matches_anvil_byte_for_byte(tmp_path, artifacts, anvil_bin, tiny):
    """A short crash (tiny: crash at block 6, a bankruptcy by block 9) gives the same metrics.csv,
    events.jsonl (tx hashes included) and accounts.csv on revm and on anvil."""
    sc = tiny.with_overrides({"blocks": 9})
    r = run_scenario(sc, scenario_ref="tiny", chain="revm", out=tmp_path / "revm", progress=False, plots=False)
    a = run_scenario(sc, scenario_ref="tiny", chain="anvil", out=tmp_path / "anvil", progress=False, plots=False)
    assert r.violation is None and r.summary["bankruptcies"] >= 1
    assert r.summary["bankruptcies"] == a.summary["bankruptcies"]
    _same_outputs(tmp_path / "revm", tmp_path / "anvil")


def test_reused_chain_deploys_once_and_matches_fresh_runs(tmp_path, artifacts, tiny, monkeypatch):
    """On a reused chain the protocol is deployed once per configuration; every later run starts
    from its snapshot and writes exactly what a run on a fresh chain writes."""
    deploys = []
    real = D.deploy_protocol
    monkeypatch.setattr(D, "deploy_protocol", lambda *a, **k: deploys.append(1) or real(*a, **k))
    sc = tiny.with_overrides({"blocks": 7})
    other = sc.with_overrides({"protocol.max_cover_ratio": 0.5})
    runs = [(sc, 3), (sc, 4), (other, 3), (sc, 3)]
    for i, (s, seed) in enumerate(runs):
        run_scenario(s, scenario_ref="tiny", seed=seed, chain="revm", out=tmp_path / f"reuse{i}", progress=False,
                     plots=False, reuse_chain=True)
    assert len(deploys) == 3  # sc, other, sc again (a new configuration starts from genesis)
    run_scenario(sc, scenario_ref="tiny", seed=4, chain="revm", out=tmp_path / "fresh4", progress=False, plots=False)
    run_scenario(other, scenario_ref="tiny", seed=3, chain="revm", out=tmp_path / "fresh_other", progress=False,
                 plots=False)
    _same_outputs(tmp_path / "reuse1", tmp_path / "fresh4")
    _same_outputs(tmp_path / "reuse2", tmp_path / "fresh_other")
    _same_outputs(tmp_path / "reuse0", tmp_path / "reuse3")
    assert (tmp_path / "reuse0" / "metrics.csv").read_bytes() != (tmp_path / "reuse1" / "metrics.csv").read_bytes()


def test_embedded_is_revm():
    with open_chain("embedded") as chain:
        assert isinstance(chain, RevmChain)
