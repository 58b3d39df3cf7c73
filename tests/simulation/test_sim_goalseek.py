"""Goal-seek: the bisection on a fabricated monotone function, target parsing, and once end to end."""
import json

import pytest

from simulation.goalseek import Probe, Target, bisect, make_probe, parse_target


def fabricated(threshold):
    """A metric that is 0 from `threshold` on and positive below (monotone in the parameter)."""
    calls = []

    def evaluate(x):
        calls.append(x)
        v = max(0.0, threshold - x)
        return Probe(x, v, v <= 0, 10, 0 if v <= 0 else 10)

    return evaluate, calls


def test_bisection_brackets_the_threshold():
    evaluate, calls = fabricated(37.0)
    probes, answer, bracket = bisect(evaluate, 0.0, 100.0, probes=10)
    assert calls[:2] == [100.0, 0.0] and len(probes) == 10
    assert 37.0 <= answer <= 37.0 + 100 / 2**8 and bracket[0] < 37.0 <= bracket[1] == answer


def test_bisection_geometric_integer_and_edges():
    evaluate, calls = fabricated(3_000)
    probes, answer, _ = bisect(evaluate, 10, 1_000_000, probes=30, integer=True)
    assert answer == 3_000 and all(float(x).is_integer() for x in calls)
    assert calls[2] == pytest.approx(3162, abs=1)      # geometric midpoint of 10 and 1e6
    never, _ = fabricated(1e9)
    assert bisect(never, 1, 10, probes=5)[1:] == (None, None)
    always, _ = fabricated(-1)
    assert bisect(always, 1, 10, probes=5)[1] == 1
    with pytest.raises(ValueError, match="lo < hi"):
        bisect(always, 5, 5, probes=3)


def test_the_answer_is_a_value_that_was_actually_run():
    """Probes may round the value they run (6 significant digits); the answer is that value."""
    runs = []

    def evaluate(x):
        v = float(f"{x:.6g}")
        runs.append(v)
        return Probe(v, max(0.0, 422_000 - v), v >= 422_000, 10, 0)

    probes, answer, bracket = bisect(evaluate, 200_000, 4_000_000, probes=6)
    assert answer in runs and bracket[0] in runs and any(p.value == answer and p.met for p in probes)


def test_parse_target_and_probe_judgement():
    t = parse_target("p95 haircut = 0")
    assert t == Target("p95", "haircut", "=", 0.0) and str(t) == "p95 haircut = 0"
    assert parse_target("mean bad_debt <= 1_000").value == 1000
    for bad in ("p95 haircut", "p95 nonsense = 0", "median haircut = 0"):
        with pytest.raises(ValueError):
            parse_target(bad)
    rows = [{"socialized_loss": 0.0}] * 19 + [{"socialized_loss": 50.0}]
    p = make_probe(t, 1.0, rows)
    assert p.statistic == pytest.approx(2.5)           # 19 * 0.95 = 18.05: 5 % of the way to the one 50
    assert not p.met and p.exceed == 1 and p.n == 20
    p90 = make_probe(parse_target("p90 haircut = 0"), 1.0, rows)
    assert p90.met and p90.statistic == 0
    failed = make_probe(t, 1.0, rows[:-1] + [{"error": "boom"}])
    assert not failed.met  # a failed run never counts as meeting the target


def test_goal_seek_end_to_end_small(tmp_path, tiny_toml, artifacts, anvil_bin, capsys):
    from simulation.cli import main

    sc = tmp_path / "tiny.toml"
    sc.write_text(tiny_toml)
    out = tmp_path / "gs"
    rc = main(["size-fund", str(sc), "--target", "p95 haircut = 0", "--seeds", "2", "--probes", "3",
               "--blocks", "8", "--range", "1000:1000000", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    res = json.loads((out / "goalseek.json").read_text())
    assert res["answer"] is not None and "ANSWER: agents.protocol_fund.capital" in text
    met = {p["value"]: p["met"] for p in res["probes"]}
    assert met[1_000_000] and not met[1000]                       # a bigger fund needs no haircut
    assert all(len(p["rows"]) == 2 for p in res["probes"])         # each probe: a batch of seeds
    report = (out / "report.md").read_text()
    for part in ("## Verdict", "## Probes", "goalseek.png", "## Reproduce", "clawback-sim size-fund", "code version"):
        assert part in report
    assert (out / "goalseek.png").is_file()
