"""TLS: certificates are verified by default; ``--insecure`` opts out, and says so.

A local HTTPS server (aiohttp) with a self-signed certificate the test makes with
``openssl``. By default the run is refused before any load (exit 3, one line
that names the certificate problem and the way out); with ``--insecure`` it
works, and result.json and the HTML report record that verification was off.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.reliability.conftest import one_line_error, read_result, scenario, serve_app

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An HTTPS iris-like /predict on loopback with a fresh self-signed certificate."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    async def predict(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"predictions": ["setosa"]})

    app = web.Application()
    app.router.add_post("/predict", predict)
    with serve_app(app, ssl_context=ctx) as url:
        yield url


@pytest.mark.parametrize("transport", ["fast", "aiohttp"])
def test_a_self_signed_certificate_is_refused_by_default(
        transport: str, https_server: str, run_cli: Callable[..., Any],
        write_scenario: Callable[..., Path], tmp_path: Path) -> None:
    path = write_scenario(scenario(https_server, rate=20, duration="500ms"))
    res = run_cli("run", path, "--transport", transport, "--out", tmp_path / "out")
    assert res.code == 3, res.out + res.err
    line = one_line_error(res.err)
    assert "certificate" in line and "--insecure" in line, line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("transport", ["fast", "aiohttp"])
def test_insecure_skips_verification_and_the_report_says_so(
        transport: str, https_server: str, run_cli: Callable[..., Any],
        write_scenario: Callable[..., Path], tmp_path: Path) -> None:
    path = write_scenario(scenario(https_server, rate=40, duration="500ms",
                                   sla=["error_rate < 1%"]))
    out = tmp_path / "out"
    res = run_cli("run", path, "--insecure", "--transport", transport, "--out", out, "--quiet")
    assert res.code == 0, res.out + res.err
    result = read_result(out)
    stage = result["profiles"][0]["stages"][-1]
    assert stage["ok"] == stage["requests"] > 0
    assert result["environment"]["insecure"] is True
    html = (out / "report.html").read_text().lower()
    assert "insecure" in html or "not verified" in html
