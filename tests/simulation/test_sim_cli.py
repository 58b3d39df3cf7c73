"""The command line: list, help, and one-line errors for bad input."""
import pytest

from simulation import cli


def run(capsys, *argv):
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_list(capsys):
    rc, out, _ = run(capsys, "list")
    assert rc == 0
    names = [line.split()[0] for line in out.strip().splitlines()]
    assert {"default", "covid-2020", "ftx-2022", "gbm-calm", "multi-market-crash"} <= set(names)


@pytest.mark.parametrize("sub", ["run", "sweep", "bench"])
def test_every_option_has_help(sub, capsys):
    with pytest.raises(SystemExit):
        cli.main([sub, "--help"])
    out = capsys.readouterr().out
    parser = cli.build_parser()
    subp = parser._subparsers._group_actions[0].choices[sub]
    for action in subp._actions:
        assert action.help, f"{sub} {action.dest} has no help"
    assert "usage" in out


def test_bad_scenario_file(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_text('name = "x"\nblokcs = 5\n')
    rc, _, err = run(capsys, "run", str(p))
    assert rc == 2 and err.strip() == "clawback-sim: error: bad.toml: blokcs: unknown key"


def test_unknown_scenario_and_parameter(capsys):
    rc, _, err = run(capsys, "run", "nope")
    assert rc == 2 and "unknown scenario 'nope'" in err and len(err.strip().splitlines()) == 1
    rc, _, err = run(capsys, "run", "default", "--set", "agents.nope=1")
    assert rc == 2 and "unknown parameter 'agents.nope'" in err
    rc, _, err = run(capsys, "sweep", "default", "--seeds", "1", "--set", "protocol.nope=1,2")
    assert rc == 2 and "unknown parameter 'protocol.nope'" in err


def test_missing_anvil(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("simulation.anvil.find_anvil", lambda: None)
    rc, _, err = run(capsys, "run", "default", "--out", str(tmp_path))
    assert rc == 2 and "anvil not found" in err and len(err.strip().splitlines()) == 1


def test_unreachable_url(capsys, tmp_path, artifacts):
    rc, _, err = run(capsys, "run", "default", "--chain", "http://127.0.0.1:9", "--out", str(tmp_path))
    assert rc == 2 and "cannot reach a JSON-RPC node at http://127.0.0.1:9" in err


def test_bad_chain_kind(capsys, tmp_path):
    rc, _, err = run(capsys, "run", "default", "--chain", "ganache", "--out", str(tmp_path))
    assert rc == 2 and "--chain must be anvil, embedded or an http(s) URL" in err


def _anvil_children(pid):
    import subprocess

    out = subprocess.run(["ps", "-eww", "-o", "pid,ppid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines()[1:] if "anvil" in line and "--auto-impersonate" in line
            and line.split()[1] == str(pid)]


def test_ctrl_c_stops_anvil(tmp_path, tiny_toml, artifacts, anvil_bin):
    import signal
    import subprocess
    import sys
    import time

    sc = tmp_path / "long.toml"
    sc.write_text(tiny_toml.replace("blocks = 12", "blocks = 5000"))
    p = subprocess.Popen([sys.executable, "-m", "simulation.cli", "run", str(sc), "--out", str(tmp_path / "o"),
                          "--quiet", "--no-plots"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not _anvil_children(p.pid) and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.1)
        children = _anvil_children(p.pid)
        assert children, "the run never started anvil"
        anvil_pid = int(children[0].split()[0])
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130 and b"interrupted" in err
    import os

    try:
        os.kill(anvil_pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "anvil outlived the interrupted run"
