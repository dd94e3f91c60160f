"""How honest is ``loadkit compare``? Measure its false-positive and detection rates.

Runs N A/A pairs (baseline and candidate: the same mock-server configuration, two
separate server processes) and N A/B pairs (candidate 30% slower: every latency
quantile of the service-time model scaled by 1.3), each run a short, bounded
constant-rate load against a mock server on loopback, then compares every pair
with the default thresholds and alpha.

    /work/venv/bin/python benchmarks/compare_honesty.py            # 20 + 20 pairs
    /work/venv/bin/python benchmarks/compare_honesty.py --quick    # 5 + 5 pairs

Targets: false-positive rate (A/A called a regression) <= 10%; detection rate
(A/B called a regression) >= 95%. Inconclusive verdicts are counted and shown:
they are neither a false positive nor a detection. Runs go two at a time in
separate processes (``--jobs``); a pair's two runs are not forced to overlap.
Exit status 0 when both targets are met, 1 otherwise.

Why a 40 ms service time and 8 s runs: the host's own noise (scheduling, a busy
generator) adds a few milliseconds to both sides, which compresses a 30% effect
on a 10 ms service to ~15% and left detection at 55% (20+20 pairs, 6 s runs, on
a 2-core host shared with other work); 8 one-second windows per side also give
the Mann-Whitney test enough resolution. Measured with these defaults (same
host, load average ~4): false positives 1/20 = 5%, detection 20/20 = 100%.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadkit.analysis.compare import compare  # noqa: E402 - after the sys.path line
from loadkit.mock_target import MockServer  # noqa: E402 - after the sys.path line
from loadkit.results.model import RunResult  # noqa: E402 - after the sys.path line

A_LATENCY = "lognormal:p50=40ms,p99=120ms"
B_LATENCY = "lognormal:p50=52ms,p99=156ms"    # 30% slower at every quantile

SCENARIO = """
name: compare-honesty
target: http://127.0.0.1:1
request: {{method: POST, path: /predict, body: {{instances: "{{{{ rows }}}}"}}}}
dataset: {{path: "{iris}", sample: 150, seed: 1}}
checks: {{status: [200], json_has: [predictions]}}
warmup: 0.5s
profiles:
  - {{name: steady, kind: constant-rate, rate: {rate}, duration: {duration}s}}
"""


def one_run(url: str, rate: float, duration_s: float) -> RunResult:
    """One bounded run in a worker process (the engine wants the main thread for signals)."""
    from loadkit.runner import RunOptions, run
    from loadkit.scenario import scenario_from_text

    text = SCENARIO.format(iris=ROOT / "scenarios" / "data" / "iris.csv", rate=rate,
                           duration=duration_s)
    return run(scenario_from_text(text), RunOptions(target=url))


@dataclass
class Tally:
    pairs: int = 0
    regression: int = 0
    inconclusive: int = 0

    def rate(self) -> float:
        return self.regression / self.pairs if self.pairs else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=20, help="pairs of each kind (default 20)")
    ap.add_argument("--quick", action="store_true", help="5 pairs of each kind")
    ap.add_argument("--duration", type=float, default=8.0, help="measured seconds per run")
    ap.add_argument("--rate", type=float, default=100.0, help="requests per second per run")
    ap.add_argument("--jobs", type=int, default=2, help="runs in parallel")
    args = ap.parse_args(argv)
    pairs = 5 if args.quick else args.pairs

    started = time.monotonic()
    with MockServer({"latency": A_LATENCY, "seed": 1}) as a1, \
            MockServer({"latency": A_LATENCY, "seed": 2}) as a2, \
            MockServer({"latency": B_LATENCY, "seed": 3}) as b:
        # Baseline always on a1; the A/A candidate on a2 (a separate, identical process).
        plan = [("A/A", a1.url, a2.url)] * pairs + [("A/B", a1.url, b.url)] * pairs
        with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
            futures = [(kind, pool.submit(one_run, base, args.rate, args.duration),
                        pool.submit(one_run, cand, args.rate, args.duration))
                       for kind, base, cand in plan]
            tallies = {"A/A": Tally(), "A/B": Tally()}
            for i, (kind, fb, fc) in enumerate(futures):
                result = compare(fb.result(), fc.result(), seed=i)
                t = tallies[kind]
                t.pairs += 1
                t.regression += result.verdict == "regression"
                t.inconclusive += result.verdict == "inconclusive"
                p99 = result.stages[0].metric("p99") if result.stages else None
                detail = (f"p99 {p99.change:+.1%} p={p99.p_value:.3g}" if p99 else "-")
                why = "; ".join(result.reasons)[:150] if result.verdict != "pass" else ""
                print(f"{kind} pair {t.pairs:2d}: {result.verdict:12s} {detail}  {why}",
                      flush=True)

    aa, ab = tallies["A/A"], tallies["A/B"]
    fp, det = aa.rate(), ab.rate()
    print()
    print(f"A/A false-positive rate: {aa.regression}/{aa.pairs} = {fp:.0%} (target <= 10%); "
          f"inconclusive {aa.inconclusive}")
    print(f"A/B detection rate:      {ab.regression}/{ab.pairs} = {det:.0%} (target >= 95%); "
          f"inconclusive {ab.inconclusive}")
    print(f"({args.duration:g}s at {args.rate:g} rps per run, baseline {A_LATENCY}, "
          f"candidate {B_LATENCY}; {time.monotonic() - started:.0f}s wall)")
    return 0 if fp <= 0.10 and det >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
