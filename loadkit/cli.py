"""The ``loadkit`` command: parse, call the library, write files, map errors to exit codes.

Thin on purpose (DESIGN.md): every command delegates to a library function and
this module is the only place that calls ``sys.exit``. Heavy imports happen inside
the commands so ``loadkit --help`` and ``loadkit locust`` stay light.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from loadkit import __version__
from loadkit.errors import (
    EXIT_FAIL,
    EXIT_INCONCLUSIVE,
    EXIT_INTERRUPTED,
    EXIT_PASS,
    EXIT_USAGE,
    LoadkitError,
    UsageError,
)
from loadkit.redact import redact_target, redact_text

STATUS_EXIT = {
    "pass": EXIT_PASS,
    "fail": EXIT_FAIL,
    "inconclusive": EXIT_INCONCLUSIVE,
    "interrupted": EXIT_INTERRUPTED,
    "error": EXIT_FAIL,
}
FORMAT_NAMES = ("json", "html", "junit", "markdown", "csv")


def _processes(value: str) -> int:
    if value == "auto":
        return os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"--processes: {value!r} is not a number or 'auto'") from None
    if n < 1:
        raise UsageError("--processes: must be at least 1")
    return n


def _parse_formats(values: Sequence[str]) -> tuple[str, ...] | None:
    if not values:
        return None
    names: list[str] = []
    for v in values:
        for name in v.split(","):
            name = name.strip().lower()
            if name == "md":
                name = "markdown"
            if name not in FORMAT_NAMES:
                raise UsageError(f"--format: unknown format {name!r} "
                                 f"(choose from {', '.join(FORMAT_NAMES)})")
            names.append(name)
    return tuple(dict.fromkeys(names))


def _option(name: str, parse: Callable[[str], float], value: str | None) -> float | None:
    """Parse a unit option; a bad value is one line naming the option."""
    if value is None or value == "":
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise UsageError(f"{name}: {exc}") from None


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM outside the engine's stages (mock start-up, readiness wait, between profiles)
    acts as Ctrl-C: the mock server child is stopped and the exit is 130, not a bare kill.
    The engine installs its own graceful handlers while a stage runs and restores this one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _default_out(name: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name) or "run"
    return Path("reports") / f"{safe}-{stamp}"


def write_reports(result: Any, out: Path, formats: Sequence[str] | None = None) -> list[Path]:
    """Render every report of ``result`` into ``out``; append the summary to GitHub's."""
    from loadkit.reporters import render_all

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in render_all(result, formats).items():
        path = out / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file and (formats is None or "markdown" in formats):
        from loadkit.reporters import markdown

        with open(summary_file, "a", encoding="utf-8") as fh:
            fh.write(markdown.render(result) + "\n")
    return written


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="loadkit")
def cli() -> None:
    """Load tests and performance SLAs for ML model HTTP endpoints."""


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--target", help="Base URL to test instead of the scenario's target.")
@click.option("--profile", "profiles", multiple=True, help="Run only this profile (repeatable).")
@click.option("--out", type=click.Path(file_okay=False), help="Report folder "
              "(default reports/<name>-<UTC time>/).")
@click.option("--sla", "slas", multiple=True, help='Add or override an SLA rule, e.g. "p99<200ms".')
@click.option("--duration", help="Override every profile's duration, e.g. 30s.")
@click.option("--concurrency", type=int, help="Override every closed-model profile's concurrency.")
@click.option("--rate", help="Override every open-model profile's arrival rate, e.g. 200rps.")
@click.option("--processes", default="1", show_default=True, help="Generator processes, or 'auto'.")
@click.option("--transport", type=click.Choice(["auto", "fast", "aiohttp"]), default="auto",
              show_default=True, help="HTTP client the engine uses.")
@click.option("--format", "formats", multiple=True,
              help="Reports to write (json,html,junit,markdown,csv); default all.")
