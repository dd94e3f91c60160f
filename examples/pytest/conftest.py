"""Start the system under test once for the session.

Here it is loadkit's bundled mock model server (an iris classifier behind
POST /predict, 5 ms of "inference"), started as its own process on a free
loopback port. With your own model, start it here instead (a subprocess, a
container, or an ASGI app on a thread) and yield its base URL.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def model_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--port", "0", "--latency", "fixed:5ms"],
        stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()          # "LISTENING http://127.0.0.1:PORT"
    if not line.startswith("LISTENING "):
        proc.kill()
        pytest.fail(f"the model server did not start: {line!r}")
    try:
        yield line.split(" ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.wait(10)
