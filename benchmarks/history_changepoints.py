"""How honest is ``loadkit history``? False alarms, detection, and the gate's speed.

Seeded synthetic histories, no network. Each run of a history has the figures a
profile stores (p50, p95, p99, mean, throughput, error rate), drawn the way CI
runs vary: one machine-speed factor per run (log-normal, ``--cv``, default 4%)
moving every latency and the throughput together, each figure's own noise on
top (the tail noisier: p99 3x the p50's), one run in 30 on a busy machine (25%
slower), and errors drawn binomially (0.1% of 2,000 requests).

    python benchmarks/history_changepoints.py            # 400 histories of each kind
    python benchmarks/history_changepoints.py --quick    # 100

It reports, at the default significance (0.0002) and minimum magnitude (5%):

- false alarms: 30 runs with no shift; the share of histories with no change point
  in a metric (per series: p50, p99, throughput) and in any of the six (per history).
  Target: no change point in >= 95% of histories.
- detection: a 20% slowdown after run k (k = 10..20, >= 10 runs each side): the
  share where a p50 change point is found at k +- 1, and the mean position error;
  also for 10% and 40% shifts, for reference.
- a dozen runs, 40% slower from the seventh: found at run 6 (at 4% and 8% noise).
- the gate: ``history check`` (the library call the CLI makes: load the scenario's
  runs from a SQLite store, find the regimes, judge) over 1,000 stored runs, beside
  the time to load those runs alone. Target: under a second. Also the command in a
  fresh process, beside ``loadkit --version``: imports (scipy.stats, which Otava
  loads, SQLAlchemy) cost more than the check itself.

Exit status 0 when the false-alarm (per history) and 20%-detection targets and
the check time are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadkit.history.changes import analyse  # noqa: E402 - after the sys.path line
from loadkit.results import dumps  # noqa: E402 - after the sys.path line
from loadkit.results.history import StoredRun  # noqa: E402 - after the sys.path line

METRICS = ("p50", "p95", "p99", "mean", "throughput", "error_rate")


def history(levels: list[float], seed: int, cv: float) -> list[StoredRun]:
    """Runs whose p50 follows ``levels`` (ms), with the noise described above."""
    rng = np.random.default_rng(seed)
    n = len(levels)
    machine = rng.lognormal(0.0, cv, n) * np.where(rng.random(n) < 1 / 30, 1.25, 1.0)
    own = {m: rng.lognormal(0.0, s, n) for m, s in
           (("p50", cv / 4), ("p95", cv / 2), ("p99", cv * 3 / 4), ("mean", cv / 4),
            ("throughput", cv / 4))}
    errors = rng.binomial(2000, 0.001, n) / 2000
    runs = []
    for i, level in enumerate(levels):
        base = level * machine[i]
        figures = {"p50": base * own["p50"][i], "p95": 1.9 * base * own["p95"][i],
                   "p99": 2.5 * base * own["p99"][i], "mean": 1.1 * base * own["mean"][i],
                   "throughput": 8000.0 / (1.1 * base) * own["throughput"][i],
                   "error_rate": float(errors[i])}
        runs.append(StoredRun(id=i + 1, digest=f"{seed}-{i}", scenario="bench",
                              started_at=1.79e9 + 3600 * i, status="pass", commit=f"c{i}",
                              profiles={"steady": {k: float(v) for k, v in figures.items()}}))
    return runs


def false_alarms(trials: int, cv: float) -> dict[str, float]:
    per_metric = dict.fromkeys(METRICS, 0)
    any_metric = 0
    for seed in range(trials):
        h = analyse("bench", history([10.0] * 30, seed, cv))
        hit = {cp.metric for cp in h.change_points}
        for m in hit:
            per_metric[m] += 1
        any_metric += bool(hit)
    out = {f"clean {m}": 1 - per_metric[m] / trials for m in METRICS}
    out["clean history"] = 1 - any_metric / trials
    return out


def detection(trials: int, shift: float, cv: float) -> tuple[float, float]:
    found, errors = 0, []
    for seed in range(trials):
        k = 10 + seed % 11
        after = 10 + (seed * 7) % 11
        h = analyse("bench", history([10.0] * k + [10.0 * (1 + shift)] * after, 10_000 + seed, cv))
        at = [cp.index for cp in h.change_points if cp.metric == "p50"]
        near = [i for i in at if abs(i - k) <= 1]
        if near:
            found += 1
            errors.append(abs(near[0] - k))
    return found / trials, (statistics.mean(errors) if errors else float("nan"))


def check_time(n_runs: int) -> tuple[float, float, str, float, float]:
    from loadkit import testing
    from loadkit.history.figures import Provenance
    from loadkit.history.gate import check
    from loadkit.history.store import HistoryStore
    from dataclasses import replace

    base = testing.run_result(testing.profile("steady", "throughput", [testing.stage(
        0, testing.latencies(10.0, 25.0, n=200), concurrency=8)]), name="bench")
    runs = history([10.0] * (n_runs // 2) + [12.0] * (n_runs - n_runs // 2), 7, 0.04)
    results = []
    for r in runs:        # the builder's run with this history's figures (what the store reads)
        f = r.profiles["steady"]
        p = base.profiles[0]
        lat = replace(p.summary.latency_ms, p50=f["p50"], p95=f["p95"], p99=f["p99"], mean=f["mean"])
        prof = replace(p, summary=replace(p.summary, latency_ms=lat, throughput_rps=f["throughput"]))
        results.append(replace(base, profiles=(prof,), started_at=r.started_at))
    with tempfile.TemporaryDirectory() as d:
        db = str(Path(d) / "h.sqlite")
        store = HistoryStore.open(db, create=True)
        store.add(results, Provenance(commit="bench"))
        check(results[-1], store.runs("bench"))          # warm: imports, first queries
        t0 = time.perf_counter()
        stored = HistoryStore.open(db).runs("bench")
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        outcome = check(results[-1], HistoryStore.open(db).runs("bench"))
        total = time.perf_counter() - t0
        # the command as a user runs it: a fresh process (imports included), and beside it a
        # process that only starts loadkit's CLI
        candidate = Path(d) / "candidate.json"
        candidate.write_text(dumps(results[-1]), encoding="utf-8")
        cmd = [sys.executable, "-m", "loadkit.cli"]
        t0 = time.perf_counter()
        subprocess.run([*cmd, "history", "check", str(candidate), "--db", db], cwd=ROOT,
                       capture_output=True, check=False)
        cli = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([*cmd, "--version"], cwd=ROOT, capture_output=True, check=True)
        bare = time.perf_counter() - t0
    return total, load, outcome.status + (f", {len(stored)} runs" if stored else ""), cli, bare


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 histories of each kind")
    ap.add_argument("--trials", type=int, help="histories of each kind (default 400)")
    ap.add_argument("--cv", type=float, default=0.04, help="run-to-run noise (default 0.04)")
    args = ap.parse_args(argv)
    trials = args.trials or (100 if args.quick else 400)

    t0 = time.perf_counter()
    fa = false_alarms(trials, args.cv)
    print(f"false alarms: 30 runs, no shift, run-to-run noise {args.cv:.0%}, {trials} histories")
    for name, rate in fa.items():
        print(f"  no change point ({name[6:]}): {rate:.1%}")
    rates = {}
    for shift in (0.10, 0.20, 0.40):
        rate, err = detection(trials, shift, args.cv)
        rates[shift] = rate
        print(f"detection: {shift:.0%} slowdown after run k (10-20 runs each side): found at k+-1 "
              f"in {rate:.1%}, mean position error {err:.2f} runs")
    for cv in (args.cv, 2 * args.cv):
        found = sum(any(cp.index == 6 for cp in analyse("bench", history(
            [10.0] * 6 + [14.0] * 6, 20_000 + seed, cv)).change_points if cp.metric == "p50")
            for seed in range(trials))
        print(f"detection: a dozen runs, 40% slower from run 6 (as the acceptance check), noise "
              f"{cv:.0%}: found at 6 in {found / trials:.1%}")
    total, load, status, cli, bare = check_time(1000)
    print(f"history check over 1,000 stored runs: {total * 1000:.0f} ms "
          f"(loading the runs alone: {load * 1000:.0f} ms, {total / load:.1f}x; answer: {status})")
    print(f"`loadkit history check` over them in a fresh process: {cli:.2f} s "
          f"(`loadkit --version`: {bare:.2f} s; the rest is SQLAlchemy's and scipy's import)")
    print(f"({time.perf_counter() - t0:.0f} s)")
    ok = fa["clean history"] >= 0.95 and rates[0.20] >= 0.95 and total < 1.0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
