"""Locations of the repository, its compiled artifacts, shipped scenarios and data files."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SCENARIO_DIR = PACKAGE_DIR / "scenarios"
DATA_DIR = PACKAGE_DIR / "data"


def repo_root() -> Path:
    """The repository root: $CLAWBACK_ROOT, else the first parent of the package holding
    ape-config.yaml, else the current directory."""
    env = os.environ.get("CLAWBACK_ROOT")
    if env:
        return Path(env).resolve()
    for parent in [PACKAGE_DIR, *PACKAGE_DIR.parents]:
        if (parent / "ape-config.yaml").is_file():
            return parent
    return Path.cwd()


def build_manifest() -> Path:
    """ape's compiled manifest (abi + bytecode per contract type)."""
    return repo_root() / ".build" / "__local__.json"


def resolve_data_path(path: str | os.PathLike) -> Path:
    """Resolve a data path from a scenario: absolute as is; a bare file name in the package's data
    folder (simulation/data/, shipped as package data); any other relative path from the current
    directory."""
    p = Path(path)
    if p.is_absolute():
        return p
    if len(p.parts) == 1:
        return DATA_DIR / p
    return (Path.cwd() / p).resolve()


def find_anvil() -> str | None:
    """The project's anvil: the native binary of the npm package (node_modules/@foundry-rs/
    anvil-<platform>/bin/anvil), else the one on PATH, else None. Never node_modules/.bin/anvil:
    that is a node wrapper which exits 0 whatever anvil did and leaves anvil running when killed."""
    import shutil

    for native in sorted((repo_root() / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
        if native.is_file() and os.access(native, os.X_OK):
            return str(native)
    found = shutil.which("anvil")
    return None if found is None or "node_modules/.bin" in found else found
