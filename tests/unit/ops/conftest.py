import sys
from pathlib import Path

# `ape test` does not put the project root on sys.path; the ops code lives in simulation/.
ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
