"""A Locust user's streamed request: read event by event, judged as the engine judges it.

Where it sits: ``user.make_user_class`` calls ``send_stream`` from the user's task
when the scenario streams (``request.api: openai-*`` or ``request.stream: sse``).
The request goes out with ``stream=True``; the answer is read line by line from
geventhttpclient (``readline``: each line as soon as it is complete, one
``perf_counter_ns`` each) into the same ``StreamRead`` the engine's transports
feed, and ``judge_stream`` decides it exactly as in ``loadkit run``. The event
Locust fires carries the judged answer in its ``context`` (``loadkit_stream``),
so the bridge's listener records TTFT, every gap and tokens into the stage's
histograms, and Locust's own response time is set to the last byte.
``stream: chunks`` is read whole here (one chunk): geventhttpclient has no
"whatever arrived" read.
"""

from __future__ import annotations

from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from loadkit.engine.stream_read import StreamRead
from loadkit.engine.stream_settle import StreamContext, judge_stream
from loadkit.locust_bridge.collect import transport_error_kind

if TYPE_CHECKING:
    from loadkit.scenario.plan import Checks, Slo

CONTEXT_KEY = "loadkit_stream"


def send_stream(client: Any, method: str, path: str, body: bytes, headers: dict[str, str],
                payload: int, ctx: StreamContext, slo: Slo | None, checks: Checks) -> None:
    """Send one streamed request through a FastHttpSession and report it to Locust."""
    spec = ctx.spec
    read = StreamRead(spec.format, spec.tokenizer is not None)
    headers = {**headers, "Accept-Encoding": "identity"}
    t0 = perf_counter_ns()
    with client.request(method, path, data=body or None, headers=headers, name=path,
                        catch_response=True, stream=True) as resp:
        status = int(getattr(resp, "status_code", 0) or 0)
        error = getattr(resp, "error", None)
        if status == 0 and error is not None:
            resp.failure(transport_error_kind(error))
            return
        read.status = status
        read.content_type = str((resp.headers or {}).get("content-type", "")).lower()
        raw = resp._response
        live = spec.streamed and 200 <= status < 300 and spec.format != "chunks" and (
            "text/event-stream" in read.content_type)
        try:
            if live:
                while line := raw.readline(b"\n"):
                    read.feed(line, perf_counter_ns())
            else:
                whole = raw.read()
                if not spec.streamed and 200 <= status < 300:
                    read.whole_body(whole)
                else:
                    read.raw = whole
                    if spec.format == "chunks" and whole:
                        read.feed(whole, perf_counter_ns())
        except Exception as exc:  # noqa: BLE001 -- a broken read is one error kind
            kind = "stream_incomplete" if read.chunks else transport_error_kind(exc)
            resp.request_meta["response_time"] = (perf_counter_ns() - t0) / 1e6
            resp.failure(kind)
            return
        read.last_ns = perf_counter_ns()
        settled = judge_stream(ctx, slo, checks.failure, t0, status, read, payload)
        resp.request_meta["response_time"] = settled.latency_us / 1000
        resp.request_meta["context"] = {**(resp.request_meta.get("context") or {}),
                                        CONTEXT_KEY: settled}
        if settled.kind is None:
            resp.success()
        else:
            resp.failure(settled.kind)
