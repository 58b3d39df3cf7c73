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


@pytest.mark.parametrize("sub", ["run", "sweep", "bench", "params", "goal-seek", "size-fund"])
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


HIST = """name = "hist"
blocks = 96
block_time = 1800
[[markets]]
name = "BTC"
[prices]
model = "historical"
historical = {{ file = "{file}", start = 2020-03-11, end = 2020-03-12, blocks_per_day = 48 }}
"""


def test_missing_data_file_is_one_line_exit_2(tmp_path, capsys):
    sc = tmp_path / "hist.toml"
    sc.write_text(HIST.format(file=tmp_path / "nope.csv"))
    rc, _, err = run(capsys, "run", str(sc), "--out", str(tmp_path / "o"))
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "price data file not found" in err and "nope.csv" in err


def test_malformed_data_file_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,close,volume,unix_timestamp,high,low\n2020-03-11,7900,abc,1,1583884800,8000,7000\n")
    sc = tmp_path / "hist.toml"
    sc.write_text(HIST.format(file=bad))
    rc, _, err = run(capsys, "run", str(sc), "--out", str(tmp_path / "o"))
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "malformed line 2" in err
    bad.write_text("day,price\n1,2\n")
    rc, _, err = run(capsys, "run", str(sc), "--out", str(tmp_path / "o"))
    assert rc == 2 and "missing column(s) open" in err


def test_shipped_data_is_inside_the_package():
    from simulation.paths import DATA_DIR, PACKAGE_DIR, resolve_data_path
    from simulation.scenario import load_scenario

    for name in ("covid-2020", "ftx-2022"):
        f = resolve_data_path(load_scenario(name).prices.historical.file)
        assert f.is_file() and DATA_DIR in f.parents and PACKAGE_DIR in f.parents
        assert load_scenario(name).price_paths(1).true.shape[1] == load_scenario(name).effective_blocks() + 1


def test_existing_output_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    rc, _, err = run(capsys, "run", "default", "--out", str(out))
    assert rc == 2 and "already exists (pass --force" in err
    rc, _, err = run(capsys, "sweep", "default", "--seeds", "2", "--out", str(out))
    assert rc == 2 and "already exists" in err
    rc, _, err = run(capsys, "size-fund", "default", "--target", "p95 haircut = 0", "--out", str(out))
    assert rc == 2 and "already exists" in err


def test_default_output_folder_goes_to_a_new_sibling(tmp_path):
    (tmp_path / "runs-x").mkdir()
    (tmp_path / "runs-x" / "a").write_text("")
    assert cli.claim_out(tmp_path / "runs-x", force=False, default=True) == tmp_path / "runs-x-2"
    assert cli.claim_out(tmp_path / "runs-x", force=True) == tmp_path / "runs-x"


def test_dead_url_is_exit_2_for_sweep_and_goal_seek(tmp_path, capsys):
    rc, _, err = run(capsys, "sweep", "default", "--seeds", "1", "--chain", "http://127.0.0.1:9",
                     "--out", str(tmp_path / "s"))
    assert rc == 2 and "cannot reach a JSON-RPC node at http://127.0.0.1:9" in err
    rc, _, err = run(capsys, "goal-seek", "default", "--param", "markets.*.mmr", "--range", "0.01:0.05",
                     "--target", "p95 bad_debt = 0", "--chain", "http://127.0.0.1:9", "--out", str(tmp_path / "g"))
    assert rc == 2 and "cannot reach" in err


def test_crash_after_the_last_block_is_an_error(tmp_path, capsys):
    rc, _, err = run(capsys, "run", "default", "--blocks", "20", "--out", str(tmp_path / "o"))
    assert rc == 2 and "crash is scheduled at block 180, after the last block (20)" in err
    rc, _, err = run(capsys, "run", "default", "--set", "prices.crash.block=400", "--out", str(tmp_path / "o"))
    assert rc == 2 and "after the last block (360)" in err
    assert not (tmp_path / "o").exists()


def test_params_lists_every_dotted_parameter(capsys):
    rc, out, _ = run(capsys, "params", "multi-market-crash")
    keys = [line.split()[0] for line in out.splitlines()]
    assert rc == 0
    for k in ("markets.*.mmr", "markets.2.mmr", "prices.impact.model", "agents.liquidators.selection",
              "agents.protocol_fund.capital", "agents.stakers.threshold_spread", "protocol.max_cover_ratio"):
        assert k in keys, k
    from simulation.scenario import load_scenario

    sc = load_scenario("multi-market-crash")
    for k in keys:  # every listed key is accepted by --set
        if not k.startswith(("name", "description", "markets.*.name", "prices.historical", "prices.crash")):
            sc.with_overrides({k: _value_of(sc, k)})


def _value_of(sc, key):
    node = sc.model_dump(mode="python")
    for p in key.replace("*", "0").split("."):
        node = node[int(p)] if isinstance(node, list) else node[p]
    return node


def test_linked_parameters_move_every_market():
    from simulation.scenario import load_scenario

    sc = load_scenario("multi-market-crash").with_overrides({"markets.*.mmr": 0.04})
    assert [m.mmr for m in sc.markets] == [0.04, 0.04, 0.04]
    with pytest.raises(Exception, match="must be below imr"):
        load_scenario("multi-market-crash").with_overrides({"markets.*.mmr": 0.12})
    with pytest.raises(Exception, match="unknown parameter"):
        load_scenario("default").with_overrides({"prices.*.sigma": 1})


def test_parse_seeds():
    from simulation.sweep import parse_seeds

    assert parse_seeds("3") == [1, 2, 3] and parse_seeds("21-23") == [21, 22, 23] and parse_seeds("4,9") == [4, 9]
    with pytest.raises(ValueError, match="--seeds expects"):
        parse_seeds("x-y")
