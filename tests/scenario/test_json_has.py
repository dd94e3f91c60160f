"""checks.json_has answers exactly as before (json.loads + dict walk), with or without simdjson."""

from __future__ import annotations

import pytest

import loadkit.scenario.json_has as json_has
from loadkit.scenario.plan import Checks

CASES = [
    (b'{"predictions": [0]}', ("predictions",), True),
    (b'{"a": {"b": {"c": null}}}', ("a.b.c",), True),
    (b'{"a": {"b": 1}}', ("a.b", "a"), True),
    (b'{"a": {"b": 1}}', ("a.c",), False),
    (b'{"a": [{"b": 1}]}', ("a.b",), False),          # lists are not walked, as before
    (b'{"a": 1}', ("a.b",), False),
    (b'[{"predictions": 1}]', ("predictions",), False),
    (b'{"score": NaN, "predictions": [1]}', ("predictions",), True),   # Python json's NaN
    (b'not json', ("predictions",), False),
    (b'{"predictions": [0]', ("predictions",), False),
    (b'\xff\xfe', ("predictions",), False),
    ('{"clé": 1}'.encode(), ("clé",), True),
]


@pytest.mark.parametrize("simd", [True, False], ids=["simdjson", "json-fallback"])
@pytest.mark.parametrize(("body", "keys", "ok"), CASES)
def test_json_has_finds_exactly_the_dotted_keys_present(
        body: bytes, keys: tuple[str, ...], ok: bool, simd: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if not simd:
        monkeypatch.setattr(json_has, "simdjson", None)
        monkeypatch.setattr(json_has, "_parser", None)
    elif json_has.simdjson is None:
        pytest.skip("pysimdjson not installed")
    got = Checks(json_has=keys).failure(200, body)
    assert got == (None if ok else "check_failed")
