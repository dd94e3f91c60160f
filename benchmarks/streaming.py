"""Streamed-token timing: loadkit (both transports) beside a plain aiohttp client, one run.

Against ``stream_server.py`` -- an OpenAI-compatible SSE server whose every TTFT
and inter-token gap is planned (TTFT p50/p95/p99 80/200/600 ms, gaps 8/20/60 ms,
20 tokens a request; nothing is ever sent before it is due) -- each client runs
in its own process at concurrency 16, 256 and 1,024 for ``--duration`` seconds
after a 1 s warm-up, and reports:

* TTFT and ITL p50/p95/p99 beside the truth the server served in that run
  (its planned values for exactly the requests it answered), and whether they
  sit within the issue's targets (TTFT: truth .. truth x 1.08 + 2 ms, never
  below; ITL: up to truth x 1.08 + 1.5 ms);
* output tokens counted against the tokens the server sent;
* tokens/s, and CPU µs per streamed token of the whole client process
  (``getrusage`` user + sys from the load's start to its end, warm-up included,
  divided by every token it received).

Clients:

* ``loadkit fast`` / ``loadkit aiohttp``: ``loadkit.engine.run_stages`` with an
  openai ``StreamSpec`` -- exactly what ``loadkit run`` does per stream (TTFT,
  every gap and TPOT into HDR histograms, tokens from usage);
* ``aiohttp plain``: the client people write -- ``async for line in
  resp.content``, ``json.loads`` per event, timestamps appended to lists,
  percentiles with numpy at the end;
* ``aiperf`` (only with ``--aiperf-venv DIR``: AIPerf is installed into that
  venv on request, never a loadkit dependency): ``aiperf profile --streaming``
  with a tiny local tokenizer built with ``tokenizers`` (nothing is downloaded)
  and the server's token counts; its ITL column is its ``inter_chunk_latency``
  (every gap; its ``inter_token_latency`` is a per-request mean). Its CPU is
  the whole aiperf process tree's (``RUSAGE_CHILDREN``).

The server is restarted for every run, so each run's truth is its own; its
"write late" column says how late its own timers wrote (when the server itself
cannot keep the plan, every client looks late by that much). Processes are
pinned when ``taskset`` exists (server core 0, client core 1).

    python benchmarks/streaming.py                       # 5 s per run (~2 min)
    python benchmarks/streaming.py --duration 10 --json out.json
    python benchmarks/streaming.py --concurrency 256 --profile loadkit-fast   # py-spy
    python benchmarks/streaming.py --aiperf-venv /tmp/aiperf-venv   # + AIPerf (installs it)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BODY = {"model": "m", "messages": [{"role": "user", "content": "tell me a story"}],
        "max_tokens": 20, "stream": True, "stream_options": {"include_usage": True}}
TOOLS = ("loadkit-fast", "loadkit-aiohttp", "aiohttp-plain")
WARMUP_S = 1.0


def _pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and os.cpu_count() else []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


# -- the clients (each runs in a child process) ----------------------------------------------
def run_loadkit(url: str, transport: str, concurrency: int, duration_s: float) -> dict[str, Any]:
    from loadkit.engine import run_stages
    from loadkit.scenario.plan import PayloadSet, RequestSpec, Stage, StreamSpec

    request = RequestSpec(target=url, path="/v1/chat/completions", timeout_s=30,
                          stream=StreamSpec("openai"))
    payloads = {1: PayloadSet(batch_size=1, bodies=(json.dumps(BODY).encode(),))}
    stages = [Stage(0, "warm-up", concurrency=concurrency, duration_s=WARMUP_S, warmup=True),
              Stage(1, "load", concurrency=concurrency, duration_s=duration_s)]
    cpu0, t0 = _cpu_s(), time.perf_counter()
    run = run_stages(stages, request, payloads, transport=transport, handle_signals=False)
    cpu, wall = _cpu_s() - cpu0, time.perf_counter() - t0
    s = run.stages[-1]
    tokens = sum(st.output_tokens or 0 for st in run.stages)
    assert s.ttft_ms is not None and s.itl_ms is not None
    return {"ttft": [s.ttft_ms.p50, s.ttft_ms.p95, s.ttft_ms.p99],
            "itl": [s.itl_ms.p50, s.itl_ms.p95, s.itl_ms.p99],
            "requests": s.ok, "errors": sum(st.errors for st in run.stages),
            "tokens": tokens, "measured_tokens": s.output_tokens,
            "chunks": s.stream_hist("itl").count + s.stream_hist("ttft").count,
            "tokens_per_s": s.output_tokens_per_s, "cpu_s": cpu, "wall_s": wall,
            "transport": run.transport}


async def _plain(url: str, concurrency: int, duration_s: float) -> dict[str, Any]:
    import aiohttp
    import numpy as np

    ttfts: list[float] = []
    gaps: list[float] = []
    counts = {"tokens": 0, "measured_tokens": 0, "requests": 0, "errors": 0}
    start = time.perf_counter()
    warm_end, end = start + WARMUP_S, start + WARMUP_S + duration_s
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def worker() -> None:
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                measured = t0 >= warm_end
                first = last = 0.0
                n = 0
                try:
                    async with session.post(url + "/v1/chat/completions", json=BODY) as resp:
                        async for line in resp.content:
                            if not line.startswith(b"data: "):
                                continue
                            data = line[6:].strip()
                            if data == b"[DONE]":
                                break
                            doc = json.loads(data)
                            choices = doc.get("choices")
                            if choices and choices[0].get("delta", {}).get("content"):
                                now = time.perf_counter()
                                if n == 0:
                                    first = now
                                    if measured:
                                        ttfts.append(now - t0)
                                elif measured:
                                    gaps.append(now - last)
                                last = now
                                n += 1
                except (aiohttp.ClientError, TimeoutError):
                    counts["errors"] += 1
                    continue
                counts["tokens"] += n
                if measured:
                    counts["measured_tokens"] += n
                    counts["requests"] += 1
                del first

        cpu0 = _cpu_s()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu = _cpu_s() - cpu0
    wall = time.perf_counter() - start

    def pct(values: list[float]) -> list[float]:
        arr = np.asarray(values) * 1000
        return [round(float(np.percentile(arr, p)), 3) for p in (50, 95, 99)]

    return {"ttft": pct(ttfts), "itl": pct(gaps), **counts,
            "tokens_per_s": round(counts["measured_tokens"] / duration_s, 1),
            "cpu_s": cpu, "wall_s": wall, "transport": "aiohttp (plain)"}


def child(tool: str, url: str, concurrency: int, duration_s: float, out: str) -> None:
    _raise_nofile()
    if tool == "aiohttp-plain":
        try:
            import uvloop
            uvloop.install()
        except ImportError:
            pass
        result = asyncio.run(_plain(url, concurrency, duration_s))
    else:
        result = run_loadkit(url, tool.removeprefix("loadkit-"), concurrency, duration_s)
    Path(out).write_text(json.dumps(result))


# -- the AIPerf anchor (its own venv, on request) -------------------------------------------------
def aiperf_bin(venv: str) -> str:
    """``DIR/bin/aiperf``, creating the venv and installing AIPerf into it when missing."""
    path = Path(venv) / "bin" / "aiperf"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([str(Path(venv) / "bin" / "pip"), "install", "-q", "aiperf"], check=True)
    return str(path)


def tiny_tokenizer(folder: str) -> str:
    """A word-level tokenizer.json (+ config) for AIPerf's prompt synthesis: no hub download."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = ["[UNK]", "tell", "me", "a", "story"] + [f"w{i}" for i in range(500)]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(f"{folder}/tokenizer.json")
    Path(f"{folder}/tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "PreTrainedTokenizerFast", "unk_token": "[UNK]",
         "model_max_length": 4096}))
    return folder


