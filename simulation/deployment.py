"""Deploy Clawback from a TOML config, verify it by reading every parameter back, and write the
deployment manifest. Backend-agnostic: `scripts/deploy.py` drives it through ape
(`simulation.ape_backend.ApeBackend`), the simulation through its raw JSON-RPC backend.

    config = load_config("deployments/config/local.toml")
    deployment = deploy_protocol(backend, config)
    deployment.write("deployments/local-foundry.json")

The config format (every key, its unit and range) is documented in README.md ("Operations") and in
the shipped example deployments/config/local.toml. Unknown keys and out-of-range values are
errors (`ConfigError`, one line per problem, naming the file and the key).

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

import dataclasses
import datetime as _dt
import difflib
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Protocol, Sequence, runtime_checkable

from simulation import loss_policies

WAD = 10**18
LOCAL_CHAIN_IDS = frozenset({1337, 31337})
MANIFEST_FORMAT = "clawback-deployment/1"
ZERO_ADDRESS = "0x" + "00" * 20

# Bounds enforced by the contracts (contracts/modules/market_registry.vy); the config is
# checked against the same bounds so a bad value fails before anything is deployed.
MAX_MARKETS = 16
MAX_FEE = 10**16  # 1 %
MAX_PRICE_BAND = 5 * 10**17  # 50 %
MAX_PRICE_AGE = 7 * 86400
MIN_FUNDING_PERIOD = 60
MAX_FUNDING_PERIOD = 30 * 86400
MAX_FUNDING_PREMIUM = 10**17  # 10 %
MAX_UINT64 = 2**64 - 1
MAX_VAULT_COOLDOWN = 30 * 86400  # contracts/InsuranceVault.vy

# Field order of Clearinghouse.market_params(m) (struct MarketParams).
MARKET_PARAMS_FIELDS = (
    "feed", "imr", "mmr", "taker_fee", "maker_fee", "liquidation_penalty", "liquidator_share",
    "close_factor", "price_band", "max_price_age", "funding_period", "max_funding_premium",
    "price_multiplier", "max_open_interest",
)


class ConfigError(ValueError):
    """The deployment config is invalid; the message lists every problem, one per line."""

    def __init__(self, problems: Sequence[str], source: str = "config"):
        self.problems = list(problems)
        self.source = source
        super().__init__(f"invalid deployment config {source}:" + "".join(f"\n  - {p}" for p in self.problems))


class DeployError(RuntimeError):
    """Deployment cannot proceed (wrong network, existing deployment, missing signer, ...)."""


class VerificationError(RuntimeError):
    """Reading the deployment back found values different from the config."""

    def __init__(self, failures: Sequence["Check"]):
        self.failures = list(failures)
        super().__init__("deployment read-back failed:" + "".join(
            f"\n  - {c.name}: expected {c.expected!r}, chain has {c.actual!r}" for c in self.failures))


@runtime_checkable
class Backend(Protocol):
    def deploy(self, contract_name: str, *args: Any) -> str: ...

    def transact(self, address: str, contract_name: str, fn_name: str, *args: Any, sender: Optional[str] = None) -> Any: ...

    def call(self, address: str, contract_name: str, fn_name: str, *args: Any) -> Any: ...

    def chain_id(self) -> int: ...

    def block_number(self) -> int: ...


# ============================================================================================
# config


@dataclass(frozen=True)
class CollateralConfig:
    mock: bool
    address: Optional[str] = None  # existing token (non-mock)
    name: str = "Mock USD Coin"
    symbol: str = "mUSDC"
    decimals: int = 6


@dataclass(frozen=True)
class FeedConfig:
    mock: bool
    address: Optional[str] = None
    decimals: int = 8
    price: Optional[Decimal] = None  # initial answer of a mock, in whole collateral units

    @property
    def initial_answer(self) -> int:
        assert self.price is not None
        return int(self.price * 10**self.decimals)


@dataclass(frozen=True)
class MarketConfig:
    """One market. Ratios are 1e18-scaled ints, durations seconds, max_open_interest 1e18-scaled
    base units. None = keep the contract's default."""

    name: str
    feed: FeedConfig
    imr: int
    mmr: int
    taker_fee: Optional[int] = None
    maker_fee: Optional[int] = None
    price_band: Optional[int] = None
    max_open_interest: Optional[int] = None
    max_price_age: Optional[int] = None
    liquidation_penalty: Optional[int] = None
    liquidator_share: Optional[int] = None
    close_factor: Optional[int] = None
    funding_period: Optional[int] = None
    max_funding_premium: Optional[int] = None


