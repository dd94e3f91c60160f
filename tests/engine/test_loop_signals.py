"""A signal while ``run_on_new_loop`` runs (the readiness wait) reaches the code at the
loop's next turn, never inside a protocol callback.

Found by the suite under load: SIGTERM arrived while aiohttp's ``data_received`` ran,
the CLI's handler raised KeyboardInterrupt inside it, and uvloop printed "Fatal error
on transport" and a traceback under ``loadkit: aborted; no reports written``. Here the
signal is sent from inside ``data_received`` itself, so the old code fails every time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from loadkit.cli._base import sigterm_as_interrupt
from loadkit.engine.loop import run_on_new_loop


class _SignalsItself(asyncio.Protocol):
    def __init__(self, sig: signal.Signals, log: list[str]) -> None:
        self.sig, self.log = sig, log

    def data_received(self, data: bytes) -> None:
        os.kill(os.getpid(), self.sig)
        self.log.append("data_received finished")


async def _wait_with_a_signal_mid_callback(sig: signal.Signals, log: list[str]) -> None:
    loop = asyncio.get_running_loop()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(b"hello")
            await writer.drain()
            await asyncio.sleep(5)
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        transport, _ = await loop.create_connection(lambda: _SignalsItself(sig, log),
                                                    "127.0.0.1", port)
        try:
            await asyncio.sleep(5)
            log.append("not interrupted")
        finally:
            transport.close()
            log.append("unwound")
    finally:
        server.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_callback_interrupts_after_the_callback_and_unwinds_the_wait(
        sig: signal.Signals, caplog: pytest.LogCaptureFixture) -> None:
    log: list[str] = []
    caplog.set_level(logging.DEBUG, logger="asyncio")
    with sigterm_as_interrupt(), pytest.raises(KeyboardInterrupt):
        run_on_new_loop(_wait_with_a_signal_mid_callback(sig, log))
    assert log == ["data_received finished", "unwound"]
    assert not [r for r in caplog.records if "Fatal error" in r.getMessage()]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_finished_wait_returns_its_value_and_puts_the_handlers_back() -> None:
    async def answer() -> int:
        return 42

    before = signal.getsignal(signal.SIGTERM)
    assert run_on_new_loop(answer()) == 42
    assert signal.getsignal(signal.SIGTERM) is before
