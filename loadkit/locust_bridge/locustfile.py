"""The locustfile ``loadkit locust`` runs: a loadkit scenario as Locust users and shape.

Where it sits: Locust imports this file (``-f``) in its own process, started by
``launch.run_locust``. It reads the scenario, profile and output folder from the
environment (``settings``), builds the payloads once, and defines:

- ``LoadkitUser``: the scenario's request (``user.py``);
- a LoadTestShape only when a profile was chosen (``LOADKIT_PROFILE``), or one
  per profile with Locust's ``--class-picker`` so the web UI can pick one —
  otherwise none, and users are driven by hand (Locust uses any shape class it
  finds here, so they are bound conditionally);
- the bridge (``listener.py``): exact HDR recording, worker -> master shipping,
  and at test_stop the SLA gate (``gate.py``) that writes result.json and every
  report and sets Locust's exit code from loadkit's.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

import locust.stats
from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from loadkit import __version__
from loadkit.errors import EXIT_FAIL, LoadkitError, UsageError
from loadkit.locust_bridge import gate
from loadkit.locust_bridge.collect import bucket_3sig, decode_part
from loadkit.locust_bridge.launch import SEARCH_NOT_IN_LOCUST
from loadkit.locust_bridge.listener import Bridge
from loadkit.locust_bridge.schedule import ShapeStep, plan_shape
from loadkit.locust_bridge.settings import BridgeSettings
from loadkit.locust_bridge.shape import make_shape_class
from loadkit.locust_bridge.user import make_user_class
from loadkit.locust_bridge.webui import extend_web_ui
from loadkit.mock_target import MockServer
from loadkit.results.codec import dumps
from loadkit.scenario import build_payloads, compile_profile, load_scenario

log = logging.getLogger("loadkit.locust")


def _load() -> tuple[Any, BridgeSettings, Any, dict[str, tuple[ShapeStep, ...]]]:
    settings = BridgeSettings.from_env()
    scenario = load_scenario(settings.scenario_path)
    names = [p.name for p in scenario.profiles]
    if settings.profile is not None and settings.profile not in names:
        raise UsageError(f"--profile: no profile named {settings.profile!r} "
                         f"(the scenario has {', '.join(names) or 'none'})")
    if settings.profile is not None:
        exposed = [scenario.profile(settings.profile)]
        if exposed[0].kind == "search":
            raise UsageError(SEARCH_NOT_IN_LOCUST.format(name=settings.profile))
    elif "--class-picker" in sys.argv:
        exposed = [p for p in scenario.profiles if p.kind != "search"]
    else:
        exposed = []
    steps = {p.name: plan_shape(compile_profile(p, scenario), user_rps=settings.user_rps)
             for p in exposed}
    return scenario, settings, build_payloads(scenario), steps


try:
    SCENARIO, SETTINGS, PAYLOADS, STEPS = _load()
except LoadkitError as _exc:
    sys.stderr.write(f"loadkit: {_exc}\n")
    raise SystemExit(_exc.exit_code) from None

# Locust's own table: 3 significant digits instead of ~2 (documented replacement point).
locust.stats.bucket_response_time = bucket_3sig  # type: ignore[assignment]

_MOCK: list[MockServer] = []
_LAST_TABLE: list[str] = []
_JUDGED_ROWS: list[dict[str, Any]] = []     # the web UI tab once the gate has judged
_TARGET_IS_MOCK = SCENARIO.target == "mock"


def _kind_of(profile_name: str | None) -> str:
    if profile_name is None:
        return "manual"
    return str(SCENARIO.profile(profile_name).kind)


def _judge(environment: Environment, bridge: Bridge) -> None:
    """The gate: merge, judge, write reports, print loadkit's table, set the exit code."""
    assert bridge.gate is not None
    try:
        name = bridge.run_profile or gate.MANUAL_PROFILE
        profile = gate.merge_parts(list(bridge.gate.parts.values()), name=name,
                                   kind=_kind_of(bridge.run_profile), steps=bridge.steps,
                                   manual_users=bridge.gate.users_peak)
        result = gate.build_result(
            SCENARIO, profile, rules=gate.rules_for(SCENARIO, bridge.run_profile),
            steps=bridge.steps, target=environment.host or SCENARIO.target,
            started_at=bridge.gate.started_at, finished_at=time.time(),
            processes=max(1, len(bridge.gate.parts)), version=__version__,
            partial=bridge.interrupted)
        written = gate.write_outputs(result, SETTINGS.out_dir)
        _JUDGED_ROWS[:] = gate.tab_rows(result, SETTINGS.out_dir)
        _LAST_TABLE[:] = [gate.summary_text(result) + "\n" + (
            f"loadkit: {result.status}; wrote {len(written)} files to {SETTINGS.out_dir}")]
        if not _headless(environment):
            print("\n" + _LAST_TABLE[0], flush=True)
        environment.process_exit_code = result.exit_code
    except LoadkitError as exc:
        log.error("loadkit: %s", exc)
        environment.process_exit_code = exc.exit_code
    except Exception:
        log.exception("loadkit: the gate failed")
        environment.process_exit_code = EXIT_FAIL