@dataclass(frozen=True)
class ClearinghouseConfig:
    insurance_fee_share: Optional[int] = None  # 1e18-scaled
    keeper_reward: Optional[int] = None  # collateral base units
    dust_notional: Optional[int] = None  # collateral base units
    loss_policy: str = loss_policies.DEFAULT  # one of loss_policies.NAMES


@dataclass(frozen=True)
class VaultConfig:
    cooldown: int  # seconds
    max_cover_ratio: Optional[int] = None  # 1e18-scaled
    min_reserve: Optional[int] = None  # collateral base units


@dataclass(frozen=True)
class OwnershipConfig:
    owner: Optional[str] = None  # None = the deployer keeps it
    guardian: Optional[str] = None
    vault_owner: Optional[str] = None  # default: owner
    accept: str = "auto"  # "auto" | "always" | "never"


@dataclass(frozen=True)
class DeployConfig:
    collateral: CollateralConfig
    markets: tuple
    vault: VaultConfig
    clearinghouse: ClearinghouseConfig = ClearinghouseConfig()
    ownership: OwnershipConfig = OwnershipConfig()
    chain_id: Optional[int] = None  # expected chain id, checked before deploying
    source: str = "<dict>"
    raw: Mapping = field(default_factory=dict, compare=False, repr=False)

    @property
    def uses_mocks(self) -> bool:
        return self.collateral.mock or any(m.feed.mock for m in self.markets)

    @property
    def token_unit(self) -> int:
        return 10**self.collateral.decimals


# --- value parsers -------------------------------------------------------------------------

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?\s*$")
_DURATION_UNITS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")


class _Problems:
    def __init__(self):
        self.items: list = []

    def add(self, where: str, msg: str):
        self.items.append(f"{where}: {msg}")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.replace("_", "").strip())
        except InvalidOperation:
            raise ValueError(f"expected a number, got {value!r}") from None
    raise ValueError(f"expected a number, got {type(value).__name__}")


def parse_ratio(value: Any) -> int:
    """0.05, "5%", "50bp" -> 1e18-scaled int. A bare number is a fraction (1 = 100 %)."""
    if isinstance(value, str):
        s = value.strip().lower()
        if s.endswith("%"):
            d = _decimal(s[:-1]) / 100
        elif s.endswith("bps") or s.endswith("bp"):
            d = _decimal(s.rstrip("ps").rstrip("b")) / 10_000
        else:
            d = _decimal(s)
    else:
        d = _decimal(value)
    scaled = d * WAD
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} has more precision than 18 decimals")
    return int(scaled)


