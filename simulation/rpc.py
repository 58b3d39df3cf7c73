"""A minimal JSON-RPC client over one keep-alive HTTP session, with batch requests."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Sequence

import requests


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
    """JSON-RPC over HTTP: `call` for one request, `batch` for many in one HTTP request."""

    def __init__(self, url: str, timeout: float = 120.0):
        self.url = url
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers["Content-Type"] = "application/json"
        self._ids = itertools.count(1)

    def _post(self, payload: Any) -> Any:
        try:
            resp = self._session.post(self.url, json=payload, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ChainUnreachable(f"cannot reach a JSON-RPC node at {self.url}: {exc.__class__.__name__}") from exc
        if resp.status_code != 200:
            raise ChainUnreachable(f"{self.url} answered HTTP {resp.status_code}: {resp.text[:200]}")
        try:
            return resp.json()
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
        self._session.close()
