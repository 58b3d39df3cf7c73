"""Anvil and `ape run` helpers for the ops integration tests (deploy and keeper)."""
import os
import shutil
import sys
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from simulation.paths import find_anvil  # noqa: E402

# the platform binary (node_modules/.bin/anvil is a node wrapper: always exits 0, and leaves
# anvil running when it is killed)
ANVIL = find_anvil()
FOUNDRY_BIN = str(Path(ANVIL).parent) if ANVIL else ""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AnvilProcess:
    """A private anvil on a free port (same default mnemonic as ape's test accounts)."""

    def __init__(self, port=None, state=None, args=()):
        self.port = port or _free_port()
        self.state = state  # a file: the chain is dumped there on exit and reloaded on start
        self.args = list(args)  # more anvil options, e.g. ["--chain-id", "11155111"]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        extra = (["--state", str(self.state)] if self.state else []) + self.args
        self.proc = subprocess.Popen([ANVIL, "--port", str(self.port), "--hardfork", "cancun", "--silent", *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"anvil exited with status {self.proc.returncode} on port {self.port}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("anvil did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self.proc is not None:
            # wait until the port is free again (the binary may outlive the wrapper briefly)
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    time.sleep(0.1)
                except OSError:
                    break
        self.proc = None


def free_port():
    return _free_port()


def port_answers(port) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
        return True
    except OSError:
        return False


def ape_env(anvil=None, env=None):
    e = dict(os.environ)
    e.pop("APE_FOUNDRY_HOST", None)
    e["PATH"] = f"{FOUNDRY_BIN}{os.pathsep}{e.get('PATH', '')}"
    e.pop("CLAWBACK_REPLACE", None)
    if anvil is not None:
        e["APE_FOUNDRY_HOST"] = anvil.url
    e.update(env or {})
    return e


def ape_command(script, *args):
    ape = shutil.which("ape", path=str(Path(os.sys.executable).parent)) or "ape"
    return [ape, "run", script, "--network", "ethereum:local:foundry", *args]


def ape_run(script, *args, anvil=None, env=None, timeout=180):
    """`ape run <script> --network ethereum:local:foundry ...` against `anvil` (APE_FOUNDRY_HOST)."""
    return subprocess.run(ape_command(script, *args), cwd=ROOT, env=ape_env(anvil, env),
                          capture_output=True, text=True, timeout=timeout)
