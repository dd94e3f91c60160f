"""What a ``checks.json_has`` costs per response: loadkit's check beside json and orjson.

The check runs on the generator's event loop, so its cost is client time a response
arriving meanwhile waits for (issue 13: ~1 ms of ``json.loads`` per 114 kB answer took
p50 from 0.37 ms to 10.4 ms at concurrency 8). Measured in one run, on a small answer
(iris) and a ~125 kB one (2,000 rows of 3 probabilities), as microseconds per check
and as ratios to ``json.loads`` (the check loadkit had before).

    python benchmarks/checks.py            # 2 s of timing per cell
    python benchmarks/checks.py --quick
"""

from __future__ import annotations

import argparse
import json
import random
import timeit
from collections.abc import Callable

from loadkit.scenario.plan import Checks


def _json_check(body: bytes) -> bool:
    doc = json.loads(body)
    return isinstance(doc, dict) and "predictions" in doc


def bodies() -> dict[str, bytes]:
    rng = random.Random(7)
    big = {"predictions": [[rng.random() for _ in range(3)] for _ in range(2000)], "model": "m"}
    return {"small (iris)": b'{"predictions": [0], "probabilities": [[0.97, 0.02, 0.01]]}',
            "large (125 kB)": json.dumps(big).encode()}


def per_call_us(fn: Callable[[], object], seconds: float) -> float:
    n = 1
    while True:                                   # find a count that takes ~seconds / 5
        t = timeit.timeit(fn, number=n)
        if t > seconds / 5:
            break
        n *= 4
    return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    seconds = 0.5 if ap.parse_args().quick else 2.0
    checks = Checks(json_has=("predictions",))
    try:
        import orjson
    except ImportError:
        orjson = None
    print(f"{'body':<16}{'json.loads':>12}{'orjson':>12}{'loadkit':>12}   loadkit vs json / orjson")
    for name, body in bodies().items():
        assert checks.failure(200, body) is None
        ref = per_call_us(lambda b=body: _json_check(b), seconds)       # type: ignore[misc]
        oj = (per_call_us(lambda b=body: "predictions" in orjson.loads(b), seconds)  # type: ignore[misc,union-attr]
              if orjson else float("nan"))
        lk = per_call_us(lambda b=body: checks.failure(200, b), seconds)  # type: ignore[misc]
        print(f"{name:<16}{ref:>10.1f}us{oj:>10.1f}us{lk:>10.1f}us   "
              f"{ref / lk:.1f}x faster / {oj / lk:.1f}x faster")


if __name__ == "__main__":
    main()
