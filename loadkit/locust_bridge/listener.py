"""Exact recording inside Locust, and shipping it to the master (imports locust/gevent).

Where it sits: ``locustfile`` creates one ``Bridge`` per Locust process. A process
that runs users (single process or worker) has a recording side: every request
reaches ``events.request`` and goes into a loadkit ``Recorder`` (one HDR histogram
per stage, one summary per second), so percentiles are loadkit's, not Locust's
rounded ones. A process that judges (single process or master) has a gate side:
at ``test_stop`` it collects every recording side's stages, merges them exactly and
hands them to ``gate``.

Messages (Locust custom messages):
- ``loadkit_stage`` master -> workers: a shape step began (index, label, batch size, pacing).
- ``loadkit_part``  worker -> master: the worker's stages at its test_stop (encoded HDR).
- ``loadkit_stop``  master -> worker: "stop and send your part" (a headless master's
  ``quit`` fires test_stop before telling workers to stop).
- ``report_to_master``/``worker_report`` carry a live snapshot every few seconds, for
  the web UI's loadkit tab only (never for the gate).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import STATE_STOPPED, LocalRunner, MasterRunner, WorkerRunner

from loadkit.locust_bridge.collect import decode_part, encode_part, error_kind_of, latency_us
from loadkit.engine.stream_settle import record_settled
from loadkit.locust_bridge.gate import MANUAL_PROFILE
from loadkit.locust_bridge.stream_user import CONTEXT_KEY
from loadkit.locust_bridge.schedule import ShapeStep
from loadkit.results.aggregate import summarize
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import ProfileResult
from loadkit.results.recorder import Recorder, StageMeta

log = logging.getLogger("loadkit.locust")

MSG_STAGE = "loadkit_stage"
MSG_PART = "loadkit_part"
MSG_STOP = "loadkit_stop"
LIVE_KEY = "loadkit_live"


class StepInfo:
    """The step the users are in (told by the shape, or the by-hand default)."""

    def __init__(self, data: dict[str, Any] | None = None, *, batch_size: int = 1) -> None:
        data = data or {}
        self.index = int(data.get("index", 0))
        self.label = str(data.get("label", "by hand"))
        self.warmup = bool(data.get("warmup", False))
        self.batch_size = int(data.get("batch_size") or batch_size)
        self.user_rps = data.get("user_rps")
        self.concurrency = data.get("concurrency")
        self.rate = data.get("rate")

    def meta(self) -> StageMeta:
        return StageMeta(index=self.index, label=self.label, concurrency=self.concurrency,
                         rate=self.rate, warmup=self.warmup, batch_size=self.batch_size)


class RecordingSide:
    """Records this process's requests exactly; one Recorder per Locust run."""

    def __init__(self, node: str, profile_name: str, profile_kind: str, batch_size: int,
                 streams: bool = False, slo: bool = False) -> None:
        self.node = node
        self.streams = streams            # a streaming endpoint: record TTFT, gaps, tokens
        self.slo = slo                    # ...and count the requests meeting the slo
        self.profile_name = profile_name
        self.profile_kind = profile_kind
        self.default_batch = batch_size
        self.step = StepInfo(batch_size=batch_size)
        self.recorder: Recorder | None = None
        self._stage_t0 = 0.0
        self._errors: Counter[int] = Counter()
        self.users_peak = 0
        self.last_part: dict[str, Any] | None = None
        self.started_at = 0.0

    # -- run lifecycle -------------------------------------------------------------
    def _begin(self, rec: Recorder, meta: StageMeta) -> None:
        stage = rec.begin_stage(meta)
        if self.streams:
            stage.begin_streams(self.slo)

    def start_run(self) -> None:
        self.recorder = Recorder()
        self._begin(self.recorder, self.step.meta())
        self._stage_t0 = time.perf_counter()
        self._errors = Counter()
        self.users_peak = 0
        self.last_part = None
        self.started_at = time.time()

    def on_step(self, data: dict[str, Any]) -> None:
        step = StepInfo(data, batch_size=self.default_batch)
        rec = self.recorder
        if rec is not None and step.index != self.step.index:
            rec.end_stage(time.perf_counter() - self._stage_t0)
            self._begin(rec, step.meta())
            self._stage_t0 = time.perf_counter()
        self.step = step

    def finish(self) -> ProfileResult | None:
        rec, self.recorder = self.recorder, None
        if rec is None:
            return None
        rec.end_stage(time.perf_counter() - self._stage_t0)
        stages = tuple(rec.stages)
        return ProfileResult(name=self.profile_name, kind=self.profile_kind, stages=stages,
                             summary=summarize(stages), timeseries=tuple(rec.intervals),
                             started_at=round(self.started_at, 3),
                             finished_at=round(time.time(), 3))

    def final_part(self) -> dict[str, Any]:
        """The part to send the master; the same one again if asked twice."""
        if self.last_part is None:
            profile = self.finish() or ProfileResult(
                name=self.profile_name, kind=self.profile_kind, stages=(), summary=summarize(()))
            self.last_part = encode_part(profile, node=self.node, users_peak=self.users_peak)
        return self.last_part

    # -- hot path --------------------------------------------------------------------
    def on_request(self, response_time: float, exception: Any, response: Any,
                   context: Any = None) -> None:
        rec = self.recorder
        if rec is None:
            return
        lat = latency_us(response_time)
        settled = context.get(CONTEXT_KEY) if isinstance(context, dict) else None
        stream = rec.current_stream
        if settled is not None and stream is not None:
            record_settled(stream, settled)
        if exception is None:
            rec.ok(lat)
            return
        status = getattr(response, "status_code", None) or None
        rec.error(error_kind_of(exception), lat, status)
        self._errors[self.step.index] += 1

    def tick(self, users: int) -> None:
        if self.recorder is not None:
            self.recorder.tick()
            self.users_peak = max(self.users_peak, users)

    def live(self) -> dict[str, Any]:
        """Per-stage histograms so far (as of the last tick), for the web UI tab."""
        rec = self.recorder
        rows: dict[str, Any] = {}
        if rec is None:
            return rows
        for s in rec.stages:
            rows[str(s.index)] = [s.label, s.histogram, s.errors]
        rows[str(self.step.index)] = [self.step.label, rec.stage_histogram.encode(),
                                      self._errors[self.step.index]]
        return rows


