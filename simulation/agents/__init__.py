"""Simulation agents: each a small class whose decide(world) -> intents is plain Python."""
from .attacker import Attacker
from .base import (Agent, AccountView, Approve, BookEntry, Deposit, Intent, Liquidate,
                   LiquidateBankrupt, MarketView, Note, OrderBook, Post, Redeem, RequestRedeem,
                   Trade, VaultDeposit, VaultView, Withdraw, World)
from .liquidator import Liquidator
from .market_maker import MarketMaker
from .staker import Staker
from .traders import MomentumTrader, NoiseTrader

__all__ = [
    "Agent", "AccountView", "Approve", "Attacker", "BookEntry", "Deposit", "Intent", "Liquidate",
    "LiquidateBankrupt", "Liquidator", "MarketMaker", "MarketView", "MomentumTrader", "NoiseTrader",
    "Note", "OrderBook", "Post", "Redeem", "RequestRedeem", "Staker", "Trade", "VaultDeposit",
    "VaultView", "Withdraw", "World",
]
