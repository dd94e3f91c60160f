"""Start the bundled mock server as a subprocess for ``target: mock`` scenarios.

loadkit never imports ``mock_server`` (DESIGN.md): it runs ``python -m mock_server
--port 0 ...`` and reads the ``LISTENING http://127.0.0.1:PORT`` line the server
prints first. The scenario's ``mock:`` block maps key for key onto the server's
command-line options, so the three ways of configuring it stay one.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from loadkit.errors import ScenarioError, TargetUnreachable

_PREFIX = "LISTENING "


def mock_args(options: Mapping[str, Any] | str | None) -> list[str]:
    """Command-line options from a scenario's ``mock:`` block (or a preset name)."""
    if options is None:
        return []
    if isinstance(options, str):
        return ["--preset", options]
    args: list[str] = []
    for key, value in options.items():
        flag = "--" + str(key).replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is False or value is None:
            continue
        elif isinstance(value, (list, tuple)):
            for item in value:
                args += [flag, str(item)]
        else:
            args += [flag, str(value)]
    return args


class MockServer:
    """A running mock server subprocess; use as a context manager."""

    def __init__(self, options: Mapping[str, Any] | str | None = None,
                 start_timeout_s: float = 20.0) -> None:
        self.args = mock_args(options)
        self.start_timeout_s = start_timeout_s
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._pump: threading.Thread | None = None

    def start(self) -> str:
        cmd = [sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", "0",
               *self.args]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env=env)
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert self._proc is not None and self._proc.stdout is not None
            for line in self._proc.stdout:
                lines.put(line)
            lines.put(None)

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        deadline = time.monotonic() + self.start_timeout_s
        try:
            while time.monotonic() < deadline:
                try:
                    line = lines.get(timeout=0.1)
                except queue.Empty:
                    continue
                if line is None:
                    break
                if line.startswith(_PREFIX):
                    self.url = line[len(_PREFIX):].strip()
                    return self.url
        except BaseException:        # Ctrl-C / SIGTERM while starting: leave no orphan
            self.stop()
            raise
        code = self._proc.poll()
        err = self._stderr_tail()
        self.stop()
        if code == 2:
            raise ScenarioError("mock", err or "the mock server refused its options")
        raise TargetUnreachable(f"mock server did not start: {err or 'no LISTENING line'}")

    def _stderr_tail(self) -> str:
        if self._proc is None or self._proc.stderr is None or self._proc.poll() is None:
            return ""
        text = self._proc.stderr.read().strip()
        return text.splitlines()[-1] if text else ""

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s) and close its pipes."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._pump is not None:          # it reads stdout to EOF, which the exit brought
            self._pump.join(timeout=2.0)
            self._pump = None
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> MockServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
