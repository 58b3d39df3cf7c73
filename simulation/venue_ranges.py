"""What a real perpetuals venue looks like, as ranges the shipped scenarios are calibrated to (README:
Scenarios). Sources for each are in the README; summary.json reports the measured figures
(`turnover_per_day`, `insurance_to_open_interest`)."""
from __future__ import annotations

IMR = (0.02, 0.10)             # initial margin ratio (dYdX BTC 5 %, SOL 10 %)
MMR = (0.01, 0.05)             # maintenance margin ratio (dYdX BTC 3 %)
INSURANCE_TO_OI = (0.005, 0.05)  # vault assets at the start over mean open interest
TURNOVER_CALM = (0.3, 3.0)     # traded notional per day / open interest on a calm day (Hyperliquid 0.4, Binance 1.3)
TURNOVER_STRESS = (0.3, 12.0)  # ... on a crash day (2020-03-12: BitMEX about 8x, all venues about 12x)
# hyperliquid-2025-10 is the one shipped scenario held to no turnover range: its 2 hours of 45-second
# blocks are the 12-minute event itself, and a per-day rate of such a window is not a day's.
EVENT_WINDOWS = frozenset({"hyperliquid-2025-10"})


def within(value: float | None, bounds: tuple[float, float]) -> bool:
    """True when value is a number inside [low, high]."""
    return value is not None and bounds[0] <= value <= bounds[1]
