"""The HTML analysis panel, kind by kind: each typed record read as sentences, word for
word (pure: records built by hand, nothing rendered)."""

from __future__ import annotations

from loadkit.reporters.analysis_text import analysis_sentences
from loadkit.results.analysis import (
    ColdStart,
    ConstantRateAnalysis,
    LatencyAnalysis,
    RampAnalysis,
    RampPoint,
    RampStep,
    Recovery,
    SoakAnalysis,
    SpikeAnalysis,
    StressAnalysis,
    StressPoint,
    StressStep,
    SummaryAnalysis,
)
from loadkit.results.search import SearchAnalysis


def _step(meets: bool | None) -> RampStep:
    return RampStep(index=1, concurrency=2, requests=10, throughput_rps=20.0, rows_per_s=20.0,
                    p50_ms=1.0, p95_ms=2.0, p99_ms=3.0, error_rate=0.0, efficiency=1.0,
                    meets_sla=meets, broken_rules=(), stable=None)


def test_a_stress_analysis_says_where_it_broke_what_held_and_how_it_recovered() -> None:
    a = StressAnalysis(
        steps=(), breaking_point=StressPoint(step=3, rate=800.0, throughput_rps=610.0,
                                             p99_ms=2100.0, error_rate=0.04,
                                             reasons=("p99 2.1s >= stop_when 2s", "achieved 610")),
        max_rate_under_sla=400.0, max_sustained_rps=395.0, peak_goodput_rps=586.0,
        peak_goodput_rate=800.0, recovery=Recovery("recovered", 3.0, 200.0, "why"),
        recovery_s=3.0, headline="elsewhere")
    assert analysis_sentences(a) == (
        "It broke at 800 rps offered: p99 2.1s >= stop_when 2s; achieved 610.",
        "395 rps were sustained under the SLA.",
        "At best 586 requests a second succeeded (at 800 rps offered).",
        "It recovered in 3 s after the overload (p99 back under 200 ms).")


def test_a_stress_analysis_with_steps_says_when_none_broke_or_none_held() -> None:
    step = StressPoint(step=0, rate=100.0, throughput_rps=100.0, p99_ms=20.0, error_rate=0.0,
                       reasons=())
    s = StressStep(index=0, rate=100.0, throughput_rps=100.0, goodput_rps=100.0, achieved=1.0,
                   p50_ms=10.0, p99_ms=20.0, max_ms=30.0, error_rate=0.0, rejected=0,
                   timed_out=0, other_errors=0, late=0, error_kinds={}, broke=())
    held = StressAnalysis(steps=(s,), max_rate_under_sla=100.0, max_sustained=step,
                          recovery=Recovery("did not recover", None, 40.0, "why"))
    assert analysis_sentences(held) == (
        "No step broke: the heaviest one still held.",
        "The SLA held up to 100 rps offered.",
        "It did not recover before the run ended (p99 back under 40 ms).")
    none_held = StressAnalysis(steps=(s,), recovery=Recovery("unknown", None, 0.0, "why"))
    assert analysis_sentences(none_held) == ("No step broke: the heaviest one still held.",
                                         "The SLA held at no offered rate.")


def test_a_spike_names_its_load_its_peak_against_the_baseline_and_its_errors() -> None:
    a = SpikeAnalysis(spike_stage=1, spike_load=1000.0, baseline_p99_ms=21.0, peak_p99_ms=900.5,
                      peak_max_ms=950.0, spike_errors=30,
                      recovery=Recovery("recovered", 2.0, 42.0, "why"), recovery_s=2.0)
    assert analysis_sentences(a) == (
        "During the spike to 1000 rps, p99 reached 900 ms against 21 ms before it, "
        "with 30 errors.",
        "Peak max ms: 950.",
        "It recovered in 2 s after the overload (p99 back under 42 ms).")


def test_a_constant_rate_profile_says_offered_against_achieved_and_failures() -> None:
    a = ConstantRateAnalysis(offered_rps=200.0, achieved_rps=190.0, achieved=0.95, late=1234,
                             error_rate=0.0125)
    assert analysis_sentences(a) == (
        "190 of 200 rps offered were achieved; 1,234 requests started late.",
        "1.25% of the requests failed.")
    on_time = ConstantRateAnalysis(offered_rps=None, achieved_rps=5.0, error_rate=0.0)
    assert analysis_sentences(on_time) == ("5 rps were achieved.", "0% of the requests failed.")


def test_a_latency_profile_says_its_cold_start_and_lists_its_figures() -> None:
    a = LatencyAnalysis(requests=200, p50_ms=4.1, p95_ms=5.0, p99_ms=6.3, max_ms=9.0,
                        cold_start=ColdStart(connect_s=0.4, ready_s=2.3, first_request_ms=340.0))
    assert analysis_sentences(a) == (
        "Cold start: ready after 2.3 s, first request 340 ms.",
        "Requests: 200.", "P50 ms: 4.1.", "P95 ms: 5.", "P99 ms: 6.3.", "Max ms: 9.")
    unready = LatencyAnalysis(cold_start=ColdStart(connect_s=0.4))
    assert analysis_sentences(unready)[0] == "Cold start: readiness not measured."


def test_a_ramp_without_rules_says_nothing_of_the_sla() -> None:
    a = RampAnalysis(steps=(_step(None),), no_knee=True, max_throughput_rps=20.0,
                     max_throughput_concurrency=2)
    assert analysis_sentences(a) == (
        "Throughput was still growing at the last step: no knee was reached.",
        "The most throughput was 20 rps, at concurrency 2.")
    judged = RampAnalysis(steps=(_step(False),), first_breaking_step=RampPoint(
        step=1, concurrency=2, throughput_rps=20.0, p50_ms=1.0, p99_ms=3.0, efficiency=1.0))
    assert analysis_sentences(judged) == (
        "The SLA held at no step.", "The SLA first broke at step 1 (concurrency 2): p99 3 ms.")


def test_a_soak_says_its_error_trend_and_rate() -> None:
    a = SoakAnalysis(p99_drift=0.5, p99_drift_ms=5.0, error_trend="rising",
                     error_rate_slope_per_min=0.0012, error_rate=0.002)
    assert analysis_sentences(a) == (
        "p99 moved by +50% (+5 ms) from the first to the last window.",
        "0.2% of the requests failed.",
        "Errors were rising (0.12% a minute).")


def test_a_search_and_an_unknown_kind() -> None:
    a = SearchAnalysis(model="open", unit="rps", answer=800.0, stop="precision",
                       max_rate_under_sla=800.0, headline="elsewhere")
    assert analysis_sentences(a) == ("The SLA held up to 800 rps offered.", "Answer: 800.",
                                     "Stop: precision.", "Duration s: 0.")
    assert analysis_sentences(SummaryAnalysis(kind="custom", headline="elsewhere")) == ()
