"""Start and always stop a private anvil devnet on a free port."""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field

from .paths import find_anvil
from .rpc import ChainUnreachable, RpcClient


class AnvilNotFound(RuntimeError):
    """No anvil binary in node_modules/@foundry-rs/anvil-<platform>/bin or on PATH."""


def free_port() -> int:
    """A TCP port that is free right now on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: ask the kernel to SIGTERM anvil if the simulation process dies (even SIGKILL)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    os.setsid()  # keep terminal Ctrl-C away from anvil: the parent stops it in order


@dataclass
class AnvilConfig:
    """How to start anvil. Automine is left on (deployments); the engine turns it off."""

    hardfork: str = "cancun"
    chain_id: int = 31337
    gas_limit: int = 1_000_000_000
    code_size_limit: int | None = None
    extra_args: list[str] = field(default_factory=list)


class Anvil:
    """A child anvil process. Use as a context manager; `stop()` is idempotent."""

    def __init__(self, config: AnvilConfig | None = None, binary: str | None = None):
        self.config = config or AnvilConfig()
        self.binary = binary or find_anvil()
        if not self.binary:
            raise AnvilNotFound("anvil not found: run the setup step (npm install) or put anvil on PATH")
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "Anvil":
        c = self.config
        last_err = ""
        for _attempt in range(3):
            self.port = free_port()
            args = [self.binary, "--host", "127.0.0.1", "--port", str(self.port),
                    "--hardfork", c.hardfork, "--chain-id", str(c.chain_id),
                    "--gas-limit", str(c.gas_limit), "--auto-impersonate", "--order", "fifo",
                    "--block-base-fee-per-gas", "0",
                    "--quiet"]
            if c.code_size_limit:
                args += ["--code-size-limit", str(c.code_size_limit)]
            args += c.extra_args
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
            deadline = time.monotonic() + timeout
            client = RpcClient(self.url, timeout=2.0)
            try:
                while time.monotonic() < deadline:
                    if self.proc.poll() is not None:
                        last_err = (self.proc.stderr.read() or b"").decode(errors="replace")[-300:]
                        break
                    try:
                        client.call("eth_chainId")
                        return self
                    except ChainUnreachable:
                        time.sleep(0.05)
                else:
                    last_err = "timed out waiting for anvil"
            finally:
                client.close()
            self.stop()
        raise RuntimeError(f"anvil failed to start: {last_err.strip()}")

    def stop(self) -> None:
        """Terminate anvil (SIGTERM, then SIGKILL) and reap it."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            self._signal(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                proc.wait(timeout=5)
        else:  # a wrapper may have left its child behind in the group
            self._signal(proc, signal.SIGKILL)
        if proc.stderr:
            proc.stderr.close()

    @staticmethod
    def _signal(proc: subprocess.Popen, sig: int) -> None:
        """Signal anvil's own process group (it runs in a session of its own), else just it."""
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)

    def __enter__(self) -> "Anvil":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):  # last resort
        with contextlib.suppress(Exception):
            self.stop()
