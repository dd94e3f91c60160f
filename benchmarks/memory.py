"""Flat memory: the generator's RSS under a long constant-rate load.

Starts the bundled mock server (its own process), then ``loadkit run`` (its own
process) with a constant-rate profile aimed at it, and samples the loadkit
process's resident set size with psutil while it runs. Memory should be flat:
one histogram per stage plus a small summary per second, never a list of
latencies. Growth is measured from the first sample after the warm-up minute
(quick mode: after the first 10 s) to the last; the target is under 10%.

    python benchmarks/memory.py            # 10 minutes at 500 rps, a sample a minute
    python benchmarks/memory.py --quick    # 1 minute, a sample every 10 s
    python benchmarks/memory.py --rate 1000 --minutes 3 --every 30

Exit status: 0 when growth is under the target, 1 otherwise (2: could not run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGET_GROWTH = 0.10


def start_mock() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "mock_server", "--port", "0",
                             "--latency", "fixed:2ms"],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("LISTENING "):
        proc.kill()
        raise SystemExit(f"memory: the mock server did not start ({line!r})")
    return proc, line.split()[1]


def write_scenario(folder: Path, url: str, rate: float, duration_s: float) -> Path:
    sc = {
        "name": "memory",
        "target": url,
        "request": {"method": "POST", "path": "/predict", "timeout": "2s",
                    "body": {"instances": "{{ rows }}"}},
        "dataset": {"path": str(ROOT / "scenarios" / "data" / "iris.csv"), "seed": 1},
        "checks": {"status": [200], "json_has": ["predictions"]},
        "profiles": [{"name": "steady", "kind": "constant-rate", "rate": rate,
                      "duration": f"{duration_s:g}s"}],
        "sla": ["error_rate < 1%"],
    }
    path = folder / "memory.yaml"
    path.write_text(yaml.safe_dump(sc, sort_keys=False))
    return path


def sample(pid: int) -> float:
    """RSS of the loadkit process in MiB."""
    return psutil.Process(pid).memory_info().rss / 2**20


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 minute, a sample every 10 s")
    ap.add_argument("--rate", type=float, default=500.0, help="requests per second (500)")
    ap.add_argument("--minutes", type=float, help="run length (10; quick: 1)")
    ap.add_argument("--every", type=float, help="seconds between samples (60; quick: 10)")
    args = ap.parse_args(argv)
    minutes = args.minutes or (1.0 if args.quick else 10.0)
    every_s = args.every or (10.0 if args.quick else 60.0)
    duration_s = minutes * 60.0
    baseline_after_s = every_s if args.quick else 60.0

    mock, url = start_mock()
    samples: list[tuple[float, float]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            path = write_scenario(folder, url, args.rate, duration_s)
            gen = subprocess.Popen(
                [sys.executable, "-m", "loadkit.cli", "run", str(path), "--quiet",
                 "--out", str(folder / "out")],
                cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            t0 = time.monotonic()
            k = 1
            while gen.poll() is None:
                due = t0 + k * every_s
                if due > t0 + duration_s + 0.5:
                    break
                time.sleep(max(0.0, due - time.monotonic()))
                if gen.poll() is not None:
                    break
                samples.append((time.monotonic() - t0, sample(gen.pid)))
                print(f"  {samples[-1][0]:7.0f} s  {samples[-1][1]:8.1f} MiB", flush=True)
                k += 1
            out, err = gen.communicate(timeout=duration_s + 60)
            code = gen.returncode
            result = (folder / "out" / "result.json")
            requests = None
            if result.exists():
                import json

                data = json.loads(result.read_text())
                requests = sum(s["requests"] for p in data["profiles"] for s in p["stages"])
    finally:
        mock.terminate()
        mock.wait(10)

    if code not in (0, 1, 4) or not samples:
        print(f"memory: loadkit run failed (exit {code}): {err.strip()[-500:]}", file=sys.stderr)
        return 2
    base = [rss for t, rss in samples if t >= baseline_after_s - 0.5]
    if len(base) < 2:
        print("memory: too few samples after the warm-up to measure growth", file=sys.stderr)
        return 2
    growth = (base[-1] - base[0]) / base[0]
    peak_growth = (max(base) - base[0]) / base[0]   # the allocator's sawtooth, at its top
    peak = max(rss for _, rss in samples)
    print()
    print(f"rate {args.rate:g} rps for {minutes:g} min, loadkit exit {code}, "
          f"{requests if requests is not None else '?'} requests")
    print(f"RSS at {baseline_after_s:g} s: {base[0]:.1f} MiB; at the end: {base[-1]:.1f} MiB; "
          f"peak {peak:.1f} MiB")
    verdict = "OK" if peak_growth < TARGET_GROWTH else "TOO MUCH"
    print(f"growth after the first {'sample' if args.quick else 'minute'}: {growth:+.1%} "
          f"at the end, {peak_growth:+.1%} at the peak (target < {TARGET_GROWTH:.0%}) {verdict}")
    return 0 if peak_growth < TARGET_GROWTH else 1


if __name__ == "__main__":
    sys.exit(main())