def parse_duration(value: Any) -> int:
    """3600, "1h", "30m", "7d" -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        m = _DURATION_RE.match(value.lower())
        if m:
            secs = Decimal(m.group(1)) * _DURATION_UNITS[m.group(2)]
            if secs == secs.to_integral_value():
                return int(secs)
    raise ValueError(f"expected a duration in seconds or like \"8h\", \"30m\", \"7d\", got {value!r}")


def parse_amount(value: Any, decimals: int) -> int:
    """A whole-unit amount (1000, 0.5, "1_000") -> base units with `decimals`."""
    d = _decimal(value)
    scaled = d * 10**decimals
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} has more precision than {decimals} decimals")
    return int(scaled)


def parse_address(value: Any) -> str:
    if not isinstance(value, str) or not _ADDRESS_RE.match(value):
        raise ValueError(f"expected a 0x-prefixed 20-byte hex address, got {value!r}")
    if value.lower() == ZERO_ADDRESS:
        raise ValueError("the zero address is not allowed")
    hexpart = value[2:]
    from eth_utils import is_checksum_address, to_checksum_address
    if hexpart != hexpart.lower() and hexpart != hexpart.upper() and not is_checksum_address(value):
        raise ValueError(f"{value} has an invalid EIP-55 checksum (mixed case that does not match)")
    return to_checksum_address(value)


def _fmt_ratio(x: int) -> str:
    s = f"{Decimal(x) / WAD * 100:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s + " %"


# --- the schema ----------------------------------------------------------------------------

_TOP_KEYS = {"network", "collateral", "clearinghouse", "insurance_vault", "ownership", "markets"}
_NETWORK_KEYS = {"chain_id", "name"}
_COLLATERAL_KEYS = {"mock", "address", "name", "symbol", "decimals"}
_CH_KEYS = {"insurance_fee_share", "keeper_reward", "dust_notional", "loss_policy"}
_VAULT_KEYS = {"cooldown", "max_cover_ratio", "min_reserve"}
_OWNERSHIP_KEYS = {"owner", "guardian", "vault_owner", "accept"}
_FEED_KEYS = {"mock", "address", "decimals", "price"}
_MARKET_RATIO_KEYS = ("imr", "mmr", "taker_fee", "maker_fee", "price_band", "liquidation_penalty",
                      "liquidator_share", "close_factor", "max_funding_premium")
_MARKET_KEYS = {"name", "feed", "max_open_interest", "max_price_age", "funding_period", *_MARKET_RATIO_KEYS}


def _check_keys(where: str, table: Any, allowed: set, problems: _Problems) -> bool:
    if not isinstance(table, dict):
        problems.add(where, f"expected a table, got {type(table).__name__}")
        return False
    for k in table:
        if k not in allowed:
            hint = difflib.get_close_matches(k, sorted(allowed), n=1)
            problems.add(f"{where}.{k}" if where else k,
                         "unknown key" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                         + f"; allowed: {', '.join(sorted(allowed))}")
    return True


def _get(where, table, key, parser, problems, required=False, default=None):
    if key not in table:
        if required:
            problems.add(f"{where}.{key}", "missing (required)")
        return default
    try:
        return parser(table[key])
    except (ValueError, TypeError) as exc:
        problems.add(f"{where}.{key}", str(exc))
        return default


def _bool(v):
    if not isinstance(v, bool):
        raise ValueError(f"expected true or false, got {v!r}")
    return v


def _int(v):
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"expected an integer, got {v!r}")
    return v


def _str(maxlen):
    def p(v):
        if not isinstance(v, str) or not v:
            raise ValueError(f"expected a non-empty string, got {v!r}")
        if len(v.encode()) > maxlen:
            raise ValueError(f"at most {maxlen} bytes, got {len(v.encode())}")
        return v
    return p


def _range(problems, where, value, lo=None, hi=None, lo_open=False, fmt=str, why=""):
    if value is None:
        return
    bad = (lo is not None and (value <= lo if lo_open else value < lo)) or (hi is not None and value > hi)
    if bad:
        lo_s = "" if lo is None else (f"> {fmt(lo)}" if lo_open else f">= {fmt(lo)}")
        hi_s = "" if hi is None else f"<= {fmt(hi)}"
        rng = " and ".join(s for s in (lo_s, hi_s) if s)
        problems.add(where, f"must be {rng}{why}, got {fmt(value)}")


def parse_config(data: Mapping, source: str = "<dict>") -> DeployConfig:
    """Validate a config mapping (as parsed from TOML) into a DeployConfig; raise ConfigError."""
    P = _Problems()
    data = dict(data)
    _check_keys("", data, _TOP_KEYS, P)
    # unknown top-level keys are reported as "key: unknown key"; fix the leading dot
    P.items = [i[1:] if i.startswith(".") else i for i in P.items]

    # [network]
    chain_id = None
    net = data.get("network", {})
    if _check_keys("network", net, _NETWORK_KEYS, P):
        chain_id = _get("network", net, "chain_id", _int, P)
        if chain_id is not None and chain_id <= 0:
            P.add("network.chain_id", f"must be positive, got {chain_id}")

    # [collateral]
    collateral = CollateralConfig(mock=True)
    col = data.get("collateral")
    if col is None:
        P.add("collateral", "missing table [collateral] (set mock = true, or address = \"0x...\")")
    elif _check_keys("collateral", col, _COLLATERAL_KEYS, P):
        mock = _get("collateral", col, "mock", _bool, P, default=False)
        address = _get("collateral", col, "address", parse_address, P)
        decimals = _get("collateral", col, "decimals", _int, P, default=6)
        _range(P, "collateral.decimals", decimals, 0, 18)
        if mock and "address" in col:
            P.add("collateral", "give either mock = true or address, not both")
        if not mock and "address" not in col:
            P.add("collateral", "needs address = \"0x...\" (an existing ERC-20) or mock = true (devnets only)")
        if not mock and ({"name", "symbol"} & set(col)):
            P.add("collateral", "name/symbol apply to a mock token only")
        collateral = CollateralConfig(
            mock=mock, address=address, decimals=decimals,
            name=_get("collateral", col, "name", _str(32), P, default="Mock USD Coin"),
            symbol=_get("collateral", col, "symbol", _str(8), P, default="mUSDC"),
        )
    unit = 10**collateral.decimals

    # [clearinghouse]
    ch = data.get("clearinghouse", {})
    chc = ClearinghouseConfig()
    if _check_keys("clearinghouse", ch, _CH_KEYS, P):
        chc = ClearinghouseConfig(
            insurance_fee_share=_get("clearinghouse", ch, "insurance_fee_share", parse_ratio, P),
            keeper_reward=_get("clearinghouse", ch, "keeper_reward", lambda v: parse_amount(v, collateral.decimals), P),
            dust_notional=_get("clearinghouse", ch, "dust_notional", lambda v: parse_amount(v, collateral.decimals), P),
            loss_policy=str(ch.get("loss_policy", loss_policies.DEFAULT)),
        )
        if chc.loss_policy not in loss_policies.NAMES:
            P.add("clearinghouse.loss_policy", f"must be one of {', '.join(loss_policies.NAMES)}, got {chc.loss_policy!r}")
        _range(P, "clearinghouse.insurance_fee_share", chc.insurance_fee_share, 0, WAD, fmt=_fmt_ratio)
        _range(P, "clearinghouse.keeper_reward", chc.keeper_reward, 0)
        _range(P, "clearinghouse.dust_notional", chc.dust_notional, 0)

    # [insurance_vault]
    vault = VaultConfig(cooldown=0)
    iv = data.get("insurance_vault")
    if iv is None:
        P.add("insurance_vault", "missing table [insurance_vault] (needs cooldown)")
    elif _check_keys("insurance_vault", iv, _VAULT_KEYS, P):
        vault = VaultConfig(
            cooldown=_get("insurance_vault", iv, "cooldown", parse_duration, P, required=True, default=0),
            max_cover_ratio=_get("insurance_vault", iv, "max_cover_ratio", parse_ratio, P),
            min_reserve=_get("insurance_vault", iv, "min_reserve", lambda v: parse_amount(v, collateral.decimals), P),
        )
        _range(P, "insurance_vault.cooldown", vault.cooldown, 0, MAX_VAULT_COOLDOWN, fmt=lambda s: f"{s} s")
        _range(P, "insurance_vault.max_cover_ratio", vault.max_cover_ratio, 0, WAD, lo_open=True, fmt=_fmt_ratio)
        _range(P, "insurance_vault.min_reserve", vault.min_reserve, 1,
               fmt=lambda x: f"{x} base units", why=" (the vault never pays out its last unit)")

    # [ownership]
    own = data.get("ownership", {})
    ownership = OwnershipConfig()
    if _check_keys("ownership", own, _OWNERSHIP_KEYS, P):
        accept = _get("ownership", own, "accept", lambda v: v if v in ("auto", "always", "never") or isinstance(v, bool)
                      else (_ for _ in ()).throw(ValueError(f"expected \"auto\", \"always\", \"never\" or a boolean, got {v!r}")),
                      P, default="auto")
        if accept is True:
            accept = "always"
        elif accept is False:
            accept = "never"
        ownership = OwnershipConfig(
            owner=_get("ownership", own, "owner", parse_address, P),
            guardian=_get("ownership", own, "guardian", parse_address, P),
            vault_owner=_get("ownership", own, "vault_owner", parse_address, P),
            accept=accept,
        )

    # [[markets]]
    markets: list = []
    raw_markets = data.get("markets")
    if raw_markets is None:
        P.add("markets", "missing: add at least one [[markets]] table")
        raw_markets = []
    elif not isinstance(raw_markets, list):
        P.add("markets", "expected an array of tables ([[markets]])")
        raw_markets = []
    elif not raw_markets:
        P.add("markets", "at least one market is required")
    if len(raw_markets) > MAX_MARKETS:
        P.add("markets", f"at most {MAX_MARKETS} markets, got {len(raw_markets)}")
    names = set()
    for i, mk in enumerate(raw_markets):
        w = f"markets[{i}]"
        if isinstance(mk, dict) and isinstance(mk.get("name"), str) and mk["name"]:
            w = f"markets[{i}] ({mk['name']})"
        if not _check_keys(w, mk, _MARKET_KEYS, P):
            continue
        name = _get(w, mk, "name", _str(64), P, default=f"market-{i}")
        if name in names:
            P.add(f"{w}.name", f"duplicate market name {name!r}")
        names.add(name)
        feed = None
        fd = mk.get("feed")
        if fd is None:
            P.add(f"{w}.feed", "missing: feed = { mock = true, decimals = 8, price = 50000 } or { address = \"0x...\" }")
        elif _check_keys(f"{w}.feed", fd, _FEED_KEYS, P):
            fmock = _get(f"{w}.feed", fd, "mock", _bool, P, default=False)
            faddr = _get(f"{w}.feed", fd, "address", parse_address, P)
            fdec = _get(f"{w}.feed", fd, "decimals", _int, P, default=8)
            _range(P, f"{w}.feed.decimals", fdec, 0, 18)
            fprice = _get(f"{w}.feed", fd, "price", _decimal, P)
            if fmock and "address" in fd:
                P.add(f"{w}.feed", "give either mock = true or address, not both")
            elif not fmock and "address" not in fd:
                P.add(f"{w}.feed", "needs address = \"0x...\" (an AggregatorV3 feed) or mock = true (devnets only)")
            if fmock and fprice is None:
                P.add(f"{w}.feed.price", "missing: a mock feed needs an initial price (whole collateral units per base asset)")
            if fprice is not None:
                if not fmock:
                    P.add(f"{w}.feed.price", "applies to a mock feed only")
                elif fprice <= 0:
                    P.add(f"{w}.feed.price", f"must be > 0, got {fprice}")
                elif fprice * 10**fdec != (fprice * 10**fdec).to_integral_value():
                    P.add(f"{w}.feed.price", f"{fprice} has more precision than the feed's {fdec} decimals")
            feed = FeedConfig(mock=fmock, address=faddr, decimals=fdec, price=fprice)

        r = {k: _get(w, mk, k, parse_ratio, P) for k in _MARKET_RATIO_KEYS}
        if "imr" not in mk:
            P.add(f"{w}.imr", "missing (required): initial margin ratio, e.g. 0.10")
        if "mmr" not in mk:
            P.add(f"{w}.mmr", "missing (required): maintenance margin ratio, e.g. 0.05")
        imr, mmr = r["imr"], r["mmr"]
        _range(P, f"{w}.imr", imr, 0, WAD, lo_open=True, fmt=_fmt_ratio)
        _range(P, f"{w}.mmr", mmr, 0, None, lo_open=True, fmt=_fmt_ratio)
        if imr is not None and mmr is not None and mmr >= imr:
            P.add(f"{w}.mmr", f"must be below imr ({_fmt_ratio(imr)}), got {_fmt_ratio(mmr)}")
        _range(P, f"{w}.taker_fee", r["taker_fee"], 0, MAX_FEE, fmt=_fmt_ratio)
        _range(P, f"{w}.maker_fee", r["maker_fee"], 0, MAX_FEE, fmt=_fmt_ratio)
        _range(P, f"{w}.price_band", r["price_band"], 0, MAX_PRICE_BAND, lo_open=True, fmt=_fmt_ratio)
        if r["liquidation_penalty"] is not None and mmr is not None and r["liquidation_penalty"] > mmr:
            P.add(f"{w}.liquidation_penalty",
                  f"must be <= mmr ({_fmt_ratio(mmr)}) so a liquidation at maintenance leaves the account solvent, "
                  f"got {_fmt_ratio(r['liquidation_penalty'])}")
        _range(P, f"{w}.liquidator_share", r["liquidator_share"], 0, WAD, fmt=_fmt_ratio)
        _range(P, f"{w}.close_factor", r["close_factor"], 0, WAD, lo_open=True, fmt=_fmt_ratio)
        _range(P, f"{w}.max_funding_premium", r["max_funding_premium"], 0, MAX_FUNDING_PREMIUM, fmt=_fmt_ratio)
        max_oi = _get(w, mk, "max_open_interest", lambda v: parse_amount(v, 18), P)
        _range(P, f"{w}.max_open_interest", max_oi, 0, MAX_UINT64 * 10**18, lo_open=True,
               fmt=lambda x: f"{Decimal(x) / WAD:f}")
        age = _get(w, mk, "max_price_age", parse_duration, P)
        _range(P, f"{w}.max_price_age", age, 0, MAX_PRICE_AGE, lo_open=True, fmt=lambda s: f"{s} s")
        period = _get(w, mk, "funding_period", parse_duration, P)
        _range(P, f"{w}.funding_period", period, MIN_FUNDING_PERIOD, MAX_FUNDING_PERIOD, fmt=lambda s: f"{s} s")
        if feed is not None:
            markets.append(MarketConfig(
                name=name, feed=feed, imr=imr or 0, mmr=mmr or 0,
                taker_fee=r["taker_fee"], maker_fee=r["maker_fee"], price_band=r["price_band"],
                max_open_interest=max_oi, max_price_age=age,
                liquidation_penalty=r["liquidation_penalty"], liquidator_share=r["liquidator_share"],
                close_factor=r["close_factor"], funding_period=period,
                max_funding_premium=r["max_funding_premium"],
            ))

    if P.items:
        raise ConfigError(P.items, source)
    del unit
    return DeployConfig(collateral=collateral, markets=tuple(markets), vault=vault, clearinghouse=chc,
                        ownership=ownership, chain_id=chain_id, source=source, raw=data)


def load_config(path) -> DeployConfig:
    """Read and validate a TOML deployment config."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError([f"no such file: {path}"], str(path))
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"], str(path)) from None
    return parse_config(data, str(path))


