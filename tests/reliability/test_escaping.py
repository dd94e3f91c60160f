"""Everything the HTML report shows that came from the scenario or the server is escaped.

``<script>`` goes in the scenario name, a profile name, a check, and in what a
tiny server answers (status reason, error body, a response header); the
report must contain no raw ``<script``, and must show the names (escaped). A
``<script>`` header *name* in the scenario is refused outright (see the bad
input table).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.reliability.conftest import SCRIPT, read_result, scenario, serve_app

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def evil_server() -> Iterator[str]:
    """Answers every request 500 with ``<script>`` in the reason, the body and a header.

    (A ``<script>`` header *name* is not valid HTTP: both transports count such an
    answer as an ``other`` error, and nothing of it is kept.)"""

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=500, reason="<script>x</script>", text=EVIL * 3,
                            content_type="text/html", headers={"X-Detail": EVIL})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    with serve_app(app) as url:
        yield url


@pytest.mark.parametrize("transport", ["fast", "aiohttp"])
def test_the_html_report_escapes_names_and_server_answers(
        transport: str, evil_server: str, run_cli: Callable[..., Any],
        write_scenario: Callable[..., Path], tmp_path: Path) -> None:
    sc = scenario(evil_server, rate=40, duration="500ms", name=EVIL, sla=["error_rate < 1%"])
    sc["profiles"][0]["name"] = "<script>p</script>"
    sc["checks"] = {"status": [200], "body_contains": [EVIL]}
    out = tmp_path / "out"
    res = run_cli("run", write_scenario(sc), "--out", out, "--transport", transport, "--quiet")
    assert res.code == 1, res.err                       # every request failed: SLA fails
    result = read_result(out)
    assert result["scenario"]["name"] == EVIL           # kept as data ...
    assert result["profiles"][0]["stages"][-1]["error_kinds"] == {
        "http_5xx": result["profiles"][0]["stages"][-1]["requests"]}
    html = (out / "report.html").read_text()
    assert not SCRIPT.search(html), html[SCRIPT.search(html).start() - 80:][:200]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html   # ... and shown escaped
    assert "&lt;script&gt;p&lt;/script&gt;" in html
    junit = ET.parse(out / "junit.xml").getroot()      # still well-formed XML
    assert any(EVIL in (el.get("name") or "") for el in junit.iter())
