"""``python -m mock_server [options]``: serve until SIGINT/SIGTERM.

The protocol a launcher (``loadkit run`` with ``target: mock``) relies on: the
first line on stdout, flushed once the socket accepts connections, is exactly
``LISTENING http://HOST:PORT``. Bad options: one line on stderr, exit 2. A
socket that cannot be bound: one line on stderr, exit 1. A signal: clean
shutdown, exit 0.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from mock_server.model import default_model
from mock_server.options import MockOptions, describe, parse_args
from mock_server.serve import new_event_loop, start


async def _serve(options: MockOptions) -> int:
    try:
        runner, url = await start(options)
    except OSError as exc:
        print(f"mock_server: error: cannot listen on {options.host}:{options.port}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"LISTENING {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0


def main(argv: list[str] | None = None) -> int:
    options, dry_run = parse_args(argv)
    default_model()  # fit before binding: LISTENING means the model can answer
    if dry_run:
        print(json.dumps(describe(options), sort_keys=True), flush=True)
        return 0
    loop = new_event_loop()
    try:
        return loop.run_until_complete(_serve(options))
    finally:
        loop.close()


if __name__ == "__main__":
    sys.exit(main())
