"""Fixtures for the deployment tests."""
import sys
from pathlib import Path

import pytest

# `ape test` does not put the project root on sys.path; the ops code lives in simulation/.
ROOT = Path(__file__).resolve().parents[3]
for p in (ROOT, Path(__file__).resolve().parent):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from ops_anvil import ANVIL, AnvilProcess  # noqa: E402


@pytest.fixture(scope="module")
def anvil():
    if not ANVIL:
        pytest.fail("anvil is not installed: run ./clawback setup (it installs anvil from the npm registry)")
    a = AnvilProcess().start()
    yield a
    a.stop()


