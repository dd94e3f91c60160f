"""A run with ``server_metrics`` against a server whose metrics are known exactly.

One short run (two 0.6 s stages, scraped every 0.2 s, plus a second source on a
closed port) through the CLI, shared by the tests of this module: the stage
figures, that scrapes are not load, that a down source is counted and the run
goes on, that the reports name the series and never the scrape's token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadkit.results import read
from loadkit.results.hdr import LatencyHistogram
from loadkit.results.model import RunResult
from tests.cli.test_cli import invoke
from tests.telemetry.known_server import IN_FLIGHT, SERVICE_S, TOKEN, KnownServer

URL_SECRET = "qs-s3cret-4821"
SCENARIO = """
name: known-metrics
target: {url}
request: {{path: /predict, body: {{x: 1}}, timeout: 2s}}
server_timing: {{metric: app}}
traceparent: true
server_metrics:
  - {{url: /metrics, interval: 200ms, headers: {{Authorization: "Bearer {token}"}}}}
  - {{url: "http://scraper:{qs}@127.0.0.1:{down}/metrics?token={qs}", interval: 200ms,
     timeout: 100ms}}
  - {{url: /garbage, interval: 200ms}}
  - {{url: /slow, interval: 200ms, timeout: 100ms}}
profiles:
  - {{name: ramp, kind: ramp, concurrency: {{start: 2, stop: 4, factor: 2}}, stage_duration: 600ms}}
sla: [error_rate < 1%, "server:app_in_flight.mean <= 3", "server:app_requests_total.rate > 10"]
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def known_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KnownServer, Path, str]]:
    server = KnownServer().start()
    folder = tmp_path_factory.mktemp("known")
    scenario = folder / "s.yaml"
    scenario.write_text(SCENARIO.format(url=server.url, token=TOKEN, down=_free_port(),
                                        qs=URL_SECRET))
    code, out, err = invoke(["run", str(scenario), "--out", str(folder / "out"), "--quiet"])
    server.stop()
    assert code == 0, err
    yield server, folder / "out", out + err


def result_of(known_run: tuple[KnownServer, Path, str]) -> RunResult:
    return read(str(known_run[1] / "result.json"))


def test_stage_figures_match_the_servers_known_metrics(known_run) -> None:
    for stage in result_of(known_run).profiles[0].stages:
        m = stage.server_metrics
        assert m["app_in_flight"].mean == IN_FLIGHT
        hist = m["app_service_seconds"]
        assert hist.p50 == pytest.approx(SERVICE_S) and hist.mean == pytest.approx(SERVICE_S)
        counter = m["app_requests_total"]
        # The counter's rate is the server's view of the throughput loadkit measured.
        seen = (stage.index, stage.requests, stage.throughput_rps, counter)
        assert counter.rate_per_s == pytest.approx(stage.throughput_rps, rel=0.15), seen
        # Counted over the stage itself (deltas shared out at its edges), so the
        # server's count matches the client's up to the requests out at the end.
        assert counter.increase == pytest.approx(stage.requests,
                                                 abs=0.08 * stage.requests + stage.concurrency), seen
        assert hist.rate_per_s == pytest.approx(counter.rate_per_s)


def test_scrapes_are_never_counted_as_load(known_run) -> None:
    server = known_run[0]
    result = result_of(known_run)
    assert server.scrapes >= 6 and server.refused_scrapes == 0
    assert sum(s.requests for s in result.profiles[0].stages) == server.predicts


def test_down_slow_and_garbage_sources_are_counted_per_scrape_and_the_run_goes_on(
        known_run) -> None:
    result = result_of(known_run)
    for stage in result.profiles[0].stages:
        up, down, garbage, slow = stage.server_scrapes
        assert up.ok >= 3 and up.failed == 0
        assert down.ok == 0 and down.failed >= 3 and set(down.failures) == {"connect"}
        assert garbage.ok == 0 and set(garbage.failures) == {"garbage"}
        assert slow.ok == 0 and set(slow.failures) == {"timeout"}
        assert "late" not in stage.server_metrics
    assert result.status == "pass"
    assert any("scrapes failed (connect" in w for w in result.warnings)