class GateSide:
    """Collects the parts of one run (its own, or its workers') for the gate."""

    def __init__(self) -> None:
        self.parts: dict[str, ProfileResult] = {}
        self.users_peak = 0
        self.started_at = time.time()
        self.live: dict[str, dict[str, Any]] = {}
        self.running = False

    def start_run(self) -> None:
        self.parts = {}
        self.users_peak = 0
        self.live = {}
        self.started_at = time.time()
        self.running = True

    def add_part(self, data: dict[str, Any]) -> None:
        node, profile, _peak = decode_part(data)
        self.parts[node] = profile

    def live_rows(self) -> list[dict[str, Any]]:
        """Exact per-stage percentiles across every process, for the web UI tab."""
        merged: dict[int, list[Any]] = {}
        for rows in self.live.values():
            for key, (label, encoded, errors) in rows.items():
                entry = merged.setdefault(int(key), [label, LatencyHistogram(), 0])
                entry[1].add(LatencyHistogram.decode(encoded))
                entry[2] += int(errors)
        out = []
        for idx in sorted(merged):
            label, hist, errors = merged[idx]
            out.append({
                # the histograms are the successes' (schema v2): requests = ok + errors
                "stage": idx, "label": label, "requests": hist.count + errors, "errors": errors,
                **{f"p{p}": round(hist.percentile_us(p) / 1000.0, 3) for p in (50, 90, 95, 99)},
                "p999": round(hist.percentile_us(99.9) / 1000.0, 3),
                "max": round(hist.max_us / 1000.0, 3),
            })
        return out


