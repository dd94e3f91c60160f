"""Live progress: plain lines every ~5 s off a TTY, a rich panel on one, silence when quiet."""

from __future__ import annotations

import io
import re

from loadkit.progress import Progress
from loadkit.results.model import Interval
from loadkit.scenario.plan import Stage

STAGES = (Stage(index=0, label="c=8", concurrency=8, duration_s=6),
          Stage(index=1, label="c=16", concurrency=16, duration_s=6))


def feed(progress: Progress, seconds: int = 12) -> None:
    progress.start_profile("ramp", "ramp", len(STAGES))
    for sec in range(seconds):
        stage = STAGES[sec // 6]
        iv = Interval(t=1_700_000_000.0 + sec, elapsed_s=float(sec), stage=stage.index,
                      requests=100, ok=99, errors=1, rps=100.0, p50_ms=3.1, p90_ms=5.0,
                      p95_ms=6.0, p99_ms=12.4, max_ms=20.0)
        progress.on_interval(iv, stage, "ramp", float(sec), 12.0)
    progress.end_profile()
    progress.close()


def test_without_a_tty_progress_writes_a_plain_line_every_five_seconds_and_on_stage_change() -> None:
    out = io.StringIO()
    feed(Progress(quiet=False, is_tty=False, stream=out))
    lines = out.getvalue().splitlines()
    assert lines[0] == "[loadkit] ramp (ramp): starting, 2 stage(s)"
    ticks = [line for line in lines if " · stage " in line]
    # seconds 0 and 5 (stage c=8), 6 (stage change) and 11 (5 s later)
    assert [line.split(" · ")[2].split(" ")[0] for line in ticks] == ["0:00", "0:05", "0:06", "0:11"]
    assert ticks[2] == ("[loadkit] ramp · stage c=16 (2/2) · 0:06 / 0:12 (0:06 left) · 100.0 rps · "
                        "p50 3.1 ms · p99 12.4 ms · errors 7 (1.00%)")
    assert lines[-1] == "[loadkit] ramp: done, 1,200 requests, errors 12 (1.00%)"
    assert "\x1b" not in out.getvalue()


def test_quiet_progress_writes_nothing() -> None:
    out = io.StringIO()
    feed(Progress(quiet=True, is_tty=False, stream=out))
    feed(Progress(quiet=True, is_tty=True, stream=out))
    assert out.getvalue() == ""


def test_on_a_tty_progress_draws_a_live_panel() -> None:
    out = io.StringIO()
    feed(Progress(quiet=False, is_tty=True, stream=out), seconds=3)
    text = out.getvalue()
    assert "\x1b[" in text                      # drawn with terminal control codes
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert "loadkit · ramp (ramp)" in plain and "p99 12.4 ms" in plain
    assert "stage" in plain and "c=8 (1/2)" in plain and "errors" in plain


def test_a_stream_that_is_not_a_terminal_is_detected() -> None:
    assert Progress(quiet=False, stream=io.StringIO()).is_tty is False


def test_names_cannot_smuggle_control_sequences_into_the_log() -> None:
    out = io.StringIO()
    p = Progress(quiet=False, is_tty=False, stream=out)
    p.start_profile("a\x1b]0;pwned\x07b", "ramp", 1)
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
