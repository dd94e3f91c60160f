"""Redirects: followed the same way by both transports, each hop counted in the stage.

One aiohttp app in a thread answers a chain of redirects, a loop, method-changing
and method-keeping redirects, and (with a second app) a hop to another origin; it
records what each hop received so the method, body and Authorization rules are
checked where they happen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web

from loadkit.engine import run_stages
from loadkit.scenario.plan import PayloadSet, RequestSpec, Stage
from tests.engine.conftest import assert_accounted
from tests.reliability.conftest import serve_app

N = 6
PAYLOADS = {1: PayloadSet(1, (b'{"x": 1}',))}


def app(seen: list[tuple[str, str, bytes, str]], other: dict[str, str]) -> web.Application:
    async def record(request: web.Request) -> None:
        seen.append((request.path, request.method, await request.read(),
                     request.headers.get("Authorization", "")))

    async def chain(request: web.Request) -> web.StreamResponse:
        await record(request)
        n = int(request.match_info["n"])
        if n == 0:
            return web.json_response({"predictions": [1]})
        location = f"/chain/{n - 1}" if n % 2 else f"{other['self']}/chain/{n - 1}"
        raise web.HTTPFound(location)         # relative and absolute Locations alternate

    async def loop(request: web.Request) -> web.StreamResponse:
        await record(request)
        raise web.HTTPFound("/loop")

    async def status(request: web.Request) -> web.StreamResponse:
        await record(request)
        code = int(request.match_info["code"])
        return web.Response(status=code, headers={"Location": "/final"})

    async def final(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.json_response({"predictions": [1]})

    async def away(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(status=307, headers={"Location": f"{other['url']}/final"})

    a = web.Application()
    a.router.add_route("*", "/chain/{n}", chain)
    a.router.add_route("*", "/loop", loop)
    a.router.add_route("*", "/status/{code}", status)
    a.router.add_route("*", "/final", final)
    a.router.add_route("*", "/away", away)
    return a


@pytest.fixture
def servers() -> Iterator[tuple[str, list[Any], list[Any]]]:
    seen: list[Any] = []
    seen_other: list[Any] = []
    links: dict[str, str] = {}
    with serve_app(app(seen, links)) as url, serve_app(app(seen_other, links)) as other_url:
        links.update(self=url, url=other_url)
        yield url, seen, seen_other


def _run(url: str, path: str, transport: str, **spec: Any) -> Any:
    request = replace(RequestSpec(target=url, path=path, headers=(("Authorization", "t"),)),
                      **spec)
    run = run_stages([Stage(0, "s", concurrency=2, requests=N)], request, PAYLOADS,
                     transport=transport, handle_signals=False)
    assert_accounted(run)
    return run.stages[0]


def test_a_chain_within_the_limit_is_followed_to_its_answer_and_every_hop_counted(
        transport: str, servers: tuple[str, list[Any], list[Any]]) -> None:
    url, seen, _ = servers
    s = _run(url, "/chain/4", transport)
    assert (s.ok, s.status_codes, s.redirects) == (N, {"200": N}, 4 * N)
    assert len(seen) == 5 * N


def test_one_redirect_more_than_allowed_is_a_redirect_loop_with_the_3xx_status(
        transport: str, servers: tuple[str, list[Any], list[Any]]) -> None:
    url, seen, _ = servers
    s = _run(url, "/loop", transport, follow_redirects=3)
    assert s.error_kinds == {"redirect_loop": N}
    assert s.status_codes == {"302": N}
    assert s.redirects == 3 * N
    assert len(seen) == 4 * N                     # the first answer and three hops


def test_follow_redirects_zero_reports_the_3xx_itself(
        transport: str, servers: tuple[str, list[Any], list[Any]]) -> None:
    url, seen, _ = servers
    s = _run(url, "/chain/2", transport, follow_redirects=0)
    assert (s.ok, s.status_codes, s.redirects) == (N, {"302": N}, 0)


@pytest.mark.parametrize(("code", "method", "body"), [
    (303, "GET", b""), (302, "GET", b""), (301, "GET", b""),
    (307, "POST", b'{"x": 1}'), (308, "POST", b'{"x": 1}'),
])
def test_the_method_and_body_of_the_next_hop_follow_the_common_rule(
        transport: str, servers: tuple[str, list[Any], list[Any]], code: int, method: str,
        body: bytes) -> None:
    url, seen, _ = servers
    s = _run(url, f"/status/{code}", transport)
    assert (s.ok, s.redirects) == (N, N)
    finals = [hop for hop in seen if hop[0] == "/final"]
    assert {(m, b, auth) for _, m, b, auth in finals} == {(method, body, "t")}


def test_a_hop_to_another_origin_drops_authorization(
        transport: str, servers: tuple[str, list[Any], list[Any]]) -> None:
    url, seen, seen_other = servers
    s = _run(url, "/away", transport)
    assert (s.ok, s.redirects) == (N, N)
    assert {(m, b, auth) for _, m, b, auth in seen_other} == {("POST", b'{"x": 1}', "")}
