"""`ape run keeper` against an anvil devnet: price drops make accounts liquidatable and the
keeper liquidates them; it rides out a node restart and stops cleanly on Ctrl-C."""
import signal
import subprocess
import time

from keeper_support import USDC, WAD, Web3Devnet, deploy_with_web3
from ops_anvil import ROOT, AnvilProcess, ape_command, ape_env


def test_keeper_on_anvil_through_a_node_restart(owner, maker, trader, other, tmp_path):
    node = AnvilProcess(state=tmp_path / "anvil-state.json").start()
    log = (tmp_path / "keeper.log").open("w+")
    keeper = None
    try:
        manifest = tmp_path / "local-foundry.json"
        deploy_with_web3(node.url, manifest)  # the shared deploy flow over a plain-web3 backend
        net = Web3Devnet(node.url, manifest)
        net.fund(maker, 500_000 * USDC)
        net.fund(trader, 6_000 * USDC)
        net.open_position(maker, trader, 0, -WAD, 50_000 * WAD)

        keeper = subprocess.Popen(
            ape_command("keeper", "--manifest", str(manifest), "--account", "TEST::3", "--deposit", "200000",
                        "--poll-interval", "0.2"),
            cwd=ROOT, env=ape_env(node), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(log, "all healthy", 90)

        # 1. a price drop: the keeper (which learnt the trader from its logs) liquidates
        net.set_price(0, 46_000, owner)
        wait_for(log, f"sent liquidate({trader.address}", 60)
        assert 0 < net.position(trader) < WAD and not net.liquidatable(trader)

        # 2. the node goes down and comes back with its state (anvil --state)
        node.stop()
        wait_for(log, "node unreachable", 30)
        node = AnvilProcess(port=node.port, state=node.state).start()
        net = Web3Devnet(node.url, manifest)
        wait_for(log, "node is back", 30)

        # 3. `other` opens a position, the price drops again: liquidated too
        net.fund(other, 5_000 * USDC)
        net.open_position(maker, other, 0, -WAD, 46_000 * WAD)
        net.set_price(0, 42_500, owner)
        assert net.liquidatable(other)
        wait_for(log, f"sent liquidate({other.address}", 60)
        assert net.position(other) < WAD

        keeper.send_signal(signal.SIGINT)  # Ctrl-C: finish the step, log a summary, exit 0
        assert keeper.wait(30) == 0
        text = read(log)
        assert "stop requested" in text and "keeper stopped" in text and "node errors" in text
        assert text.count("keeper stopped") == 1  # logged once, not duplicated by ape's handlers
    finally:
        if keeper is not None and keeper.poll() is None:
            keeper.kill()
        node.stop()
        log.close()


def read(log):
    log.flush()
    log.seek(0)
    return log.read()


def wait_for(log, needle, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if needle in read(log):
            return
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} not in keeper output:\n{read(log)}")


def test_keeper_refuses_a_chain_without_the_deployment(tmp_path):
    """Started against a node that does not hold the manifest's deployment (here: a fresh anvil,
    as in a new shell where ape starts its own), the keeper exits non-zero with one line instead
    of waiting forever (and `--once` exiting 0)."""
    import json

    from ops_anvil import ape_run

    node = AnvilProcess().start()
    try:
        manifest = tmp_path / "local-foundry.json"
        manifest.write_text(json.dumps({
            "format": "clawback-deployment/1", "network": "local-foundry", "chain_id": 31337,
            "deployment_block": 1, "deployer": None, "compiler": {}, "contracts": {},
            "collateral": {"address": "0x" + "11" * 20, "decimals": 6, "mock": True},
            "clearinghouse": {"address": "0x" + "22" * 20}, "insurance_vault": {"address": "0x" + "33" * 20},
            "markets": []}))
        r = ape_run("keeper", "--manifest", str(manifest), "--once", anvil=node)
        out = r.stdout + r.stderr
        assert r.returncode != 0, out
        assert "no Clearinghouse code at 0x2222222222222222222222222222222222222222" in out.splitlines()[-1], out
        private = ape_run("keeper", "--manifest", str(manifest), "--once")  # no APE_FOUNDRY_HOST
        assert private.returncode != 0
        assert "refusing to keep on the private anvil" in (private.stdout + private.stderr)
    finally:
        node.stop()
