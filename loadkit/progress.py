"""Live progress while a run goes on: a rich panel on a TTY, plain lines in CI logs.

Sits beside the flow, not in it: the runner hands it each per-second Interval the
recorder already made (once a second, never per request), so it cannot slow the hot
loop. It sees only Intervals, Stages and names, never a request, a header or a URL,
so it has no secret to leak. ``quiet`` makes every method a no-op.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, TextIO

if TYPE_CHECKING:
    from loadkit.results.model import Interval
    from loadkit.scenario.plan import Stage

PLAIN_EVERY_S = 5.0
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(text: object, width: int = 40) -> str:
    out = _CONTROL.sub("?", " ".join(str(text).split()))
    return out if len(out) <= width else out[: width - 1] + "…"


def _clock(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 100 else f"{value:.3g} ms"


def stage_text(stage: Stage) -> str:
    load = (f"{stage.rate:g} rps" if stage.rate is not None
            else f"c={stage.concurrency}" if stage.concurrency is not None else "")
    label = _clean(stage.label, 30) if stage.label else load
    if load and load not in label:
        label = f"{label} ({load})"
    return label + (" warm-up" if stage.warmup and "warm" not in label.lower() else "")


@dataclass
class _State:
    """What the view shows; updated once a second."""

    name: str = ""
    kind: str = ""
    n_stages: int = 0
    stage: str = ""
    stage_index: int = 0
    elapsed_s: float = 0.0
    total_s: float | None = None
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    errors: int = 0
    last_plain_s: float | None = None
    last_plain_stage: int | None = None

    def error_text(self) -> str:
        pct = 100.0 * self.errors / self.requests if self.requests else 0.0
        return f"{self.errors:,} ({pct:.2f}%)"

    def stage_pos(self) -> str:
        if 0 < self.n_stages and self.stage_index < self.n_stages:
            return f" ({self.stage_index + 1}/{self.n_stages})"
        return ""

    def time_text(self) -> str:
        if self.total_s:
            left = max(0.0, self.total_s - self.elapsed_s)
            return f"{_clock(self.elapsed_s)} / {_clock(self.total_s)} ({_clock(left)} left)"
        return _clock(self.elapsed_s)


class Progress:
    """The live view. ``is_tty=None`` asks the stream; ``stream`` defaults to stderr."""

    def __init__(self, quiet: bool, is_tty: bool | None = None,
                 stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream: TextIO = stream if stream is not None else sys.stderr
        if is_tty is None:
            isatty = getattr(self.stream, "isatty", None)
            is_tty = bool(isatty()) if callable(isatty) else False
        self.is_tty = is_tty
        self._state = _State()
        self._live: Any = None

    # -- the runner's hooks ---------------------------------------------------------
    def start_profile(self, name: str, kind: str, n_stages: int) -> None:
        if self.quiet:
            return
        self._state = _State(name=_clean(name), kind=_clean(kind, 20), n_stages=n_stages)
        if self.is_tty:
            self._live_update()
        else:
            self._write(f"[loadkit] {self._state.name} ({self._state.kind}): starting, "
                        f"{n_stages} stage(s)")

    def on_interval(self, interval: Interval, stage: Stage, profile_name: str,
                    elapsed_s: float, total_s: float | None) -> None:
        if self.quiet:
            return
        st = self._state
        if not st.name:
            st.name = _clean(profile_name)
        st.stage, st.stage_index = stage_text(stage), stage.index
        st.elapsed_s, st.total_s = elapsed_s, total_s
        st.rps, st.p50_ms, st.p99_ms = interval.rps, interval.p50_ms, interval.p99_ms
        st.requests += interval.requests
        st.errors += interval.errors
        if self.is_tty:
            self._live_update()
            return
        due = st.last_plain_s is None or elapsed_s - st.last_plain_s >= PLAIN_EVERY_S - 1e-6
        if due or st.last_plain_stage != stage.index:
            st.last_plain_s, st.last_plain_stage = elapsed_s, stage.index
            self._write(self.plain_line())

    def end_profile(self) -> None:
        if self.quiet or not self._state.name:
            return
        st = self._state
        if not self.is_tty:
            self._write(f"[loadkit] {st.name}: done, {st.requests:,} requests, "
                        f"errors {st.error_text()}")

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- views ------------------------------------------------------------------
    def plain_line(self) -> str:
        st = self._state
        return (f"[loadkit] {st.name} · stage {st.stage}{st.stage_pos()} · {st.time_text()} · "
                f"{st.rps:,.1f} rps · p50 {_ms(st.p50_ms)} · p99 {_ms(st.p99_ms)} · "
                f"errors {st.error_text()}")

    def _write(self, line: str) -> None:
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):       # a closed pipe must not end the run
            pass

    def _panel(self) -> Any:
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        st = self._state
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_row("stage", Text(f"{st.stage or '-'}{st.stage_pos()}"))
        grid.add_row("time", Text(st.time_text()) + self._bar())
        grid.add_row("throughput", Text(f"{st.rps:,.1f} rps", style="bold"))
        grid.add_row("last second", Text(f"p50 {_ms(st.p50_ms)}   p99 {_ms(st.p99_ms)}"))
        grid.add_row("errors", Text(st.error_text(), style="bold red" if st.errors else "green"))
        title = Text("loadkit · ") + Text(st.name, style="bold") + Text(f" ({st.kind})")
        return Panel(grid, title=title, title_align="left", expand=False)

    def _bar(self, width: int = 20) -> Any:
        from rich.text import Text

        st = self._state
        if not st.total_s:
            return Text("")
        done = min(1.0, max(0.0, st.elapsed_s / st.total_s))
        full = round(done * width)
        return Text("  ") + Text("█" * full, style="cyan") + Text("░" * (width - full),
                                                                    style="dim")

    def _live_update(self) -> None:
        try:
            if self._live is None:
                from rich.console import Console
                from rich.live import Live

                console = Console(file=self.stream, force_terminal=True)
                self._live = Live(self._panel(), console=console, refresh_per_second=4,
                                  transient=False)
                self._live.start()
            else:
                self._live.update(self._panel())
        except (OSError, ValueError):
            self._live = None
