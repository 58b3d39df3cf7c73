"""The deployment config (deployments/config/*.toml): pydantic models, one line per problem.

    config = load_config("deployments/config/local.toml")     # or parse_config(mapping, source)

Every key, its unit and range is documented in README.md ("The config format"). Unknown keys are
errors with a "did you mean" hint; values are checked against the bounds the contracts enforce
(read from the compiled contracts, `simulation.protocol_constants`), so a bad value fails before
anything is sent; every problem is reported at once (`ConfigError`, one line each, naming the file
and the key). Ratios are stored as 1e18-scaled ints, durations as seconds, amounts as collateral
base units, sizes 1e18-scaled; None keeps the contract's default.
"""
from __future__ import annotations

import difflib
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, Mapping, Optional, Sequence, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from .protocol_constants import bounds
from .units import (
    WAD,
    Address,
    Duration,
    Ratio,
    format_ratio,
    format_seconds,
    format_size,
    parse_amount,
    to_decimal,
)

LOSS_POLICIES = ("pro_rata_size", "profit_clawback", "adl")
# this tool's sanity cap (the contract only needs > 0): 2**64 - 1 whole base units
MAX_OPEN_INTEREST = (2**64 - 1) * WAD


class ConfigError(ValueError):
    """The deployment config is invalid; the message lists every problem, one per line."""

    def __init__(self, problems: Sequence[str], source: str = "config"):
        self.problems = list(problems)
        self.source = source
        super().__init__(f"invalid deployment config {source}:" + "".join(f"\n  - {p}" for p in self.problems))


# --- field types ------------------------------------------------------------------------------

_AT = "\x1f"  # "key<_AT>message": a model-level check reporting at one of its keys


def _at(key: str, msg: str) -> str:
    return f"{key}{_AT}{msg}"


def _check_range(lo=None, hi=None, lo_open=False, fmt: Callable = str, why: str = "", hi_of: Callable = None):
    lo_f = (lambda: lo) if not callable(lo) else lo
    hi_f = hi_of or ((lambda: hi) if not callable(hi) else hi)

    def check(value):
        if value is None:
            return value
        low, high = lo_f(), hi_f()
        if (low is not None and (value <= low if lo_open else value < low)) or (high is not None and value > high):
            lo_s = "" if low is None else (f"> {fmt(low)}" if lo_open else f">= {fmt(low)}")
            hi_s = "" if high is None else f"<= {fmt(high)}"
            raise ValueError(f"must be {' and '.join(s for s in (lo_s, hi_s) if s)}{why}, got {fmt(value)}")
        return value
    return AfterValidator(check)


def _int(v):
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"expected an integer, got {v!r}")
    return v


def _bool(v):
    if not isinstance(v, bool):
        raise ValueError(f"expected true or false, got {v!r}")
    return v


def _text(maxlen: int):
    def check(v):
        if not isinstance(v, str) or not v:
            raise ValueError(f"expected a non-empty string, got {v!r}")
        if len(v.encode()) > maxlen:
            raise ValueError(f"at most {maxlen} bytes, got {len(v.encode())}")
        return v
    return BeforeValidator(check)


def _amount(v, info: ValidationInfo):
    return parse_amount(v, (info.context or {}).get("decimals", 6))


def _b(name):
    """A bound read back from the compiled contracts."""
    return lambda: bounds()[name]


