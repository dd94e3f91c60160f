"""loadkit as a library: run a scenario, gate on it, write its reports.

Where it sits: above the runner, beside the CLI, and what the pytest plugin
calls. ``run`` takes a scenario (a path or a loaded ``Scenario``) and the
command line's overrides as keywords, and returns the judged RunResult
(``.passed``, ``.status``, ``.exit_code``, ``.failed_verdicts``);
``assert_sla`` turns a result that did not pass into an AssertionError naming
every rule that failed with what was observed against its threshold;
``write_reports`` renders the report files the CLI writes.

Override values accept what the command line accepts (``duration="30s"``,
``rate="200rps"``, ``wait_ready="10s"``) or plain numbers (seconds, requests a
second); a bad one raises ``UsageError`` naming the keyword, before anything is
sent.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loadkit.errors import UsageError
from loadkit.redact import redact_target

if TYPE_CHECKING:
    from loadkit.engine.transport import Transport
    from loadkit.results.model import RunResult, Verdict
    from loadkit.runner import RunOptions
    from loadkit.scenario import Scenario

FORMAT_NAMES = ("json", "html", "junit", "markdown", "csv")   # loadkit.reporters.FORMATS


def _number(name: str, parse: Callable[[str], float], value: str | float | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        return parse(value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise UsageError(f"{name}: {exc}") from None


def _names(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def prepare(scenario: str | os.PathLike[str] | Scenario, *, target: str | None = None,
            profile: str | Sequence[str] | None = None, duration: str | float | None = None,
            concurrency: int | None = None, rate: str | float | None = None,
            sla: str | Sequence[str] = (), processes: int | str = 1,
            transport: str | Transport = "auto", wait_ready: str | float | None = None,
            insecure: bool = False) -> tuple[Scenario, RunOptions]:
    """The scenario with the overrides applied, and how to run it (``loadkit run``'s flags).

    Raises ``UsageError`` (exit 2) naming the first bad value; sends nothing.
    """
    from loadkit.runner import RunOptions
    from loadkit.scenario import Scenario, apply_overrides, load_scenario
    from loadkit.units import parse_duration, parse_rate

    duration_s = _number("duration", parse_duration, duration)
    rate_rps = _number("rate", parse_rate, rate)
    wait_s = _number("wait_ready", parse_duration, wait_ready) or 0.0
    if concurrency is not None and (isinstance(concurrency, bool) or concurrency < 1):
        raise UsageError(f"concurrency: must be at least 1 (got {concurrency!r})")
    if target is not None and not target.startswith(("http://", "https://")):
        raise UsageError(f"target: {redact_target(target)!r} is not an http(s) URL")
    nproc = _processes(processes)
    if isinstance(transport, str) and transport not in ("auto", "fast", "aiohttp"):
        raise UsageError(f"transport: unknown transport {transport!r} "
                         "(choose auto, fast or aiohttp, or pass a Transport instance)")
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(os.fspath(scenario))
    sc = apply_overrides(sc, duration_s=duration_s, concurrency=concurrency, rate=rate_rps,
                         profiles=_names(profile) or None, sla=_names(sla))
    return sc, RunOptions(target=target, transport=transport, processes=nproc,
                          insecure=insecure, wait_ready_s=wait_s)


def _processes(value: int | str) -> int:
    if value == "auto":
        return os.cpu_count() or 1
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"processes: {value!r} is not a number or 'auto'") from None
    if n < 1:
        raise UsageError("processes: must be at least 1")
    return n


def run(scenario: str | os.PathLike[str] | Scenario, **overrides: Any) -> RunResult:
    """Run ``scenario`` (a path or a Scenario) with ``loadkit run``'s overrides; the judged result.

    Overrides: ``target``, ``profile`` (a name or names), ``duration``,
    ``concurrency``, ``rate``, ``sla`` (a rule or rules, e.g.
    ``["p99 < 200ms"]``: each replaces the rule with the same metric and
    operator, or is added), ``processes``, ``transport`` (a name, or a
    ``Transport`` instance such as ``loadkit.testing.MockTransport``),
    ``wait_ready``, ``insecure``. Raises ``UsageError`` (bad input) or
    ``TargetUnreachable`` before any load; a run that fails its SLA returns
    normally (``result.passed`` is False: ``assert_sla`` it).

    Called while an event loop runs in this thread (a Jupyter cell), the run
    goes to a worker thread with its own loop and this call waits for it;
    inside a coroutine prefer ``await run_async(...)``.
    """
    sc, options = prepare(scenario, **overrides)
    if not _loop_running():
        from loadkit import runner

        return runner.run(sc, options)
    with ThreadPoolExecutor(1, thread_name_prefix="loadkit-run") as pool:
        return pool.submit(_run_until, sc, options, threading.Event()).result()


async def run_async(scenario: str | os.PathLike[str] | Scenario, **overrides: Any) -> RunResult:
    """``run`` for code inside a running event loop (pytest-asyncio, Jupyter, an app).

    The load runs on its own event loop in a worker thread: the caller's loop
    stays free, and its other tasks neither delay requests nor distort
    latencies. Cancelling the awaiting task stops the run within about a
    second (its result is dropped) and re-raises CancelledError.
    """
    sc, options = prepare(scenario, **overrides)
    stop = threading.Event()
    task = asyncio.ensure_future(asyncio.to_thread(_run_until, sc, options, stop))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)   # no run outlives its caller
        raise


class _Stopped(Exception):
    """Raised from the progress hook once the caller gave up on the run."""


def _run_until(sc: Scenario, options: RunOptions, stop: threading.Event) -> RunResult:
    """The run, in a thread of its own; it ends at the next second once ``stop`` is set."""
    from loadkit import runner

    def hook(*_: object) -> None:
        if stop.is_set():
            raise _Stopped("the caller cancelled the run")

    return runner.run(sc, options, on_interval=hook)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def describe_failures(result: RunResult) -> list[str]:
    """One line per rule that failed or could not be judged: observed against threshold."""
    lines = []
    for v in result.verdicts:
        if v.passed and not v.inconclusive:
            continue
        lines.append(_verdict_line(v))
    return lines


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    if unit == "fraction":
        return f"{value * 100:.3g}%"
    suffix = {"ms": " ms", "rps": " rps", "rows/s": " rows/s"}.get(unit, f" {unit}" if unit else "")
    return f"{value:.4g}{suffix}"


def _verdict_line(v: Verdict) -> str:
    where = f" at stage {v.judged_stage}" if v.judged_stage is not None else ""
    if v.first_broken_stage is not None and v.first_broken_stage != v.judged_stage:
        where += f" (first broken at stage {v.first_broken_stage})"
    what = "inconclusive" if v.inconclusive else "failed"
    line = (f"{v.profile}: {v.expr} {what}{where}: observed {_fmt(v.observed, v.unit)}, "
            f"threshold {_fmt(v.threshold, v.unit)}")
    return line + (f" ({v.reason})" if v.reason else "")


def assert_sla(result: RunResult) -> RunResult:
    """Raise AssertionError unless ``result`` passed, naming every rule that did not.

    The message's first line says the status and exit code; then one line per
    failed (or inconclusive) rule, ``profile: p99 < 200ms failed: observed
    212 ms, threshold 200 ms``, and the run's warnings (why it could not
    decide). An unjudged result (``status`` None) never passes. Returns the
    result, so ``assert_sla(loadkit.run(...))`` chains.
    """
    if result.passed:
        return result
    status = "UNJUDGED" if result.status is None else str(result.status).upper()
    lines = [f"loadkit: {result.scenario.name}: {status} (exit {result.exit_code})"]
    lines += [f"  {line}" for line in describe_failures(result)]
    if result.status is None:
        lines.append("  the result was never judged: loadkit.judge(result) first")
    elif result.status == "interrupted":
        lines.append("  the run was interrupted; its result is partial")
    lines += [f"  warning: {w}" for w in result.warnings]
    raise AssertionError("\n".join(lines))


def parse_formats(values: str | Sequence[str] | None, flag: str = "formats"
                  ) -> tuple[str, ...] | None:
    """``"json,junit"`` or ``["json", "junit"]`` -> the report formats (None: all of them)."""
    if values is None or values == () or values == []:
        return None
    names: list[str] = []
    for v in _names(values):
        for name in v.split(","):
            name = name.strip().lower()
            if name == "md":
                name = "markdown"
            if name not in FORMAT_NAMES:
                raise UsageError(f"{flag}: unknown format {name!r} "
                                 f"(choose from {', '.join(FORMAT_NAMES)})")
            names.append(name)
    return tuple(dict.fromkeys(names))


def write_reports(result: RunResult, out_dir: str | os.PathLike[str],
                  formats: str | Sequence[str] | None = None) -> list[Path]:
    """Render ``result``'s reports into ``out_dir`` (made if missing); the paths written.

    ``formats``: ``json html junit markdown csv`` (a list or a comma-separated
    string; default all). The Markdown summary is also appended to
    ``$GITHUB_STEP_SUMMARY`` when that is set, as ``loadkit run`` does.
    """
    from loadkit.reporters import render_all

    chosen = parse_formats(formats)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in render_all(result, chosen).items():
        path = out / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file and (chosen is None or "markdown" in chosen):
        from loadkit.reporters import markdown

        with open(summary_file, "a", encoding="utf-8") as fh:
            fh.write(markdown.render(result) + "\n")
    return written