# ============================================================================================
# deployment


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


def _addr(v) -> str:
    s = str(v)
    try:
        from eth_utils import to_checksum_address
        return to_checksum_address(s)
    except Exception:  # noqa: BLE001
        return s


def _keccak(data: bytes) -> str:
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


def check_existing(backend: Backend, manifest_path) -> ExistingDeployment:
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
    code = _get_code(backend, m.clearinghouse_address)
    if code is None or len(code) > 0:
        return ExistingDeployment("live", f"Clawback is already deployed on this network (chain {chain}): "
                                  f"Clearinghouse {m.clearinghouse_address} since block {m.deployment_block}, "
                                  f"recorded in {path}", m, local)
    return ExistingDeployment("stale", f"{path} records Clearinghouse {m.clearinghouse_address}, which has no "
                              f"code on this chain (the devnet was restarted?)", m, local)


def _get_code(backend, address) -> Optional[bytes]:
    fn = getattr(backend, "get_code", None)
    if fn is None:
        return None
    code = fn(address)
    if isinstance(code, str):
        code = bytes.fromhex(code[2:] if code.startswith("0x") else code)
    return bytes(code)


def _can_sign(backend, address) -> bool:
    fn = getattr(backend, "can_sign", None)
    return bool(fn(address)) if fn else False


