"""`clawback-sim bench`: the three paths run the same fills, the per-run costs and the scale curve."""
from simulation.bench import PHASES, format_scale, run_costs, scale_point
from simulation.cli import main


def test_three_paths_same_fills_without_reverts(small_bench):
    r = small_bench
    assert (r.revm.tx, r.batched.tx, r.ape.tx) == (200, 200, 3)
    assert r.revm.reverted == r.batched.reverted == r.ape.reverted == 0
    assert r.revm.cpu > 0 and r.batched.cpu > 0  # anvil's CPU is counted too
    assert min(r.revm.rate, r.batched.rate) > r.ape.rate


def test_per_run_cost_on_each_chain(artifacts, anvil_bin):
    costs = run_costs("default", blocks=2, runs=1)
    assert [c.label.split(",")[0] for c in costs] == ["anvil", "revm", "revm"]
    for c in costs:
        # setup and loop come from summary.json, rounded to 0.01 s each (a 2-block run is ~0.03 s)
        assert len(c.total) == 1 and 0 < c.setup[0] + c.loop[0] <= c.total[0] + 0.01 and c.cpu[0] > 0


def test_scale_point_accounts_for_the_loop(artifacts):
    p = scale_point(20, 4)
    assert p.traders == 20 and p.accounts >= 20 and p.blocks == 4 and p.tx > 0
    assert set(p.phases) == set(PHASES)
    assert abs(sum(p.phases.values()) - p.loop_cpu) < 1e-6 and 0 < p.loop_cpu
    assert all(v >= 0 for k, v in p.phases.items() if k != "other") and p.phases["evm"] > 0 and p.phases["reads"] > 0
    assert "| 20 |" in format_scale([p])


def test_bench_cli_scale(artifacts, capsys):
    assert main(["bench", "--scale", "10", "--scale-blocks", "2"]) == 0
    out = capsys.readouterr().out
    assert "ms per block" in out and "| 10 |" in out
