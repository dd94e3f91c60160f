"""``compare`` and ``canary``: the statistical gates, each judging two versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from loadkit.cli._base import (
    cli,
    default_out,
)
from loadkit.errors import (
    UsageError,
)
from loadkit.redact import redact_text


def write_texts(out: Path, texts: dict[str, str]) -> None:
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
@click.option("--profile", "profiles", multiple=True,
              help="Compare only this profile (repeatable); it must be in both runs.")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for compare.json/html, junit.")
@click.option("--json", "as_json", is_flag=True, help="Print compare.json to stdout.")
def compare(baseline: str, candidate: str, scenario_path: str | None, alpha: float,
            p99: str | None, p95: str | None, error_rate: str | None, throughput: str | None,
            profiles: tuple[str, ...], out: str | None, as_json: bool) -> int:
    """Statistical regression gate: is CANDIDATE worse than BASELINE (two result.json)?"""
    from loadkit.analysis.compare import compare as compare_runs
    from loadkit.reporters import compare_report
    from loadkit.results import read
    from loadkit.results.compare import CompareThresholds
    from loadkit.scenario.gate_schema import compare_flags

    if not 0 < alpha < 1:
        raise UsageError("--alpha: must be between 0 and 1")
    thresholds = CompareThresholds()
    if scenario_path:
        from loadkit.scenario import load_scenario

        thresholds = load_scenario(scenario_path).compare or thresholds
    flags = {"p99": p99, "p95": p95, "error_rate": error_rate, "throughput": throughput}
    thresholds = compare_flags({k: v for k, v in flags.items() if v is not None}, thresholds)
    result = compare_runs(read(baseline), read(candidate), thresholds, alpha=alpha,
                          profiles=list(profiles) or None)
    if out:
        write_texts(Path(out), {
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
    from loadkit.canary import run_canary
    from loadkit.results.canary import CanaryConfig
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
    config = sc.canary or CanaryConfig()

    def show(outcome: Any) -> None:
        click.echo(f"[canary] {outcome.share:.0%} candidate traffic: {outcome.decision} "
                   f"({outcome.reason})", err=True)

    result = run_canary(sc, baseline_url, candidate_url, config, on_stage=show,
                        transport=transport, insecure=insecure, wait_ready_s=wait_s)
    out_dir = Path(out) if out else default_out(sc.name + "-canary")
    write_texts(out_dir, {
        "canary.json": canary_report.render_canary_json(result),
        "canary.html": canary_report.render_canary_html(result),
        "junit.xml": canary_report.render_canary_junit(result),
    })
    click.echo(canary_report.render_canary_text(result))
    click.echo(f"reports: {out_dir}/")
    return result.exit_code
