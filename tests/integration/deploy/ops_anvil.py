"""Anvil and `ape run` helpers for the ops integration tests (deploy and keeper)."""
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ANVIL = shutil.which("anvil", path=str(ROOT / "node_modules" / ".bin")) or shutil.which("anvil")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AnvilProcess:
    """A private anvil on a free port (same default mnemonic as ape's test accounts)."""

    def __init__(self, port=None, state=None):
        self.port = port or _free_port()
        self.state = state  # a file: the chain is dumped there on exit and reloaded on start
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        extra = ["--state", str(self.state)] if self.state else []
        self.proc = subprocess.Popen([ANVIL, "--port", str(self.port), "--hardfork", "cancun", "--silent", *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)  # node_modules/.bin/anvil is a wrapper: kill its group
        deadline = time.time() + 20
        while time.time() < deadline:
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


def ape_env(anvil=None, env=None):
    e = dict(os.environ)
    e["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{e.get('PATH', '')}"
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
