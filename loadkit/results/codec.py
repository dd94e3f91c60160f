"""result.json <-> RunResult, exactly: ``dumps(loads(text)) == text``.

Dataclasses are turned into dicts in field order and back by their type hints, so
the JSON edge is the only place loose dicts exist. Unknown top-level schema
versions are refused with a clear error rather than misread.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from functools import cache
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from loadkit.errors import UsageError
from loadkit.results.model import SCHEMA, RunResult

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
    """A class's fields, its own first and mixed-in optional ones (``omit_default``) last."""
    fields = dataclasses.fields(cls)
    return (tuple(f for f in fields if not f.metadata.get("omit_default"))
            + tuple(f for f in fields if f.metadata.get("omit_default")))


def to_data(obj: Any) -> Any:
    """Plain JSON-able data from a dataclass tree (tuples become lists)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # Fields a type names in ``_omit_when_empty`` are left out while None or
        # empty (a gauge's rate; a stage without server metrics), and so are fields
        # marked ``omit_default`` at their default (a classic stage's streaming
        # figures), so result.json carries only what was measured; loading
        # restores their defaults.
        omit = getattr(obj, "_omit_when_empty", ())
        out = {}
        for f in _ordered(type(obj)):
            value = getattr(obj, f.name)
            if _absent(f, value):
                continue
            if not (f.name in omit and (value is None or value == () or value == {})):
                out[f.name] = to_data(value)
        return out
    if isinstance(obj, (list, tuple)):
        return [to_data(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in obj.items()}
    return obj


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _build(tp: Any, value: Any) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        args = tuple(a for a in get_args(tp) if a is not type(None))
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
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_data(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild dataclass ``cls`` from plain data; unknown keys are ignored."""
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
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
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        raise UsageError(f"{source}: schema is {found!r}, expected {SCHEMA!r}")
    try:
        return from_data(RunResult, data)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise UsageError(f"{source}: malformed result ({exc})") from None


def read(path: str) -> RunResult:
    try:
        with open(path, encoding="utf-8") as fh:
            return loads(fh.read(), source=path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