# A streaming endpoint's per-request bounds: the chosen profile's, else the scenario's.
_SLO = (SCENARIO.profile(SETTINGS.profile).slo if SETTINGS.profile is not None else None) \
    or SCENARIO.slo
BRIDGE = Bridge(profile_name=SETTINGS.profile, profile_kind=_kind_of(SETTINGS.profile),
                batch_size=SCENARIO.request.batch_size, on_judge=_judge,
                streams=SCENARIO.request.stream is not None, slo=_SLO is not None)

LoadkitUser = make_user_class(
    SCENARIO.request_spec("http://127.0.0.1" if _TARGET_IS_MOCK else SCENARIO.target),
    PAYLOADS, lambda: BRIDGE.step, host=None if _TARGET_IS_MOCK else SCENARIO.target, slo=_SLO)

for _name, _steps in STEPS.items():
    _shape = make_shape_class(_name, _steps, BRIDGE.announce)
    globals()[_shape.__name__] = _shape       # Locust finds shape classes by module scan


def _write_partial(environment: Environment, **_kw: Any) -> None:
    """Workers also keep their own part (LOADKIT_PARTIAL_OUT) for `loadkit merge` or tests."""
    rec = BRIDGE.recording
    if SETTINGS.partial_out_dir is None or rec is None or rec.last_part is None:
        return
    node, part, _ = decode_part(rec.last_part)
    result = gate.build_result(SCENARIO, part, rules=gate.rules_for(SCENARIO, SETTINGS.profile),
                               steps=None,
                               target=environment.host or SCENARIO.target,
                               started_at=part.started_at, finished_at=part.finished_at,
                               processes=1, version=__version__)
    out = Path(SETTINGS.partial_out_dir)
    out.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in node)
    (out / f"partial-{safe}.json").write_text(dumps(result), encoding="utf-8")


@events.init.add_listener
def _on_init(environment: Environment, **_kw: Any) -> None:
    runner = environment.runner
    if not isinstance(runner, WorkerRunner) and not environment.host:
        if _TARGET_IS_MOCK:
            mock = MockServer(SCENARIO.mock)
            try:
                environment.host = mock.start()
            except LoadkitError as exc:
                sys.stderr.write(f"loadkit: {exc}\n")
                raise SystemExit(exc.exit_code) from None
            _MOCK.append(mock)
            LoadkitUser.host = environment.host   # still right if the UI's host field is cleared
        else:
            environment.host = SCENARIO.target
    BRIDGE.install(environment)
    if isinstance(runner, WorkerRunner):
        environment.events.test_stop.add_listener(_write_partial)
    if environment.web_ui is not None and BRIDGE.gate is not None:
        gate_side = BRIDGE.gate
        def rows() -> list[dict[str, Any]]:
            # live while running; after Stop, the judged stages, the verdict and the folder
            return gate_side.live_rows() if gate_side.running or not _JUDGED_ROWS \
                else list(_JUDGED_ROWS)

        extend_web_ui(environment, scenario_name=SCENARIO.name, profile=SETTINGS.profile,
                      rows=rows)


def _headless(environment: Environment) -> bool:
    return bool(environment.parsed_options and environment.parsed_options.headless)


@events.quit.add_listener
def _on_quit(**_kw: Any) -> None:
    # Headless: Locust has just printed its own (bucketed) table; loadkit's exact one comes last.
    if _LAST_TABLE and BRIDGE.environment is not None and _headless(BRIDGE.environment):
        print("\n" + _LAST_TABLE[0], flush=True)
    while _MOCK:
        _MOCK.pop().stop()
