"""Deploy Clawback from a validated config, verify it by reading every parameter back, and write
the deployment manifest. Backend-agnostic: `scripts/deploy.py` drives it through ape
(`simulation.ape_backend.ApeBackend`), the simulation through its raw JSON-RPC backend.

    config = load_config("deployments/config/local.toml")
    deployment = deploy_protocol(backend, config)
    deployment.write("deployments/local-foundry.json")

The pieces, by job: `deploy_config` (the TOML schema), `manifest` (the manifest file, naming, the
redeploy check), `verify` (read-back), and this module (the deployer); their public names are
re-exported here.

Backend protocol (what `deploy_protocol` needs from a chain client)
-------------------------------------------------------------------
Required:
    deploy(contract_name, *args) -> address                 deploy a compiled contract, wait for it
    transact(address, contract_name, fn_name, *args, sender=None) -> Any
                                                            send a transaction and wait for it; raise
                                                            on revert; `sender` None = the deployer
    call(address, contract_name, fn_name, *args) -> Any     eth_call; one output -> the value, several
                                                            outputs or a struct -> a tuple (or an
                                                            object with attributes named as the ABI)
    chain_id() -> int
    block_number() -> int
Optional (used when present):
    deployer() -> address           the default sender (recorded in the manifest)
    can_sign(address) -> bool       whether `transact(..., sender=address)` works; needed to
                                    accept a two-step ownership transfer in the same run
    get_code(address) -> bytes      runtime code (for the manifest's code hashes and to tell a live
                                    deployment from a stale manifest)
    compiler_info() -> dict         e.g. {"vyper": "0.4.3", "evm_version": "cancun"}
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Optional, Protocol, runtime_checkable

from . import loss_policies
from .deploy_config import (  # noqa: F401 - re-exported: the config is part of this module's interface
    ClearinghouseConfig,
    CollateralConfig,
    ConfigError,
    DeployConfig,
    FeedConfig,
    MarketConfig,
    OwnershipConfig,
    VaultConfig,
    load_config,
    parse_config,
)
from .manifest import (  # noqa: F401 - re-exported
    LOCAL_CHAIN_IDS,
    MANIFEST_FORMAT,
    Deployment,
    ExistingDeployment,
    check_existing,
    checksum,
    default_config_path,
    get_code,
    keccak_hex,
    manifest_name,
    read_manifest,
    write_abis,
    write_manifest,
)
from .units import WAD, ZERO_ADDRESS, format_ratio, parse_address, parse_amount, parse_duration, parse_ratio  # noqa: F401
from .verify import MARKET_PARAMS_FIELDS, Check, VerificationError, _field, read_back, verify_deployment  # noqa: F401


class DeployError(RuntimeError):
    """Deployment cannot proceed (wrong network, existing deployment, missing signer, ...)."""


@runtime_checkable
class Backend(Protocol):
    def deploy(self, contract_name: str, *args: Any) -> str: ...

    def transact(self, address: str, contract_name: str, fn_name: str, *args: Any, sender: Optional[str] = None) -> Any: ...

    def call(self, address: str, contract_name: str, fn_name: str, *args: Any) -> Any: ...

    def chain_id(self) -> int: ...

    def block_number(self) -> int: ...


def _can_sign(backend, address) -> bool:
    fn = getattr(backend, "can_sign", None)
    return bool(fn(address)) if fn else False


def _deployer(backend) -> Optional[str]:
    fn = getattr(backend, "deployer", None)
    return checksum(fn()) if fn else None


def _compiler_info(backend) -> dict:
    fn = getattr(backend, "compiler_info", None)
    if fn:
        return dict(fn())
    info = {}
    try:
        import vyper
        info["vyper"] = vyper.__version__
    except Exception:  # noqa: BLE001
        pass
    return info


Log = Callable[[str], None]


def deploy_protocol(backend: Backend, config: DeployConfig, *, network: str = "unknown",
                    local: Optional[bool] = None, log: Optional[Log] = None,
                    verify: bool = True) -> Deployment:
    """Deploy (mocks on local chains), configure, wire, hand over ownership, read back.

    Raises DeployError before sending anything if the chain id differs from the config's
    [network].chain_id, or if mocks are configured for a non-local chain; VerificationError if
    the read-back differs from the config.
    """
    say = log or (lambda msg: None)
    chain = backend.chain_id()
    if local is None:
        local = chain in LOCAL_CHAIN_IDS
    if config.chain_id is not None and config.chain_id != chain:
        raise DeployError(f"{config.source} is for chain id {config.chain_id}, but the network is chain {chain}")
    if config.uses_mocks and not local:
        raise DeployError(f"{config.source} asks for mock contracts (collateral or feeds), which are only "
                          f"deployed on local networks; this is chain {chain}. Give existing addresses instead.")
    own = config.ownership
    if own.accept == "always":
        for who in {own.owner, own.vault_owner or own.owner} - {None}:
            if not _can_sign(backend, who):
                raise DeployError(f"ownership.accept = \"always\" but this backend cannot sign for {who}")

    deployer = _deployer(backend)
    CH, IV = "Clearinghouse", "InsuranceVault"
    contracts: dict = {}

    # collateral -------------------------------------------------------------------------
    col = config.collateral
    if col.mock:
        token = checksum(backend.deploy("MockToken", col.name, col.symbol, col.decimals))
        say(f"deployed MockToken {col.symbol} ({col.decimals} decimals) at {token}")
        contracts["MockToken"] = {"address": token, "contract": "MockToken"}
    else:
        token = col.address
        say(f"using existing collateral token {token}")
        contracts["collateral"] = {"address": token, "contract": "ERC20"}
        if get_code(backend, token) == b"":
            raise DeployError(f"collateral.address {token} has no code on chain {chain}")
        dec = int(backend.call(token, "MockToken", "decimals"))
        if dec != col.decimals:
            raise DeployError(f"collateral token {token} has {dec} decimals, config says {col.decimals}")

    # feeds -----------------------------------------------------------------------------
    feeds = []
    for i, m in enumerate(config.markets):
        if m.feed.mock:
            f = checksum(backend.deploy("MockAggregator", m.feed.decimals, m.feed.initial_answer))
            say(f"deployed MockAggregator for {m.name} at {f} (answer {m.feed.price}, {m.feed.decimals} decimals)")
            contracts[f"MockAggregator:{m.name}"] = {"address": f, "contract": "MockAggregator"}
        else:
            f = m.feed.address
            if get_code(backend, f) == b"":
                raise DeployError(f"markets[{i}] ({m.name}).feed.address {f} has no code on chain {chain}")
            dec = int(backend.call(f, "MockAggregator", "decimals"))
            if dec != m.feed.decimals:
                raise DeployError(f"feed {f} of {m.name} has {dec} decimals, config says {m.feed.decimals}")
            say(f"using existing feed {f} for {m.name}")
            contracts[f"feed:{m.name}"] = {"address": f, "contract": "AggregatorV3"}
        feeds.append(f)

    # clearinghouse + vault ---------------------------------------------------------------
    start_block = backend.block_number() + 1
    ch_artifact, engine_artifact = loss_policies.artifacts(config.clearinghouse.loss_policy)
    ch = checksum(backend.deploy(ch_artifact, token))
    say(f"deployed {ch_artifact} ({config.clearinghouse.loss_policy}) at {ch}")
    contracts[CH] = {"address": ch, "contract": ch_artifact}
    engine = checksum(backend.deploy(engine_artifact, token))
    contracts["LiquidationEngine"] = {"address": engine, "contract": engine_artifact}
    backend.transact(ch, CH, "set_loss_engine", engine)
    say(f"wired the liquidation engine {engine_artifact} at {engine}")
    iv = checksum(backend.deploy(IV, token, ch, config.vault.cooldown))
    say(f"deployed InsuranceVault at {iv} (cooldown {config.vault.cooldown} s)")
    contracts[IV] = {"address": iv, "contract": IV}
    backend.transact(ch, CH, "set_insurance_vault", iv)
    say("wired the vault: Clearinghouse.set_insurance_vault")

    v = config.vault
    if v.max_cover_ratio is not None:
        backend.transact(iv, IV, "set_max_cover_ratio", v.max_cover_ratio)
    if v.min_reserve is not None:
        backend.transact(iv, IV, "set_min_reserve", v.min_reserve)

    c = config.clearinghouse
    if c.insurance_fee_share is not None:
        backend.transact(ch, CH, "set_insurance_fee_share", c.insurance_fee_share)
    if c.keeper_reward is not None:
        backend.transact(ch, CH, "set_keeper_reward", c.keeper_reward)
    if c.dust_notional is not None:
        backend.transact(ch, CH, "set_dust_notional", c.dust_notional)

    # markets -----------------------------------------------------------------------------
    for i, (m, f) in enumerate(zip(config.markets, feeds)):
        mid = backend.call(ch, CH, "market_count")
        backend.transact(ch, CH, "add_market", f, m.imr, m.mmr)
        if int(backend.call(ch, CH, "market_count")) != int(mid) + 1:
            raise DeployError(f"add_market for {m.name} did not add a market")
        mid = int(mid)
        cur = backend.call(ch, CH, "market_params", mid)
        cv = lambda k: int(_field(cur, k, MARKET_PARAMS_FIELDS))  # noqa: E731
        pick = lambda k: cv(k) if getattr(m, k) is None else getattr(m, k)  # noqa: E731
        if m.taker_fee is not None or m.maker_fee is not None:
            backend.transact(ch, CH, "set_fees", mid, pick("taker_fee"), pick("maker_fee"))
        if m.price_band is not None:
            backend.transact(ch, CH, "set_price_band", mid, m.price_band)
        if m.max_open_interest is not None:
            backend.transact(ch, CH, "set_max_open_interest", mid, m.max_open_interest)
        if m.max_price_age is not None:
            backend.transact(ch, CH, "set_oracle", mid, f, m.max_price_age)
        if any(x is not None for x in (m.liquidation_penalty, m.liquidator_share, m.close_factor)):
            backend.transact(ch, CH, "set_liquidation_params", mid, pick("liquidation_penalty"),
                             pick("liquidator_share"), pick("close_factor"))
        if m.funding_period is not None or m.max_funding_premium is not None:
            backend.transact(ch, CH, "set_funding_params", mid, pick("funding_period"), pick("max_funding_premium"))
        say(f"added market {mid} {m.name}: imr {format_ratio(m.imr)}, mmr {format_ratio(m.mmr)}")

    # roles and ownership -----------------------------------------------------------------
    if own.guardian is not None:
        backend.transact(ch, CH, "set_guardian", own.guardian)
        say(f"guardian set to {own.guardian}")
    for addr, name, new_owner in ((ch, CH, own.owner), (iv, IV, own.vault_owner or own.owner)):
        if new_owner is None or (deployer and new_owner.lower() == deployer.lower()):
            continue
        backend.transact(addr, name, "transfer_ownership", new_owner)
        if own.accept != "never" and _can_sign(backend, new_owner):
            backend.transact(addr, name, "accept_ownership", sender=new_owner)
            say(f"{name}: ownership transferred to {new_owner} (accepted)")
        else:
            say(f"{name}: ownership transfer to {new_owner} started; {new_owner} must call accept_ownership()")

    # manifest + read-back ------------------------------------------------------------------
    for entry in contracts.values():
        code = get_code(backend, entry["address"])
        if code is not None:
            entry["code_hash"] = keccak_hex(code)
            entry["code_size"] = len(code)

    deployment = Deployment(
        network=network, chain_id=chain, deployment_block=start_block, deployer=deployer,
        collateral={}, clearinghouse={"address": ch}, insurance_vault={"address": iv}, markets=[],
        compiler=_compiler_info(backend), contracts=contracts,
        config={"source": config.source, "sha256": _config_hash(config)},
        deployed_at=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    )
    deployment.collateral = {"address": token, "mock": col.mock}
    read_back(backend, deployment, config)
    if verify:
        failures = [c for c in deployment.checks if not c.ok]
        if failures:
            raise VerificationError(failures)
        say(f"read back {len(deployment.checks)} values: all match the config")
    return deployment



def _config_hash(config: DeployConfig) -> str:
    return hashlib.sha256(json.dumps(config.raw, sort_keys=True, default=str).encode()).hexdigest()



def deploy_and_record(backend: Backend, config: DeployConfig, manifest_path, *, network: str,
                      replace: bool = False, local: Optional[bool] = None,
                      log: Optional[Log] = None) -> Deployment:
    """The whole `ape run deploy` flow, shared with the simulation: refuse if a deployment is
    already recorded for this chain (unless `replace`; the old manifest is then kept as
    <name>.replaced-<block>.json), deploy, verify, write the manifest."""
    say = log or (lambda msg: None)
    manifest_path = Path(manifest_path)
    existing = check_existing(backend, manifest_path)
    if existing.status != "none":
        if existing.blocks and not replace:
            raise DeployError(existing.message + ". Not deploying again: pass --replace (or set "
                              "CLAWBACK_REPLACE=1) to deploy a new instance; the old manifest is kept.")
        say(existing.message + ("; replacing it" if existing.blocks else "; overwriting the stale manifest"))
        if existing.manifest is not None:
            backup = manifest_path.with_name(
                f"{manifest_path.stem}.replaced-{existing.manifest.chain_id}-{existing.manifest.deployment_block}.json")
            manifest_path.replace(backup)
            say(f"previous manifest kept as {backup}")
    deployment = deploy_protocol(backend, config, network=network, local=local, log=say)
    write_abis(backend, deployment, manifest_path.parent / "abi")
    deployment.write(manifest_path)
    say(f"manifest written to {manifest_path}")
    return deployment



__all__ = [
    "Backend", "ConfigError", "DeployError", "VerificationError", "DeployConfig", "CollateralConfig",
    "FeedConfig", "MarketConfig", "ClearinghouseConfig", "VaultConfig", "OwnershipConfig", "Deployment",
    "Check", "ExistingDeployment", "load_config", "parse_config", "deploy_protocol", "read_back",
    "verify_deployment", "check_existing", "read_manifest", "write_manifest", "manifest_name",
    "default_config_path", "parse_ratio", "parse_duration", "parse_amount", "parse_address",
    "deploy_and_record", "write_abis",
]
