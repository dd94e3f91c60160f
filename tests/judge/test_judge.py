"""judge(result): one pure function derives analysis, verdicts, status and warnings from
what a result stores, so a merged or re-read result is judged exactly as the run was."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from loadkit.testing import interval, latencies, profile, stage
from loadkit.testing import run_result as run
from loadkit.cli import _run
from loadkit.judge import judge
from loadkit.results import dumps, loads, read
from loadkit.results.aggregate import merge_results
from loadkit.results.analysis import StressAnalysis
from loadkit.results.model import SCHEMA, ProfileResult, RunResult, StopCondition
from loadkit.results.status import Status

T0 = 1_800_000_000.0
# (offered rps, p99 ms, error fraction): the 3rd step reaches stop_when's 10% errors
# before any SLA rule breaks, so only a judge that reads stop_when finds it there.
STEPS = ((100, 20, 0.0), (200, 30, 0.0), (400, 60, 0.12), (800, 900, 0.3))


def _stress(share: float = 1.0) -> ProfileResult:
    """A 10 s-a-step stress profile; ``share`` < 1 is one generator's part of it."""
    stages, ts, t = [], [], T0
    for i, (rate, p99, err) in enumerate(STEPS):
        n = int(rate * 10 * share)
        stages.append(stage(i, latencies(10, p99, n=n), rate=rate * share, errors=int(err * n),
                            duration_s=10.0, started_at=t))
        ts += [interval(t + k, i, p99, requests=n // 10, errors=int(err * n) // 10)
               for k in range(10)]
        t += 10
    n = int(500 * share)
    stages.append(stage(len(STEPS), latencies(10, 20, n=n), rate=50 * share, role="recovery",
                        label="recovery", duration_s=10.0, started_at=t))
    ts += [interval(t + k, len(STEPS), 900 if k < 2 else 20, requests=n // 10)
           for k in range(10)]
    p = profile("stress", "stress", stages, ts)
    return replace(p, sla=("p99 < 500ms", "throughput >= 150rps"),
                   stop_when=StopCondition(error_rate=0.1))


def _result(p: ProfileResult) -> RunResult:
    return replace(run(p), started_at=T0, finished_at=T0 + 60)


def test_a_stress_result_split_and_merged_is_judged_exactly_as_the_whole() -> None:
    whole = judge(_result(_stress()))
    half = _result(_stress(0.5))
    merged = judge(merge_results([half, replace(half, started_at=T0 + 0.001)]))
    assert merged.verdicts == whole.verdicts
    assert merged.status == whole.status
    a, b = whole.profiles[0].analysis, merged.profiles[0].analysis
    assert isinstance(a, StressAnalysis) and isinstance(b, StressAnalysis)
    assert a.breaking_point == b.breaking_point
    assert (a.max_rate_under_sla, a.headline) == (b.max_rate_under_sla, b.headline)
    # the stored stop condition is what broke the 400 rps step (no SLA rule did)
    assert a.breaking_point is not None and a.breaking_point.rate == 400
    assert any("stop_when" in r for r in a.breaking_point.reasons)


def test_judging_twice_changes_nothing_and_keeps_the_runs_own_notes() -> None:
    once = judge(replace(_result(_stress()), notes=("a note from the run",)))
    assert judge(once) == once
    assert once.warnings[0] == "a note from the run"


def test_an_unjudged_result_is_not_a_pass() -> None:
    r = _result(_stress())
    assert r.status is None and not r.passed and r.exit_code == 1


def test_the_python_conveniences_follow_the_status() -> None:
    r = judge(_result(_stress()))
    assert r.status is Status.PASS and r.passed and r.exit_code == 0 and r.failed_verdicts == ()
    bad = judge(_result(replace(_stress(), sla=("p99 < 5ms",))))
    assert bad.status is Status.FAIL and bad.exit_code == 1
    assert [v.expr for v in bad.failed_verdicts] == ["p99 < 5ms"]


def test_each_status_carries_its_exit_code() -> None:
    assert [s.exit_code for s in Status] == [0, 1, 4, 3, 130]


def test_a_profile_without_rules_is_judged_by_the_default_rule_and_every_error_fails_it() -> None:
    dead = profile("p", "constant-rate", [stage(0, latencies(1), rate=100, errors=1000)])
    r = judge(run(replace(dead, sla=("error_rate < 1%",), sla_origin="default")))
    (v,) = r.verdicts
    assert v.default and not v.passed and v.observed == 1.0
    assert r.status is Status.FAIL
    assert any("default rule error_rate < 1%" in w for w in r.warnings)


def test_sla_empty_gates_nothing_and_says_so() -> None:
    dead = profile("p", "constant-rate", [stage(0, latencies(1), rate=100, errors=1000)])
    r = judge(run(replace(dead, sla=(), sla_origin="none")))
    assert r.verdicts == () and r.status is Status.PASS
    assert any("nothing was gated" in w for w in r.warnings)


def test_latency_rules_judge_successes_and_no_success_is_no_data() -> None:
    # 600 immediate errors and 400 successes at 100 ms: the successes are what p50 means
    s = stage(0, [1.0] * 600 + [100.0] * 400, concurrency=8, errors=600, duration_s=2.0)
    r = judge(run(replace(profile("t", "throughput", [s]),
                          sla=("p50 < 50ms", "throughput >= 120rps"))))
    p50, thr = r.verdicts
    assert p50.observed == pytest.approx(100, rel=0.01) and not p50.passed
    assert thr.observed == 200 and thr.passed     # 400 successes in 2 s
    none_ok = stage(0, [1.0] * 10, concurrency=1, errors=10)
    (v,) = judge(run(replace(profile("t", "latency", [none_ok]), sla=("p99 < 1s",)))).verdicts
    assert v.observed is None and not v.passed and v.reason.startswith("no data")


def test_interrupted_and_stopped_early_runs_are_judged_from_their_own_flags() -> None:
    r = _result(_stress())
    assert judge(replace(r, interrupted=True)).status is Status.INTERRUPTED
    stopped = judge(replace(r, stopped_early="aborted: error_rate < 5% broken at 3s"))
    assert stopped.status is Status.FAIL and stopped.warnings[0].startswith("aborted:")


def test_loadkit_report_re_judges_a_stored_result_and_reproduces_its_verdicts(
        tmp_path: Path) -> None:
    judged = judge(_result(_stress()))
    stored = tmp_path / "result.json"
    # stored without its judgement: report derives it again from what the file keeps
    stored.write_text(dumps(replace(judged, verdicts=(), status=None, warnings=())))
    assert _run(["report", str(stored), "--out", str(tmp_path / "again")]) == 0
    again = read(str(tmp_path / "again" / "result.json"))
    assert again.verdicts == judged.verdicts and again.status == judged.status
    assert again.profiles[0].analysis == judged.profiles[0].analysis


V1 = Path(__file__).parent.parent / "results" / "data" / "v1_result.json"


def test_a_v1_result_still_loads_with_its_fields_mapped_honestly() -> None:
    old = json.loads(V1.read_text())
    r = loads(V1.read_text())
    assert r.schema == SCHEMA
    tp = r.profiles[0]
    warm, measured = tp.stages
    assert (warm.role, measured.role) == ("warmup", "measured")
    # v1's one histogram held every request: it is the v2 "all" histogram ...
    assert measured.histogram_all == old["profiles"][0]["stages"][1]["histogram"]
    assert measured.hist_all().count == measured.requests
    # ... and throughput counts successes now
    assert measured.throughput_rps == round(measured.ok / measured.duration_s, 3)
    # a stage with errors could not be split: the result says so
    assert any("loadkit.result/v1" in n for n in r.notes)
    rejudged = judge(r)
    assert rejudged.status is Status.FAIL and len(rejudged.verdicts) == 5


def _write(tmp_path: Path, name: str, result: RunResult) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(dumps(result))
    return str(path)


@pytest.mark.parametrize("change, words", [
    (None, "are the same run"),
    ({"scenario": "other"}, "different scenarios: synthetic, other"),
    ({"target": "http://10.0.0.1"}, "different targets"),
    ({"sla": ("p99 < 1s",)}, "different SLA rules"),
], ids=["self-merge", "scenarios", "targets", "rules"])
def test_merge_refuses_nonsense_with_one_line_unless_forced(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict | None,
        words: str) -> None:
    a = _result(_stress())
    b = a
    if change is not None:
        b = replace(a, started_at=a.started_at + 1)
        if "scenario" in change:
            b = replace(b, scenario=replace(b.scenario, name=change["scenario"]))
        if "target" in change:
            b = replace(b, scenario=replace(b.scenario, target=change["target"]))
        if "sla" in change:
            b = replace(b, profiles=(replace(b.profiles[0], sla=change["sla"]),))
    files = [_write(tmp_path, "a", a), _write(tmp_path, "b", b)]
    out = tmp_path / "m"
    assert _run(["merge", *files, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "--force" in err and "\n" not in err and not out.exists()
    if change is not None:      # --force (rendering every report) once is enough
        return
    assert _run(["merge", *files, "--out", str(out), "--force"]) in (0, 1)
    merged = read(str(out / "result.json"))
    assert any(n.startswith("merged with --force although") and words in n for n in merged.notes)


def test_merge_refuses_results_of_different_schema_versions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(V1), _write(tmp_path, "b", replace(loads(V1.read_text()), started_at=1.0))]
    assert _run(["merge", *files, "--out", str(tmp_path / "m")]) == 2
    assert "different schema versions: loadkit.result/v1, loadkit.result/v2" in \
        capsys.readouterr().err
