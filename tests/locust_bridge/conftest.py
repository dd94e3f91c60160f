"""Helpers for the Locust integration tests: Locust always runs in a subprocess.

gevent's monkey-patching must never reach the pytest process, so these tests
never import locust; they start it through the bridge's own launcher API.
"""

from __future__ import annotations

import json
import socket
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from loadkit.locust_bridge.launch import bridge_env, build_locust_command

ROOT = Path(__file__).resolve().parents[2]
IRIS = ROOT / "scenarios" / "data" / "iris.csv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_scenario(tmp_path: Path, *, name: str = "bridge-test", sla: tuple[str, ...] = ("p99 < 2s",
                   "error_rate < 1%"), latency: str = "fixed:2ms",
                   profiles: str = "  - {name: quick, kind: throughput, concurrency: 4, duration: 1s}",
                   warmup: str = "0s") -> Path:
    rules = "\n".join(f"  - {r}" for r in sla)
    text = textwrap.dedent(f"""\
        name: {name}
        target: mock
        mock:
          latency: "{latency}"
        request:
          method: POST
          path: /predict
          timeout: 2s
          body: {{instances: "{{{{ rows }}}}"}}
        dataset:
          path: {IRIS}
          sample: 60
          seed: 7
        warmup: {warmup}
        checks:
          status: [200]
          json_has: [predictions]
        profiles:
        """) + profiles + "\nsla:\n" + rules + "\n"
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def start_locust(scenario: Path, out: Path, *, log: Path, partial: Path | None = None,
                 **kwargs: Any) -> subprocess.Popen[bytes]:
    cmd = build_locust_command(scenario, out_dir=out, **kwargs)
    env = bridge_env(scenario, profile=kwargs.get("profile"), out_dir=out,
                     partial_out_dir=str(partial) if partial else None)
    with open(log, "wb") as fh:   # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                cwd=str(ROOT))


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 20.0) -> int:
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=5)


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def scenario_factory(tmp_path: Path):
    def make(**kw: Any) -> Path:
        return write_scenario(tmp_path, **kw)
    return make
