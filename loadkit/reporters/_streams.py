"""What every report shows of a streaming endpoint: TTFT, ITL, TPOT, tokens/s, goodput.

Shared by the text, Markdown and HTML reporters (one table, the same cells) and
the CSV time series (its extra columns). Reads only what the result stores;
profiles of a classic endpoint have no row here and reports look as before.
"""

from __future__ import annotations

from loadkit.reporters._common import fmt_num
from loadkit.results.model import LatencySummary, ProfileResult, RunResult, StageResult, Summary

STREAM_HEADER = ("profile", "TTFT p50 ms", "TTFT p95 ms", "TTFT p99 ms", "ITL p50 ms",
                 "ITL p95 ms", "ITL p99 ms", "TPOT mean ms", "tokens/s", "goodput rps",
                 "SLO met")
STREAM_ALIGN = "l" + "r" * (len(STREAM_HEADER) - 1)
SECOND_COLUMNS = ("ttft_p50_ms", "ttft_p99_ms", "itl_p50_ms", "itl_p99_ms", "output_tokens")


def _ms(summary: LatencySummary | None, stat: str, count: int) -> str:
    return fmt_num(getattr(summary, stat)) if summary is not None and count else "-"


def stream_cells(s: Summary) -> list[str]:
    """One summary's streaming cells (after the profile name)."""
    ttft_n, itl_n, tpot_n = (s.stream_hist(m).count for m in ("ttft", "itl", "tpot"))
    return [
        _ms(s.ttft_ms, "p50", ttft_n), _ms(s.ttft_ms, "p95", ttft_n), _ms(s.ttft_ms, "p99", ttft_n),
        _ms(s.itl_ms, "p50", itl_n), _ms(s.itl_ms, "p95", itl_n), _ms(s.itl_ms, "p99", itl_n),
        _ms(s.tpot_ms, "mean", tpot_n), fmt_num(s.output_tokens_per_s),
        fmt_num(s.goodput_rps),
        "-" if s.slo_attainment is None else f"{fmt_num(s.slo_attainment * 100)}%",
    ]


def streaming_profiles(result: RunResult) -> list[ProfileResult]:
    return [p for p in result.profiles if p.summary.streamed]


def stream_rows(result: RunResult) -> list[list[str]]:
    """One row per streaming profile: its name, then ``stream_cells``."""
    return [[p.name, *stream_cells(p.summary)] for p in streaming_profiles(result)]


def tokens_note(result: RunResult) -> str:
    """Where the token counts came from, when it is not the server's usage."""
    sources = sorted({p.summary.tokens_from for p in streaming_profiles(result)} - {"usage", ""})
    if not sources:
        return ""
    return ("token counts from " + " and ".join(sources).replace("chunks", "content chunks "
            "(the server sent no usage)"))


def error_details(result: RunResult) -> list[str]:
    """What came instead of a good stream (``check_failed: not an event stream ...``)."""
    out = []
    for p in streaming_profiles(result):
        for text, n in p.summary.error_details.items():
            out.append(f"{p.name}: {n} x {text}")
    return out


STEP_HEADER = ("TTFT p99 ms", "ITL p95 ms", "tokens/s")


def step_cells(stage: StageResult) -> list[str]:
    """A step's streaming cells for a step table: where TTFT breaks, where ITL climbs."""
    return [_ms(stage.ttft_ms, "p99", stage.stream_hist("ttft").count),
            _ms(stage.itl_ms, "p95", stage.stream_hist("itl").count),
            fmt_num(stage.output_tokens_per_s)]
