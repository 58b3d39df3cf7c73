"""The deployment manifest (deployments/<network>.json): what was deployed where, written by
`ape run deploy` and read by the keeper, the simulation and other clients; its naming, and the
check for a deployment already recorded for this chain."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

MANIFEST_FORMAT = "clawback-deployment/1"
# devnet chain ids (anvil, ape's in-process chain): the only chains that get mock contracts
LOCAL_CHAIN_IDS = frozenset({1337, 31337})


def checksum(v) -> str:
    s = str(v)
    try:
        from eth_utils import to_checksum_address
        return to_checksum_address(s)
    except Exception:  # noqa: BLE001
        return s


def keccak_hex(data: bytes) -> str:
    try:
        from eth_utils import keccak
        return "0x" + keccak(data).hex()
    except ImportError:  # pragma: no cover
        return "sha3_256:" + hashlib.sha3_256(data).hexdigest()



@dataclass
class Deployment:
    """What was deployed; serialises to the manifest `deployments/<network>.json`."""

    network: str
    chain_id: int
    deployment_block: int
    deployer: Optional[str]
    collateral: dict
    clearinghouse: dict
    insurance_vault: dict
    markets: list
    compiler: dict
    contracts: dict = field(default_factory=dict)  # name -> {address, contract, code_hash}
    config: dict = field(default_factory=dict)
    checks: list = field(default_factory=list)
    deployed_at: str = ""
    format: str = MANIFEST_FORMAT

    @property
    def clearinghouse_address(self) -> str:
        return self.clearinghouse["address"]

    @property
    def vault_address(self) -> str:
        return self.insurance_vault["address"]

    @property
    def token_address(self) -> str:
        return self.collateral["address"]

    def feed_address(self, market: int) -> str:
        return self.markets[market]["feed"]["address"]

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("checks")
        d["verified"] = {"checks": len(self.checks), "all_ok": all(c.ok for c in self.checks)}
        order = ["format", "network", "chain_id", "deployment_block", "deployed_at", "deployer", "compiler",
                 "contracts", "collateral", "clearinghouse", "insurance_vault", "markets", "config", "verified"]
        return {k: d[k] for k in order}

    def write(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def from_dict(cls, d: Mapping) -> "Deployment":
        if d.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"not a Clawback deployment manifest (format {d.get('format')!r})")
        kw = {f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d and f.name != "checks"}
        return cls(**kw)


def read_manifest(path) -> Deployment:
    return Deployment.from_dict(json.loads(Path(path).read_text()))


def write_manifest(deployment: Deployment, path) -> Path:
    return deployment.write(path)


@dataclass(frozen=True)
class ExistingDeployment:
    status: str  # "none" | "live" | "stale" | "other-chain" | "unreadable"
    message: str
    manifest: Optional[Deployment] = None

    @property
    def blocks(self) -> bool:
        """Whether deploying again must be refused unless told to replace."""
        return self.status in ("live", "other-chain", "unreadable") or (self.status == "stale" and not self._local)

    _local: bool = False


def check_existing(backend, manifest_path) -> ExistingDeployment:
    """Is there already a deployment recorded at `manifest_path` for this chain?

    live        the manifest's Clearinghouse has code on this chain: refuse unless replacing
    other-chain the manifest is for another chain id: refuse unless replacing
    stale       same chain id but no code at the recorded address (a restarted devnet): fine to
                overwrite on a local chain, refused elsewhere
    unreadable  a file is there but it is not a manifest: refuse unless replacing
    """
    path = Path(manifest_path)
    if not path.exists():
        return ExistingDeployment("none", f"no deployment recorded at {path}")
    try:
        m = read_manifest(path)
    except Exception as exc:  # noqa: BLE001
        return ExistingDeployment("unreadable", f"{path} exists but is not a readable deployment manifest ({exc})")
    chain = backend.chain_id()
    local = chain in LOCAL_CHAIN_IDS
    if m.chain_id != chain:
        return ExistingDeployment("other-chain", f"{path} records a deployment on chain {m.chain_id}, "
                                  f"but this network is chain {chain}", m, local)
    code = get_code(backend, m.clearinghouse_address)
    if code is None or len(code) > 0:
        return ExistingDeployment("live", f"Clawback is already deployed on this network (chain {chain}): "
                                  f"Clearinghouse {m.clearinghouse_address} since block {m.deployment_block}, "
                                  f"recorded in {path}", m, local)
    return ExistingDeployment("stale", f"{path} records Clearinghouse {m.clearinghouse_address}, which has no "
                              f"code on this chain (the devnet was restarted?)", m, local)


def get_code(backend, address) -> Optional[bytes]:
    fn = getattr(backend, "get_code", None)
    if fn is None:
        return None
    code = fn(address)
    if isinstance(code, str):
        code = bytes.fromhex(code[2:] if code.startswith("0x") else code)
    return bytes(code)






def manifest_name(ecosystem: str, network: str, provider: Optional[str] = None) -> str:
    """ethereum:sepolia -> "sepolia"; ethereum:local:foundry -> "local-foundry";
    arbitrum:mainnet -> "arbitrum-mainnet"."""
    base = network if ecosystem == "ethereum" else f"{ecosystem}-{network}"
    if network == "local" and provider:
        base = f"{base}-{provider}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", base)


def default_config_path(root, name: str) -> Path:
    """deployments/config/<name>.toml, falling back to the network part before the first dash
    (local-foundry -> local.toml)."""
    root = Path(root)
    first = root / "deployments" / "config" / f"{name}.toml"
    if first.exists():
        return first
    return root / "deployments" / "config" / f"{name.split('-')[0]}.toml"


def display_path(path) -> str:
    """`path` relative to the current directory when it lies below it (as the README shows it)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def write_abis(backend, deployment: Deployment, directory) -> None:
    """If the backend can tell ABIs (`abi(contract_name) -> list`), write <directory>/<Name>.json
    for every contract type in the deployment and point the manifest's entries at them, so
    clients without the project's build artifacts (cast, web3.py, ethers) can use them."""
    fn = getattr(backend, "abi", None)
    if fn is None:
        return
    directory = Path(directory)
    names = {"Clearinghouse", "InsuranceVault"} | {e["contract"] for e in deployment.contracts.values()}
    written = {}
    for name in sorted(names):
        contract = {"ERC20": "MockToken", "AggregatorV3": "MockAggregator"}.get(name, name)
        try:
            abi = fn(contract)
        except Exception:  # noqa: BLE001
            continue
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{contract}.json").write_text(json.dumps(abi, indent=1) + "\n")
        written[name] = f"{directory.name}/{contract}.json"
    for entry in deployment.contracts.values():
        if entry["contract"] in written:
            entry["abi"] = written[entry["contract"]]

