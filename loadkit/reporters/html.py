"""report.html: one self-contained page for a release review (RunResult -> text).

A jinja2 template with autoescaping gets a small view model built here (cards,
tables, charts); every chart is an inline SVG data URI from ``charts`` /
``timecharts``, and the CSS is inline, so the file opens offline and fetches
nothing. The page carries no script at all and a Content-Security-Policy that
forbids any, so text from the scenario or the server can only ever be text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jinja2
import matplotlib
from matplotlib.colors import to_hex

from loadkit.reporters import charts, server_view, streamcharts, timecharts
from loadkit.reporters.probe_chart import probe_chart
from loadkit.reporters.server_chart import server_chart
from loadkit.reporters.analysis_text import analysis_sentences
from loadkit.reporters.search_report import probe_table
from loadkit.reporters._common import (
    INPUT_HEADER,
    LATENCY_METRICS,
    banner_tone,
    status_line,
    error_rate_pct,
    errors_cell,
    first_failures,
    fmt_duration,
    fmt_metric,
    fmt_num,
    headline,
    InputGroup,
    input_groups,
    iso_utc,
    notes,
    stage_load,
    verdict_counts,
    verdict_state,
)
from loadkit.reporters._verdicts import verdict_message, verdict_scope
from loadkit.results.aggregate import merged_histogram
from loadkit.reporters._streams import STEP_HEADER, STREAM_HEADER, step_cells, stream_cells
from loadkit.results.model import ProfileResult, RunResult, Summary, Verdict

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    note: str = ""
    tone: str = ""          # "", "good", "bad", "warn"


@dataclass(frozen=True)
class VerdictRow:
    state: str
    profile: str
    rule: str
    scope: str
    observed: str
    threshold: str
    message: str



@dataclass(frozen=True)
class ProfileView:
    anchor: str
    name: str
    kind: str
    headline: str
    cards: tuple[Card, ...]
    stage_header: tuple[str, ...]
    stage_rows: tuple[tuple[str, ...], ...]
    charts: tuple[charts.Chart, ...]
    analysis: tuple[str, ...]
    error_kinds: tuple[tuple[str, str], ...]
    status_codes: tuple[tuple[str, str], ...]
    verdicts: tuple[VerdictRow, ...] = field(default=())
    inputs: tuple[InputGroup, ...] = field(default=())
    server_line: str = ""                                    # the target's own metrics
    server_timing: str = ""                                  # client latency split (Server-Timing)
    server_header: tuple[str, ...] = field(default=())
    server_rows: tuple[tuple[str, ...], ...] = field(default=())
    server_notes: tuple[str, ...] = field(default=())


def _verdict_row(result: RunResult, v: Verdict) -> VerdictRow:
    return VerdictRow(state=verdict_state(v), profile=v.profile, rule=v.expr,
                      scope=verdict_scope(result, v),
                      observed=fmt_metric(v.metric, v.observed, v.unit),
                      threshold=fmt_metric(v.metric, v.threshold, v.unit),
                      message=verdict_message(v))


def _op(expr: str) -> str:
    m = re.search(r"(<=|>=|<|>)", expr)
    return m.group(1) if m else ""


def _limits(result: RunResult, profile: str) -> tuple[list[tuple[str, float]], float | None,
                                                      float | None]:
    """The profile's latency SLA lines, its p99 limit and its throughput floor."""
    latency: dict[str, float] = {}
    p99 = floor = None
    for v in result.verdicts:
        if v.profile != profile:
            continue
        if v.metric in LATENCY_METRICS:
            latency.setdefault(v.expr, v.threshold)
            if v.metric == "p99" and p99 is None:
                p99 = v.threshold
        elif v.metric == "throughput" and _op(v.expr) in (">", ">=") and floor is None:
            floor = v.threshold
    return list(latency.items()), p99, floor


def _sequential(n: int) -> list[str]:
    cmap = matplotlib.colormaps["viridis"]
    return [to_hex(cmap(0.05 + 0.8 * i / max(1, n - 1))) for i in range(n)]


