"""`history show` (table and the JSON contract of DESIGN.md) and `history export`."""

from __future__ import annotations

import json

import pytest

from loadkit.cli import _run
from loadkit.history.figures import Provenance
from loadkit.history.store import HistoryStore
from loadkit.results import dumps
from tests.history.conftest import make_result, noisy_levels


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """20 runs of 'iris', 20% slower from run 10; one run of 'checkout' (read-only here)."""
    path = str(tmp_path_factory.mktemp("show") / "h.sqlite")
    store = HistoryStore.open(path, create=True)
    for i, v in enumerate(noisy_levels([10.0] * 10 + [12.0] * 10, seed=21, outliers=0)):
        store.add([make_result(v, run=i, errors=i % 2)], Provenance(commit=f"{i:02d}" * 20,
                                                                    branch="main"))
    store.add([make_result(5.0, name="checkout")], Provenance())
    return path


def test_show_json_has_runs_oldest_first_and_change_points_with_the_new_regimes_index(db, capsys):
    assert _run(["history", "show", "--scenario", "iris", "--db", db, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["index"] for r in data["runs"]] == list(range(20))
    times = [r["started_at"] for r in data["runs"]]
    assert times == sorted(times) and len(set(times)) == 20
    assert set(data["runs"][0]["profiles"]["latency"]) >= {"p50", "p95", "p99", "mean",
                                                          "throughput", "error_rate"}
    assert data["runs"][3]["profiles"]["latency"]["error_rate"] == pytest.approx(1 / 200)
    p50 = [cp for cp in data["change_points"] if cp["metric"] == "p50"]
    assert len(p50) == 1
    assert set(p50[0]) >= {"profile", "metric", "index", "before", "after", "direction",
                           "p_value", "confidence", "commit"}
    assert (p50[0]["index"], p50[0]["direction"], p50[0]["commit"]) == (10, "worse", "10" * 20)
    assert not [cp for cp in data["change_points"] if cp["metric"] == "error_rate"]


def test_show_prints_a_table_marking_the_change_point_run(db, capsys):
    assert _run(["history", "show", "--scenario", "iris", "--db", db]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.lstrip().startswith("10 "))
    assert "p50 +" in row and "1010101010" in row
    assert "change points" in out and "worse" in out
    assert "  latency p50: mean 12" in out and "over 10 run(s) from run 10" in out


def test_check_json_names_each_figure_state_and_the_status(db, tmp_path, capsys):
    path = tmp_path / "slow.json"
    path.write_text(dumps(make_result(20.0, run=99)), encoding="utf-8")
    assert _run(["history", "check", str(path), "--db", db, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "fail" and data["history_runs"] == 20
    p50 = next(f for f in data["findings"] if f["metric"] == "p50")
    assert (p50["state"], p50["regime_start"], p50["regime_runs"]) == ("regression", 10, 10)
    assert p50["change"] == pytest.approx(20.0 / p50["regime_mean"] - 1)


def test_show_without_a_scenario_in_a_store_of_several_asks_for_one(db, capsys):
    assert _run(["history", "show", "--db", db]) == 2
    assert "holds 2 scenarios (checkout, iris): pick one with --scenario" in capsys.readouterr().err


def test_export_for_github_action_benchmark_splits_smaller_and_bigger_is_better(db, tmp_path,
                                                                              capsys):
    assert _run(["history", "export", "--scenario", "iris", "--db", db,
                 "--format", "github-action-benchmark"]) == 0
    smaller = json.loads(capsys.readouterr().out)
    names = {e["name"] for e in smaller}
    assert {"iris/latency p50", "iris/latency p99", "iris/latency error_rate"} <= names
    assert not any("throughput" in n for n in names)
    assert all(set(e) == {"name", "unit", "value", "extra"} for e in smaller)
    assert _run(["history", "export", "--scenario", "iris", "--db", db, "--bigger",
                 "--format", "github-action-benchmark"]) == 0
    bigger = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in bigger] == ["iris/latency throughput"]
    assert bigger[0]["unit"] == "rps"


def test_export_for_bencher_is_its_metric_format_for_a_given_result(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text(dumps(make_result(10.0, errors=2)), encoding="utf-8")
    assert _run(["history", "export", str(path), "--format", "bencher"]) == 0
    data = json.loads(capsys.readouterr().out)
    bench = data["iris/latency"]
    assert bench["p50"]["value"] == pytest.approx(10.0, rel=1e-3)
    assert bench["error-rate"]["value"] == pytest.approx(1.0)          # percent
    assert set(bench) == {"p50", "p95", "p99", "mean", "throughput", "error-rate"}


def test_a_run_index_out_of_range_is_a_one_line_error(db, capsys):
    assert _run(["history", "result", "25", "--scenario", "iris", "--db", db]) == 2
    assert "--run: 25 is out of range: 'iris' has runs 0-19" in capsys.readouterr().err
