"""Scenario files: TOML validated by pydantic models (unknown keys are errors), and the price
paths they describe."""
from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import prices as P
from .paths import SCENARIO_DIR, resolve_data_path


class ScenarioError(ValueError):
    """A scenario file is missing, unreadable or invalid (one clear line)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class MarketConfig(Strict):
    """One perpetual market."""

    name: str = "BTC"
    initial_price: float = Field(50_000.0, gt=0, description="price at block 0 (synthetic models)")
    imr: float = Field(0.10, gt=0, lt=1, description="initial margin ratio")
    mmr: float = Field(0.05, gt=0, lt=1, description="maintenance margin ratio")
    sigma: float | None = Field(None, ge=0, description="annualized volatility (default: prices.sigma)")
    beta: float = Field(1.0, description="sensitivity to the common crash / leader market")

    @model_validator(mode="after")
    def _mmr_below_imr(self):
        if self.mmr >= self.imr:
            raise ValueError(f"market {self.name}: mmr must be below imr")
        return self


class CrashConfig(Strict):
    block: int = Field(ge=0)
    size: float = Field(gt=-1, lt=10, description="relative move, e.g. -0.4")
    duration: int = Field(1, ge=1, description="blocks over which the crash unfolds")


class HistoricalConfig(Strict):
    file: str = "../shared/data/btcusd_daily.csv"
    start: date
    end: date
    blocks_per_day: int = Field(48, ge=4)
    vol_scale: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _range(self):
        if self.end < self.start:
            raise ValueError("historical.end is before historical.start")
        return self


class PriceConfig(Strict):
    model: Literal["gbm", "jump", "historical"] = "gbm"
    sigma: float = Field(0.6, ge=0, description="annualized volatility")
    mu: float = 0.0
    correlation: float = Field(0.8, ge=-1, le=1, description="pairwise correlation between markets")
    jump_rate: float = Field(0.0, ge=0, description="jumps per year")
    jump_mean: float = -0.05
    jump_std: float = Field(0.03, ge=0)
    crash: CrashConfig | None = None
    historical: HistoricalConfig | None = None
    oracle_lag_blocks: int = Field(1, ge=0)

    @model_validator(mode="after")
    def _hist(self):
        if self.model == "historical" and self.historical is None:
            raise ValueError("prices.model = 'historical' needs a [prices.historical] table")
        return self


class ProtocolConfig(Strict):
    """Deployment parameters handed to simulation.deployment (None: the contract's default)."""

    collateral_decimals: int = Field(6, ge=0, le=18)
    feed_decimals: int = Field(8, ge=0, le=18)
    vault_cooldown: int = Field(3600, ge=0, description="seconds between request_redeem and redeem")
    max_cover_ratio: float | None = Field(None, gt=0, le=1, description="share of the vault one bankruptcy may take")
    min_reserve: float | None = Field(None, gt=0, description="tokens the vault never pays out")
    insurance_fee_share: float | None = Field(None, ge=0, le=1)
    keeper_reward: float | None = Field(None, ge=0, description="tokens per bankruptcy takeover")
    loss_policy: Literal["pro_rata_size", "profit_clawback", "adl"] = Field(
        "pro_rata_size", description="what happens to the residual after the insurance vault (README: Loss policies)")
    liquidation_penalty: float | None = Field(None, ge=0, lt=1)
    liquidator_share: float | None = Field(None, ge=0, le=1)
    close_factor: float | None = Field(None, gt=0, le=1)
    price_band: float | None = Field(None, gt=0, le=0.5)
    taker_fee: float | None = Field(None, ge=0, le=0.01)
    maker_fee: float | None = Field(None, ge=0, le=0.01)
    max_price_age: int | None = Field(None, gt=0)
    sweep_fees_every: int = Field(10, ge=0, description="blocks between sweep_fees() calls by the protocol keeper (0: never)")


class LeverageConfig(Strict):
    """Lognormal leverage distribution, capped."""

    median: float = Field(3.0, gt=0)
    sigma: float = Field(0.5, ge=0)
    max: float = Field(9.0, gt=0)


class MarketMakerConfig(Strict):
    count: int = Field(2, ge=0)
    capital: float = Field(2_000_000, gt=0)
    spread_bps: float = Field(10, ge=0)
    levels: int = Field(3, ge=1)
    level_step_bps: float = Field(10, ge=0)
    quote_notional: float = Field(50_000, gt=0, description="notional per level")
    max_inventory_notional: float = Field(2_000_000, gt=0)
    stress_return: float = Field(0.01, gt=0, description="|1-block return| that counts as stress")
    stress_widen: float = Field(4.0, ge=1, description="spread multiplier under stress")
    withdraw_return: float = Field(0.04, gt=0, description="|return| at which quotes are pulled")
    order_ttl_blocks: int = Field(2, ge=1)


class TraderConfig(Strict):
    count: int = Field(20, ge=0)
    capital: float = Field(20_000, gt=0, description="mean deposit (lognormal across traders)")
    leverage: LeverageConfig = LeverageConfig()
    trade_prob: float = Field(0.2, ge=0, le=1)
    take_profit: float = Field(0.3, gt=0, description="close when PnL/margin reaches this")
    stop_loss: float | None = Field(None, gt=0, description="close when loss/margin reaches this (None: hold)")
    close_prob: float = Field(0.02, ge=0, le=1)
    withdraw_prob: float = Field(0.3, ge=0, le=1, description="withdraw profits when flat")
    lookback: int = Field(10, ge=1, description="momentum lookback (blocks)")
    threshold: float = Field(0.005, ge=0, description="momentum entry |return|")


class LiquidatorConfig(Strict):
    count: int = Field(2, ge=0)
    capital: float = Field(500_000, gt=0)
    reaction_delay: int = Field(1, ge=0, description="blocks an account must have been liquidatable")
    max_per_block: int = Field(5, ge=1)
    unwind: bool = True


class StakerConfig(Strict):
    count: int = Field(3, ge=0)
    capital: float = Field(100_000, gt=0)
    redeem_drawdown: float = Field(0.05, gt=0, description="share-price drawdown that triggers request_redeem")
    panic_prob: float = Field(0.5, ge=0, le=1)


class AttackerConfig(Strict):
    enabled: bool = False
    capital: float = Field(50_000, gt=0)
    self_trade_block: int | None = Field(None, ge=0)
    self_trade_premium: float = Field(0.2, description="off-market price premium of the self-trade")
    stake_race_block: int | None = Field(None, ge=0, description="stake, then race the crash to redeem")


class AgentsConfig(Strict):
    market_makers: MarketMakerConfig = MarketMakerConfig()
    noise_traders: TraderConfig = TraderConfig()
    momentum_traders: TraderConfig = TraderConfig(count=5)
    liquidators: LiquidatorConfig = LiquidatorConfig()
    stakers: StakerConfig = StakerConfig()
    attacker: AttackerConfig = AttackerConfig()


class InvariantConfig(Strict):
    dust_per_account: int = Field(10, ge=0, description="base units of rounding dust allowed per account")
    dust_per_block: int = Field(5, ge=0, description="base units of rounding dust the protocol may retain per block "
                                                     "(it rounds every charge in its own favour and keeps the remainder)")
    liquidation_tolerance: float = Field(0.01, ge=0, description="relative slack for the healthy-liquidation check")
    negative_equity_grace_blocks: int | None = Field(None, ge=1, description="None: report only")
    stop_on_violation: bool = True


class Scenario(Strict):
    """A whole simulation scenario."""

    name: str
    description: str = ""
    seed: int = 1
    blocks: int = Field(200, ge=1)
    block_time: int = Field(60, ge=1, description="seconds per block")
    markets: list[MarketConfig] = Field(default_factory=lambda: [MarketConfig()], min_length=1)
    prices: PriceConfig = PriceConfig()
    protocol: ProtocolConfig = ProtocolConfig()
    agents: AgentsConfig = AgentsConfig()
    invariants: InvariantConfig = InvariantConfig()

    @model_validator(mode="after")
    def _historical_clock(self):
        h = self.prices.historical if self.prices.model == "historical" else None
        if h is not None and self.block_time * h.blocks_per_day != 86400:
            raise ValueError(f"block_time ({self.block_time} s) x historical.blocks_per_day ({h.blocks_per_day}) "
                             f"must be one day (86400 s)")
        return self

    @field_validator("markets")
    @classmethod
    def _names(cls, v):
        names = [m.name for m in v]
        if len(set(names)) != len(names):
            raise ValueError("market names must be unique")
        return v

    # -- price paths ----------------------------------------------------------------------------
    def price_paths(self, seed: int | None = None) -> P.PricePaths:
        """True price paths for this scenario (deterministic in the seed)."""
        rng = np.random.default_rng([self.seed if seed is None else seed, 0x5EED])
        pc = self.prices
        s0 = [m.initial_price for m in self.markets]
        sig = [m.sigma if m.sigma is not None else pc.sigma for m in self.markets]
        betas = [m.beta for m in self.markets]
        crash = (P.Crash(pc.crash.block, pc.crash.size, pc.crash.duration, betas)
                 if pc.crash else None)
        if pc.model == "historical":
            h = pc.historical
            bars = P.load_daily_bars(resolve_data_path(h.file), h.start, h.end)
            lead = P.historical(rng, bars, h.blocks_per_day, h.vol_scale)
            lead = lead[: self.blocks + 1] if len(lead) > self.blocks + 1 else lead
            rows = [lead]
            dt = self.block_time / P.SECONDS_PER_YEAR
            for m, sg in zip(self.markets[1:], sig[1:]):
                rows.append(P.correlated_follower(rng, lead, m.initial_price, m.beta, pc.correlation,
                                                  sg * np.sqrt(dt)))
            true = np.vstack(rows)
            if crash:
                true = P.apply_crash(true, crash)
            return P.PricePaths(true, self.block_time)
        true = P.jump_diffusion(rng, s0, self.blocks, self.block_time, sig, pc.mu, pc.correlation,
                                pc.jump_rate if pc.model == "jump" else 0.0, pc.jump_mean,
                                pc.jump_std, crash)
        return P.PricePaths(true, self.block_time)

    def effective_blocks(self) -> int:
        """Blocks actually simulated (a historical range may be shorter than `blocks`)."""
        if self.prices.model == "historical":
            h = self.prices.historical
            days = (h.end - h.start).days + 1
            return min(self.blocks, days * h.blocks_per_day)
        return self.blocks

    # -- overrides ----------------------------------------------------------------------------
    def with_overrides(self, overrides: dict[str, Any]) -> "Scenario":
        """A copy with dotted-key overrides (e.g. {"agents.stakers.capital": 5e5}); unknown
        keys raise ScenarioError."""
        data = self.model_dump(mode="python")
        for key, value in overrides.items():
            node = data
            parts = key.split(".")
            for i, p in enumerate(parts[:-1]):
                if isinstance(node, list):
                    try:
                        node = node[int(p)]
                    except (ValueError, IndexError):
                        raise ScenarioError(f"unknown parameter {key!r}") from None
                elif isinstance(node, dict) and p in node and node[p] is not None:
                    node = node[p]
                elif isinstance(node, dict) and p in node:
                    raise ScenarioError(f"cannot set {key!r}: [{'.'.join(parts[:i + 1])}] is not in this scenario")
                else:
                    raise ScenarioError(f"unknown parameter {key!r}")
            last = parts[-1]
            if isinstance(node, list):
                try:
                    node[int(last)] = value
                except (ValueError, IndexError):
                    raise ScenarioError(f"unknown parameter {key!r}") from None
            elif isinstance(node, dict) and (last in node):
                node[last] = value
            else:
                raise ScenarioError(f"unknown parameter {key!r}")
        try:
            return Scenario.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    errs = exc.errors()
    parts = []
    for e in errs[:3]:
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        parts.append(f"{loc}: {msg}")
    more = f" (+{len(errs) - 3} more)" if len(errs) > 3 else ""
    return "; ".join(parts) + more


def shipped_scenarios() -> dict[str, Path]:
    """name -> path of every scenario in simulation/scenarios/."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


def resolve_scenario_path(name_or_path: str) -> Path:
    """A shipped scenario's name, or a path to a TOML file."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise ScenarioError(f"scenario file not found: {p}")
        return p
    shipped = shipped_scenarios()
    if name_or_path in shipped:
        return shipped[name_or_path]
    raise ScenarioError(f"unknown scenario {name_or_path!r} (shipped: {', '.join(shipped)})")


def load_scenario(name_or_path: str) -> Scenario:
    """Load and validate a scenario; every problem is a one-line ScenarioError."""
    path = resolve_scenario_path(name_or_path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path.name}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: {exc.strerror}") from None
    data.setdefault("name", path.stem)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(f"{path.name}: {_one_line(exc)}") from None


def parse_value(text: str) -> Any:
    """A CLI override value: int, float, bool, or string."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text
