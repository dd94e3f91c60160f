"""SIGINT / SIGTERM during a run: first one stops gracefully, a second one aborts.

``run_stages`` installs this on its event loop for the length of the run and
restores the handlers that were there before. First signal: the current stage
stops issuing, in-flight requests get a short grace, the stage is kept as a
partial result and the remaining stages are skipped. Second signal: the main
task is cancelled and ``run_stages`` raises KeyboardInterrupt at once.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalGuard:
    """Loop-level handlers for SIGINT/SIGTERM; a no-op outside the main thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_first: Callable[[], object],
                 on_second: Callable[[], object],
                 signals: tuple[signal.Signals, ...] = SIGNALS) -> None:
        self._loop = loop
        self._on_first = on_first
        self._on_second = on_second
        self._signals = signals
        self._saved: dict[int, Any] = {}
        self.count = 0
        self.first: signal.Signals | None = None    # which signal came first

    def install(self) -> bool:
        """Install the handlers; False when not possible (not the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for sig in self._signals:
            self._saved[sig] = signal.getsignal(sig)
            try:
                self._loop.add_signal_handler(sig, self._fired, sig)
            except (NotImplementedError, RuntimeError, ValueError):
                self._saved.pop(sig)
        return bool(self._saved)

    def _fired(self, sig: signal.Signals) -> None:
        self.count += 1
        if self.count == 1:
            self.first = sig
            self._on_first()
        else:
            self._on_second()

    def remove(self) -> None:
        """Take the loop's handlers off and put back the ones found at install."""
        for sig, old in self._saved.items():
            try:
                self._loop.remove_signal_handler(sig)
            except (RuntimeError, ValueError):
                pass
            try:
                signal.signal(sig, old if old is not None else signal.SIG_DFL)
            except (ValueError, TypeError, OSError):
                pass
        self._saved.clear()
