"""``run``, ``validate``, ``report`` and ``merge``: one scenario or result in, reports out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from loadkit.cli._base import (
    FORMAT_NAMES,
    cli,
    default_out,
    parse_formats,
    parse_option,
    parse_processes,
    sigterm_as_interrupt,
    write_reports,
)
from loadkit.errors import (
    EXIT_PASS,
    UsageError,
)
from loadkit.redact import redact_target, redact_url


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--target", help="Base URL to test instead of the scenario's target.")
@click.option("--profile", "profiles", multiple=True, help="Run only this profile (repeatable).")
@click.option("--out", type=click.Path(file_okay=False), help="Report folder "
              "(default reports/<name>-<UTC time>/).")
@click.option("--sla", "slas", multiple=True,
              help='Add an SLA rule to every profile, e.g. "p99<200ms" (repeatable). It replaces '
                   "a scenario rule with the same metric and operator; the other rules still "
                   "judge. The result and every report say which rule it added or replaced.")
@click.option("--duration", help="e.g. 30s. latency: run this long instead of its request "
              "count; throughput, constant-rate, soak: the duration (with stability: its "
              "maximum); ramp, stress, search: EACH step's (probe's) duration; spike: the "
              "steady phases before and after the spike (the spike keeps its own).")
@click.option("--concurrency", type=int, help="The concurrency of throughput and closed-model "
              "soak profiles; latency keeps 1, ramp its steps, search its range.")
@click.option("--rate", help="e.g. 200rps. The arrival rate of constant-rate and open-model "
              "soak profiles, and a spike's base rate; stress keeps its steps, search its range.")
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
    return result.exit_code


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
def validate(scenario: str) -> int:
    """Check SCENARIO and its dataset; send nothing."""
    from loadkit.scenario import build_payloads, compile_profile, load_scenario

    sc = load_scenario(scenario)       # compare: and canary: blocks included
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
    click.echo("rules that will judge the run:")
    for p in sc.profiles:
        click.echo(f"  {p.name}: {gate_text(p)}")
    if sc.canary is not None:
        from loadkit.canary import arm_rules, chosen_profile

        chosen = chosen_profile(sc, sc.canary)
        kept, left = arm_rules(chosen)
        shares = " -> ".join(f"{s.share:.0%}" for s in sc.canary.stages)
        click.echo(f"canary: {shares} of {chosen.name}'s load; each side judged on "
                   + (", ".join(r.text for r in kept) or "no rule"))
        for note in left:
            click.echo(f"  {note}")
    if sc.server_metrics or sc.server_timing is not None or sc.traceparent:
        click.echo("server telemetry (nothing scraped now; never counted as load):")
    for src in sc.server_metrics:
        what = f"include {', '.join(src.include)}" if src.include else "every series"
        click.echo(f"  scrape {redact_url(src.url) if '://' in src.url else src.url} every "
                   f"{src.interval_s:g}s (timeout {src.timeout_s:g}s), {what}"
                   + (f", headers {', '.join(n for n, _ in src.headers)}" if src.headers else ""))
    if sc.server_timing is not None:
        click.echo(f"  Server-Timing: {sc.server_timing or 'total, else the largest entry'}")
    if sc.traceparent:
        click.echo("  traceparent: one W3C trace for the run")
    return EXIT_PASS


def schema_of(path: str) -> str:
    """The schema a result file was written with (before v1 files are read as v2)."""
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            return str(json.load(fh).get("schema"))
    except (OSError, ValueError, AttributeError):
        return "?"


def gate_text(profile: Any) -> str:
    """What judges one profile, in the words ``validate`` prints."""
    if profile.sla_origin == "none" and not profile.sla:
        return "nothing is gated (sla: [])"
    rules = ", ".join(r.text + (" [abort]" if r.abort else "") for r in profile.sla)
    if profile.sla_origin == "default":
        return f"{rules} (the default: the scenario has no sla:)"
    return rules


@cli.command()
@click.argument("result_file", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="Folder (default: beside the result).")
@click.option("--format", "formats", multiple=True, help="Reports to write; default all.")
def report(result_file: str, out: str | None, formats: tuple[str, ...]) -> int:
    """Re-judge RESULT_FILE (a result.json) and re-render every report from it.

    The verdicts are derived afresh from what the result stores (its rules, stop
    conditions, stage roles), exactly as the run judged them; the exit code is 0.
    """
    from loadkit.judge import judge
    from loadkit.results import read

    result = judge(read(result_file))
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
@click.option("--force", is_flag=True, help="Merge even what looks wrong (the same run twice, "
              "other scenarios, targets, rules or schema versions); the result says so.")
def merge(results: tuple[str, ...], out: str, force: bool) -> int:
    """Merge results of parallel generators exactly and judge the merged result.

    Refused (exit 2) unless --force: the same run twice, results of different
    scenarios, targets, SLA rules or schema versions.
    """
    from dataclasses import replace

    from loadkit.judge import judge
    from loadkit.reporters import text
    from loadkit.results import read
    from loadkit.results.aggregate import merge_problems, merge_results

    parts = [read(p) for p in results]
    problems = merge_problems(parts, results)
    schemas = list(dict.fromkeys(schema_of(p) for p in results))
    if len(schemas) > 1:
        problems.append(f"the results have different schema versions: {', '.join(schemas)}")
    if problems and not force:
        raise UsageError(f"merge: {problems[0]}" + (f" (and {len(problems) - 1} more)"
                                                    if len(problems) > 1 else "")
                         + "; --force merges anyway")
    merged = merge_results(parts)
    if problems:
        merged = replace(merged, notes=merged.notes + tuple(
            f"merged with --force although {p}" for p in problems))
    merged = judge(merged)
    write_reports(merged, Path(out))
    click.echo(text.render(merged))
    click.echo(f"reports: {out}/")
    return merged.exit_code
