"""The trend gate: a candidate against its current regime, through the CLI's exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loadkit.cli import _run
from loadkit.history.figures import Provenance
from loadkit.history.gate import check
from loadkit.history.store import HistoryStore
from loadkit.results import dumps
from tests.history.conftest import make_result, noisy_levels


@pytest.fixture
def stored(tmp_path: Path):
    """``stored(levels, branch=...) -> db``: a store holding one run per p50 level."""
    db = str(tmp_path / "h.sqlite")

    def fill(levels: list[float], branch: str | None = None, first_run: int = 0) -> str:
        store = HistoryStore.open(db, create=True)
        store.add([make_result(v, run=first_run + i) for i, v in enumerate(levels)],
                  Provenance(commit=f"sha{first_run}", branch=branch))
        store.close()
        return db

    return fill


def gate(tmp_path: Path, db: str, p50: float, *extra: str, **kw: object) -> int:
    path = tmp_path / "candidate.json"
    path.write_text(dumps(make_result(p50, run=1000, **kw)), encoding="utf-8")  # type: ignore[arg-type]
    return _run(["history", "check", str(path), "--db", db, *extra])


def test_a_run_like_the_current_regime_passes(tmp_path: Path, stored, capsys):
    db = stored(noisy_levels([10.0] * 12 + [12.0] * 12, seed=1))
    assert gate(tmp_path, db, 12.1) == 0
    assert "belongs to the current regime" in capsys.readouterr().out


def test_a_run_40_percent_slower_than_the_current_regime_fails_naming_metric_size_and_regime(
        tmp_path: Path, stored, capsys):
    levels = noisy_levels([10.0] * 12 + [12.0] * 12, seed=1)
    db = stored(levels)
    assert gate(tmp_path, db, 12.0 * 1.4) == 1
    out = capsys.readouterr().out
    line = out.splitlines()[1]
    assert re.match(r"regression: latency (p50|p95|p99|mean) [\d.]+ ms is \+4\d\.\d% against "
                    r"the current regime \(mean [\d.]+ ms, sd [\d.]+ ms, over 1\d runs", line), line
    assert "runs from run 12, commit sha0" in line


def test_a_faster_run_passes_and_says_it_is_better(tmp_path: Path, stored, capsys):
    db = stored(noisy_levels([10.0] * 12, seed=2))
    assert gate(tmp_path, db, 7.0) == 0
    assert "better than the current regime" in capsys.readouterr().out


def test_a_rise_in_errors_fails_even_when_latency_holds(tmp_path: Path, stored, capsys):
    db = stored(noisy_levels([10.0] * 12, seed=2))
    assert gate(tmp_path, db, 10.0, errors=6) == 1
    assert "error_rate 3.00% is +3.00 points" in capsys.readouterr().out


def test_too_short_a_history_is_inconclusive(tmp_path: Path, stored, capsys):
    db = stored([10.0, 10.2, 9.9])
    assert gate(tmp_path, db, 20.0) == 4
    assert "history too short" in capsys.readouterr().out


def test_a_change_three_runs_ago_is_not_a_regime_yet_so_a_run_like_them_still_fails(
        tmp_path: Path, stored, capsys):
    db = stored(noisy_levels([10.0] * 15 + [15.0] * 3, seed=4))
    assert gate(tmp_path, db, 15.0) == 1
    out = capsys.readouterr().out
    assert "over 15 runs from run 0" in out and "a change at run 15 is too recent" in out


def test_a_change_early_in_a_short_history_leaves_too_few_runs_either_side(tmp_path: Path, stored,
                                                                            capsys):
    db = stored([10.0, 10.1, 9.9, 20.0, 20.2, 19.8, 20.1])
    assert gate(tmp_path, db, 20.0) == 4
    assert "too few to judge" in capsys.readouterr().out


def test_branch_gates_against_that_branchs_runs_only(tmp_path: Path, stored):
    stored(noisy_levels([10.0] * 10, seed=5), branch="main")
    db = stored(noisy_levels([20.0] * 10, seed=6), branch="slow-experiment", first_run=100)
    assert gate(tmp_path, db, 20.0, "--branch", "main") == 1
    assert gate(tmp_path, db, 20.0, "--branch", "slow-experiment") == 0


def test_the_candidate_already_stored_is_not_part_of_its_own_regime():
    runs_results = [make_result(v, run=i) for i, v in enumerate(noisy_levels([10.0] * 5, seed=9))]
    candidate = make_result(30.0, run=99)
    store_runs = _as_stored(runs_results + [candidate])
    from loadkit.history.figures import digest

    outcome = check(candidate, store_runs, candidate_digest=digest(candidate))
    assert outcome.status == "fail" and outcome.history_runs == 5


def _as_stored(results):
    from loadkit.history.figures import digest, profile_figures
    from loadkit.results.history import StoredRun

    return [StoredRun(id=i, digest=digest(r), scenario="iris", started_at=r.started_at,
                      status=r.status, profiles={p.name: profile_figures(p) for p in r.profiles})
            for i, r in enumerate(results)]


def test_a_partial_candidate_is_inconclusive(tmp_path: Path, stored):
    db = stored(noisy_levels([10.0] * 8, seed=3))
    assert gate(tmp_path, db, 10.0, partial=True) == 4


def test_bad_options_are_one_line_errors(tmp_path: Path, stored, capsys):
    db = stored([10.0] * 6)
    assert gate(tmp_path, db, 10.0, "--alpha", "2") == 2
    assert "--alpha: must be between 0 and 1" in capsys.readouterr().err
    assert gate(tmp_path, db, 10.0, "--min-change", "lots") == 2
    assert "--min-change:" in capsys.readouterr().err


def test_a_figure_whose_regime_is_too_short_is_named_but_does_not_hold_up_the_others():
    from loadkit.history.gate import _verdict
    from loadkit.results.history import Finding

    ok = Finding("latency", "p50", "same", 10.0, 10.0, 0.1, 8, 4, None, 0.0, 0.5)
    short = Finding("latency", "p99", "too_short", 30.0, 25.0, 3.0, 3, 9)
    status, message = _verdict([ok, short], partial=False, min_regime=5)
    assert status == "pass" and "not judged: latency p99 (regime too short)" in message
    status, _ = _verdict([short], partial=False, min_regime=5)
    assert status == "inconclusive"
