"""The keeper loop against a scripted fake chain: decisions come from the shared policy,
reverts are logged and skipped, node outages are retried, a chain reset is re-scanned."""
import pytest
import requests

from simulation import keeper as keeper_module

WAD = 10**18
USDC = 10**6
ME = "0x00000000000000000000000000000000000000Ee"
A, B, C = ("0x" + c * 40 for c in "abc")


@pytest.fixture(scope="module")
def K():
    return keeper_module


class Revert(Exception):
    def __init__(self, msg):
        super().__init__(msg)
        self.revert_message = msg


class FakeChain:
    """One BTC market at 50,000 (imr 10 %, mmr 5 %); accounts: summary and BTC position."""

    address = "0x" + "22" * 20

    def __init__(self):
        self.head = 10
        self.code = True
        self.logs = {5: {A, B}, 7: {C, ME}}
        self.summary = {ME: (10**6 * USDC, 10**6 * USDC, 0, 0)}
        self.pos = {}
        self.maxliq = {}
        self.price_ok = True
        self.sent = []
        self.revert = set()
        self.down = 0  # number of calls that fail with a connection error

    def _net(self):
        if self.down:
            self.down -= 1
            raise requests.exceptions.ConnectionError("connection refused")

    def block_number(self):
        self._net()
        return self.head

    def has_code(self):
        return self.code

    def accounts_in_logs(self, lo, hi):
        self._net()
        return set().union(*(v for b, v in self.logs.items() if lo <= b <= hi)) if self.logs else set()

    def call_many(self, calls):
        self._net()
        out = []
        for name, args in calls:
            if name == "market_count":
                out.append(1)
            elif name == "market_params":
                out.append(("0xfeed", WAD // 10, WAD // 20))
            elif name == "index_price":
                out.append(50_000 * WAD if self.price_ok else Revert("oracle: stale price"))
            elif name == "account_summary":
                out.append(self.summary.get(args[0], (0, 0, 0, 0)))
            elif name == "position_size":
                out.append(self.pos.get(args[0], 0))
            elif name == "max_liquidatable_size":
                out.append(self.maxliq.get(args[0], 0))
        return out

    def send(self, fn, args):
        self._net()
        if args[0] in self.revert:
            raise Revert("liquidate: account is healthy")
        self.sent.append((fn, args))
        # the account is healed
        self.summary[args[0]] = (10**9, 10**9, 0, 0)
        return "0xtx"


def unhealthy(chain, who, equity, mm, pos=WAD, maxliq=WAD // 2):
    chain.summary[who] = (equity, equity, 2 * mm, mm)
    chain.pos[who] = pos
    chain.maxliq[who] = maxliq


def test_learns_accounts_and_acts_by_priority(K):
    ch = FakeChain()
    unhealthy(ch, A, 100 * USDC, 2_500 * USDC)
    unhealthy(ch, B, -50 * USDC, 2_500 * USDC, maxliq=0)
    unhealthy(ch, C, 2_000 * USDC, 2_500 * USDC)
    k = K.Keeper(ch, ME, 1, K.KeeperOptions(once=True))
    stats = k.run()
    assert k.accounts == {A, B, C}
    assert ch.sent == [("liquidate_bankrupt", (B,)), ("liquidate", (A, 0, WAD // 2)), ("liquidate", (C, 0, WAD // 2))]
    assert (stats.liquidations, stats.bankruptcies, stats.failed) == (2, 1, 0)


def test_reverted_transactions_are_logged_and_skipped(K, caplog):
    ch = FakeChain()
    unhealthy(ch, A, 100 * USDC, 2_500 * USDC)
    unhealthy(ch, C, 50 * USDC, 2_500 * USDC)
    ch.revert = {A}
    k = K.Keeper(ch, ME, 1, K.KeeperOptions(once=True))
    with caplog.at_level("INFO", logger="clawback.keeper"):
        stats = k.run()
    assert stats.failed == 1 and stats.liquidations == 1
    assert "reverted: liquidate: account is healthy" in caplog.text


def test_dry_run_sends_nothing(K):
    ch = FakeChain()
    unhealthy(ch, A, 100 * USDC, 2_500 * USDC)
    stats = K.Keeper(ch, ME, 1, K.KeeperOptions(once=True, dry_run=True)).run()
    assert ch.sent == [] and stats.liquidations == 0


def test_node_outage_is_retried(K, caplog, monkeypatch):
    ch = FakeChain()
    unhealthy(ch, A, 100 * USDC, 2_500 * USDC)
    ch.down = 2
    k = K.Keeper(ch, ME, 1, K.KeeperOptions(max_blocks=1, max_backoff=0.01))
    monkeypatch.setattr(k, "_sleep", lambda s: None)
    with caplog.at_level("INFO", logger="clawback.keeper"):
        stats = k.run()
    assert stats.errors == 2 and stats.liquidations == 1
    assert "node unreachable" in caplog.text and "node is back" in caplog.text


def test_chain_reset_rescans_and_waits_for_code(K, caplog):
    ch = FakeChain()
    k = K.Keeper(ch, ME, 1, K.KeeperOptions(once=True))
    k.run()
    assert A in k.accounts
    ch.head, ch.code, ch.logs = 3, False, {}
    with caplog.at_level("INFO", logger="clawback.keeper"):
        k.run()
    assert k.stats.resets == 1 and k.accounts == set()
    assert "went back" in caplog.text and "no Clearinghouse code" in caplog.text
    ch.head, ch.code, ch.logs = 12, True, {11: {C}}
    unhealthy(ch, C, 1 * USDC, 2_500 * USDC)
    k.run()
    assert ch.sent == [("liquidate", (C, 0, WAD // 2))]


def test_stale_market_is_skipped_not_fatal(K, caplog):
    ch = FakeChain()
    ch.price_ok = False
    unhealthy(ch, A, 100 * USDC, 2_500 * USDC)
    with caplog.at_level("INFO", logger="clawback.keeper"):
        stats = K.Keeper(ch, ME, 1, K.KeeperOptions(once=True)).run()
    assert ch.sent == [] and stats.errors == 0
    assert "no usable oracle price" in caplog.text


def test_no_capacity_means_no_transactions(K):
    ch = FakeChain()
    ch.summary[ME] = (0, 0, 0, 0)
    unhealthy(ch, A, 100 * USDC, 2_500 * USDC)
    unhealthy(ch, B, -1 * USDC, 2_500 * USDC)
    stats = K.Keeper(ch, ME, 1, K.KeeperOptions(once=True)).run()
    assert ch.sent == [] and stats.failed == 0


def test_stop_signal_ends_the_loop(K):
    ch = FakeChain()
    k = K.Keeper(ch, ME, 1, K.KeeperOptions(poll_interval=0.01))
    calls = {"n": 0}
    real = ch.block_number

    def counting():
        calls["n"] += 1
        if calls["n"] == 3:
            k.stop()
        return real()

    ch.block_number = counting
    stats = k.run()
    assert stats.blocks == 1
    with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C aborts
        k.stop()


def test_the_keeper_does_not_count_itself(K, caplog):
    """The keeper's own deposit shows in the logs; it is read as the keeper, not tracked as an account."""
    ch = FakeChain()  # logs: A, B at block 5; C and the keeper (ME) at block 7
    k = K.Keeper(ch, ME, 1, K.KeeperOptions(once=True))
    with caplog.at_level("INFO", logger="clawback.keeper"):
        k.run()
    assert k.accounts == {A, B, C}
    assert "tracking 3 new account(s)" in caplog.text


def test_a_chain_without_the_deployment_is_refused(K):
    """Started against a chain that lacks the manifest's Clearinghouse (ape's private anvil, another
    devnet), the keeper refuses instead of waiting forever."""
    from types import SimpleNamespace

    class Eth:
        def __init__(self, code):
            self.code = code

        def get_code(self, address):
            return self.code

    manifest = SimpleNamespace(chain_id=31337, contracts={"Clearinghouse": {"code_hash": "0x" + "00" * 32}})
    chain = SimpleNamespace(address=FakeChain.address, w3=SimpleNamespace(eth=Eth(b"")), block_number=lambda: 0)
    with pytest.raises(K.KeeperError, match="no Clearinghouse code at .* does not hold the deployment"):
        K.check_deployment(chain, manifest, "deployments/local-foundry.json", 31337)
    with pytest.raises(K.KeeperError, match="is for chain 31337, but this network is chain 1"):
        K.check_deployment(chain, manifest, "deployments/local-foundry.json", 1)
    chain.w3.eth.code = b"\x60\x00"
    with pytest.raises(K.KeeperError, match="code hash differs"):
        K.check_deployment(chain, manifest, "deployments/local-foundry.json", 31337)
    from eth_utils import keccak
    manifest.contracts["Clearinghouse"]["code_hash"] = "0x" + keccak(b"\x60\x00").hex()
    K.check_deployment(chain, manifest, "deployments/local-foundry.json", 31337)  # the right chain: fine


class FakeVaultChain(FakeChain):
    """FakeChain plus the insurance vault's loss flags (flag_loss needs equity < 0, clear_loss >= 0)."""

    vault_address = "0x" + "33" * 20

    def __init__(self):
        super().__init__()
        self.flags = set()
        self.vault_sent = []

    def loss_flagged(self, account):
        return account in self.flags

    def send_vault(self, fn, args):
        (who,) = args
        equity = self.summary.get(who, (0, 0, 0, 0))[1]
        if fn == "flag_loss":
            if who in self.flags:
                raise Revert("flag_loss: already flagged")
            if equity >= 0:
                raise Revert("flag_loss: equity not negative")
            self.flags.add(who)
        else:
            if who not in self.flags:
                raise Revert("clear_loss: not flagged")
            if equity < 0:
                raise Revert("clear_loss: equity still negative")
            self.flags.discard(who)
        self.vault_sent.append((fn, who))
        self.sent.append((fn, args))
        return "0xvtx"


def test_bankruptcy_is_flag_resolve_clear(K):
    ch = FakeVaultChain()
    unhealthy(ch, B, -50 * USDC, 2_500 * USDC, maxliq=0)
    unhealthy(ch, A, 100 * USDC, 2_500 * USDC)
    stats = K.Keeper(ch, ME, 1, K.KeeperOptions(once=True)).run()
    assert ch.sent[:3] == [("flag_loss", (B,)), ("liquidate_bankrupt", (B,)), ("clear_loss", (B,))]
    assert ("liquidate", (A, 0, WAD // 2)) in ch.sent and ch.flags == set()
    assert (stats.bankruptcies, stats.losses_flagged, stats.losses_cleared, stats.failed) == (1, 1, 1, 0)
    assert "1 losses flagged / 1 cleared" in stats.summary()


def test_a_loss_that_cannot_be_resolved_stays_flagged_until_equity_is_back(K):
    ch = FakeVaultChain()
    unhealthy(ch, B, -50 * USDC, 2_500 * USDC, maxliq=0)
    ch.revert = {B}                         # liquidate_bankrupt reverts (say the keeper lacks margin)
    ch.flags = {C}                          # C was flagged by someone else and is healthy again
    ch.logs[7] = {C}
    ch.summary[C] = (10 * USDC, 10 * USDC, 0, 0)
    k = K.Keeper(ch, ME, 1, K.KeeperOptions(once=True))
    k.flagged.add(C)
    stats = k.run()
    assert ch.vault_sent == [("clear_loss", C), ("flag_loss", B)] and ch.flags == {B}
    assert stats.failed == 1 and stats.bankruptcies == 0
    # already flagged (e.g. by another keeper): not flagged again; cleared once the equity is back
    k2 = K.Keeper(ch, ME, 1, K.KeeperOptions(once=True))
    k2.run()
    assert ch.vault_sent == [("clear_loss", C), ("flag_loss", B)] and B in k2.flagged
    ch.revert = set()
    ch.summary[B] = (0, 5 * USDC, 0, 0)     # prices recovered
    k2.run()
    assert ch.vault_sent[-1] == ("clear_loss", B) and ch.flags == set()


def test_dry_run_flags_nothing(K):
    ch = FakeVaultChain()
    unhealthy(ch, B, -50 * USDC, 2_500 * USDC, maxliq=0)
    K.Keeper(ch, ME, 1, K.KeeperOptions(once=True, dry_run=True)).run()
    assert ch.sent == [] and ch.flags == set()
class AdlChain(FakeChain):
    """Loss policy adl: the ABI has `deleverage`; B is frozen under resolution (long 1 BTC), A and
    C hold shorts in profit in buckets 900 and 950, the keeper is flat."""

    functions = {"deleverage", "is_deleveraging", "adl_rank"}

    def __init__(self):
        super().__init__()
        self.frozen = {B}
        self.rank = {A: (900, 40 * USDC), C: (950, 10 * USDC)}

    def call_many(self, calls):
        out = []
        for name, args in calls:
            if name == "is_deleveraging":
                out.append(args[0] in self.frozen)
            elif name == "adl_rank":
                out.append(self.rank.get(args[0], (0, 0)))
            else:
                out += super().call_many([(name, args)])
        return out

    def send(self, fn, args):
        self.sent.append((fn, args))
        self.frozen.discard(args[0])
        self.summary[args[0]] = (0, 0, 0, 0)
        return "0xtx"


def test_adl_resolution_is_driven_with_deleverage(K):
    ch = AdlChain()
    unhealthy(ch, B, -50 * USDC, 2_500 * USDC)
    ch.pos.update({A: -WAD // 2, C: -WAD // 2})
    ch.summary.update({A: (10**5 * USDC,) * 2 + (0, 0), C: (10**5 * USDC,) * 2 + (0, 0)})
    stats = K.Keeper(ch, ME, 1, K.KeeperOptions(once=True)).run()
    # the frozen account is continued with deleverage naming the best-ranked shorts (highest bucket
    # first), not taken over again with liquidate_bankrupt
    assert ch.sent == [("deleverage", (B, 0, [C, A]))]
    assert stats.deleverages == 1 and stats.bankruptcies == 0


def test_without_deleverage_in_the_abi_a_bankruptcy_is_taken_over(K):
    ch = FakeChain()
    unhealthy(ch, B, -50 * USDC, 2_500 * USDC)
    K.Keeper(ch, ME, 1, K.KeeperOptions(once=True)).run()
    assert ch.sent == [("liquidate_bankrupt", (B,))]
