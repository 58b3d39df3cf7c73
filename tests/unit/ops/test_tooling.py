"""The project's tools: the anvil binary it runs (a failed start is an error), the npm lock a
clean clone installs without rewriting, the warnings filter its venv carries."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PTH = ROOT / "simulation" / "quiet-warnings.pth"


def test_the_project_anvil_is_the_native_binary_and_reports_failure():
    """node_modules/.bin/anvil is a node wrapper that exits 0 whatever anvil did; the project runs
    the platform binary, so a start that fails is an error."""
    from ops_anvil import ANVIL

    from simulation.paths import find_anvil

    for binary in (ANVIL, find_anvil()):
        assert "/.bin/" not in binary and Path(binary).name == "anvil", binary
        bad = subprocess.run([binary, "--port", "not-a-port"], capture_output=True, timeout=30)
        assert bad.returncode != 0


def test_the_front_door_puts_the_native_binaries_on_path():
    text = (ROOT / "clawback").read_text()
    assert 'export PATH="$VENV/bin${FOUNDRY_BIN:+:$FOUNDRY_BIN}' in text
    assert "node_modules/.bin" not in text.split("set -euo pipefail", 1)[1].replace(
        "not node_modules/.bin", "")


def test_the_lock_covers_every_platform_so_npm_ci_never_rewrites_it():
    """`npm install` adds the other platforms' optional packages to a lock that lacks them, which
    dirtied a clean clone on its first command; setup runs `npm ci` on a complete lock."""
    lock = json.loads((ROOT / "package-lock.json").read_text())
    deps = json.loads((ROOT / "package.json").read_text())["dependencies"]
    for name, version in deps.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
        native = [k for k in lock["packages"] if k.startswith(f"node_modules/{name}-")]
        assert {k.rsplit("-", 2)[-2] for k in native} >= {"linux", "darwin"}, native
    assert "npm ci " in (ROOT / "clawback").read_text()
    assert "npm install" not in (ROOT / "clawback").read_text()


def _python_with_pth(code, pth=True):
    # start from no filters at all, so the result does not depend on whether `./clawback setup`
    # already installed the filter into this venv; pth=True then installs it the way setup does
    prefix = "import warnings; warnings.resetwarnings(); "
    if pth:
        prefix += f"import site; site.addsitedir({str(PTH.parent)!r}); "
    return subprocess.run([sys.executable, "-c", prefix + code], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": ""})


def test_the_warnings_filter_hides_only_apes_pydantic_warning():
    code = ("import warnings; "
            "[warnings.warn_explicit(m, UserWarning, 'utils.py', 51, module='pydantic_settings.sources.utils') "
            "for m in (\"Field 'import_remapping' has an incomplete definition: x\", 'Field other: keep me')]")
    shown = _python_with_pth(code).stderr
    assert "import_remapping" not in shown and "keep me" in shown
    assert "import_remapping" in _python_with_pth(code, pth=False).stderr


def test_ape_config_loads_quietly_with_the_filter():
    code = "import ape; ape.config.get_config('vyper')"
    assert "IncompleteFieldDefinitionWarning" in _python_with_pth(code, pth=False).stderr
    assert "IncompleteFieldDefinitionWarning" not in _python_with_pth(code).stderr


def test_find_anvil_never_returns_the_node_wrapper(tmp_path, monkeypatch):
    from simulation import paths

    wrapper = tmp_path / "node_modules" / ".bin" / "anvil"
    wrapper.parent.mkdir(parents=True)
    wrapper.write_text("#!/bin/sh\nexit 0\n")
    wrapper.chmod(0o755)
    monkeypatch.setattr(paths, "repo_root", lambda: tmp_path)
    monkeypatch.setenv("PATH", str(wrapper.parent))
    assert paths.find_anvil() is None
    native = tmp_path / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    native.parent.mkdir(parents=True)
    native.write_text("#!/bin/sh\nexit 1\n")
    native.chmod(0o755)
    assert paths.find_anvil() == str(native)


def test_no_contract_prints():
    """tests/conftest.py skips ape's search for `print()` output after every transaction (it
    replays each one); that is only right while no contract prints."""
    printing = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "contracts").rglob("*.vy"))
                for n, line in enumerate(path.read_text().splitlines(), 1) if line.strip().startswith("print(")]
    assert not printing, f"contracts print (drop _no_print_replay from tests/conftest.py): {printing}"
