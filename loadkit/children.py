"""Running a child process so that a signal to loadkit reaches it.

``loadkit mock-server`` and ``loadkit locust`` hand over to another process. In
a terminal, Ctrl-C reaches the whole foreground process group, so the child saw
it; but ``kill -TERM <loadkit>`` -- or a Kubernetes pod stop, where loadkit is
PID 1 -- reaches loadkit alone, and the child (the mock server, Locust and its
mock) kept running with its ports open. Here the child gets its own process
group, so exactly one copy of each signal reaches it, from us: SIGTERM, SIGINT
and SIGHUP are forwarded and the child is waited for (its reports written, its
own children stopped). A second signal after ``grace_s`` kills it.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from types import FrameType

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def run_forwarding(cmd: Sequence[str], env: Mapping[str, str] | None = None,
                   grace_s: float = 10.0) -> int:
    """Run ``cmd`` to its end; forward our signals to it; its exit code (128+N if killed by N)."""
    proc = subprocess.Popen(list(cmd), env=dict(env) if env is not None else None,
                            start_new_session=True)
    first: list[float] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        if proc.poll() is not None:
            return
        if first and time.monotonic() - first[0] > grace_s:
            proc.kill()                          # asked twice and it is still going
            return
        first.append(time.monotonic())
        proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        code = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:                  # only if wait itself was broken
            proc.kill()
            proc.wait()
    return 128 - code if code < 0 else code
