"""Constants of the `crowd` scenario (see conftest.py), importable by the test modules."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "liquidation"))

from liquidation_model import WAD  # noqa: E402

SHORT_SIZES = (WAD // 2 + 7, WAD * 3 // 10 + 11, WAD // 5 - 18)
SHORT_DEPOSIT = 10_000
TRADER_DEPOSIT = 6_000
