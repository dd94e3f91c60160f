"""Compression parity: asked for only by the scenario, decoded the same way by both transports.

An aiohttp app in a thread records the Accept-Encoding each request carried and
answers compressed exactly as asked (or corrupt, or a bomb past the byte cap).
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from loadkit.engine import run_stages
from loadkit.engine.factory import resolve_transport
from loadkit.errors import UsageError
from loadkit.scenario.plan import Checks, PayloadSet, RequestSpec, Stage
from tests.engine.conftest import assert_accounted
from tests.reliability.conftest import serve_app

N = 8
PAYLOADS = {1: PayloadSet(1, (b'{"x": 1}',))}
DOC = json.dumps({"predictions": [[i / 7, i / 11] for i in range(3000)]}).encode()
BODIES = {"gzip": gzip.compress(DOC), "deflate": zlib.compress(DOC),
          "raw-deflate": zlib.compress(DOC)[2:-4],
          "corrupt": gzip.compress(DOC)[:40] + b"\x00" * 40,
          "bomb": gzip.compress(b"0" * 2_000_000)}


def app(seen: list[str]) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        asked = request.headers.get("Accept-Encoding", "")
        seen.append(asked)
        how = request.match_info["how"]
        if how == "plain" or not asked:
            return web.Response(body=DOC, content_type="application/json")
        body = BODIES[how]
        coding = "deflate" if "deflate" in how else "gzip"
        return web.Response(body=body, content_type="application/json",
                            headers={"Content-Encoding": coding})

    a = web.Application()
    a.router.add_route("*", "/{how}", answer)
    return a


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    with serve_app(app(seen)) as url:
        yield url, seen


def _run(url: str, path: str, transport: str, accept: str | None) -> Any:
    headers = (("Accept-Encoding", accept),) if accept else ()
    request = RequestSpec(target=url, path=path, headers=headers, max_response_bytes=1_000_000,
                          checks=Checks(json_has=("predictions",)))
    run = run_stages([Stage(0, "s", concurrency=2, requests=N)], request, PAYLOADS,
                     transport=transport, handle_signals=False)
    assert_accounted(run)
    return run


def test_neither_transport_asks_for_compression_unless_the_scenario_does(
        transport: str, server: tuple[str, list[str]]) -> None:
    url, seen = server
    run = _run(url, "/gzip", transport, None)
    assert run.stages[0].ok == N
    assert seen == [""] * N
    assert run.health.decompressed == 0


@pytest.mark.parametrize("how", ["gzip", "deflate", "raw-deflate"])
def test_a_compressed_answer_is_decoded_for_the_checks_and_timed_apart(
        transport: str, server: tuple[str, list[str]], how: str) -> None:
    url, seen = server
    run = _run(url, f"/{how}", transport, "gzip, deflate")
    assert run.stages[0].ok == N
    assert seen == ["gzip, deflate"] * N
    assert run.health.decompressed == N
    assert run.health.decompress_mean_us > 0


@pytest.mark.parametrize(("how", "kind"), [("corrupt", "protocol"), ("bomb", "too_large")])
def test_an_answer_that_does_not_decode_or_decodes_past_the_cap_is_an_error(
        transport: str, server: tuple[str, list[str]], how: str, kind: str) -> None:
    url, _ = server
    s = _run(url, f"/{how}", transport, "gzip").stages[0]
    assert s.error_kinds == {kind: N}
    assert s.status_codes == {"200": N}


@pytest.mark.parametrize(("headers", "named"), [
    ((("Accept-Encoding", "br"),), "Accept-Encoding: br"),
    ((("Accept-Encoding", "gzip;q=1, zstd"),), "Accept-Encoding: zstd"),
    ((("Transfer-Encoding", "chunked"),), "the header Transfer-Encoding"),
])
def test_every_refusal_of_the_fast_transport_names_the_header_and_the_way_out(
        headers: tuple[tuple[str, str], ...], named: str) -> None:
    spec = RequestSpec(target="http://127.0.0.1:9", headers=headers)
    with pytest.raises(UsageError) as err:
        resolve_transport("fast", spec)
    assert named in str(err.value) and "--transport aiohttp" in str(err.value)
    assert resolve_transport("auto", spec) == "aiohttp"
    assert resolve_transport("fast", RequestSpec(target="http://127.0.0.1:9", headers=(
        ("Accept-Encoding", "gzip, deflate"),))) == "fast"
