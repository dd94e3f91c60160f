"""Generator efficiency: loadkit's transports side by side with Locust and wrk, in one run.

Starts the target (nginx from the distribution when installed: one worker pinned
to core 0, a ~100-byte JSON answer to POST /predict; otherwise the bundled mock
server, said plainly) and drives it in turn with every generator found, each
pinned to core 1: loadkit fast, loadkit aiohttp (both through
``loadkit.engine.run_stages``, a single closed-model stage, recording and status
checks included), Locust FastHttpUser headless, wrk; then loadkit fast with
``--processes 2``. Prints requests/s, CPU µs per request, p50/p99 at
concurrency 64 and 1, and the issue-7 ratios. See benchmarks/README.md.

    python benchmarks/generator.py            # 10 s per run, median of 3
    python benchmarks/generator.py --quick    # 3 s per run, once
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BODY = (b'{"instances": [[5.1, 3.5, 1.4, 0.2]], "meta": {"source": "benchmark", "row": 17, '
        b'"note": "' + b"x" * 120 + b'"}}')
ANSWER = '{"predictions":[[0.1,0.2,0.7]],"model":"iris","version":"1","latency_ms":0.05,"ok":1}'
NGINX_CONF = """worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location /predict {{ default_type application/json; return 200 '{answer}'; }}
  }}
}}
"""
LOCUSTFILE = """from locust import FastHttpUser, constant, task
BODY = {body!r}
class Predict(FastHttpUser):
    wait_time = constant(0)
    @task
    def predict(self):
        self.client.post("/predict", data=BODY, headers={{"Content-Type": "application/json"}})