Int = Annotated[int, BeforeValidator(_int)]
Bool = Annotated[bool, BeforeValidator(_bool)]
Amount = Annotated[int, BeforeValidator(_amount)]  # whole tokens in the file, base units here
Size = Annotated[int, BeforeValidator(lambda v: parse_amount(v, 18))]
Number = Annotated[Decimal, BeforeValidator(to_decimal)]
Share = Annotated[Ratio, _check_range(0, WAD, fmt=format_ratio)]  # 0..100 %
Decimals = Annotated[Int, _check_range(0, 18)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


# --- tables -----------------------------------------------------------------------------------


class NetworkConfig(_Table):
    """[network]: the chain the config is for."""

    chain_id: Optional[Annotated[Int, _check_range(0, lo_open=True)]] = None
    name: Optional[str] = None


class CollateralConfig(_Table):
    """[collateral]: a mock token (devnets) or an existing ERC-20."""

    mock: Bool = False
    address: Optional[Address] = None  # existing token (non-mock)
    name: Annotated[str, _text(32)] = "Mock USD Coin"
    symbol: Annotated[str, _text(8)] = "mUSDC"
    decimals: Decimals = 6

    @model_validator(mode="after")
    def _mock_or_address(self):
        if self.mock and self.address is not None:
            raise ValueError("give either mock = true or address, not both")
        if not self.mock and self.address is None:
            raise ValueError("needs address = \"0x...\" (an existing ERC-20) or mock = true (devnets only)")
        if not self.mock and {"name", "symbol"} & self.model_fields_set:
            raise ValueError("name/symbol apply to a mock token only")
        return self


class FeedConfig(_Table):
    """A market's oracle: `{ mock = true, decimals = 8, price = 50000 }` or `{ address = "0x..." }`."""

    mock: Bool = False
    address: Optional[Address] = None
    decimals: Decimals = 8
    price: Optional[Number] = None  # initial answer of a mock, in whole collateral units

    @model_validator(mode="after")
    def _mock_or_address(self):
        if self.mock and self.address is not None:
            raise ValueError("give either mock = true or address, not both")
        if not self.mock and self.address is None:
            raise ValueError("needs address = \"0x...\" (an AggregatorV3 feed) or mock = true (devnets only)")
        p = self.price
        if self.mock and p is None:
            raise ValueError(_at("price", "missing: a mock feed needs an initial price (whole collateral units "
                                          "per base asset)"))
        if p is not None:
            if not self.mock:
                raise ValueError(_at("price", "applies to a mock feed only"))
            if p <= 0:
                raise ValueError(_at("price", f"must be > 0, got {p}"))
            if p * 10**self.decimals != (p * 10**self.decimals).to_integral_value():
                raise ValueError(_at("price", f"{p} has more precision than the feed's {self.decimals} decimals"))
        return self

    @property
    def initial_answer(self) -> int:
        assert self.price is not None
        return int(self.price * 10**self.decimals)


class MarketConfig(_Table):
    """[[markets]]: one market; ids follow the order of the tables."""

    name: Annotated[str, _text(64)]
    feed: FeedConfig
    imr: Annotated[Ratio, _check_range(0, WAD, lo_open=True, fmt=format_ratio)]
    mmr: Annotated[Ratio, _check_range(0, lo_open=True, fmt=format_ratio)]
    taker_fee: Optional[Annotated[Ratio, _check_range(0, _b("MAX_FEE"), fmt=format_ratio)]] = None
    maker_fee: Optional[Annotated[Ratio, _check_range(0, _b("MAX_FEE"), fmt=format_ratio)]] = None
    price_band: Optional[Annotated[Ratio, _check_range(0, _b("MAX_PRICE_BAND"), lo_open=True, fmt=format_ratio)]] = None
    max_open_interest: Optional[Annotated[Size, _check_range(0, MAX_OPEN_INTEREST, lo_open=True,
                                                             fmt=format_size)]] = None
    max_price_age: Optional[Annotated[Duration, _check_range(0, _b("MAX_PRICE_AGE"), lo_open=True,
                                                             fmt=format_seconds)]] = None
    liquidation_penalty: Optional[Ratio] = None
    liquidator_share: Optional[Share] = None
    close_factor: Optional[Annotated[Ratio, _check_range(0, WAD, lo_open=True, fmt=format_ratio)]] = None
    funding_period: Optional[Annotated[Duration, _check_range(_b("MIN_FUNDING_PERIOD"), _b("MAX_FUNDING_PERIOD"),
                                                              fmt=format_seconds)]] = None
    max_funding_premium: Optional[Annotated[Ratio, _check_range(0, _b("MAX_FUNDING_PREMIUM"), fmt=format_ratio)]] = None

    @model_validator(mode="after")
    def _margins(self):
        problems = []
        if self.mmr >= self.imr:
            problems.append(_at("mmr", f"must be below imr ({format_ratio(self.imr)}), got {format_ratio(self.mmr)}"))
        if self.liquidation_penalty is not None and self.liquidation_penalty > self.mmr:
            problems.append(_at("liquidation_penalty", f"must be <= mmr ({format_ratio(self.mmr)}) so a liquidation "
                                f"at maintenance leaves the account solvent, got {format_ratio(self.liquidation_penalty)}"))
        if problems:
            raise ValueError("\n".join(problems))
        return self


class ClearinghouseConfig(_Table):
    """[clearinghouse]: protocol-wide parameters."""

    insurance_fee_share: Optional[Share] = None
    keeper_reward: Optional[Annotated[Amount, _check_range(0)]] = None
    dust_notional: Optional[Annotated[Amount, _check_range(0)]] = None
    loss_policy: Literal["pro_rata_size", "profit_clawback", "adl"] = "pro_rata_size"


class VaultConfig(_Table):
    """[insurance_vault]."""

    cooldown: Annotated[Duration, _check_range(0, _b("MAX_COOLDOWN"), fmt=format_seconds)]
    max_cover_ratio: Optional[Annotated[Ratio, _check_range(0, WAD, lo_open=True, fmt=format_ratio)]] = None
    min_reserve: Optional[Annotated[Amount, _check_range(_b("MIN_RESERVE_FLOOR"), fmt=lambda x: f"{x} base units",
                                                         why=" (the vault never pays out its last unit)")]] = None


def _accept(v):
    if v is True:
        return "always"
    if v is False:
        return "never"
    if v not in ("auto", "always", "never"):
        raise ValueError(f"expected \"auto\", \"always\", \"never\" or a boolean, got {v!r}")
    return v


class OwnershipConfig(_Table):
    """[ownership]: who owns and guards the deployment once it is up."""

    owner: Optional[Address] = None  # None = the deployer keeps it
    guardian: Optional[Address] = None
    vault_owner: Optional[Address] = None  # default: owner
    accept: Annotated[Literal["auto", "always", "never"], BeforeValidator(_accept)] = "auto"


class DeployConfig(_Table):
    """A whole deployment config."""

    network: NetworkConfig = NetworkConfig()
    collateral: CollateralConfig
    clearinghouse: ClearinghouseConfig = ClearinghouseConfig()
    vault: VaultConfig = Field(alias="insurance_vault")
    ownership: OwnershipConfig = OwnershipConfig()
    markets: tuple[MarketConfig, ...]
    _source: str = PrivateAttr("<dict>")
    _raw: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _market_names(cls, data):
        """Default names (market-<i>) before the markets are validated."""
        if isinstance(data, Mapping) and isinstance(data.get("markets"), list):
            data = dict(data)
            data["markets"] = [{"name": f"market-{i}", **m} if isinstance(m, Mapping) and "name" not in m else m
                               for i, m in enumerate(data["markets"])]
        return data

    @model_validator(mode="after")
    def _markets(self):
        n, most = len(self.markets), bounds()["MAX_MARKETS"]
        if n == 0:
            raise ValueError(_at("markets", "at least one market is required"))
        if n > most:
            raise ValueError(_at("markets", f"at most {most} markets, got {n}"))
        seen, problems = set(), []
        for i, m in enumerate(self.markets):
            if m.name in seen:
                problems.append(_at(f"markets[{i}] ({m.name}).name", f"duplicate market name {m.name!r}"))
            seen.add(m.name)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def source(self) -> str:
        return self._source

    @property
    def raw(self) -> dict:
        return self._raw

    @property
    def chain_id(self) -> Optional[int]:
        return self.network.chain_id

    @property
    def uses_mocks(self) -> bool:
        return self.collateral.mock or any(m.feed.mock for m in self.markets)

    @property
    def token_unit(self) -> int:
        return 10**self.collateral.decimals

    def with_source(self, source: str) -> "DeployConfig":
        """A copy that names another source file in messages and the manifest."""
        copy = self.model_copy()
        copy._source, copy._raw = source, self._raw
        return copy


# --- parsing and messages ---------------------------------------------------------------------

_MISSING = {
    "collateral": "missing table [collateral] (set mock = true, or address = \"0x...\")",
    "insurance_vault": "missing table [insurance_vault] (needs cooldown)",
    "markets": "missing: add at least one [[markets]] table",
    "imr": "missing (required): initial margin ratio, e.g. 0.10",
    "mmr": "missing (required): maintenance margin ratio, e.g. 0.05",
    "feed": "missing: feed = { mock = true, decimals = 8, price = 50000 } or { address = \"0x...\" }",
}


def _model_of(annotation) -> Optional[type]:
    """The pydantic model inside an annotation (Optional[X], tuple[X, ...], Annotated[X, ...])."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) is not None else ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _keys(model: type) -> dict:
    """Key as written in the file -> field name."""
    return {(f.alias or name): name for name, f in model.model_fields.items()}


def _where(loc: tuple, data: Any) -> tuple:
    """A pydantic location as the file names it: ("markets", 0, "imr") -> "markets[0] (BTC-PERP).imr";
    also the model that holds the last key (for "did you mean")."""
    parts: list = []
    model, parent, node = DeployConfig, None, data
    for item in loc:
        if isinstance(item, int):
            name = node[item].get("name") if isinstance(node, list) and item < len(node) and isinstance(
                node[item], Mapping) else None
            parts[-1] += f"[{item}]" + (f" ({name})" if isinstance(name, str) and name else "")
            node = node[item] if isinstance(node, list) and item < len(node) else None
            continue
        if model is not None and item in _keys(model):
            field = model.model_fields[_keys(model)[item]]
            parent, model = model, _model_of(field.annotation)
        else:
            parent, model = model, None
        node = node.get(item) if isinstance(node, Mapping) else None
        parts.append(str(item))
    return ".".join(parts), parent


def _problems(exc: ValidationError, data: Mapping) -> list:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and ("[" in x or x.startswith("function-"))))
        where, parent = _where(loc, data)
        kind, msg = err["type"], err["msg"]
        if kind == "value_error":
            msg = str(err.get("ctx", {}).get("error", msg.removeprefix("Value error, ")))
        if kind == "extra_forbidden":
            allowed = sorted(_keys(parent)) if parent is not None else []
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            msg = ("unknown key" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                   + (f"; allowed: {', '.join(allowed)}" if allowed else ""))
        elif kind == "missing":
            msg = _MISSING.get(str(loc[-1]), "missing (required)")
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            msg = f"expected a table, got {type(err.get('input')).__name__}"
        elif kind in ("tuple_type", "list_type"):
            msg = "expected an array of tables ([[markets]])"
        elif kind == "literal_error":
            msg = f"expected one of {err['ctx']['expected']}, got {err.get('input')!r}"
        for line in msg.split("\n"):
            key, sep, text = line.partition(_AT)
            if sep:
                full = key if key.startswith("markets[") else (f"{where}.{key}" if where else key)
                out.append(f"{full}: {text}")
            else:
                out.append(f"{where}: {line}" if where else line)
    return out


def parse_config(data: Mapping, source: str = "<dict>") -> DeployConfig:
    """Validate a config mapping (as parsed from TOML) into a DeployConfig; raise ConfigError."""
    data = dict(data)
    col = data.get("collateral")
    decimals = col.get("decimals", 6) if isinstance(col, Mapping) else 6
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 18:
        decimals = 6  # reported by the collateral table; amounts are still checked
    try:
        config = DeployConfig.model_validate(data, context={"decimals": decimals})
    except ValidationError as exc:
        raise ConfigError(_problems(exc, data), source) from None
    config._source, config._raw = source, data
    return config


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
