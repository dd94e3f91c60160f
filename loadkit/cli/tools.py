"""``mock-server`` and ``locust``: the commands that hand over to another process."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from loadkit.cli._base import (
    cli,
    default_out,
)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def mock_server(ctx: click.Context) -> int:
    """Run the bundled mock model server (options as `python -m mock_server --help`)."""
    from loadkit.children import run_forwarding

    # SIGTERM / SIGINT / SIGHUP are forwarded to the server and waited for: the port is
    # free when this command returns (kill -TERM of this process alone used to leave it).
    return run_forwarding([sys.executable, "-m", "mock_server", *ctx.args])


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

    out_dir = Path(out) if out else default_out(Path(scenario).stem + "-locust")
    return run_locust(scenario, profile=profile, out_dir=out_dir, mode=mode or "ui",  # type: ignore[arg-type]
                      extra_args=locust_args, processes=processes, web_host=web_host,
                      web_port=web_port, master_host=master_host, expect_workers=expect_workers)
