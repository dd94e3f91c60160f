"""Child process for the signal tests: runs two long stages and prints how the run ended.

Run as ``python -m tests.engine.signal_child URL PATH TRANSPORT [STAGE_SECONDS]``.
It prints ``tick`` once a second (so the parent knows load is flowing), then one
JSON line.
"""

from __future__ import annotations

import json
import signal
import sys

from loadkit.engine import run_stages
from loadkit.scenario.plan import PayloadSet, RequestSpec, Stage


def main() -> int:
    url, path = sys.argv[1], sys.argv[2]

    def tick(iv: object, stage: Stage) -> bool:
        print("tick", flush=True)
        return True

    stage_s = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
    stages = [Stage(0, "first", concurrency=4, duration_s=stage_s),
              Stage(1, "second", concurrency=4, duration_s=stage_s)]
    try:
        run = run_stages(stages, RequestSpec(target=url, path=path, timeout_s=20),
                         {1: PayloadSet(1, (b"{}",))}, transport=sys.argv[3], on_interval=tick)
    except KeyboardInterrupt:
        print(json.dumps({"keyboard_interrupt": True}), flush=True)
        return 130
    print(json.dumps({
        "interrupted": run.interrupted,
        "stages": [s.label for s in run.stages],
        "requests": sum(s.requests for s in run.stages),
        "accounted": all(s.requests == s.ok + s.errors == s.hist_all().count for s in run.stages),
        "errors": sum(s.errors for s in run.stages),
        "in_flight_at_end": sum(s.in_flight_at_end for s in run.stages),
        "handlers_restored": signal.getsignal(signal.SIGINT) is signal.default_int_handler
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL,
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