def _profile_view(result: RunResult, i: int, p: ProfileResult) -> ProfileView:
    s, lat = p.summary, p.summary.latency_ms
    cards: tuple[Card, ...] = (
        Card("requests", f"{s.requests:,}", f"{fmt_duration(s.duration_s)} measured"),
        Card("throughput", f"{fmt_num(s.throughput_rps)} rps",
             f"{fmt_num(s.rows_per_s)} rows/s" if s.rows_per_s else ""),
        Card("p50", f"{fmt_num(lat.p50)} ms"), Card("p95", f"{fmt_num(lat.p95)} ms"),
        Card("p99", f"{fmt_num(lat.p99)} ms", f"max {fmt_num(lat.max)} ms"),
        Card("errors", f"{s.errors:,}", error_rate_pct(s.errors, s.requests),
             "bad" if s.errors else "good"))
    header: tuple[str, ...] = ("step", "load", "duration", "requests", "rps", "p50 ms", "p95 ms", "p99 ms",
              "max ms", "errors", "late")
    rows: tuple[tuple[str, ...], ...] = tuple((
                  str(st.index), stage_load(st) + (" · warm-up" if st.warmup else ""),
                  fmt_duration(st.duration_s), f"{st.requests:,}", fmt_num(st.throughput_rps),
                  fmt_num(st.latency_ms.p50), fmt_num(st.latency_ms.p95),
                  fmt_num(st.latency_ms.p99), fmt_num(st.latency_ms.max),
                  errors_cell(st.errors, st.requests), f"{st.late:,}")
                 for st in p.stages)
    if s.streamed:
        cards += _stream_cards(s)
        header += STEP_HEADER
        rows = tuple((*row, *step_cells(st)) for row, st in zip(rows, p.stages, strict=True))
    thresholds, p99_limit, floor = _limits(result, p.name)
    made = [*streamcharts.stream_charts(i, p),
            timecharts.latency_chart(f"latency-{i}", p, thresholds),
            timecharts.throughput_chart(f"throughput-{i}", p, floor)]
    made.append(server_chart(f"server-{i}", p))
    measured = p.measured_stages()
    probes = probe_table(p)
    if probes[1]:                      # a capacity search: its probes, not steps in order
        header, rows = probes[0], tuple(probes[1])
        made.append(probe_chart(f"probes-{i}", p))
    elif len(measured) > 1:
        made.append(charts.load_curve_chart(f"curve-{i}", p, p99_limit, floor))
        made.append(charts.spectrum_chart(
            f"spectrum-{i}", f"{charts.short(p.name, 40)}: latency by percentile, per step",
            [(stage_load(st), st.hist()) for st in measured], _sequential(len(measured))))
    server = server_view.stage_table(p)
    firsts = first_failures(p)
    codes: dict[str, int] = {}
    for st in measured:
        for code, n in st.status_codes.items():
            codes[code] = codes.get(code, 0) + n
    return ProfileView(
        anchor=f"profile-{i}", name=p.name, kind=p.kind, headline=headline(p), cards=cards,
        stage_header=header, stage_rows=rows, charts=tuple(c for c in made if c is not None),
        analysis=analysis_sentences(p.analysis),
        error_kinds=tuple((k, f"{n:,}" + (f" (first: {firsts[k]})" if k in firsts else ""))
                          for k, n in s.error_kinds.items() if n),
        status_codes=tuple((k, f"{n:,}") for k, n in sorted(codes.items())),
        verdicts=tuple(_verdict_row(result, v) for v in result.verdicts if v.profile == p.name),
        inputs=tuple(input_groups(p)),
        server_line=server_view.server_headline(p), server_header=tuple(server[0]),
        server_timing=server_view.timing_line(p),
        server_rows=tuple(tuple(r) for r in server[1]),
        server_notes=tuple(server_view.scrape_lines(p)))


def _stream_cards(s: Summary) -> tuple[Card, ...]:
    """TTFT, ITL, TPOT, tokens/s and SLO attainment of a streaming profile."""
    cells = dict(zip(STREAM_HEADER[1:], stream_cells(s), strict=True))
    slo = (Card("SLO met", cells["SLO met"], f"goodput {cells['goodput rps']} rps",
                "good" if (s.slo_attainment or 0) >= 0.99 else "warn"),) if (
        s.slo_attainment is not None) else ()
    return (Card("TTFT p50", f"{cells['TTFT p50 ms']} ms"),
            Card("TTFT p99", f"{cells['TTFT p99 ms']} ms", "time to first token"),
            Card("ITL p95", f"{cells['ITL p95 ms']} ms", f"p50 {cells['ITL p50 ms']} ms"),
            Card("TPOT mean", f"{cells['TPOT mean ms']} ms", "time per output token"),
            Card("output tokens/s", cells["tokens/s"], f"{s.output_tokens or 0:,} tokens"),
            *slo)


