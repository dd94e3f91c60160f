"""The HTML report: parses, holds every chart, fetches nothing, escapes what it did not write."""

from __future__ import annotations

import base64
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from loadkit.reporters import html, timecharts
from loadkit.results.analysis import (
    RampAnalysis,
    RampPoint,
    RampStep,
    SoakAnalysis,
    SummaryAnalysis,
    ThroughputAnalysis,
)
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import RunResult, Summary
from tests.reporters.builders import build_long_result

XSS = "<script>alert(1)</script>"


class Page(HTMLParser):
    """Collects what the assertions need: tags, attributes, images, text, style text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)

    @property
    def charts(self) -> dict[str, str]:
        return {a["data-chart"] or "": a.get("src") or "" for t, a in self.tags
                if t == "img" and "data-chart" in a}


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture(scope="module")
def page(result: RunResult) -> Page:
    return parse(html.render(result))


def test_report_holds_every_chart_for_the_profiles_present(page: Page) -> None:
    # overview: spectrum + errors; each profile: latency + throughput; the ramp: curve + steps
    expected = {"spectrum", "errors", "latency-0", "throughput-0", "latency-1", "throughput-1",
                "curve-1", "spectrum-1"}
    assert set(page.charts) == expected
    for key, src in page.charts.items():
        assert src.startswith("data:image/svg+xml;base64,"), key
        svg = base64.b64decode(src.split(",", 1)[1])
        assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg, key


def test_a_single_stage_profile_gets_no_load_curve(page: Page) -> None:
    assert "curve-0" not in page.charts and "spectrum-0" not in page.charts


def test_report_fetches_nothing_from_outside(page: Page) -> None:
    for tag, attrs in page.tags:
        for name in ("src", "href", "srcset", "action", "data"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag, name, value)
        assert tag not in ("script", "link", "iframe", "object", "embed"), tag
    css = "".join(page.styles).lower()
    assert "@import" not in css and "url(" not in css


def test_report_shows_the_sla_table_warnings_and_metadata(page: Page) -> None:
    text = " ".join(page.text)
    for needle in ("FAIL", "observed 212 ms > threshold 200 ms", "inconclusive",
                   "the generator fell behind its schedule", "iris-staging",
                   "http://127.0.0.1:8080", "3.11.7", "uvloop", "Saturates at concurrency 2"):
        assert needle in text, needle
    rows = [a.get("class") for t, a in page.tags if t == "tr" and (a.get("class") or "").startswith("row-")]
    assert rows[:6] == ["row-pass", "row-pass", "row-fail", "row-fail", "row-pass",
                        "row-inconclusive"]
    assert "judged on step 0 (c=1); first broken at step 2 (c=4)" in text


def test_text_from_the_scenario_and_the_server_is_escaped(result: RunResult) -> None:
    tp, ramp = result.profiles
    kinds = {XSS: tp.stages[1].errors - 1, "timeout": 1}     # they add up to the errors
    stage = replace(tp.stages[1], error_kinds=kinds)
    tp = replace(tp, name=XSS, stages=(tp.stages[0], stage),
                 summary=replace(tp.summary, error_kinds=kinds),
                 analysis=SummaryAnalysis(kind=XSS, headline=XSS))
    evil = replace(result, scenario=replace(result.scenario, name=XSS), profiles=(tp, ramp),
                   warnings=(XSS,),
                   verdicts=tuple(replace(v, profile=XSS) if v.profile == "throughput" else v
                                  for v in result.verdicts))
    text = html.render(evil)
    assert XSS not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    page = parse(text)
    assert all(tag != "script" for tag, _ in page.tags)
    assert " ".join(page.text).count(XSS) >= 5      # shown as text, not run


def test_a_turning_point_off_the_measured_steps_does_not_break_the_report(
        result: RunResult) -> None:
    far = RampPoint(step=99, concurrency=4096, throughput_rps=0.0, p50_ms=0.0, p99_ms=0.0,
                    efficiency=None)
    ramp = replace(result.profiles[1], analysis=RampAnalysis(knee=far, first_breaking_step=far))
    page = parse(html.render(replace(result, profiles=(result.profiles[0], ramp))))
    assert "curve-1" in page.charts


def test_a_result_without_profiles_or_verdicts_still_renders(result: RunResult) -> None:
    page = parse(html.render(replace(result, profiles=(), verdicts=(), status="error")))
    assert page.charts == {}
    assert "No SLA rules were checked." in " ".join(page.text)


def test_a_profile_that_measured_nothing_renders_and_says_so(result: RunResult) -> None:
    tp = result.profiles[0]
    empty = replace(tp.stages[1], histogram=LatencyHistogram().encode(), requests=0, ok=0,
                    errors=0, error_kinds={})
    nothing = replace(tp, stages=(empty,), timeseries=(), summary=Summary())
    text = html.render(replace(result, profiles=(nothing,), verdicts=()))
    page = parse(text)
    assert page.charts == {}
    assert "No per-second data was recorded for this profile." in " ".join(page.text)


def test_a_ten_minute_multi_stage_run_renders_under_two_megabytes() -> None:
    long = build_long_result(minutes=10, stages=5)
    assert len(long.profiles[0].timeseries) == 600
    text = html.render(long)
    assert len(text.encode("utf-8")) < 2_000_000
    assert {"spectrum", "errors", "latency-0", "throughput-0", "curve-0",
            "spectrum-0"} <= set(parse(text).charts)


def test_a_very_long_run_is_binned_so_the_report_stays_small() -> None:
    long = build_long_result(minutes=60, stages=4)
    assert len(long.profiles[0].timeseries) == 3600
    binned = timecharts.series(long.profiles[0])
    assert binned is not None and binned.bin_s == 3      # 3600 s -> 1200 points
    assert len(html.render(long).encode("utf-8")) < 2_000_000


def test_the_banner_is_never_green_above_nothing_gated(result) -> None:
    from dataclasses import replace

    from loadkit.reporters import html
    from loadkit.results.status import Status

    ungated = html.render(replace(result, verdicts=(), status=Status.PASS))
    assert 'class="banner st-ungated"' in ungated and "nothing was gated" in ungated
    assert 'class="banner st-pass"' not in ungated


def test_analysis_panels_read_as_sentences_not_key_dumps() -> None:
    from loadkit.reporters.analysis_text import analysis_sentences

    step = RampStep(index=3, concurrency=4, requests=2000, throughput_rps=242.8, rows_per_s=242.8,
                    p50_ms=10.0, p95_ms=20.0, p99_ms=30.0, error_rate=0.0, efficiency=0.9,
                    meets_sla=True, broken_rules=(), stable=None)
    ramp = RampAnalysis(headline="shown elsewhere", steps=(step,), max_concurrency_under_sla=4,
                        max_concurrency_under_sla_rps=242.8,
                        knee=RampPoint(step=5, concurrency=16, throughput_rps=571.2, p50_ms=30.0,
                                       p99_ms=79.4, efficiency=0.48))
    assert analysis_sentences(ramp) == (
        "Throughput stops growing at concurrency 16 (the knee): 571 rps, p99 79.4 ms, "
        "scaling efficiency 48%.",
        "The SLA held up to concurrency 4 (243 rps).")
    soak = SoakAnalysis(p99_drift=-0.112, p99_drift_ms=-1.5, window_s=60, headline="elsewhere")
    assert analysis_sentences(soak) == (
        "p99 moved by -11.2% (-1.5 ms) from the first to the last 60 s window.",)
    # A figure no sentence says (the best batch size) is still listed, by its name.
    tp = ThroughputAnalysis(max_sustained_rps=780.0, max_rows_per_s=800.0, best_batch_size=8)
    assert analysis_sentences(tp) == ("780 rps were sustained.", "At best 800 rows a second.",
                                      "Best batch size: 8.")
    assert analysis_sentences(None) == ()


def test_the_last_partial_second_is_counted_as_partial(result) -> None:
    from dataclasses import replace

    from loadkit.reporters import timecharts

    p = result.profiles[0]
    last = p.timeseries[-1]
    partial = replace(p, finished_at=last.t + 0.25)
    s = timecharts.series(partial)
    assert s is not None and s.last_s == 0.25
    assert s.errors_per_s[-1] == last.errors / 0.25     # a rate, not a count
    assert timecharts.series(replace(p, finished_at=last.t + 5)).last_s == 1.0


def test_a_batch_sweep_is_charted_by_batch_size_and_a_recovery_stays_off_the_load_axis():
    from loadkit.reporters import charts
    from loadkit.testing import latencies, profile, stage

    sweep = profile("sweep", "throughput", [
        stage(i, latencies(5 + i, 9 + i), concurrency=16, batch_size=b)
        for i, b in enumerate((1, 8, 32))])
    chart = charts.load_curve_chart("c", sweep, None, None)
    assert chart is not None and "batch size" in chart.title
    assert chart.alt.count("rows/s") == 3 and "recovery" not in chart.alt
    stress = profile("stress", "stress", [
        stage(0, latencies(5, 9), rate=600), stage(1, latencies(6, 20), rate=800),
        stage(2, latencies(5, 9), rate=100, role="recovery", label="recovery 100 rps")])
    chart = charts.load_curve_chart("s", stress, None, None)
    assert chart is not None and "800 rps →" in chart.alt and "recovery" not in chart.alt
