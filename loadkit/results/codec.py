"""result.json <-> RunResult, exactly: ``dumps(loads(text)) == text``.

Dataclasses are turned into dicts in field order and back by their type hints, so
the JSON edge is the only place loose dicts exist. Unknown top-level schema
versions are refused with a clear error rather than misread; a
``loadkit.result/v1`` file is read through ``migrate_v1`` (see there for what v1
could and could not say).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from functools import cache
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from loadkit.errors import UsageError
from loadkit.results.model import SCHEMA, SCHEMA_V1, RunResult

T = TypeVar("T")


def _absent(f: dataclasses.Field[Any], value: Any) -> bool:
    """A field marked ``omit_default`` (e.g. a classic stage's streaming figures) at its default."""
    if not f.metadata.get("omit_default"):
        return False
    if f.default_factory is not dataclasses.MISSING:
        return bool(value == f.default_factory())
    return bool(value == f.default)


@cache
def _ordered(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    """A class's fields, its own first and mixed-in optional ones (``OMIT``) last;
    ``OMIT_HERE`` fields keep their declared place."""
    fields = dataclasses.fields(cls)

    def last(f: dataclasses.Field[Any]) -> bool:
        return bool(f.metadata.get("omit_default")) and not f.metadata.get("in_place")

    return tuple(f for f in fields if not last(f)) + tuple(f for f in fields if last(f))


def to_data(obj: Any) -> Any:
    """Plain JSON-able data from a dataclass tree (tuples become lists)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # Fields a type names in ``_omit_when_empty`` are left out while None or
        # empty (a gauge's rate; a stage without server metrics), and so are fields
        # marked ``omit_default`` at their default (a classic stage's streaming
        # figures), so result.json carries only what was measured; loading
        # restores their defaults.
        omit = getattr(obj, "_omit_when_empty", ())
        out: dict[str, Any] = {}
        for f in _ordered(type(obj)):
            value = getattr(obj, f.name)
            if _absent(f, value):
                continue
            if value is None and f.metadata.get("empty_as_none"):
                out[f.name] = {}
                continue
            if not (f.name in omit and (value is None or value == () or value == {})):
                out[f.name] = to_data(value)
        return out
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (list, tuple)):
        return [to_data(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in obj.items()}
    return obj


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _kinds(cls: type) -> tuple[str, ...] | None:
    """The ``kind`` values a record allows (its ``Literal``), or None when any string goes."""
    hint = _hints(cls).get("kind")
    return get_args(hint) if get_origin(hint) is typing.Literal else None


def _by_kind(records: tuple[type, ...], value: dict[str, Any]) -> type:
    """The record of a tagged union that reads ``value``: the first whose ``kind``
    allows it, else the first that takes any kind (analysis records, by profile kind)."""
    kind = value.get("kind")
    for cls in records:
        allowed = _kinds(cls)
        if allowed is not None and kind in allowed:
            return cls
    for cls in records:
        if _kinds(cls) is None:
            return cls
    raise ValueError(f"no record reads kind {kind!r}")


def _build(tp: Any, value: Any) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        args = tuple(a for a in get_args(tp) if a is not type(None))
        records = tuple(a for a in args if isinstance(a, type) and dataclasses.is_dataclass(a))
        if len(records) > 1 and isinstance(value, dict):
            return from_data(_by_kind(records, value), value)
        for a in args:
            if a in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value) if float in args and isinstance(value, float) else value
        return _build(args[0], value)
    if origin is typing.Literal:
        return value
    if origin is tuple:
        args = get_args(tp)
        inner = args[0] if args else Any
        return tuple(_build(inner, v) for v in value)
    if origin is list:
        (inner,) = get_args(tp) or (Any,)
        return [_build(inner, v) for v in value]
    if origin is dict:
        _, vt = get_args(tp) or (Any, Any)
        return {k: _build(vt, v) for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_data(tp, value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_data(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild dataclass ``cls`` from plain data; unknown keys are ignored."""
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data or not f.init:
            continue
        if f.metadata.get("empty_as_none") and data[f.name] == {}:
            kwargs[f.name] = None
        else:
            kwargs[f.name] = _build(hints[f.name], data[f.name])
    return cls(**kwargs)


def dumps(result: RunResult) -> str:
    """The canonical result.json text."""
    return json.dumps(to_data(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def loads(text: str, source: str = "result.json") -> RunResult:
    """Parse result.json text; a wrong or unknown file is a UsageError naming it."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    found = data.get("schema") if isinstance(data, dict) else None
    if found not in (SCHEMA, SCHEMA_V1):
        raise UsageError(f"{source}: schema is {found!r}, expected {SCHEMA!r} (or {SCHEMA_V1!r})")
    try:
        data = migrate_v1(data) if found == SCHEMA_V1 else lift_cold_start(data)
        return from_data(RunResult, data)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise UsageError(f"{source}: malformed result ({exc})") from None


V1_NOTE = ("read from a loadkit.result/v1 file: v1 kept one latency histogram per stage, "
           "errors included, so the latency of a stage with errors includes its failed "
           "requests here (v2 judges successes only); throughput counts successes")


def lift_cold_start(data: dict[str, Any]) -> dict[str, Any]:
    """A result written before ``ProfileResult.cold_start`` kept a latency profile's cold
    start only in its analysis; the profile keeps it now, for ``judge`` to read."""
    profiles = data.get("profiles")
    if not isinstance(profiles, list):
        return data
    lifted = []
    for p in profiles:
        analysis = p.get("analysis") if isinstance(p, dict) else None
        if isinstance(analysis, dict) and "cold_start" in analysis and "cold_start" not in p:
            p = dict(p, cold_start=analysis["cold_start"])
        lifted.append(p)
    return dict(data, profiles=lifted)


def _migrate_stage_v1(stage: dict[str, Any], recovery: bool) -> dict[str, Any]:
    out = dict(stage)
    out["latency_all_ms"] = stage.get("latency_ms", {})
    out["histogram_all"] = stage.get("histogram", "")
    out["overflow_all"] = stage.get("overflow", 0)
    duration = float(stage.get("duration_s") or 0.0)
    ok = int(stage.get("ok") or 0)
    if duration > 0:
        out["throughput_rps"] = round(ok / duration, 3)
    out["role"] = "warmup" if stage.get("warmup") else ("recovery" if recovery else "measured")
    return out


def migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A v1 result.json as v2 data, saying honestly what v1 could not tell apart.

    v1's ``latency_ms``/``histogram`` held every request. Where a stage had no errors
    they are exactly v2's successes; where it had errors the successes were never kept
    apart, so the stage keeps v1's figures in both places and a note says so.
    ``throughput_rps`` becomes successes a second (``ok / duration_s``). v1 marked a
    recovery stage only in its label: this is the one place that reads a label, to
    set the v2 ``role``. A v1 result with no rules was gated by nothing; v2 judges it
    by the default rule. Analysis (a latency profile's cold start excepted), verdicts,
    status and warnings are left for ``judge``.
    """
    out = dict(data)
    out["schema"] = SCHEMA
    mixed = False
    profiles = []
    for p in data.get("profiles", []):
        stages = []
        for st in p.get("stages", []):
            recovery = "recovery" in str(st.get("label", "")).lower()
            stages.append(_migrate_stage_v1(st, recovery))
            mixed = mixed or bool(st.get("errors"))
        prof = dict(p, stages=stages)
        analysis = p.get("analysis")
        if analysis is not None:
            # v1 analyses had no fixed shape; ``judge`` derives the analysis afresh.
            prof["analysis"] = {}
        if isinstance(analysis, dict) and isinstance(analysis.get("cold_start"), dict):
            prof["cold_start"] = analysis["cold_start"]
        if not p.get("sla"):
            prof["sla_origin"] = "default"
            prof["sla"] = ["error_rate < 1%"]
        summary = dict(p.get("summary", {}))
        summary["latency_all_ms"] = summary.get("latency_ms", {})
        if summary.get("duration_s"):
            summary["throughput_rps"] = round(int(summary.get("ok") or 0)
                                              / float(summary["duration_s"]), 3)
        prof["summary"] = summary
        profiles.append(prof)
    out["profiles"] = profiles
    status = data.get("status")
    out["interrupted"] = status == "interrupted"
    # v1 wrote an abort as the warning "aborted: <rule> broken at ..." (its one format).
    out["stopped_early"] = next((w for w in data.get("warnings", [])
                                 if str(w).startswith("aborted: ")), "")
    out["notes"] = list(data.get("warnings", [])) + ([V1_NOTE] if mixed else [])
    verdicts = []
    for v in data.get("verdicts", []):
        verdicts.append({k: val for k, val in v.items() if k != "stage"})
    out["verdicts"] = verdicts
    return out


def read(path: str) -> RunResult:
    try:
        with open(path, encoding="utf-8") as fh:
            return loads(fh.read(), source=path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