@click.option("--wait-ready", help="Poll the readiness path for up to this long first, e.g. 30s.")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates.")
@click.option("--quiet", is_flag=True, help="No live progress.")
@click.option("--json", "as_json", is_flag=True, help="Print result.json to stdout.")
def run(scenario: str, target: str | None, profiles: tuple[str, ...], out: str | None,
        slas: tuple[str, ...], duration: str | None, concurrency: int | None, rate: str | None,
        processes: str, transport: str, formats: tuple[str, ...], wait_ready: str | None,
        insecure: bool, quiet: bool, as_json: bool) -> int:
    """Run SCENARIO's profiles, check its SLAs, write reports; the exit code is the verdict."""
    from loadkit import runner
    from loadkit.progress import Progress
    from loadkit.reporters import text
    from loadkit.results import dumps
    from loadkit.scenario import apply_overrides, load_scenario
    from loadkit.units import parse_duration, parse_rate

    fmt = _parse_formats(formats)
    nproc = _processes(processes)
    duration_s = _option("--duration", parse_duration, duration)
    rate_rps = _option("--rate", parse_rate, rate)
    wait_s = _option("--wait-ready", parse_duration, wait_ready) or 0.0
    if concurrency is not None and concurrency < 1:
        raise UsageError("--concurrency: must be at least 1")
    if target is not None and not target.startswith(("http://", "https://")):
        raise UsageError(f"--target: {redact_target(target)!r} is not an http(s) URL")

    sc = load_scenario(scenario)
    sc = apply_overrides(sc, duration_s=duration_s, concurrency=concurrency, rate=rate_rps,
                         profiles=list(profiles) or None, sla=list(slas))
    progress = Progress(quiet=quiet or as_json)
    options = runner.RunOptions(target=target, transport=transport, processes=nproc,
                                insecure=insecure, wait_ready_s=wait_s)
    try:
        with _sigterm_as_interrupt():
            result = runner.run(sc, options, on_interval=progress.on_interval,
                                on_profile=lambda p, n: progress.start_profile(p.name, p.kind, n))
    finally:
        progress.close()
    out_dir = Path(out) if out else _default_out(sc.name)
    write_reports(result, out_dir, fmt)
    if as_json:
        click.echo(dumps(result), nl=False)
    else:
        click.echo(text.render(result))
        click.echo(f"reports: {out_dir}/")
    return STATUS_EXIT.get(result.status, EXIT_FAIL)


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
def validate(scenario: str) -> int:
    """Check SCENARIO and its dataset; send nothing."""
    from loadkit.scenario import build_payloads, compile_profile, load_scenario

    sc = load_scenario(scenario)
    if sc.compare:
        from loadkit.analysis.compare import CompareThresholds

        CompareThresholds.from_dict(sc.compare)
    if sc.canary:
        from loadkit.analysis.canary import CanaryConfig

        CanaryConfig.from_dict(sc.canary)
    payloads = build_payloads(sc)
    n_stages = sum(len(compile_profile(p, sc)) for p in sc.profiles)
    sizes = ", ".join(f"{len(ps)}x{b}" for b, ps in sorted(payloads.items()))
    click.echo(f"ok: {sc.name}: {len(sc.profiles)} profile(s), {n_stages} stage(s), "
               f"payloads {sizes} (bodies x rows)")
    return EXIT_PASS


@cli.command()
@click.argument("result_file", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="Folder (default: beside the result).")
@click.option("--format", "formats", multiple=True, help="Reports to write; default all.")
def report(result_file: str, out: str | None, formats: tuple[str, ...]) -> int:
    """Re-render every report from RESULT_FILE (a result.json)."""
    from loadkit.results import read

    result = read(result_file)
    out_dir = Path(out) if out else Path(result_file).parent
    fmt = _parse_formats(formats)
    if fmt is None and out_dir.resolve() == Path(result_file).parent.resolve():
        fmt = tuple(f for f in FORMAT_NAMES if f != "json") if Path(result_file).name == "result.json" else None
    for path in write_reports(result, out_dir, fmt):
        click.echo(f"wrote {path}")
    return EXIT_PASS


