"""Interop matrix: real HTTP servers nobody here wrote, through both transports, counts checked.

Starts each server found on a free loopback port -- uvicorn + FastAPI, gunicorn
(sync workers: Connection: close), tornado (chunked answers), nginx (gzip,
keepalive_requests 100, keepalive_timeout 1s, a 301), ``python -m http.server
--cgi`` (close-delimited CGI answers) -- drives each with loadkit's fast and
aiohttp transports (closed model, a fixed number of requests), and prints every
cell's ok / errors beside the number of requests the server's own access log
counted. The Python servers come from a separate virtualenv (``--venv``, never
loadkit's dependencies); nginx from the system. Nothing here runs in CI.

    python -m venv /tmp/interop && /tmp/interop/bin/pip install uvicorn fastapi gunicorn tornado
    python benchmarks/interop.py --venv /tmp/interop [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from loadkit.engine import run_stages
from loadkit.scenario.plan import Checks, PayloadSet, RequestSpec, Stage

BODY = b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
ANSWER = '{"predictions": [0]}'
BIG = '{"predictions": [' + ", ".join(["0.123456"] * 12000) + "]}"     # ~114 kB


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    ends = time.monotonic() + timeout_s
    while time.monotonic() < ends:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("server never listened")


@dataclass
class Server:
    name: str
    cmd: list[str]
    log: Path                       # the server's own access log
    cells: list[tuple[str, str, str, tuple[tuple[str, str], ...]]]  # label, method, path, headers
    cwd: Path | None = None

    def served(self, path: str) -> int:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return sum(1 for line in text.splitlines() if f" {path}" in line or f"{path} " in line)


@contextmanager
def running(server: Server, port: int) -> Iterator[None]:
    with open(server.log.with_suffix(".out"), "wb") as out:
        proc = subprocess.Popen(server.cmd, cwd=server.cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_port(port, proc)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def servers(venv: Path | None, d: Path) -> Iterator[tuple[Server, int]]:
    py = str(venv / "bin" / "python") if venv else None
    if py:
        port = free_port()
        (d / "fa.py").write_text(textwrap.dedent(f"""
            from fastapi import FastAPI, Request
            from fastapi.responses import Response
            app = FastAPI()
            @app.post("/predict")
            async def predict(request: Request):
                await request.body()
                return Response('{ANSWER}', media_type="application/json")
            @app.post("/big")
            async def big(request: Request):
                await request.body()
                return Response('{BIG}', media_type="application/json")
            """))
        yield Server("uvicorn+FastAPI", [py, "-m", "uvicorn", "fa:app", "--port", str(port),
                                         "--log-level", "info"], d / "uvicorn.out",
                     [("json", "POST", "/predict", ()), ("114 kB json", "POST", "/big", ())],
                     cwd=d), port
        port = free_port()
        (d / "wsgi.py").write_text(textwrap.dedent(f"""
            def app(environ, start_response):
                environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                body = b'{ANSWER}'
                start_response("200 OK", [("Content-Type", "application/json"),
                                          ("Content-Length", str(len(body)))])
                return [body]
            """))
        yield Server("gunicorn (sync, 2 workers)", [py, "-m", "gunicorn", "-w", "2", "-b",
                     f"127.0.0.1:{port}", "--access-logfile", str(d / "gunicorn.log"),
                     "wsgi:app"], d / "gunicorn.log", [("json, Connection: close", "POST",
                                                        "/predict", ())], cwd=d), port
        port = free_port()
        (d / "tor.py").write_text(textwrap.dedent(f"""
            import logging, sys, asyncio, tornado.web
            logging.basicConfig(filename=sys.argv[2], level=logging.INFO)
            class P(tornado.web.RequestHandler):
                async def post(self):
                    self.set_header("Content-Type", "application/json")
                    self.write('{ANSWER}'[:8]); await self.flush()      # chunked
                    self.write('{ANSWER}'[8:])
            async def main():
                tornado.web.Application([("/predict", P)]).listen(int(sys.argv[1]), "127.0.0.1")
                await asyncio.Event().wait()
            asyncio.run(main())
            """))
        yield Server("tornado (chunked)", [py, "tor.py", str(port), str(d / "tornado.log")],
                     d / "tornado.log", [("chunked json", "POST", "/predict", ())], cwd=d), port
    if shutil.which("nginx"):
        port = free_port()
        root = d / "www"
        root.mkdir(exist_ok=True)
        (root / "predict.json").write_text(BIG)
        (d / "nginx.conf").write_text(textwrap.dedent(f"""
            daemon off; user root; worker_processes 1; pid {d}/nginx.pid; error_log {d}/nginx.err;
            events {{ worker_connections 256; }}
            http {{
              access_log {d}/nginx.log; client_body_temp_path {d};
              keepalive_requests 100; keepalive_timeout 1s;
              gzip on; gzip_types application/json; gzip_min_length 100;
              types {{ application/json json; }}
              server {{
                listen 127.0.0.1:{port}; root {root};
                location = /moved {{ return 301 /predict.json; }}
              }}
            }}
            """))
        yield Server("nginx (gzip, keepalive 100 / 1 s)", ["nginx", "-c", str(d / "nginx.conf"),
                     "-p", str(d)], d / "nginx.log",
                     [("114 kB json", "GET", "/predict.json", ()),
                      ("114 kB json, gzip asked", "GET", "/predict.json",
                       (("Accept-Encoding", "gzip"),)),
                      ("301 -> json", "GET", "/moved", ())]), port
    port = free_port()
    cgi = d / "cgi-bin"
    cgi.mkdir(exist_ok=True)
    script = cgi / "predict.py"
    # Run as root, http.server executes CGI scripts as nobody: a world-readable
    # interpreter and tree; stdin is the socket itself, so read only Content-Length bytes.
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    script.write_text(f"#!{python}\nimport os, sys\n"
                      f"sys.stdin.buffer.read(int(os.environ.get('CONTENT_LENGTH') or 0))\n"
                      f"print('Content-Type: application/json')\nprint()\nprint('{ANSWER}')\n")
    for path in (d, cgi, script):
        path.chmod(0o755)
    yield Server("python -m http.server --cgi", [sys.executable, "-m", "http.server", "--cgi",
                 "--bind", "127.0.0.1", str(port)], d / "cgi.log.out",
                 [("CGI json (close-delimited)", "POST", "/cgi-bin/predict.py", ())], cwd=d), port


def cell(url: str, method: str, path: str, headers: tuple[tuple[str, str], ...],
         transport: str, n: int) -> tuple[int, int, dict[str, int], int, str]:
    request = RequestSpec(target=url, method=method, path=path, headers=headers, timeout_s=10,
                          checks=Checks(status=(200,), json_has=("predictions",)))
    payloads = {1: PayloadSet(1, (BODY,) if method == "POST" else ())}
    run = run_stages([Stage(0, "c", concurrency=4, requests=n)], request, payloads,
                     transport=transport, handle_signals=False)
    s = run.stages[0]
    h = run.health
    work = (f"p50 {s.latency_ms.p50:.2f} ms, checks {h.check_share:.0%} of the loop "
            f"({h.check_mean_us:.0f} us each){', INCONCLUSIVE' if h.fell_behind else ''}")
    return s.ok, s.errors, s.error_kinds, s.redirects, work


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", type=Path, default=os.environ.get("LOADKIT_INTEROP_VENV"))
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()
    n = args.requests
    print("| server | answer | transport | ok | errors | redirects | server counted | client work |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for server, port in servers(args.venv, Path(tmp)):
            with running(server, port):
                url = f"http://127.0.0.1:{port}"
                for label, method, path, headers in server.cells:
                    for transport in ("fast", "aiohttp"):
                        before = server.served(path)
                        ok, errors, kinds, redirects, work = cell(url, method, path, headers,
                                                                  transport, n)
                        time.sleep(0.3)                  # access logs are written after
                        counted = server.served(path) - before
                        shown = f"{errors} {kinds}" if errors else "0"
                        print(f"| {server.name} | {label} | {transport} | {ok} | {shown} | "
                              f"{redirects} | {counted} | {work} |", flush=True)


if __name__ == "__main__":
    main()
