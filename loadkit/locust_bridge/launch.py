"""Start Locust on loadkit's locustfile, as a subprocess (what ``loadkit locust`` calls).

This module must stay free of locust and gevent: the CLI imports it, and gevent's
monkey-patching would break the asyncio engine in the same process. Everything the
Locust process needs (scenario path, profile, output folder) travels in environment
variables (``settings``); the command line is plain Locust.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from loadkit.children import run_forwarding
from loadkit.errors import UsageError
from loadkit.locust_bridge.settings import DEFAULT_USER_RPS, BridgeSettings

Mode = Literal["ui", "headless", "master", "worker"]
MODES: tuple[str, ...] = ("ui", "headless", "master", "worker")
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
_REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def build_locust_command(scenario_path: str | os.PathLike[str], *, profile: str | None = None,
                         out_dir: str | os.PathLike[str], mode: Mode = "ui",
                         extra_args: Sequence[str] = (), processes: int | None = None,
                         web_host: str = "127.0.0.1", web_port: int = 8089,
                         master_host: str | None = None,
                         expect_workers: int | None = None) -> list[str]:
    """The argv that runs Locust on the bridge's locustfile in ``mode``.

    ``scenario_path``/``profile``/``out_dir`` are not in the argv (they go in the
    environment, see ``bridge_env``); they are accepted here so the signature
    matches ``run_locust`` and are validated early.
    """
    if mode not in MODES:
        raise UsageError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    if processes is not None and processes < 1:
        raise UsageError("--processes: must be at least 1")
    if expect_workers is not None and expect_workers < 1:
        raise UsageError("--expect-workers: must be at least 1")
    if not (0 <= int(web_port) <= 65535):
        raise UsageError(f"--web-port: {web_port} is not a TCP port")
    extra = list(extra_args)
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    headless = mode == "headless" or "--headless" in extra
    if mode == "headless":
        cmd.append("--headless")
    elif mode == "master":
        cmd.append("--master")
        if expect_workers is not None:
            cmd += ["--expect-workers", str(expect_workers)]
    elif mode == "worker":
        cmd += ["--worker", "--master-host", master_host or "127.0.0.1"]
    if mode in ("ui", "master") and not headless:
        cmd += ["--web-host", web_host, "--web-port", str(web_port)]
    if processes is not None:
        cmd += ["--processes", str(processes)]
    return cmd + extra


def bridge_env(scenario_path: str | os.PathLike[str], *, profile: str | None = None,
               out_dir: str | os.PathLike[str], partial_out_dir: str | None = None,
               user_rps: float = DEFAULT_USER_RPS,
               base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for the Locust process: ``base`` plus the bridge's variables.

    Paths are made absolute (Locust may change directory) and the repository root
    is put on PYTHONPATH so the locustfile can import loadkit even when loadkit is
    not installed.
    """
    env = dict(os.environ if base is None else base)
    settings = BridgeSettings(
        scenario_path=str(Path(scenario_path).resolve()),
        profile=profile,
        out_dir=str(Path(out_dir).resolve()),
        partial_out_dir=str(Path(partial_out_dir).resolve()) if partial_out_dir else None,
        user_rps=user_rps,
    )
    env.update(settings.to_env())
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(_REPO_ROOT) not in paths:
        env["PYTHONPATH"] = os.pathsep.join([str(_REPO_ROOT), *paths])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def check_scenario(scenario_path: str | os.PathLike[str], profile: str | None) -> None:
    """Fail with exit 2 before Locust starts when the scenario or profile is wrong."""
    from loadkit.scenario import load_scenario

    scenario = load_scenario(str(scenario_path))
    if profile is not None:
        names = [p.name for p in scenario.profiles]
        if profile not in names:
            raise UsageError(f"--profile: no profile named {profile!r} "
                             f"(the scenario has {', '.join(names) or 'none'})")
        if scenario.profile(profile).kind == "search":
            raise UsageError(SEARCH_NOT_IN_LOCUST.format(name=profile))


# A Locust load shape is planned before the run; a search decides each probe from the
# last one's verdict, which in Locust lives in every worker's recorder until the end.
SEARCH_NOT_IN_LOCUST = ("--profile: {name!r} is a capacity search, which decides each probe "
                        "from the last one's verdict; Locust's load shapes are planned ahead, "
                        "so run it with `loadkit run` (no Locust search shape yet)")


def run_locust(scenario_path: str | os.PathLike[str], *, profile: str | None = None,
               out_dir: str | os.PathLike[str], mode: Mode = "ui",
               extra_args: Sequence[str] = (), processes: int | None = None,
               web_host: str = "127.0.0.1", web_port: int = 8089,
               master_host: str | None = None, expect_workers: int | None = None,
               partial_out_dir: str | None = None, validate: bool = True) -> int:
    """Run Locust to completion and return its exit code.

    The bridge sets Locust's exit code from loadkit's: 0 pass, 1 an SLA failed,
    4 inconclusive (2 when the scenario is bad). SIGINT (Ctrl-C), SIGTERM and SIGHUP
    to this process are forwarded to Locust (in its own process group, so it gets
    each exactly once); it writes the partial reports, stops its mock server, and we
    wait for it (``loadkit.children``).
    """
    if validate and mode != "worker":
        check_scenario(scenario_path, profile)
    cmd = build_locust_command(scenario_path, profile=profile, out_dir=out_dir, mode=mode,
                               extra_args=extra_args, processes=processes, web_host=web_host,
                               web_port=web_port, master_host=master_host,
                               expect_workers=expect_workers)
    env = bridge_env(scenario_path, profile=profile, out_dir=out_dir,
                     partial_out_dir=partial_out_dir)
    return run_forwarding(cmd, env)
