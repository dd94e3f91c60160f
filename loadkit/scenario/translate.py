"""pydantic's ValidationError -> one ScenarioError line naming the field path.

Where it sits: ``load_scenario`` calls ``translate`` when the schema refuses the
tree. Only the first error is shown (fix one thing at a time, as a compiler
does); internal union tags (``~name``) are dropped from the path, and input
values under ``request.headers`` are never echoed (they are secrets).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from loadkit.errors import ScenarioError
from loadkit.scenario.fields import did_you_mean
from loadkit.scenario.source import field_path

_TYPE_WORDS = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "string_type": "expected a string",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "literal_error": "not an allowed value",
    "missing": "required",
    "extra_forbidden": "unknown field",
    "finite_number": "must be a finite number",
}
_ECHO_TYPES = {"int_type", "int_parsing", "int_from_float", "float_type", "float_parsing",
               "string_type", "bool_type", "bool_parsing", "list_type", "dict_type",
               "model_type", "model_attributes_type"}


def _kind_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)[:40]


def _problem(err: Any, secret: bool) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt')}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "less_than":
        return f"must be less than {ctx.get('lt')}"
    if kind == "too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else \
            f"needs at least {ctx.get('min_length')} items"
    if kind == "too_long":
        return f"has more than {ctx.get('max_length')} items"
    if kind in ("value_error", "assertion_error"):
        msg = str(err["msg"])
        for prefix in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(prefix)
        return msg
    if kind in _TYPE_WORDS:
        words = _TYPE_WORDS[kind]
        if kind in _ECHO_TYPES and not secret:
            words += f", got {_kind_name(err.get('input'))}"
        return words
    return str(err["msg"])


def translate(exc: ValidationError) -> ScenarioError:
    """The first error as ``profiles[2].rate: must be greater than 0``."""
    err = exc.errors(include_url=False)[0]
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("~"))]
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind == "unknown_field":
        field = ctx["field"]
        hint = did_you_mean(field, ctx["known"]) or f" (fields: {', '.join(ctx['known'])})"
        return ScenarioError(field_path([*loc, field]), f"unknown field{hint}")
    if kind == "profile_kind":
        loc.append("kind")
    secret = ("headers" in loc[:3] or loc[:1] == ["target"]
              or (loc[:1] == ["server_metrics"] and "url" in loc[:3]))
    return ScenarioError(field_path(loc), _problem(err, secret))
