"""``checks.json_has`` without building the response document.

The check runs on the generator's event loop for every response, so its cost is
client time that a response arriving meanwhile waits for. ``json.loads`` of a
114 kB answer builds ~10,000 Python objects to answer "is there a
``predictions`` key"; simdjson parses into its own tape and walks only the keys
asked for (``benchmarks/checks.py``: about 9x faster than ``json`` and 2x faster
than orjson on that answer, 10x on a small one). simdjson is strict RFC 8259, so
a body it refuses (``NaN``, which Python's json accepts) is read by ``json`` to
keep the old meaning. An install without pysimdjson (an older environment) reads
every body with ``json``: slower, the same answers.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import simdjson
except ImportError:  # pragma: no cover - depends on the environment
    simdjson = None  # type: ignore[assignment, unused-ignore]

_parser: Any = None                      # one per process; made on first use (not pickled)


def _walk(doc: Any, paths: tuple[tuple[str, ...], ...], mapping: type[Any],
          sequence: type[Any]) -> bool:
    for path in paths:
        node: Any = doc
        for part in path:
            if isinstance(node, mapping) and part in node:
                node = node[part]
            elif isinstance(node, sequence):
                node = _named(node, part, mapping)
                if node is None:
                    return False
            else:
                return False
    return True


def _named(items: Any, name: str, mapping: type[Any]) -> Any:
    """In a list, the object whose ``name`` is ``name``: how the Open Inference Protocol
    lists its ``outputs`` (``json_has: [outputs.predict]``)."""
    for item in items:
        if isinstance(item, mapping) and item.get("name") == name:
            return item
    return None


def has_paths(body: bytes, paths: tuple[tuple[str, ...], ...]) -> bool:
    """True when ``body`` is JSON holding every dotted key path (each split into parts)."""
    global _parser
    if _parser is None and simdjson is not None:
        _parser = simdjson.Parser()
    if _parser is None:
        return _has_paths_json(body, paths)
    try:
        doc = _parser.parse(body)
    except (ValueError, UnicodeDecodeError):
        return _has_paths_json(body, paths)
    try:
        return _walk(doc, paths, simdjson.Object, simdjson.Array)
    finally:
        del doc                              # the parser's next document needs it released


def _has_paths_json(body: bytes, paths: tuple[tuple[str, ...], ...]) -> bool:
    """``has_paths`` read by Python's json: without simdjson, or for what it refuses."""
    try:
        return _walk(json.loads(body), paths, dict, list)
    except (ValueError, UnicodeDecodeError):
        return False


def missing_key(body: bytes, keys: tuple[str, ...]) -> str:
    """Which ``json_has`` key a body lacks, in words: ``predictions missing`` or ``the body
    is not JSON``. Off the hot path: called once per error kind and stage, to say what
    the first failing check was."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "the body is not JSON"
    for key in keys:
        if not _walk(doc, (tuple(key.split(".")),), dict, list):
            return f"{key} missing"
    return "every key present"