@cli.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the merged reports.")
def merge(results: tuple[str, ...], out: str) -> int:
    """Merge results of parallel generators exactly and re-evaluate their SLAs."""
    from dataclasses import replace

    from loadkit.analysis import analyze
    from loadkit.reporters import text
    from loadkit.results import read
    from loadkit.results.aggregate import merge_results
    from loadkit.sla import evaluate, parse_rule, status_of

    parts = [read(p) for p in results]
    names = {r.scenario.name for r in parts}
    if len(names) > 1:
        raise UsageError(f"merge: results come from different scenarios: {', '.join(sorted(names))}")
    merged = merge_results(parts)
    rules = {p.name: [parse_rule(e) for e in p.sla] for p in merged.profiles}
    profiles = tuple(replace(p, analysis=analyze(p, rules[p.name])) for p in merged.profiles)
    merged = replace(merged, profiles=profiles)
    verdicts = evaluate(rules, merged)
    status = "interrupted" if merged.partial and any(r.status == "interrupted" for r in parts) \
        else status_of(verdicts, merged)
    merged = replace(merged, verdicts=verdicts, status=status)
    write_reports(merged, Path(out))
    click.echo(text.render(merged))
    click.echo(f"reports: {out}/")
    return STATUS_EXIT.get(merged.status, EXIT_FAIL)


def _write_texts(out: Path, texts: dict[str, str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")


@cli.command()
@click.argument("baseline", type=click.Path(dir_okay=False))
@click.argument("candidate", type=click.Path(dir_okay=False))
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False),
              help="Read thresholds from this scenario's compare: block.")
@click.option("--alpha", type=float, default=0.05, show_default=True,
              help="Significance level of every test.")
@click.option("--p99", help="Practical p99 threshold, e.g. 10% (default 10%).")
@click.option("--p95", help="Practical p95 threshold, e.g. 10% (default 10%).")
@click.option("--error-rate", help="Error-rate rise in percentage points, e.g. 0.5pp.")
@click.option("--throughput", help="Throughput drop, e.g. 10%.")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for compare.json/html, junit.")
@click.option("--json", "as_json", is_flag=True, help="Print compare.json to stdout.")
def compare(baseline: str, candidate: str, scenario_path: str | None, alpha: float,
            p99: str | None, p95: str | None, error_rate: str | None, throughput: str | None,
            out: str | None, as_json: bool) -> int:
    """Statistical regression gate: is CANDIDATE worse than BASELINE (two result.json)?"""
    from loadkit.analysis.compare import CompareThresholds, compare as compare_runs
    from loadkit.reporters import compare_report
    from loadkit.results import read

    if not 0 < alpha < 1:
        raise UsageError("--alpha: must be between 0 and 1")
    block: dict[str, Any] = {}
    if scenario_path:
        from loadkit.scenario import load_scenario

        block.update(load_scenario(scenario_path).compare)
    flags = {"p99": p99, "p95": p95, "error_rate": error_rate, "throughput": throughput}
    block.update({k: v for k, v in flags.items() if v is not None})
    thresholds = CompareThresholds.from_dict(block) if block else CompareThresholds()
    result = compare_runs(read(baseline), read(candidate), thresholds, alpha=alpha)
    if out:
        _write_texts(Path(out), {
            "compare.json": compare_report.render_compare_json(result),
            "compare.html": compare_report.render_compare_html(result),
            "junit.xml": compare_report.render_compare_junit(result),
        })
    if as_json:
        click.echo(compare_report.render_compare_json(result), nl=False)
    else:
        click.echo(compare_report.render_compare_text(result))
    return result.exit_code


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--baseline", "baseline_url", required=True, help="Base URL of the running version.")
@click.option("--candidate", "candidate_url", required=True, help="Base URL of the new version.")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for canary.json/html, junit "
              "(default reports/<name>-canary-<UTC time>/).")
@click.option("--transport", type=click.Choice(["auto", "fast", "aiohttp"]), default="auto",
              show_default=True)
