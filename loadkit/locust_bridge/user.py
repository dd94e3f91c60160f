"""The scenario's request as a Locust ``FastHttpUser`` (imports locust).

Where it sits: ``locustfile`` builds one user class from the scenario. Each task
sends the scenario's request with a body from the same pre-encoded payloads the
engine uses (``build_payloads``: same sampling, seed and batch size), walked
round-robin from a per-user offset as the engine's workers do, with the same
headers and timeout, and judges the response with the same ``Checks.failure``
— so a failure in the Locust UI means what it means in ``loadkit run``. Every
failure is reported with loadkit's error kind as its message.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from locust import constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser

from loadkit.engine.stream_settle import StreamContext
from loadkit.locust_bridge.collect import transport_error_kind
from loadkit.locust_bridge.stream_user import send_stream
from loadkit.scenario.plan import PayloadSet, RequestSpec, Slo

GOLDEN = 0.6180339887498949


def make_user_class(request: RequestSpec, payloads: Mapping[int, PayloadSet],
                    step: Callable[[], Any], *, host: str | None,
                    slo: Slo | None = None) -> type[FastHttpUser]:
    """A FastHttpUser sending ``request``; ``step()`` says the current batch size and pacing.

    A streaming request (``request.stream``) is read event by event (``stream_user``)
    and judged against ``slo`` as the engine judges it.
    """
    base_headers = dict(request.headers)
    bodies = {size: (ps.bodies or (b"",)) for size, ps in payloads.items()}
    content_types = {size: ps.content_type for size, ps in payloads.items()}
    default_size = min(bodies) if bodies else 1
    numbering = itertools.count()
    pacers: dict[float, Callable[[Any], float]] = {}
    checks = request.checks
    method, path = request.method, request.path
    streams = None
    if request.stream is not None:
        combined = [n for _, ps in sorted(payloads.items()) for n in ps.input_tokens]
        streams = StreamContext(request.stream, combined)

    class LoadkitUser(FastHttpUser):
        network_timeout = request.timeout_s
        connection_timeout = request.timeout_s
        insecure = request.insecure
        max_retries = 0

        def on_start(self) -> None:
            self._number = next(numbering)
            self._i = -1

        def wait_time(self) -> float:
            pacing = step().user_rps
            if not pacing:
                return 0.0
            pace = pacers.get(pacing)
            if pace is None:
                pace = pacers[pacing] = constant_throughput(pacing)
            return pace(self)

        def _body(self) -> tuple[bytes, dict[str, str]]:
            current = step()
            size = current.batch_size if current.batch_size in bodies else default_size
            pool = bodies.get(size, (b"",))
            n = len(pool)
            if self._i < 0:
                users = getattr(current, "concurrency", None) or 0
                self._i = ((self._number * n) // users if users else int(self._number * GOLDEN * n)) % n
            else:
                self._i = (self._i + 1) % n
            headers = dict(base_headers)
            body = pool[self._i]
            if body and not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = content_types.get(size, "application/json")
            return body, headers

        @task
        def send(self) -> None:
            body, headers = self._body()
            if streams is not None:
                send_stream(self.client, method, path, body, headers, self._i, streams, slo,
                            checks)
                return
            with self.client.request(method, path, data=body or None,  # type: ignore[arg-type]  # bytes are sent as-is
                                     headers=headers,
                                     name=path, catch_response=True) as resp:
                error = getattr(resp, "error", None)
                status = int(getattr(resp, "status_code", 0) or 0)
                if status == 0 and error is not None:
                    resp.failure(transport_error_kind(error))
                    return
                kind = checks.failure(status, resp.content or b"")
                if kind is None:
                    resp.success()
                else:
                    resp.failure(kind)

    LoadkitUser.host = host
    return LoadkitUser
