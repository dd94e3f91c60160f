"""Every report format shows TTFT / ITL / TPOT and tokens/s when the run streamed."""

from __future__ import annotations

import base64
import re

from loadkit.reporters import csv_report, html, markdown, text
from loadkit.results.model import RunResult
from loadkit.results.recorder import Recorder, StageMeta
from loadkit.testing import profile, run_result, stage


def streamed_result() -> RunResult:
    clock = iter(float(t) for t in range(1_700_000_000, 1_700_000_100))
    rec = Recorder(wall_clock=lambda: next(clock))
    sink = rec.begin_stage(StageMeta(index=0, label="c=4", concurrency=4))
    stream = sink.begin_streams(slo=True)
    for i in range(40):
        sink.ok(300_000 + i * 1000, 200)
        stream.add(80_000 + i * 500, [8_000_000] * 19, 11_000, 20, 8, "chunks", i % 4 != 0)
        if i == 19:
            rec.tick()
    sink.error("check_failed", 5_000, 200)
    stream.detail("check_failed: not an event stream: application/json")
    st = rec.finish(sink, 2.0)
    rec.tick()
    return run_result(profile("chat", stages=[st], timeseries=tuple(rec.intervals)), name="llm")


def test_text_and_markdown_show_the_streaming_table_and_what_came_instead() -> None:
    result = streamed_result()
    out = text.render(result)
    assert "TTFT p50 ms" in out and "ITL p99 ms" in out and "tokens/s" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("chat") and
               "89.5" in line)
    assert "73.2%" in row                     # 30 good of 41 requests
    assert "token counts from content chunks" in out
    assert "chat: 1 x check_failed: not an event stream: application/json" in out
    md = markdown.render(result)
    assert "### Streaming" in md and "| chat |" in md


def test_csv_gets_per_second_ttft_itl_and_tokens_columns_only_when_streamed() -> None:
    lines = csv_report.render(streamed_result()).splitlines()
    assert lines[0].endswith("ttft_p50_ms,ttft_p99_ms,itl_p50_ms,itl_p99_ms,output_tokens")
    assert lines[1].endswith(",400")          # 20 requests x 20 tokens in the first second
    classic = run_result(profile("p", stages=[stage(latencies_ms=[5.0] * 10)]))
    assert "ttft" not in csv_report.render(classic)


def test_html_names_ttft_and_plots_its_distribution_and_its_course_over_time() -> None:
    page = html.render(streamed_result())
    assert "TTFT p99" in page and "output tokens/s" in page
    svgs = [base64.b64decode(m).decode() for m in
            re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)]
    assert any("TTFT by percentile" in s for s in svgs)
    assert any("ITL and TPOT by percentile" in s for s in svgs)
    assert any("TTFT, ITL and tokens/s per second" in s for s in svgs)
