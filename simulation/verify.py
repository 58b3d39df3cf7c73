"""Reading a deployment back from the chain and comparing it with its config (`read_back`,
`verify_deployment`): every parameter the deployer set, the wiring, the owners, the code."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from .deploy_config import DeployConfig
from .manifest import Deployment, checksum
from .units import ZERO_ADDRESS

# Field order of Clearinghouse.market_params(m) (struct MarketParams).
MARKET_PARAMS_FIELDS = (
    "feed", "imr", "mmr", "taker_fee", "maker_fee", "liquidation_penalty", "liquidator_share",
    "close_factor", "price_band", "max_price_age", "funding_period", "max_funding_premium",
    "price_multiplier", "max_open_interest",
)


class VerificationError(RuntimeError):
    """Reading the deployment back found values different from the config."""

    def __init__(self, failures: Sequence["Check"]):
        self.failures = list(failures)
        super().__init__("deployment read-back failed:" + "".join(
            f"\n  - {c.name}: expected {c.expected!r}, chain has {c.actual!r}" for c in self.failures))


@dataclass(frozen=True)
class Check:
    name: str
    expected: Any
    actual: Any

    @property
    def ok(self) -> bool:
        return _norm(self.expected) == _norm(self.actual)


def _norm(v):
    if isinstance(v, str) and v.startswith("0x") and len(v) == 42:
        return v.lower()
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    return v


def _field(result: Any, name: str, fields: Sequence[str]):
    """A struct field from a call result: ape returns objects with attributes, a raw backend a
    tuple in ABI order."""
    if hasattr(result, name):
        return getattr(result, name)
    if isinstance(result, Mapping):
        return result[name]
    return result[list(fields).index(name)]



def read_back(backend, deployment: Deployment, config: Optional[DeployConfig] = None) -> list:
    """Read every parameter from the chain into `deployment` (collateral, clearinghouse,
    insurance_vault, markets) and, given the config, record a Check per expected value in
    `deployment.checks`. Returns the checks."""
    CH, IV = "Clearinghouse", "InsuranceVault"
    ch, iv, token = deployment.clearinghouse_address, deployment.vault_address, deployment.token_address
    checks: list = []

    def chk(name, expected, actual):
        checks.append(Check(name, expected, actual))

    call = backend.call
    tok = dict(deployment.collateral)
    tok["decimals"] = int(call(token, "MockToken", "decimals"))
    for k in ("symbol", "name"):
        try:
            tok[k] = str(call(token, "MockToken", k))
        except Exception:  # noqa: BLE001 - optional ERC-20 metadata
            pass
    deployment.collateral = tok

    chd = {
        "address": ch,
        "collateral": checksum(call(ch, CH, "collateral_token")) if _has(backend, ch, CH, "collateral_token") else None,
        "insurance_vault": checksum(call(ch, CH, "insurance_vault")),
        "owner": checksum(call(ch, CH, "owner")),
        "pending_owner": checksum(call(ch, CH, "pending_owner")),
        "guardian": checksum(call(ch, CH, "guardian")),
        "market_count": int(call(ch, CH, "market_count")),
        "insurance_fee_share": int(call(ch, CH, "insurance_fee_share")),
        "keeper_reward": int(call(ch, CH, "keeper_reward")),
        "dust_notional": int(call(ch, CH, "dust_notional")),
        "loss_policy": str(call(ch, CH, "loss_policy")),
        "loss_engine": checksum(call(ch, CH, "loss_engine")),
    }
    if chd["collateral"] is None:
        chd.pop("collateral")
    deployment.clearinghouse = chd
    vd = {
        "address": iv,
        "asset": checksum(call(iv, IV, "asset")),
        "owner": checksum(call(iv, IV, "owner")),
        "pending_owner": checksum(call(iv, IV, "pending_owner")),
        "cooldown": int(call(iv, IV, "cooldown")),
        "max_cover_ratio": int(call(iv, IV, "max_cover_ratio")),
        "min_reserve": int(call(iv, IV, "min_reserve")),
    }
    if _has(backend, iv, IV, "clearinghouse"):
        vd["clearinghouse"] = checksum(call(iv, IV, "clearinghouse"))
    deployment.insurance_vault = vd

    markets = []
    for mid in range(chd["market_count"]):
        p = call(ch, CH, "market_params", mid)
        params = {k: int(_field(p, k, MARKET_PARAMS_FIELDS)) for k in MARKET_PARAMS_FIELDS if k != "feed"}
        feed = checksum(_field(p, "feed", MARKET_PARAMS_FIELDS))
        entry = {"id": mid}
        if config is not None and mid < len(config.markets):
            mc = config.markets[mid]
            entry["name"] = mc.name
            entry["feed"] = {"address": feed, "mock": mc.feed.mock, "decimals": mc.feed.decimals}
        else:
            entry["feed"] = {"address": feed}
        entry["params"] = params
        try:
            entry["feed"]["decimals"] = int(call(feed, "MockAggregator", "decimals"))
        except Exception:  # noqa: BLE001
            pass
        try:
            entry["index_price"] = int(call(ch, CH, "index_price", mid))
        except Exception:  # noqa: BLE001 - a stale feed reverts; not a deployment error
            entry["index_price"] = None
        markets.append(entry)
    deployment.markets = markets

    # code present everywhere
    for name, entry in deployment.contracts.items():
        if "code_size" in entry:
            chk(f"{name} has code", True, entry["code_size"] > 0)

    if config is not None:
        chk("collateral.decimals", config.collateral.decimals, tok["decimals"])
        if config.collateral.mock:
            chk("collateral.symbol", config.collateral.symbol, tok.get("symbol"))
        else:
            chk("collateral.address", config.collateral.address, token)
        if "collateral" in chd:
            chk("clearinghouse.collateral", token, chd["collateral"])
        chk("clearinghouse.insurance_vault", iv, chd["insurance_vault"])
        chk("insurance_vault.asset", token, vd["asset"])
        if "clearinghouse" in vd:
            chk("insurance_vault.clearinghouse", ch, vd["clearinghouse"])
        chk("insurance_vault.cooldown", config.vault.cooldown, vd["cooldown"])
        if config.vault.max_cover_ratio is not None:
            chk("insurance_vault.max_cover_ratio", config.vault.max_cover_ratio, vd["max_cover_ratio"])
        if config.vault.min_reserve is not None:
            chk("insurance_vault.min_reserve", config.vault.min_reserve, vd["min_reserve"])
        for k in ("insurance_fee_share", "keeper_reward", "dust_notional"):
            want = getattr(config.clearinghouse, k)
            if want is not None:
                chk(f"clearinghouse.{k}", want, chd[k])
        chk("clearinghouse.market_count", len(config.markets), chd["market_count"])
        chk("clearinghouse.loss_policy", config.clearinghouse.loss_policy, chd["loss_policy"])
        own = config.ownership
        dep = deployment.deployer
        for label, d, want in (("clearinghouse", chd, own.owner), ("insurance_vault", vd, own.vault_owner or own.owner)):
            if want is None or (dep and want.lower() == dep.lower()):
                if dep:
                    chk(f"{label}.owner", dep, d["owner"])
                continue
            if d["owner"].lower() == want.lower():
                chk(f"{label}.owner", want, d["owner"])
                chk(f"{label}.pending_owner", ZERO_ADDRESS, d["pending_owner"])
            else:  # transfer started, not yet accepted
                chk(f"{label}.pending_owner", want, d["pending_owner"])
        if own.guardian is not None:
            chk("clearinghouse.guardian", own.guardian, chd["guardian"])
        for mid, mc in enumerate(config.markets):
            if mid >= len(markets):
                break
            got = markets[mid]["params"]
            w = f"markets[{mid}] ({mc.name})"
            if mc.feed.address:
                chk(f"{w}.feed", mc.feed.address, markets[mid]["feed"]["address"])
            chk(f"{w}.feed.decimals", mc.feed.decimals, markets[mid]["feed"].get("decimals"))
            chk(f"{w}.price_multiplier", 10 ** (18 - mc.feed.decimals), got["price_multiplier"])
            for k in ("imr", "mmr", "taker_fee", "maker_fee", "price_band", "max_open_interest", "max_price_age",
                      "liquidation_penalty", "liquidator_share", "close_factor", "funding_period",
                      "max_funding_premium"):
                want = getattr(mc, k)
                if want is not None:
                    chk(f"{w}.{k}", want, got[k])
    deployment.checks = checks
    return checks


def _has(backend, address, contract_name, fn_name) -> bool:
    fn = getattr(backend, "has_function", None)
    if fn is not None:
        return bool(fn(contract_name, fn_name))
    try:
        backend.call(address, contract_name, fn_name)
        return True
    except Exception:  # noqa: BLE001
        return False


def verify_deployment(backend, deployment: Deployment, config: Optional[DeployConfig] = None) -> list:
    """Re-read a (possibly older) deployment and raise VerificationError on any mismatch."""
    checks = read_back(backend, deployment, config)
    failures = [c for c in checks if not c.ok]
    if failures:
        raise VerificationError(failures)
    return checks