def test_the_scrape_token_reaches_no_report_or_output(known_run) -> None:
    _, out_dir, printed = known_run
    assert TOKEN not in printed and URL_SECRET not in printed
    for f in out_dir.iterdir():
        text = f.read_text()
        assert TOKEN not in text and URL_SECRET not in text, f.name
    # the source is still named, masked: http://***@127.0.0.1:PORT/metrics?token=***
    assert "http://***@127.0.0.1:" in (out_dir / "result.json").read_text()
    assert json.loads((out_dir / "result.json").read_text())["status"] == "pass"


@pytest.mark.parametrize(("block", "field"), [
    ("{url: 'ht tp://x'}", "server_metrics[0].url"),
    ("{url: /metrics, intervl: 1s}", "server_metrics[0].intervl"),
    ("[{url: /metrics}, {url: 'ftp://h/m'}]", "server_metrics[1].url"),
    ("{include: ['(unclosed']}", "server_metrics[0].include"),
    ("{interval: 10ms}", "server_metrics[0].interval"),
    ("{url: /metrics}\nserver_timing: {metrc: app}", "server_timing.metrc"),
    ("{url: /metrics}\ntraceparent: sure", "traceparent"),
], ids=["malformed-url", "unknown-option", "second-source-scheme", "bad-regex", "too-often",
        "server-timing-option", "traceparent-not-bool"])
def test_bad_server_metrics_input_exits_2_naming_the_field(tmp_path: Path, block: str,
                                                          field: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("target: http://127.0.0.1:9\nrequest: {body: {x: 1}}\n"
                    f"server_metrics: {block}\nprofiles: [{{kind: latency, requests: 1}}]\n")
    code, out, err = invoke(["validate", str(path)])
    assert code == 2 and err.startswith(f"loadkit: error: {field}:"), err
    assert len(err.strip().splitlines()) == 1


def test_the_reports_name_the_server_series(known_run) -> None:
    out_dir = known_run[1]
    page = (out_dir / "report.html").read_text()
    assert 'id="chart-server-0"' in page                 # charted beside the client's series
    for series in ("app_in_flight", "app_requests_total", "app_service_seconds"):
        assert f"<code>{series}</code>" in page          # the per-step server table
    # what moved most between the steps: the request rate doubled with the concurrency
    assert "`app_requests_total`" in (out_dir / "summary.md").read_text()
    header = (out_dir / "timeseries.csv").read_text().splitlines()[0]
    assert "server:app_in_flight" in header


def test_server_timing_is_recorded_per_request_and_the_run_is_one_trace(known_run) -> None:
    server, out_dir, _ = known_run
    result = result_of(known_run)
    for stage in result.profiles[0].stages:
        assert stage.server_timing_ms is not None and stage.server_timing_missing == 0
        # 15 ms to HDR's 3 significant digits (a bucket's top edge: 15.007)
        assert stage.server_timing_ms.p50 == pytest.approx(SERVICE_S * 1000, rel=1e-3)
        assert LatencyHistogram.decode(stage.server_timing_histogram).count == stage.requests
    (traceparent,) = server.traceparents                          # one trace, every request
    assert traceparent.split("-")[1] == result.scenario.trace_id and len(traceparent) == 55
    assert "Time in the server" in (out_dir / "report.html").read_text()


def test_sla_rules_on_server_metrics_are_judged_in_the_run(known_run) -> None:
    verdicts = {v.expr: v for v in result_of(known_run).verdicts}
    assert verdicts["server:app_in_flight.mean <= 3"].passed
    assert verdicts["server:app_in_flight.mean <= 3"].observed == IN_FLIGHT
    assert verdicts["server:app_requests_total.rate > 10"].passed


def test_validate_lists_the_sources_without_their_secrets(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("target: http://127.0.0.1:9\nrequest: {body: {x: 1}}\nserver_timing: app\n"
                    "server_metrics:\n  - {url: /metrics, include: ['vllm:.*'], "
                    f"headers: {{Authorization: 'Bearer {TOKEN}'}}}}\n"
                    f"  - 'http://u:{URL_SECRET}@10.0.0.1:9400/metrics'\n"
                    "profiles: [{kind: latency, requests: 1}]\n")
    code, out, err = invoke(["validate", str(path)])
    assert code == 0, err
    assert "scrape /metrics every 1s (timeout 1s), include vllm:.*, headers Authorization" in out
    assert "scrape http://***@10.0.0.1:9400/metrics every 1s" in out
    assert "Server-Timing: app" in out
    assert TOKEN not in out + err and URL_SECRET not in out + err