@click.option("--wait-ready", help="Poll both targets for up to this long first, e.g. 30s.")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates.")
def canary(scenario: str, baseline_url: str, candidate_url: str, out: str | None, transport: str,
           wait_ready: str | None, insecure: bool) -> int:
    """Staged canary rehearsal: promote (0), hold (4) or rollback (1) the candidate."""
    from loadkit.analysis.canary import CanaryConfig
    from loadkit.canary import run_canary
    from loadkit.reporters import canary_report
    from loadkit.scenario import load_scenario
    from loadkit.units import parse_duration

    for flag, url in (("--baseline", baseline_url), ("--candidate", candidate_url)):
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"{flag}: {redact_text(url)!r} is not an http(s) URL")
    try:
        wait_s = parse_duration(wait_ready) if wait_ready else 0.0
    except ValueError as exc:
        raise UsageError(f"--wait-ready: {exc}") from None
    sc = load_scenario(scenario)
    config = CanaryConfig.from_dict(sc.canary) if sc.canary else CanaryConfig()

    def show(outcome: Any) -> None:
        click.echo(f"[canary] {outcome.share:.0%} candidate traffic: {outcome.decision} "
                   f"({outcome.reason})", err=True)

    result = run_canary(sc, baseline_url, candidate_url, config, on_stage=show,
                        transport=transport, insecure=insecure, wait_ready_s=wait_s)
    out_dir = Path(out) if out else _default_out(sc.name + "-canary")
    _write_texts(out_dir, {
        "canary.json": canary_report.render_canary_json(result),
        "canary.html": canary_report.render_canary_html(result),
        "junit.xml": canary_report.render_canary_junit(result),
    })
    click.echo(canary_report.render_canary_text(result))
    click.echo(f"reports: {out_dir}/")
    return result.exit_code


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def mock_server(ctx: click.Context) -> int:
    """Run the bundled mock model server (options as `python -m mock_server --help`)."""
    cmd = [sys.executable, "-m", "mock_server", *ctx.args]
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--profile", help="Drive this profile's stages as a Locust load shape "
              "(default: users by hand in the web UI).")
@click.option("--out", type=click.Path(file_okay=False), help="Report folder "
              "(default reports/<name>-locust-<UTC time>/).")
@click.option("--headless", "mode", flag_value="headless", help="No web UI; run and gate.")
@click.option("--master", "mode", flag_value="master", help="Be the master of distributed workers.")
@click.option("--worker", "mode", flag_value="worker", help="Be a worker of --master-host.")
@click.option("--master-host", help="The master to join (with --worker).")
@click.option("--expect-workers", type=int, help="Workers the master waits for (headless).")
@click.option("--processes", type=int, help="Start N local Locust worker processes.")
@click.option("--web-host", default="127.0.0.1", show_default=True, help="Web UI address.")
@click.option("--web-port", default=8089, show_default=True, type=int, help="Web UI port.")
@click.argument("locust_args", nargs=-1, type=click.UNPROCESSED)
def locust(scenario: str, profile: str | None, out: str | None, mode: str | None,
           master_host: str | None, expect_workers: int | None, processes: int | None,
           web_host: str, web_port: int, locust_args: tuple[str, ...]) -> int:
    """Run SCENARIO in Locust: web UI by default, --headless as a CI gate, or distributed.

    Extra Locust options go after `--`, e.g. `loadkit locust s.yaml --headless -- -t 30s -u 50`.
    """
    from loadkit.locust_bridge.launch import run_locust

    out_dir = Path(out) if out else _default_out(Path(scenario).stem + "-locust")
    return run_locust(scenario, profile=profile, out_dir=out_dir, mode=mode or "ui",  # type: ignore[arg-type]
                      extra_args=locust_args, processes=processes, web_host=web_host,
                      web_port=web_port, master_host=master_host, expect_workers=expect_workers)


def _run(args: Sequence[str] | None = None) -> int:
    try:
        rv = cli.main(args=args, prog_name="loadkit", standalone_mode=False)
    except LoadkitError as exc:
        click.echo(f"loadkit: error: {redact_text(str(exc))}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("loadkit: aborted; no reports written", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if exc.exit_code == 2 else exc.exit_code
    except KeyboardInterrupt:
        click.echo("loadkit: aborted; no reports written", err=True)
        return EXIT_INTERRUPTED
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return rv if isinstance(rv, int) else EXIT_PASS


def main(args: Sequence[str] | None = None) -> None:
    """Console entry point: the only ``sys.exit`` in loadkit."""
    sys.exit(_run(args))


if __name__ == "__main__":
    main()