def _deployer(backend) -> Optional[str]:
    fn = getattr(backend, "deployer", None)
    return _addr(fn()) if fn else None


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
        token = _addr(backend.deploy("MockToken", col.name, col.symbol, col.decimals))
        say(f"deployed MockToken {col.symbol} ({col.decimals} decimals) at {token}")
        contracts["MockToken"] = {"address": token, "contract": "MockToken"}
    else:
        token = col.address
        say(f"using existing collateral token {token}")
        contracts["collateral"] = {"address": token, "contract": "ERC20"}
        if _get_code(backend, token) == b"":
            raise DeployError(f"collateral.address {token} has no code on chain {chain}")
        dec = int(backend.call(token, "MockToken", "decimals"))
        if dec != col.decimals:
            raise DeployError(f"collateral token {token} has {dec} decimals, config says {col.decimals}")

    # feeds -----------------------------------------------------------------------------
    feeds = []
    for i, m in enumerate(config.markets):
        if m.feed.mock:
            f = _addr(backend.deploy("MockAggregator", m.feed.decimals, m.feed.initial_answer))
            say(f"deployed MockAggregator for {m.name} at {f} (answer {m.feed.price}, {m.feed.decimals} decimals)")
            contracts[f"MockAggregator:{m.name}"] = {"address": f, "contract": "MockAggregator"}
        else:
            f = m.feed.address
            if _get_code(backend, f) == b"":
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
    ch = _addr(backend.deploy(ch_artifact, token))
    say(f"deployed {ch_artifact} ({config.clearinghouse.loss_policy}) at {ch}")
    contracts[CH] = {"address": ch, "contract": ch_artifact}
    engine = _addr(backend.deploy(engine_artifact, token))
    contracts["LiquidationEngine"] = {"address": engine, "contract": engine_artifact}
    backend.transact(ch, CH, "set_loss_engine", engine)
    say(f"wired the liquidation engine {engine_artifact} at {engine}")
    iv = _addr(backend.deploy(IV, token, ch, config.vault.cooldown))
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
        say(f"added market {mid} {m.name}: imr {_fmt_ratio(m.imr)}, mmr {_fmt_ratio(m.mmr)}")

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
        code = _get_code(backend, entry["address"])
        if code is not None:
            entry["code_hash"] = _keccak(code)
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


