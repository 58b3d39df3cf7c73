"""The engine's per-block reads: what carries over from the last block is what a full read gives,
an account whose positions no transaction touched reads only its summary, and the fast decoders
and the per-process artifacts cache give what eth_abi and a fresh parse give."""
import os
import shutil

import pytest
from eth_abi import decode, encode

from simulation.abi import Artifacts
from simulation.bench import cut_to
from simulation.engine import Engine, SimulationError
from simulation.revm_chain import RevmChain
from simulation.scenario import load_scenario


def _engine(sc, **overrides) -> Engine:
    eng = Engine(sc.with_overrides(overrides) if overrides else sc, RevmChain(), seed=sc.seed)
    eng.setup()
    return eng


@pytest.mark.parametrize("policy", ["pro_rata_size", "profit_clawback", "adl"])
def test_carried_readings_are_what_a_full_read_gives(tiny, policy, monkeypatch):
    """Every block of a crash with bankruptcies, under each loss policy: the carried readings
    equal a full read of every account (verify_carry reads both and raises on a difference)."""
    monkeypatch.setattr(Engine, "verify_carry", True)
    eng = _engine(tiny, **{"protocol.loss_policy": policy})
    bankrupt = 0
    while eng.block < eng.blocks:
        out = eng.step()
        bankrupt += sum(e.name == "Bankruptcy" for e in out.events)
    carried, summary_only, full = eng.read_counts
    assert bankrupt >= 1 and carried + summary_only > 0 and full > 0


def test_carried_readings_hold_through_the_default_crash(monkeypatch):
    """The default scenario cut to 40 blocks (the crash moved into them, the attacker included)."""
    monkeypatch.setattr(Engine, "verify_carry", True)
    eng = _engine(cut_to(load_scenario("default"), 40))
    while eng.block < eng.blocks:
        eng.step()
    assert eng.read_counts[0] + eng.read_counts[1] > eng.read_counts[2]


def test_a_stale_carry_is_caught(tiny, monkeypatch):
    """If the block's touched accounts were ignored, the full read would disagree: the check bites."""
    monkeypatch.setattr(Engine, "verify_carry", True)
    monkeypatch.setattr(Engine, "touched", lambda self, results: set())
    eng = _engine(tiny)
    with pytest.raises(SimulationError, match="is stale"):
        while eng.block < eng.blocks:
            eng.step()