def _headline_cards(result: RunResult) -> tuple[Card, ...]:
    profiles = result.profiles
    requests = sum(p.summary.requests for p in profiles)
    errors = sum(p.summary.errors for p in profiles)
    cards = [Card("requests", f"{requests:,}", f"{len(profiles)} profile(s)"),
             Card("error rate", error_rate_pct(errors, requests), f"{errors:,} errors",
                  "bad" if errors else "good")]
    stages = [(p, st) for p in profiles for st in p.measured_stages()]
    if stages:
        p, st = max(stages, key=lambda ps: ps[1].throughput_rps)
        cards.append(Card("peak throughput", f"{fmt_num(st.throughput_rps)} rps",
                          f"{p.name} · {stage_load(st)}"))
        worst = max(profiles, key=lambda q: q.summary.latency_ms.p99)
        cards.append(Card("worst p99", f"{fmt_num(worst.summary.latency_ms.p99)} ms", worst.name))
    cards.append(Card("duration", fmt_duration(result.duration_s), iso_utc(result.started_at)))
    counts = verdict_counts(result)
    if result.verdicts:
        tone = "bad" if counts["fail"] else ("warn" if counts["inconclusive"] else "good")
        cards.append(Card("SLA rules passed", f"{counts['pass']}/{len(result.verdicts)}",
                          f"{counts['fail']} failed · {counts['inconclusive']} inconclusive",
                          tone))
    return tuple(cards)


def _metadata(result: RunResult) -> dict[str, list[tuple[str, str]]]:
    sc, env, h = result.scenario, result.environment, result.health
    return {
        "Scenario": [("name", sc.name), ("target", sc.target), ("request", f"{sc.method} {sc.path}"),
                     ("batch size", str(sc.batch_size)), ("started", iso_utc(result.started_at)),
                     ("finished", iso_utc(result.finished_at)),
                     ("duration", fmt_duration(result.duration_s)),
                     ("partial", "yes" if result.partial else "no")],
        "Environment": [("loadkit", result.loadkit_version or "?"), ("python", env.python or "?"),
                        ("uvloop", "yes" if env.uvloop else "no"), ("transport", env.transport),
                        ("processes", str(env.processes)), ("host cores", str(env.host_cores)),
                        ("platform", env.platform or "?"),
                        ("TLS verification", "off (--insecure)" if env.insecure else "on")],
        "Generator health": [("fell behind", "YES" if h.fell_behind else "no"),
                             ("event-loop lag p99 / max", (f"{fmt_num(h.loop_lag_p99_ms)} / "
                                                          f"{fmt_num(h.loop_lag_max_ms)} ms")),
                             ("schedule lag p99 / max", (f"{fmt_num(h.schedule_lag_p99_ms)} / "
                                                        f"{fmt_num(h.schedule_lag_max_ms)} ms")),
                             ("late requests", f"{h.late:,}"),
                             ("CPU share", f"{fmt_num(h.cpu_share)} core(s)"),
                             ("max RSS", f"{fmt_num(h.max_rss_mb)} MB")],
    }


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True)


def render(result: RunResult) -> str:
    profiles = [_profile_view(result, i, p) for i, p in enumerate(result.profiles)]
    overview = [charts.spectrum_chart(
        "spectrum", "Latency by percentile (measured stages)",
        [(p.name, merged_histogram(p.measured_stages())) for p in result.profiles]),
        charts.error_chart(result)]
    status, exit_code, status_text = status_line(result)
    return _environment().get_template(TEMPLATE).render(
        result=result, status=status, status_text=status_text, tone=banner_tone(result),
        exit_code=exit_code, counts=verdict_counts(result),
        cards=_headline_cards(result), notes=notes(result),
        verdicts=[_verdict_row(result, v) for v in result.verdicts],
        overview=[c for c in overview if c is not None], profiles=profiles,
        metadata=_metadata(result), input_header=INPUT_HEADER, target=f"{result.scenario.method} "
                                           f"{result.scenario.target.rstrip('/')}"
                                           f"{result.scenario.path}",
        started=iso_utc(result.started_at), duration=fmt_duration(result.duration_s))
