"""The terminal summary and ``render_all``, the one call the CLI makes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadkit.errors import UsageError
from loadkit.reporters import FORMATS, render_all, text
from loadkit.reporters._common import fmt_num
from loadkit.results.model import RunResult


def test_terminal_summary_names_status_profiles_steps_and_every_verdict(result: RunResult) -> None:
    out = text.render(result)
    lines = out.splitlines()
    assert lines[0] == ("loadkit · iris-staging · FAIL (exit 1): an SLA failed; 1 ramp/stress "
                        "rule(s) judged at the lightest step, 1 of them broken at a heavier "
                        "step (see the table)")
    assert any(line.startswith("throughput  throughput") and "27,000" in line for line in lines)
    assert any(line.strip().startswith("2     c=4") for line in lines)
    assert sum(line.lstrip().startswith(("PASS", "FAIL", "INCONCLUSIVE"))
               for line in lines) == len(result.verdicts)
    assert "observed 212 ms > threshold 200 ms" in out
    assert "  ! the generator fell behind its schedule" in out


def test_a_long_headline_wraps_and_keeps_its_last_clause(result: RunResult) -> None:
    head = ("max sustained 9,750 rps under SLA; breaks at 10,000 rps (p99 2.57 s, errors 12.5%, "
            "mostly timeout and http_5xx); recovered in 3.25 s")
    ramp = replace(result.profiles[1], analysis=replace(result.profiles[1].analysis, headline=head))
    lines = text.render(replace(result, profiles=(result.profiles[0], ramp))).splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("ramp: max sustained"))
    assert all(len(line) <= text.LINE_WIDTH for line in lines[first:first + 3])
    assert lines[first + 1].startswith("  ") and lines[first + 1].strip()
    assert " ".join(line.strip() for line in lines[first:first + 2]) == f"ramp: {head}"


def test_a_stepped_rule_says_where_it_was_judged_and_where_it_first_broke(
        result: RunResult) -> None:
    rows = [line.split() for line in text.render(result).splitlines()
            if line.lstrip().startswith(("PASS", "FAIL")) and " ramp " in line]
    scoped, stepped = (" ".join(r) for r in rows)
    # scoped to step 2: judged there, and it failed there
    assert scoped.startswith("FAIL ramp p99 < 200ms @ step 2 (c=4) observed 212 ms")
    # judged the ramp's way: on the lightest step, where it passed; step 2 only broke it
    broken_p99 = fmt_num(result.profiles[1].stages[2].latency_ms.p99)
    assert stepped.startswith("PASS ramp p99 < 200ms (judged on step 0 (c=1); first broken at "
                              f"step 2 (c=4): {broken_p99} ms) observed 30 ms < threshold 200 ms")


def test_a_batch_size_sweep_names_each_steps_batch_size(result: RunResult) -> None:
    tp = result.profiles[0]
    warm, measured = tp.stages
    sweep = tuple(replace(measured, index=i + 1, label=f"c=32 batch={b}", batch_size=b)
                  for i, b in enumerate((1, 8, 32)))
    tp = replace(tp, stages=(warm, *sweep))
    lines = text.render(replace(result, profiles=(tp,), verdicts=())).splitlines()
    steps = [line.split()[:3] for line in lines if line.startswith("  ") and "c=32" in line]
    assert steps == [["0", "c=32", "(warm-up)"], ["1", "c=32", "batch=1"],
                     ["2", "c=32", "batch=8"], ["3", "c=32", "batch=32"]]


def test_a_stress_recovery_stage_is_named_as_one(result: RunResult) -> None:
    ramp = result.profiles[1]
    last = replace(ramp.stages[2], index=3, concurrency=None, rate=100.0,
                   label="recovery 100 rps", role="recovery")
    ramp = replace(ramp, stages=(*ramp.stages, last))
    out = text.render(replace(result, profiles=(ramp,), verdicts=()))
    assert any(line.split()[:3] == ["3", "recovery", "100"] for line in out.splitlines()), out


def test_terminal_summary_columns_line_up(result: RunResult) -> None:
    lines = text.render(result).splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("profile"))
    rps_end = lines[header].index("rps") + len("rps")
    for row in lines[header + 1: header + 3]:
        assert row[rps_end - 1] != " " and row[rps_end] == " ", row


def test_terminal_summary_cannot_be_hijacked_by_control_characters(result: RunResult) -> None:
    nasty = replace(result, scenario=replace(result.scenario, name="x\x1b[2J\ny"),
                    warnings=("w\x07arn",))
    out = text.render(nasty)
    assert "\x1b" not in out and "\x07" not in out
    assert "x?[2J y" in out


def test_render_all_writes_every_format_under_its_file_name(result: RunResult) -> None:
    files = render_all(result)
    assert list(files) == ["result.json", "report.html", "junit.xml", "summary.md",
                           "timeseries.csv"]
    assert all(isinstance(t, str) and t for t in files.values())
    assert [name for name, _ in FORMATS.values()] == list(files)


def test_render_all_renders_only_the_formats_asked(result: RunResult) -> None:
    assert list(render_all(result, ["junit", "csv", "junit"])) == ["junit.xml", "timeseries.csv"]


def test_render_all_refuses_an_unknown_format_with_one_line(result: RunResult) -> None:
    with pytest.raises(UsageError, match=r"^--format: unknown format 'pdf' \(choose from json, "):
        render_all(result, ["json", "pdf"])


def test_reporters_read_nothing_but_the_result(result: RunResult, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    summary = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    first = render_all(result, ["json", "junit", "markdown", "csv"])
    assert render_all(result, ["json", "junit", "markdown", "csv"]) == first
    assert not summary.exists() and list(tmp_path.iterdir()) == []
