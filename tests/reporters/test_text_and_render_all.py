"""The terminal summary and ``render_all``, the one call the CLI makes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadkit.errors import UsageError
from loadkit.reporters import FORMATS, render_all, text
from loadkit.results.model import RunResult


def test_terminal_summary_names_status_profiles_steps_and_every_verdict(result: RunResult) -> None:
    out = text.render(result)
    lines = out.splitlines()
    assert lines[0] == "loadkit · iris-staging · FAIL (exit 1): an SLA failed"
    assert any(line.startswith("throughput  throughput") and "27,000" in line for line in lines)
    assert any(line.strip().startswith("2     c=4") for line in lines)
    assert sum(line.lstrip().startswith(("PASS", "FAIL", "INCONCLUSIVE")) for line in lines) == 5
    assert "observed 212 ms > threshold 200 ms" in out
    assert "  ! the generator fell behind its schedule" in out


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