class Bridge:
    """Wires the two sides into one Locust environment's events and messages."""

    def __init__(self, *, profile_name: str | None, profile_kind: str, batch_size: int,
                 on_judge: Callable[[Environment, Bridge], None], streams: bool = False,
                 slo: bool = False) -> None:
        self.profile_name = profile_name or MANUAL_PROFILE
        self.streams, self.slo = streams, slo
        self.profile_kind = profile_kind
        self.batch_size = batch_size
        self.on_judge = on_judge
        self.recording: RecordingSide | None = None
        self.gate: GateSide | None = None
        self.environment: Environment | None = None
        self.steps: tuple[ShapeStep, ...] | None = None   # the steps of the run being judged
        self.run_profile: str | None = None                # the profile of that run (None: by hand)
        self.interrupted = False                            # Ctrl-C / SIGTERM during the run

    @property
    def step(self) -> StepInfo:
        """What the users of this process should do now (batch size, pacing)."""
        if self.recording is not None:
            return self.recording.step
        return StepInfo(batch_size=self.batch_size)

    def install(self, environment: Environment) -> None:
        self.environment = environment
        runner = environment.runner
        events = environment.events
        if isinstance(runner, (LocalRunner, WorkerRunner)):
            node = runner.client_id if isinstance(runner, WorkerRunner) else "local"
            self.recording = RecordingSide(node, self.profile_name, self.profile_kind,
                                           self.batch_size, streams=self.streams,
                                           slo=self.slo)
            events.request.add_listener(self._on_request)
            runner.register_message(MSG_STAGE, self._on_stage_msg)
        if isinstance(runner, (LocalRunner, MasterRunner)):
            self.gate = GateSide()
        if isinstance(runner, WorkerRunner):
            runner.register_message(MSG_STOP, self._on_stop_msg)
            events.report_to_master.add_listener(self._on_report_to_master)
        if isinstance(runner, MasterRunner):
            runner.register_message(MSG_PART, self._on_part_msg)
            events.worker_report.add_listener(self._on_worker_report)
        events.test_start.add_listener(self._on_test_start)
        events.test_stop.add_listener(self._on_test_stop)
        events.quitting.add_listener(self._on_quitting)
        gevent.spawn(self._ticker)

    # -- events ----------------------------------------------------------------------
    def _on_request(self, request_type: str = "", name: str = "", response_time: float = 0.0,
                    response_length: int = 0, exception: Any = None, response: Any = None,
                    context: Any = None, **_kw: Any) -> None:
        if self.recording is not None:
            self.recording.on_request(response_time, exception, response, context)

    def _on_test_start(self, environment: Environment, **_kw: Any) -> None:
        if self.gate is not None:
            self.gate.start_run()
            self.steps = getattr(environment.shape_class, "loadkit_steps", None)
            self.run_profile = getattr(environment.shape_class, "loadkit_profile", None)
            self.interrupted = False
        if self.recording is not None:
            self.recording.start_run()

    def _on_test_stop(self, environment: Environment, **_kw: Any) -> None:
        runner = environment.runner
        if self.recording is not None:
            # A worker always answers (even with no requests) so the master never waits for it.
            if isinstance(runner, WorkerRunner):
                runner.send_message(MSG_PART, self.recording.final_part())
            elif self.gate is not None and self.recording.recorder is not None:
                self.gate.add_part(self.recording.final_part())
        if self.gate is not None and self.gate.running:
            if isinstance(runner, MasterRunner):
                self._collect_from_workers(runner)
            self.gate.running = False
            self.on_judge(environment, self)

    def _on_quitting(self, environment: Environment, **_kw: Any) -> None:
        # Ctrl-C / SIGTERM in the web UI: judge what ran before Locust reads the exit code.
        runner = environment.runner
        if self.gate is not None and self.gate.running and runner is not None \
                and runner.state != STATE_STOPPED:
            self.interrupted = True
            runner.stop()

    def _collect_from_workers(self, runner: MasterRunner) -> None:
        assert self.gate is not None
        expected = {c.id for c in runner.clients.all}
        for cid in expected - set(self.gate.parts):
            runner.send_message(MSG_STOP, None, client_id=cid)
        wait_s = (self.environment.stop_timeout if self.environment else 0) + 15.0
        deadline = time.monotonic() + wait_s
        while expected - set(self.gate.parts) and time.monotonic() < deadline:
            gevent.sleep(0.05)
        missing = expected - set(self.gate.parts)
        if missing:
            log.warning("loadkit: no data from %d worker(s) after %.0fs: %s",
                        len(missing), wait_s, ", ".join(sorted(missing)))

    # -- messages --------------------------------------------------------------------
    def _on_stage_msg(self, environment: Environment, msg: Any, **_kw: Any) -> None:
        if self.recording is not None:
            self.recording.on_step(dict(msg.data or {}))

    def _on_stop_msg(self, environment: Environment, msg: Any, **_kw: Any) -> None:
        runner = environment.runner
        if runner is not None and runner.state != STATE_STOPPED:
            runner.stop()                      # fires test_stop, which sends the part
        elif runner is not None and self.recording is not None:
            runner.send_message(MSG_PART, self.recording.final_part())

    def _on_part_msg(self, environment: Environment, msg: Any, **_kw: Any) -> None:
        if self.gate is not None:
            self.gate.add_part(dict(msg.data))

    def _on_report_to_master(self, client_id: str, data: dict[str, Any], **_kw: Any) -> None:
        if self.recording is not None:
            data[LIVE_KEY] = self.recording.live()

    def _on_worker_report(self, client_id: str, data: dict[str, Any], **_kw: Any) -> None:
        if self.gate is not None and LIVE_KEY in data and data[LIVE_KEY]:
            self.gate.live[client_id] = data[LIVE_KEY]

    def announce(self, step: ShapeStep) -> None:
        """The shape began ``step``: tell every recording side (workers, or ourselves)."""
        runner = self.environment.runner if self.environment else None
        if runner is not None:
            runner.send_message(MSG_STAGE, step.message())

    # -- once a second ---------------------------------------------------------------
    def _ticker(self) -> None:
        while True:
            gevent.sleep(1.0)
            runner = self.environment.runner if self.environment else None
            users = runner.user_count if runner is not None else 0
            try:
                if self.recording is not None:
                    self.recording.tick(users)
                    if self.gate is not None:
                        self.gate.live["local"] = self.recording.live()
                if self.gate is not None and self.gate.running:
                    self.gate.users_peak = max(self.gate.users_peak, users)
            except Exception:  # the ticker must survive anything; the gate reports what it has
                log.exception("loadkit: recording tick failed")
