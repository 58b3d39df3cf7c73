import sys
from pathlib import Path

# `ape test` does not put the project root on sys.path; the ops code lives in simulation/, the
# anvil helpers beside the deploy integration tests.
ROOT = Path(__file__).resolve().parents[3]
for p in (ROOT, ROOT / "tests" / "integration" / "deploy"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
