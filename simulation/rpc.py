"""A minimal JSON-RPC client over one keep-alive HTTP connection, with batch requests."""
from __future__ import annotations

import http.client
import itertools
import json
import socket
from dataclasses import dataclass
from typing import Any, Sequence
from urllib.parse import urlsplit

try:  # msgspec's JSON codec is several times faster than the stdlib's (it ships with ape)
    import msgspec

    _dumps = msgspec.json.encode
    _loads = msgspec.json.decode
except ImportError:  # pragma: no cover
    def _dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()

    _loads = json.loads


class ChainUnreachable(RuntimeError):
    """The node at the URL does not answer JSON-RPC."""


@dataclass
class RpcError:
    """A JSON-RPC error answer (kept as data: a reverted call is not a crash)."""

    code: int
    message: str
    data: Any = None

    def __bool__(self) -> bool:  # an error is falsy so `if result:` reads naturally
        return False


class RpcFailure(RuntimeError):
    """Raised by RpcClient.call for an error answer."""

    def __init__(self, method: str, err: RpcError):
        super().__init__(f"{method}: {err.message} (code {err.code})")
        self.error = err


class RpcClient:
    """JSON-RPC over one keep-alive HTTP/1.1 connection (http.client, TCP_NODELAY, no proxy
    lookups): `call` for one request, `batch` for many in one HTTP request."""

    def __init__(self, url: str, timeout: float = 120.0):
        self.url = url
        self.timeout = timeout
        u = urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ChainUnreachable(f"not an http(s) JSON-RPC URL: {url}")
        self._https = u.scheme == "https"
        self._host = u.hostname
        self._port = u.port or (443 if self._https else 80)
        self._path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        self._conn: http.client.HTTPConnection | None = None
        self._ids = itertools.count(1)

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=self.timeout)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def _post(self, payload: Any) -> Any:
        body = _dumps(payload)
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        for attempt in (0, 1):  # one silent reconnect: the node may have closed an idle connection
            try:
                if self._conn is None:
                    self._conn = self._connect()
                self._conn.request("POST", self._path, body, headers)
                resp = self._conn.getresponse()
                data = resp.read()
                break
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt:
                    raise ChainUnreachable(
                        f"cannot reach a JSON-RPC node at {self.url}: {exc.__class__.__name__}") from exc
        if resp.status != 200:
            raise ChainUnreachable(f"{self.url} answered HTTP {resp.status}: {data[:200]!r}")
        try:
            return _loads(data)
        except ValueError as exc:
            raise ChainUnreachable(f"{self.url} did not answer JSON-RPC") from exc

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One request; raises RpcFailure on an error answer."""
        out = self._post({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)})
        if "error" in out:
            e = out["error"]
            raise RpcFailure(method, RpcError(e.get("code", 0), e.get("message", ""), e.get("data")))
        return out.get("result")

    def batch(self, requests_: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Many requests in one HTTP round trip; each answer is its result or an RpcError."""
        if not requests_:
            return []
        first = next(self._ids)
        payload = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": list(p)}
                   for i, (m, p) in enumerate(requests_)]
        for _ in range(len(requests_) - 1):
            next(self._ids)
        out = self._post(payload)
        if isinstance(out, dict):  # whole-batch error
            e = out.get("error", {})
            err = RpcError(e.get("code", 0), e.get("message", "batch failed"), e.get("data"))
            return [err] * len(requests_)
        by_id = {}
        for item in out:
            if "error" in item:
                e = item["error"]
                by_id[item["id"]] = RpcError(e.get("code", 0), e.get("message", ""), e.get("data"))
            else:
                by_id[item["id"]] = item.get("result")
        return [by_id.get(first + i, RpcError(-1, "missing answer")) for i in range(len(requests_))]

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