"""
WRK_LUA = """wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
"""


@dataclass(frozen=True)
class Measurement:
    generator: str
    concurrency: int
    rps: float
    cpu_share: float           # median CPU seconds per wall second while running (1.0 = a core)
    p50_us: float
    p99_us: float

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_share / self.rps * 1e6 if self.rps else float("nan")

    @property
    def rps_per_core(self) -> float:
        return self.rps / self.cpu_share if self.cpu_share else float("nan")


# -- child mode: one loadkit run, answers one JSON line -----------------------------------------
def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    from loadkit.engine import run_stages
    from loadkit.scenario.plan import Checks, PayloadSet, RequestSpec, Stage

    request = RequestSpec(target=args.url, path="/predict", checks=Checks(status=(200,)))
    payloads = {1: PayloadSet(batch_size=1, bodies=(BODY,))}
    stage = Stage(index=0, label="bench", concurrency=args.concurrency, duration_s=args.duration)
    cpu0 = time.process_time()
    run = run_stages([stage], request, payloads, transport=args.child, handle_signals=False,
                     processes=args.processes)
    s = run.stages[0]
    print(json.dumps({"requests": s.requests, "errors": s.errors, "rps": s.throughput_rps,
                      "p50_us": s.latency_ms.p50 * 1000, "p99_us": s.latency_ms.p99 * 1000,
                      "transport": run.transport, "own_cpu_s": time.process_time() - cpu0}))


# -- measuring another process -------------------------------------------------------------------
def tree_cpu_s(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def run_measured(cmd: list[str], cwd: Path | None = None) -> tuple[str, str, float]:
    """Run ``cmd``; return stdout, stderr and its median CPU share while it ran.

    CPU is sampled every 0.2 s over the process tree; the median rate ignores the
    start-up (imports) and tear-down slices, which are short next to the run.
    """
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                            text=True)
    ps = psutil.Process(proc.pid)
    rates: list[float] = []

    def sample() -> None:
        last_t, last_c = time.monotonic(), 0.0
        while proc.poll() is None:
            time.sleep(0.2)
            try:
                c = tree_cpu_s(ps)
            except psutil.Error:
                break
            t = time.monotonic()
            rates.append((c - last_c) / (t - last_t))
            last_t, last_c = t, c

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=300)
    except BaseException:
        proc.kill()                       # interrupted: the generator must not outlive us
        proc.wait()
        raise
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}: {err.strip()[-400:]}")
    steady = rates[1:-1] or rates
    return out, err, statistics.median(steady) if steady else float("nan")


def pin(core: str, cores: int) -> list[str]:
    return ["taskset", "-c", core] if cores >= 2 and shutil.which("taskset") else []


def loadkit_gen(name: str, url: str, conc: int, dur: float, cores: int,
                processes: int = 1) -> Measurement:
    core = "0,1" if processes > 1 else "1"
    cmd = pin(core, cores) + [sys.executable, __file__, "--child", name, "--url", url,
                              "--concurrency", str(conc), "--duration", str(dur),
                              "--processes", str(processes)]
    out, _, share = run_measured(cmd)
    d = json.loads(out.strip().splitlines()[-1])
    if d["errors"]:
        print(f"  note: {name} saw {d['errors']} errors", file=sys.stderr)
    label = f"loadkit {d['transport']}" + (f" ×{processes} processes" if processes > 1 else "")
    return Measurement(label, conc, d["rps"], share, d["p50_us"], d["p99_us"])


def locust_gen(url: str, conc: int, dur: float, cores: int, work: Path) -> Measurement:
    lf = work / "locustfile.py"
    lf.write_text(LOCUSTFILE.format(body=BODY))
    prefix = work / f"locust_c{conc}"
    locust = shutil.which("locust", path=str(Path(sys.executable).parent)) or "locust"
    cmd = pin("1", cores) + [locust, "-f", str(lf), "--headless", "-u", str(conc), "-r",
                             str(conc), "-t", f"{dur:g}s", "--host", url, "--csv", str(prefix),
                             "--only-summary", "--loglevel", "WARNING"]
    _, _, share = run_measured(cmd, cwd=work)
    rows = (prefix.parent / (prefix.name + "_stats.csv")).read_text().splitlines()
    head = rows[0].split(",")
    agg = next(r.split(",") for r in rows[1:] if ",Aggregated," in r)
    col = dict(zip(head, agg, strict=False))

    def num(key: str) -> float:
        try:
            return float(col[key])
        except (KeyError, ValueError):      # "N/A" when the run was too short to sample
            return float("nan")

    return Measurement("Locust FastHttpUser", conc, num("Requests/s"), share,
                       num("50%") * 1000, num("99%") * 1000)


def _wrk_us(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]


def wrk_gen(url: str, conc: int, dur: float, cores: int, work: Path) -> Measurement:
    lua = work / "post.lua"
    lua.write_text(WRK_LUA.format(body=json.dumps(BODY.decode())))
    cmd = pin("1", cores) + ["wrk", "-t1", f"-c{conc}", f"-d{dur:g}s", "-s", str(lua),
                             "--latency", url + "/predict"]
    out, _, share = run_measured(cmd)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _wrk_us(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _wrk_us(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    return Measurement("wrk (C)", conc, rps, share, p50, p99)


# -- the target ----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"target did not listen on {port}")


def start_target(work: Path, cores: int,
                 force_mock: bool) -> tuple[subprocess.Popen[bytes], str, str]:
    port = free_port()
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if nginx and not force_mock:
        conf = work / "nginx.conf"
        conf.write_text(NGINX_CONF.format(d=work, port=port, answer=ANSWER))
        proc = subprocess.Popen(pin("0", cores) + [nginx, "-p", str(work), "-c", str(conf),
                                                   "-e", str(work / "error.log")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port)
        return proc, f"http://127.0.0.1:{port}", "nginx (1 worker, core 0)"
    proc = subprocess.Popen(pin("0", cores) + [sys.executable, "-m", "mock_server", "--port",
                                               str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, 30.0)
    why = "forced by --mock" if force_mock else "nginx is not installed"
    desc = (f"loadkit mock server (core 0; {why}: "
            "the target, not the generator, will be the limit)")
    return proc, f"http://127.0.0.1:{port}", desc


# -- the run -------------------------------------------------------------------------
def median_of(ms: list[Measurement]) -> Measurement:
    return Measurement(ms[0].generator, ms[0].concurrency,
                       statistics.median(m.rps for m in ms),
                       statistics.median(m.cpu_share for m in ms),
                       statistics.median(m.p50_us for m in ms),
                       statistics.median(m.p99_us for m in ms))


def report(med: dict[tuple[str, int], Measurement], *, target_desc: str, cores: int,
           duration_s: float, duration1_s: float, repeat: int, missing: list[str]) -> str:
    """The table and the issue-7 ratios, as plain text (markdown-friendly)."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [f"target: {target_desc}; host cores: {cores}; generators pinned to core 1",
             (f"load average after the run (1/5/15 min): {load} -- other work on the machine "
              f"lowers every figure"),
             (f"runs: {duration_s:g} s at concurrency 64, {duration1_s:g} s at concurrency 1; "
              f"median of {repeat}"), ""]
    if missing:
        lines.append(f"not installed, skipped: {', '.join(missing)}")
        lines.append("")
    lines.append("| generator | c | requests/s | CPU share | CPU µs/request | req/s per core "
                 "| p50 µs | p99 µs |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for (_, conc), m in sorted(med.items(), key=lambda kv: (-kv[0][1], -kv[1].rps)):
        lines.append(f"| {m.generator} | {conc} | {m.rps:,.0f} | {m.cpu_share:.2f} | "
                     f"{m.cpu_us_per_request:.1f} | {m.rps_per_core:,.0f} | {m.p50_us:,.0f} | "
                     f"{m.p99_us:,.0f} |")
    lines.append("")

    def get(key: str, conc: int = 64) -> Measurement | None:
        return med.get((key, conc))

    def ratio(a: float, b: float) -> float:
        return a / b if b and not math.isnan(b) else float("nan")

    fast, aio, loc, wrk = get("fast"), get("aiohttp"), get("locust"), get("wrk")
    f1, w1, p2 = get("fast", 1), get("wrk", 1), get("fast-p2")
    checks: list[tuple[str, float, str, Callable[[float], bool]]] = []
    if fast and loc:
        checks.append(("fast / Locust, req/s per core", ratio(fast.rps_per_core, loc.rps_per_core),
                       ">= 8", lambda v: v >= 8))
        checks.append(("fast / Locust, req/s", ratio(fast.rps, loc.rps), "(info)", lambda v: True))
    if fast and wrk:
        checks.append(("fast / wrk, req/s", ratio(fast.rps, wrk.rps), ">= 0.35",
                       lambda v: v >= 0.35))
    if fast:
        checks.append(("fast CPU µs/request (recording + checks)", fast.cpu_us_per_request,
                       "<= 50", lambda v: v <= 50))
    if aio and loc:
        checks.append(("aiohttp / Locust, req/s per core",
                       ratio(aio.rps_per_core, loc.rps_per_core), ">= 1.4", lambda v: v >= 1.4))
        checks.append(("aiohttp / Locust, req/s", ratio(aio.rps, loc.rps), ">= 1.4",
                       lambda v: v >= 1.4))
    if f1 and w1:
        checks.append(("fast p50 - wrk p50 at c=1 (µs)", f1.p50_us - w1.p50_us, "<= 40",
                       lambda v: v <= 40))
    if fast and p2:
        checks.append(("fast ×2 processes / ×1, req/s", ratio(p2.rps, fast.rps), ">= 1.7",
                       lambda v: v >= 1.7))
    lines.append("| ratio | measured | target | met |")
    lines.append("|---|---|---|---|")
    for name, value, target, meets in checks:
        met = "n/a" if math.isnan(value) else ("yes" if meets(value) else "NO")
        lines.append(f"| {name} | {value:.2f} | {target} | {met} |")
    if wrk and fast and p2:
        lines.append("")
        lines.append(f"note: wrk reached {wrk.rps:,.0f} req/s with {wrk.cpu_share:.2f} of a core; "
                     "when the target's core is saturated, req/s ratios measure the target, "
                     "and req/s per core (CPU-normalised) is the generator's own figure. "
                     "With 2 cores, --processes 2 shares core 0 with the target.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 s runs, once")
    ap.add_argument("--repeat", type=int, default=None, help="runs per case (median; default 3)")
    ap.add_argument("--duration", type=float, default=None, help="seconds per run at c=64")
    ap.add_argument("--mock", action="store_true", help="use the mock server even with nginx")
    ap.add_argument("--json", type=Path, help="also write the measurements here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--concurrency", type=int, default=64, help=argparse.SUPPRESS)
    ap.add_argument("--processes", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.duration = args.duration or 10.0
        child(args)
        return
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt           # so the target is stopped on the way out

    signal.signal(signal.SIGTERM, stop)
    dur = args.duration or (3.0 if args.quick else 10.0)
    dur1 = min(dur, 5.0)
    repeat = args.repeat or (1 if args.quick else 3)
    cores = os.cpu_count() or 1
    have_wrk = shutil.which("wrk") is not None
    have_locust = shutil.which("locust", path=str(Path(sys.executable).parent)) is not None
    with tempfile.TemporaryDirectory(prefix="loadkit-bench-") as tmp:
        work = Path(tmp)
        target, url, target_desc = start_target(work, cores, args.mock)
        try:
            cases: list[tuple[str, int, Callable[[], Measurement]]] = []
            for conc, d in ((64, dur), (1, dur1)):
                cases.append(("fast", conc, partial(loadkit_gen, "fast", url, conc, d, cores)))
                cases.append(("aiohttp", conc, partial(loadkit_gen, "aiohttp", url, conc, d,
                                                       cores)))
                if have_locust:
                    cases.append(("locust", conc, partial(locust_gen, url, conc, d, cores, work)))
                if have_wrk:
                    cases.append(("wrk", conc, partial(wrk_gen, url, conc, d, cores, work)))
            cases.append(("fast-p2", 64, partial(loadkit_gen, "fast", url, 64, dur, cores, 2)))
            results: dict[tuple[str, int], list[Measurement]] = {}
            for rep in range(repeat):
                for key, conc, fn in cases:
                    print(f"run {rep + 1}/{repeat}: {key} c={conc} ...", file=sys.stderr,
                          flush=True)
                    results.setdefault((key, conc), []).append(fn())
        finally:
            target.terminate()
            target.wait(10)
    med = {k: median_of(v) for k, v in results.items()}
    missing = [n for n, ok in (("wrk", have_wrk), ("locust", have_locust)) if not ok]
    print(report(med, target_desc=target_desc, cores=cores, duration_s=dur, duration1_s=dur1,
                 repeat=repeat, missing=missing))
    if args.json:
        args.json.write_text(json.dumps(
            [dict(asdict(m), key=k[0], cpu_us_per_request=m.cpu_us_per_request)
             for k, m in med.items()], indent=2))


if __name__ == "__main__":
    main()
