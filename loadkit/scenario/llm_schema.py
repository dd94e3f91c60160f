"""The scenario fields of generative (streaming) endpoints (DESIGN.md, issue 15).

Where it sits: ``schema.py``'s request model and ``profile_schema.py``'s profile
models take these fields; ``model.py`` turns them into a ``StreamSpec`` and a
``Slo`` (plan.py), and ``llm_payloads.py`` builds the bodies. ``slo`` keys are
timings only: an unknown key is refused with a did-you-mean, naming the field.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticCustomError

from loadkit.scenario.fields import Millis, Strict

OPENAI_APIS = ("openai-chat", "openai-completions")
V2_APIS = ("kserve-v2",)                  # the Open Inference Protocol (scenario/kserve.py)
# request.api: one literal set, extended by each protocol the scenario can speak.
APIS = ("http", *OPENAI_APIS, *V2_APIS)
HTTP_STREAMS = ("sse", "chunks")
DEFAULT_PATHS = {"openai-chat": "/v1/chat/completions", "openai-completions": "/v1/completions"}


class SloModel(Strict):
    """Per-request bounds: ``{ttft: 500ms, itl: 50ms, tpot: 30ms, latency: 20s}``."""

    ttft: Millis | None = None
    itl: Millis | None = None
    tpot: Millis | None = None
    latency: Millis | None = None


def check_stream(api: str, stream: Any, max_tokens: Any, model: Any) -> None:
    """Cross-field rules of a request's ``api`` / ``stream`` / ``max_tokens`` / ``model``."""
    if api in OPENAI_APIS:
        if stream is not None and not isinstance(stream, bool):
            raise PydanticCustomError(
                "stream", "stream: {api} takes true or false (got {got}); sse and chunks are "
                "for api: http", {"api": api, "got": repr(stream)[:30]})
        return
    if stream is not None and stream not in HTTP_STREAMS:
        raise PydanticCustomError(
            "stream", "stream: an http endpoint streams as sse or chunks (got {got}); "
            "true/false are for api: openai-chat / openai-completions",
            {"got": repr(stream)[:30]})
    if api in V2_APIS:
        if stream is not None:
            raise PydanticCustomError("stream", "stream: api kserve-v2 answers whole (no stream)",
                                      {})
        model = None                          # kserve-v2 names its model in the path
    for name, value in (("max_tokens", max_tokens), ("model", model)):
        if value is not None:
            raise PydanticCustomError(
                "openai_only", "{name}: only for api: openai-chat or openai-completions",
                {"name": name})