def read_back(backend: Backend, deployment: Deployment, config: Optional[DeployConfig] = None) -> list:
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
        "collateral": _addr(call(ch, CH, "collateral_token")) if _has(backend, ch, CH, "collateral_token") else None,
        "insurance_vault": _addr(call(ch, CH, "insurance_vault")),
        "owner": _addr(call(ch, CH, "owner")),
        "pending_owner": _addr(call(ch, CH, "pending_owner")),
        "guardian": _addr(call(ch, CH, "guardian")),
        "market_count": int(call(ch, CH, "market_count")),
        "insurance_fee_share": int(call(ch, CH, "insurance_fee_share")),
        "keeper_reward": int(call(ch, CH, "keeper_reward")),
        "dust_notional": int(call(ch, CH, "dust_notional")),
        "loss_policy": str(call(ch, CH, "loss_policy")),
        "loss_engine": _addr(call(ch, CH, "loss_engine")),
    }
    if chd["collateral"] is None:
        chd.pop("collateral")
    deployment.clearinghouse = chd
    vd = {
        "address": iv,
        "asset": _addr(call(iv, IV, "asset")),
        "owner": _addr(call(iv, IV, "owner")),
        "pending_owner": _addr(call(iv, IV, "pending_owner")),
        "cooldown": int(call(iv, IV, "cooldown")),
        "max_cover_ratio": int(call(iv, IV, "max_cover_ratio")),
        "min_reserve": int(call(iv, IV, "min_reserve")),
    }
    if _has(backend, iv, IV, "clearinghouse"):
        vd["clearinghouse"] = _addr(call(iv, IV, "clearinghouse"))
    deployment.insurance_vault = vd

    markets = []
    for mid in range(chd["market_count"]):
        p = call(ch, CH, "market_params", mid)
        params = {k: int(_field(p, k, MARKET_PARAMS_FIELDS)) for k in MARKET_PARAMS_FIELDS if k != "feed"}
        feed = _addr(_field(p, "feed", MARKET_PARAMS_FIELDS))
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


def verify_deployment(backend: Backend, deployment: Deployment, config: Optional[DeployConfig] = None) -> list:
    """Re-read a (possibly older) deployment and raise VerificationError on any mismatch."""
    checks = read_back(backend, deployment, config)
    failures = [c for c in checks if not c.ok]
    if failures:
        raise VerificationError(failures)
    return checks


# ============================================================================================
# naming


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


__all__ = [
    "Backend", "ConfigError", "DeployError", "VerificationError", "DeployConfig", "CollateralConfig",
    "FeedConfig", "MarketConfig", "ClearinghouseConfig", "VaultConfig", "OwnershipConfig", "Deployment",
    "Check", "ExistingDeployment", "load_config", "parse_config", "deploy_protocol", "read_back",
    "verify_deployment", "check_existing", "read_manifest", "write_manifest", "manifest_name",
    "default_config_path", "parse_ratio", "parse_duration", "parse_amount", "parse_address",
]


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


__all__ += ["deploy_and_record", "write_abis"]