def test_carried_wallets_and_vault_holdings_hold_through_the_insurance_run(monkeypatch):
    """Stakers deposit, request, claim and leave: every block the carried token balances, vault
    shares and redeem requests equal a full read of them (verify_carry), and most blocks read
    none of them."""
    monkeypatch.setattr(Engine, "verify_carry", True)
    eng = _engine(load_scenario("insurance-run"))
    seen: list[int] = []
    real = eng.chain.call_many
    vault, sel = eng.p.vault, {eng.p.f_v_bal.selector, eng.p.f_v_reqview.selector}

    def counting(calls):
        seen.append(sum(1 for to, d in calls if to == vault and d[:4] in sel))
        return real(calls)

    eng.chain.call_many = counting
    requests = changed = 0
    prev = eng.readings
    holder_reads: list[int] = []
    while eng.block < eng.blocks:
        seen.clear()
        eng.step()
        holder_reads.append(seen[0])  # the block's own read (verify_carry's full read comes after it)
        cur = eng.readings
        requests = max(requests, sum(1 for r in cur.vault_requests.values() if r[0]))
        changed += sum(cur.vault_shares[a] != prev.vault_shares[a] for a in cur.vault_shares)
        prev = cur
    assert requests >= 3 and changed >= 3
    assert sorted(holder_reads)[len(holder_reads) // 2] == 0 < max(holder_reads)


def test_a_stale_vault_holder_carry_is_caught(monkeypatch):
    """If the stakers (vault holders without a margin account) were left out of the touched set,
    their carried shares or requests would go stale: the check bites."""
    monkeypatch.setattr(Engine, "verify_carry", True)
    real = Engine.touched

    def without_stakers(self, results):
        return real(self, results) - (set(self.share_addrs) - set(self.accounts))

    monkeypatch.setattr(Engine, "touched", without_stakers)
    eng = _engine(load_scenario("insurance-run"))
    with pytest.raises(SimulationError, match=r"carried (vault shares|redeem request) of 0x[0-9a-fA-F]{40} at block"):
        while eng.block < eng.blocks:
            eng.step()


def test_untouched_accounts_read_no_position_sizes(tiny):
    """After the first blocks, `position_size` is read only for accounts the block's transactions
    named, not for every account every block."""
    eng = _engine(tiny)
    sel = eng.p.f_pos.selector
    seen: list[int] = []
    real = eng.chain.call_many

    def counting(calls):
        seen.append(sum(1 for _, d in calls if d[:4] == sel))
        return real(calls)

    eng.chain.call_many = counting
    per_block = []
    while eng.block < eng.blocks:
        seen.clear()
        eng.step()
        per_block.append(sum(seen))
    assert min(per_block) < len(eng.accounts) * len(tiny.markets)


def test_nothing_carries_onto_a_block_someone_else_mined(tiny):
    eng = _engine(tiny)
    eng.step()
    eng.chain.send_block([], eng.chain.latest_timestamp() + 1)  # not the engine's block
    before = eng.read_counts[2]
    eng.step()
    assert eng.read_counts[2] - before == len(eng.accounts)


def test_int_views_decode_as_eth_abi_does(artifacts):
    summary = artifacts["Clearinghouse"].fn("account_summary")
    pos = artifacts["Clearinghouse"].fn("position_size")
    vals = (-(2**255), 2**255 - 1, 0, 2**256 - 1)
    data = encode(["(int256,int256,uint256,uint256)"], [vals])
    assert summary.decode(data) == decode(list(summary.outputs), data)[0] == vals
    for v in (-1, -(10**18), 7):
        assert pos.decode(encode(["int256"], [v])) == v
    flagged = artifacts["InsuranceVault"].fn("loss_flagged")
    assert flagged.decode(encode(["bool"], [True])) is True


def test_batched_summaries_encode_and_decode_as_eth_abi_does(artifacts):
    """`account_summaries` takes the fast path both ways (a lone array of words in, of integer
    structs out) and agrees with eth_abi, the empty list included."""
    summaries = artifacts["Clearinghouse"].fn("account_summaries")
    accounts = ["0x" + "ab" * 20, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x" + "00" * 19 + "01"]
    for batch in (accounts, []):
        assert summaries.encode(batch) == summaries.selector + encode(list(summaries.inputs), [batch])
    rows = [(-(2**255), 2**255 - 1, 0, 2**256 - 1), (-1, 7, 10**18, 3), (0, 0, 0, 0)]
    for batch in (rows, []):
        data = encode(list(summaries.outputs), [batch])
        assert summaries.decode(data) == decode(list(summaries.outputs), data)[0] == tuple(batch)


def test_artifacts_are_parsed_once_per_version_of_the_build(artifacts, tmp_path):
    copy = tmp_path / "__local__.json"
    shutil.copy(artifacts.path, copy)
    first = Artifacts.cached(copy)
    assert Artifacts.cached(copy) is first and first["Clearinghouse"].abi == artifacts["Clearinghouse"].abi
    st = copy.stat()
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a new build
    assert Artifacts.cached(copy) is not first


def test_summaries_read_in_several_batches_equal_one_batch(tiny, monkeypatch):
    """More accounts than one `account_summaries` call takes are read in several calls: with a
    batch of 3 accounts every block's readings are what one batch gives."""
    one = _engine(tiny)
    assert one.summary_batch >= len(one.accounts)
    monkeypatch.setattr(Engine, "summary_batch", 3)
    several = _engine(tiny)
    assert len(several.accounts) > 3
    while one.block < one.blocks:
        one.step()
        several.step()
        assert several.readings.accounts == one.readings.accounts
