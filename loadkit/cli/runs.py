"""``run``, ``validate``, ``report`` and ``merge``: one scenario or result in, reports out."""

from __future__ import annotations

from pathlib import Path

import click

from loadkit.cli._base import (
    FORMAT_NAMES,
    STATUS_EXIT,
    cli,
    default_out,
    parse_formats,
    parse_option,
    parse_processes,
    sigterm_as_interrupt,
    write_reports,
)
from loadkit.errors import (
    EXIT_FAIL,
    EXIT_PASS,
    UsageError,
)
from loadkit.redact import redact_target


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

    fmt = parse_formats(formats)
    nproc = parse_processes(processes)
    duration_s = parse_option("--duration", parse_duration, duration)
    rate_rps = parse_option("--rate", parse_rate, rate)
    wait_s = parse_option("--wait-ready", parse_duration, wait_ready) or 0.0
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
        with sigterm_as_interrupt():
            result = runner.run(sc, options, on_interval=progress.on_interval,
                                on_profile=lambda p, n: progress.start_profile(p.name, p.kind, n))
    finally:
        progress.close()
    out_dir = Path(out) if out else default_out(sc.name)
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
    if sc.dataset is not None:
        from loadkit.scenario.dataset import missing_report

        note = missing_report(sc.dataset)
        if note is not None:
            click.echo(f"note: {note}")
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
    fmt = parse_formats(formats)
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