def run_aiperf(binary: str, url: str, concurrency: int, duration_s: float, tmp: str,
               out: str) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([*_pin(1), binary, "profile", "--model", "m", "--url", url,
                    "--endpoint-type", "chat", "--streaming", "--concurrency", str(concurrency),
                    "--benchmark-duration", str(duration_s), "--warmup-duration",
                    str(WARMUP_S), "--tokenizer", tiny_tokenizer(tmp),
                    "--use-server-token-count", "--output-artifact-dir", f"{tmp}/aiperf",
                    "--ui-type", "none"], check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    doc = json.loads(Path(f"{tmp}/aiperf/profile_export_aiperf.json").read_text())

    def pcts(key: str) -> list[float]:
        return [round(float(doc[key][p]), 3) for p in ("p50", "p95", "p99")]

    tokens = int(doc["total_output_tokens"]["avg"])
    Path(out).write_text(json.dumps({
        "ttft": pcts("time_to_first_token"), "itl": pcts("inter_chunk_latency"),
        "requests": int(doc["request_count"]["avg"]), "errors": 0, "tokens": tokens,
        "measured_tokens": tokens, "tokens_per_s": doc["output_token_throughput"]["avg"],
        "cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "wall_s": time.perf_counter() - t0, "transport": "aiperf"}))


# -- the parent: server, children, truth, table ------------------------------------------------
def truth_percentiles(counts: dict[str, int]) -> list[float]:
    """p50/p95/p99 of served values as HDR reads them: the value at rank ceil(p * n)."""
    values = sorted((float(k), v) for k, v in counts.items())
    n = sum(v for _, v in values)
    out = []
    for p in (0.50, 0.95, 0.99):
        rank, seen = max(1, -(-int(p * n * 1000) // 1000)), 0
        for value, count in values:
            seen += count
            if seen >= rank:
                out.append(value)
                break
    return out


def one_run(tool: str, concurrency: int, duration_s: float, profile: bool,
            aiperf: str | None = None) -> dict[str, Any]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        truth_file, out = f"{tmp}/truth.json", f"{tmp}/out.json"
        server = subprocess.Popen([*_pin(0), sys.executable, str(HERE / "stream_server.py"),
                                   str(port), truth_file], stdout=subprocess.PIPE,
                                  preexec_fn=_raise_nofile)
        assert server.stdout is not None
        server.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, __file__, "--child", tool, "--url", url, "--concurrency",
               str(concurrency), "--duration", str(duration_s), "--out", out]
        if profile:
            svg = ROOT / "reports" / f"streaming-{tool}-c{concurrency}.txt"
            cmd = ["py-spy", "record", "--format", "raw", "-o", str(svg), "--rate", "250",
                   "--", *cmd]
        try:
            if tool == "aiperf":
                assert aiperf is not None
                run_aiperf(aiperf, url, concurrency, duration_s, tmp, out)
            else:
                subprocess.run([*_pin(1), *cmd], check=True, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
        finally:
            server.terminate()
            server.wait(10)
        result: dict[str, Any] = json.loads(Path(out).read_text())
        served = json.loads(Path(truth_file).read_text())
    result["truth_ttft"] = truth_percentiles(served["ttft_ms"])
    result["truth_itl"] = truth_percentiles(served["gap_ms"])
    result["served_tokens"] = sum(served["ttft_ms"].values()) + sum(served["gap_ms"].values())
    result["server_late_ms"] = served["write_late_ms"]
    result["us_per_token"] = round(result["cpu_s"] * 1e6 / max(1, result["tokens"]), 1)
    return result


def _within(got: list[float], truth: list[float], slack_ms: float, floor: bool) -> bool:
    return all((not floor or g >= t) and g <= t * 1.08 + slack_ms
               for g, t in zip(got, truth, strict=True))


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| c | client | TTFT p50/p95/p99 ms (truth) | ok | ITL p50/p95/p99 ms (truth) | ok "
            "| tokens (server sent) | tokens/s | CPU µs/token | server write late p99 ms |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        f = "/".join
        lines.append(
            f"| {r['concurrency']} | {r['tool']} | {f(f'{v:g}' for v in r['ttft'])} "
            f"({f(f'{v:g}' for v in r['truth_ttft'])}) "
            f"| {'yes' if _within(r['ttft'], r['truth_ttft'], 2.0, True) else 'NO'} "
            f"| {f(f'{v:g}' for v in r['itl'])} ({f(f'{v:g}' for v in r['truth_itl'])}) "
            f"| {'yes' if _within(r['itl'], r['truth_itl'], 1.5, False) else 'NO'} "
            f"| {r['tokens']:,} ({r['served_tokens']:,}) | {r['tokens_per_s']:,.0f} "
            f"| {r['us_per_token']:g} | {r['server_late_ms']['p99']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 256, 1024])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--profile", choices=TOOLS, help="run only this client under py-spy "
                        "(raw stacks in reports/streaming-TOOL-cN.txt)")
    parser.add_argument("--json", help="also write the rows here")
    parser.add_argument("--aiperf-venv", metavar="DIR", help="also run AIPerf from this venv "
                        "(created, and AIPerf installed into it, when missing)")
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.concurrency[0], args.duration, args.out)
        return
    tools = [args.profile] if args.profile else args.tools
    aiperf = aiperf_bin(args.aiperf_venv) if args.aiperf_venv and not args.profile else None
    if aiperf is not None:
        tools = [*tools, "aiperf"]
    rows = []
    for c in args.concurrency:
        for tool in tools:
            r = one_run(tool, c, args.duration, bool(args.profile), aiperf)
            rows.append({"tool": tool, "concurrency": c, **r})
            print(f"c={c} {tool}: TTFT {r['ttft']} (truth {r['truth_ttft']}), ITL {r['itl']} "
                  f"(truth {r['truth_itl']}), {r['us_per_token']} µs/token, "
                  f"{r['errors']} errors", file=sys.stderr, flush=True)
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
