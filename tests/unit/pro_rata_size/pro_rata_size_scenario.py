"""Constants of the `crowd` scenario (see conftest.py), importable by the test modules."""
from support.model import WAD

SHORT_SIZES = (WAD // 2 + 7, WAD * 3 // 10 + 11, WAD // 5 - 18)
SHORT_DEPOSIT = 10_000
TRADER_DEPOSIT = 6_000
