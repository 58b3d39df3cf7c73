"""Simulation agents: one file per kind, each a small class whose decide(world) -> intents is plain
Python, registered by kind in `registry.REGISTRY` (importing this package registers them all)."""
from .base import (Agent, AccountView, Approve, BookEntry, ClearLoss, Deleverage, Deposit, FlagLoss, Intent, Liquidate,
                   LiquidateBankrupt, MarketView, Note, OffchainContext, OrderBook, Post, Redeem, RedeemRequestView,
                   RequestRedeem, Trade, VaultDeposit, VaultView, Withdraw, World)
from .registry import REGISTRY, register
from .market_maker import MarketMaker, MarketMakerConfig
from .liquidator import Liquidator, LiquidatorConfig
from .noise_trader import LeverageConfig, NoiseTrader, TraderConfig
from .momentum_trader import MomentumTrader, MomentumConfig
from .staker import Staker, StakerConfig
from .protocol_fund import ProtocolFund, ProtocolFundConfig
from .attacker import Attacker, AttackerConfig

__all__ = [
    "Agent", "AccountView", "Approve", "Attacker", "AttackerConfig", "BookEntry", "ClearLoss", "Deleverage", "Deposit",
    "FlagLoss", "Intent",
    "LeverageConfig", "Liquidate", "LiquidateBankrupt", "Liquidator", "LiquidatorConfig", "MarketMaker",
    "MarketMakerConfig", "MarketView", "MomentumConfig", "MomentumTrader", "NoiseTrader", "Note",
    "OffchainContext", "OrderBook", "Post", "ProtocolFund", "ProtocolFundConfig", "REGISTRY", "Redeem",
    "RedeemRequestView", "RequestRedeem", "Staker", "StakerConfig", "Trade", "TraderConfig", "VaultDeposit", "VaultView", "Withdraw",
    "World", "register",
]
