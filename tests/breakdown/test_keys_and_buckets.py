"""Scenario side of latency by input: per-body keys and quartile buckets (pure, no network)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from loadkit.errors import DatasetError
from loadkit.scenario import build_payloads, scenario_from_text
from loadkit.scenario.breakdown import (
    bucket_label,
    body_keys,
    input_breakdown,
    quantile_buckets,
)


def test_payload_bytes_key_is_each_body_length() -> None:
    measure, unit, keys = body_keys("payload_bytes", [], [b"ab", b"abcd", b""])
    assert (measure, unit, keys) == ("payload_bytes", "B", [2.0, 4.0, 0.0])


def test_numeric_column_key_is_the_mean_over_the_rows_of_the_body() -> None:
    batches: list[list[dict[str, Any]]] = [[{"x": 1}, {"x": 3}], [{"x": 10}, {"x": None}],
                                          [{"x": None}]]
    measure, unit, keys = body_keys("x", batches, [b"a", b"b", b"c"])
    assert (measure, unit) == ("x", "")
    assert keys[:2] == [2.0, 10.0]
    assert math.isnan(keys[2])          # no value: in no bucket


def test_text_column_key_is_the_mean_string_length() -> None:
    batches = [[{"t": "ab"}, {"t": "abcd"}], [{"t": ""}]]
    measure, _, keys = body_keys("t", batches, [b"a", b"b"])
    assert measure == "len(t)"
    assert keys == [3.0, 0.0]


def test_a_column_mixing_numbers_and_text_is_refused_naming_the_field() -> None:
    with pytest.raises(DatasetError, match=r"profiles\[0\]\.breakdown: column 'x' mixes"):
        body_keys("x", [[{"x": 1}], [{"x": "a"}]], [b"a", b"b"], "profiles[0].breakdown")


@pytest.mark.parametrize(("keys", "buckets", "ranges"), [
    pytest.param([1, 2, 3, 4, 5, 6, 7, 8], [0, 0, 1, 1, 2, 2, 3, 3],
                 [(1, 2), (3, 4), (5, 6), (7, 8)], id="eight-distinct-four-quartiles"),
    pytest.param([8, 7, 6, 5, 4, 3, 2, 1], [3, 3, 2, 2, 1, 1, 0, 0],
                 [(1, 2), (3, 4), (5, 6), (7, 8)], id="order-of-bodies-does-not-matter"),
    pytest.param([5, 5, 5, 5], [0, 0, 0, 0], [(5, 5)], id="one-value-one-bucket"),
    pytest.param([1, 1, 1, 2], [0, 0, 0, 1], [(1, 1), (2, 2)], id="ties-stay-together"),
    pytest.param([1, 2, 3], [0, 1, 2], [(1, 1), (2, 2), (3, 3)], id="three-bodies-three-buckets"),
])
def test_quartile_buckets(keys: list[float], buckets: list[int],
                          ranges: list[tuple[float, float]]) -> None:
    got, got_ranges = quantile_buckets([float(k) for k in keys])
    assert got == buckets
    assert got_ranges == ranges


def test_every_bucket_holds_a_body_and_keys_are_ordered_by_bucket() -> None:
    keys = [float((i * 37) % 101) for i in range(300)] + [math.nan]
    assigned, ranges = quantile_buckets(keys)
    assert assigned[-1] == -1
    assert len(ranges) == 4
    for b, (lo, hi) in enumerate(ranges):
        members = [k for k, a in zip(keys, assigned, strict=True) if a == b]
        assert members and min(members) == lo and max(members) == hi
        if b:
            assert ranges[b - 1][1] < lo
    sizes = [assigned.count(b) for b in range(4)]
    assert max(sizes) - min(sizes) <= 4       # quartiles: about a quarter each


def test_labels_name_the_measure_the_range_and_the_unit() -> None:
    assert bucket_label("payload_bytes", 96, 120, "B") == "payload_bytes 96–120 B"
    assert bucket_label("n_rows", 8, 8) == "n_rows 8"
    assert bucket_label("x", 0.25, 1.5) == "x 0.25–1.5"


def test_input_breakdown_finds_a_body_bucket_by_its_content() -> None:
    bodies = [b"a" * n for n in (10, 20, 30, 40)]
    found = input_breakdown("payload_bytes", [], bodies)
    assert found.buckets == (0, 1, 2, 3)
    assert found.bucket_of_body()[b"a" * 30] == 2


DATA = "\n".join(json.dumps({"n": n, "text": "x" * (3 * n)}) for n in range(1, 17))


def _scenario(tmp_path: Path, profiles: str, batch: int = 1):
    (tmp_path / "d.jsonl").write_text(DATA + "\n")
    return scenario_from_text(
        f"name: t\ntarget: http://127.0.0.1:9\nrequest: {{body: {{instances: '{{{{ rows }}}}'}},"
        f" batch_size: {batch}}}\ndataset: {{path: d.jsonl, order: sequential}}\nprofiles:\n"
        + profiles, base_dir=tmp_path)


def test_build_payloads_computes_one_breakdown_per_key_asked_for(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "  - {kind: latency, requests: 3, breakdown: n}\n"
                                   "  - {name: b, kind: latency, requests: 3, breakdown: text}\n"
                                   "  - {name: c, kind: latency, requests: 3}\n", batch=2)
    ps = build_payloads(scenario)[2]
    assert [b.key for b in ps.breakdowns] == ["n", "text"]
    by_n = ps.breakdown("n")
    assert by_n is not None and by_n.keys[:2] == (1.5, 3.5)    # mean of rows (1, 2), (3, 4)
    by_text = ps.breakdown("text")
    assert by_text is not None and by_text.measure == "len(text)" and by_text.keys[0] == 4.5
    assert len(by_n.ranges) == 4 and by_n.labels[0] == "n 1.5–3.5"


def test_no_breakdown_asked_means_no_breakdown_computed(tmp_path: Path) -> None:
    ps = build_payloads(_scenario(tmp_path, "  - {kind: latency, requests: 3}\n"))[1]
    assert ps.breakdowns == ()


def test_compiled_stages_carry_the_profile_breakdown_key(tmp_path: Path) -> None:
    from loadkit.scenario import compile_profile

    scenario = _scenario(tmp_path, "  - {kind: ramp, concurrency: [1, 2], stage_duration: 1s,"
                                   " breakdown: payload_bytes}\n")
    stages = compile_profile(scenario.profiles[0], scenario)
    assert [s.breakdown for s in stages] == ["payload_bytes", "payload_bytes"]
