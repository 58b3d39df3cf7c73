"""The protocol's constants (WAD, the registry's and the vault's bounds), read from the compiled
contracts instead of retyped: contracts/modules/constants.vy declares them `public(constant)`,
contracts/mocks/ProtocolConstants.vy exports them, and `bounds()` runs each getter of that
artifact in an in-memory EVM (pyrevm). Needs the build (`ape compile`, done by ./clawback setup).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from .paths import build_manifest

LENS = "ProtocolConstants"
_CALLER = "0x" + "11" * 20


class ConstantsUnavailable(RuntimeError):
    """The compiled ProtocolConstants artifact is missing (run `ape compile`)."""


@functools.cache
def bounds(manifest: Path | None = None) -> dict[str, int]:
    """name -> value of every public constant in contracts/modules/constants.vy."""
    from eth_utils import keccak
    from pyrevm import EVM

    path = Path(manifest) if manifest else build_manifest()
    try:
        ct = json.loads(path.read_text())["contractTypes"][LENS]
    except (OSError, KeyError, ValueError):
        raise ConstantsUnavailable(f"no compiled {LENS} in {path}: run `ape compile` first") from None
    evm = EVM()
    address = evm.deploy(_CALLER, bytes.fromhex(ct["deploymentBytecode"]["bytecode"][2:]))
    out = {}
    for item in ct["abi"]:
        if item.get("type") == "function" and not item.get("inputs") and item["outputs"][0]["type"] == "uint256":
            data = evm.message_call(_CALLER, address, calldata=keccak(text=f"{item['name']}()")[:4])
            out[item["name"]] = int.from_bytes(bytes(data), "big")
    return out
