"""Secrets given to loadkit (header values, URL userinfo, query tokens) reach no output.

A run with a bearer token, a password in the target URL and a token in the query
string; then every file it wrote, its stdout and stderr (progress included), and
the error messages of the ways it can be refused are searched for them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any
from collections.abc import Callable

from tests.reliability.conftest import CLI, REPORT_FILES, cli_env, scenario

TOKEN = "tok-7f3a9c1e5b"
PASSWORD = "pa55word"
QUERY_TOKEN = "qs-d41d8cd98f"
SECRETS = (TOKEN, PASSWORD, QUERY_TOKEN)


def secret_scenario(target: str) -> dict[str, Any]:
    sc = scenario(target, rate=50, duration="1s")
    sc["request"]["headers"] = {"Authorization": "Bearer ${LOADKIT_TEST_TOKEN}",
                                "X-Api-Key": TOKEN}
    sc["request"]["path"] = f"/predict?api_key={QUERY_TOKEN}&v=1"
    sc["sla"] = ["error_rate < 100%"]
    return sc


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {where}"


def test_no_secret_reaches_any_report_stdout_or_progress(
        mock_server_proc: Callable[..., Any], write_scenario: Callable[..., Path],
        tmp_path: Path) -> None:
    mock = mock_server_proc()
    host = mock.url.removeprefix("http://")
    path = write_scenario(secret_scenario("http://127.0.0.1:9"))
    out = tmp_path / "out"
    proc = subprocess.run(
        [*CLI, "run", str(path), "--target", f"http://user:{PASSWORD}@{host}", "--out", str(out)],
        env=dict(cli_env(), LOADKIT_TEST_TOKEN=TOKEN), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "[loadkit]" in proc.stderr                      # progress lines were printed
    assert_clean(proc.stdout, "stdout")
    assert_clean(proc.stderr, "stderr")
    for name in REPORT_FILES:
        assert_clean((out / name).read_text(), name)
    assert "***" in (out / "result.json").read_text()     # the target is shown, masked


def test_the_unreachable_target_message_hides_userinfo_and_query(
        run_cli: Callable[..., Any], write_scenario: Callable[..., Path], closed_port: int,
        monkeypatch: Any) -> None:
    monkeypatch.setenv("LOADKIT_TEST_TOKEN", TOKEN)
    path = write_scenario(secret_scenario("http://127.0.0.1:9"))
    res = run_cli("run", path, "--target", f"http://user:{PASSWORD}@127.0.0.1:{closed_port}",
                  "--quiet")
    assert res.code == 3, res.err
    assert_clean(res.out + res.err, "the unreachable-target message")


def test_a_refused_target_override_does_not_echo_its_password(
        run_cli: Callable[..., Any], write_scenario: Callable[..., Path], monkeypatch: Any) -> None:
    monkeypatch.setenv("LOADKIT_TEST_TOKEN", TOKEN)
    path = write_scenario(secret_scenario("http://127.0.0.1:9"))
    for bad in (f"ftp://user:{PASSWORD}@127.0.0.1:21/?k={QUERY_TOKEN}",
                f"user:{PASSWORD}@127.0.0.1:80"):
        res = run_cli("run", path, "--target", bad, "--quiet")
        assert res.code == 2, res.err
        assert_clean(res.out + res.err, f"the refusal of --target {bad[:6]}…")


def test_a_refused_scenario_target_does_not_echo_its_password(
        run_cli: Callable[..., Any], write_scenario: Callable[..., Path], monkeypatch: Any) -> None:
    monkeypatch.setenv("LOADKIT_TEST_TOKEN", TOKEN)
    path = write_scenario(secret_scenario(f"htp://user:{PASSWORD}@127.0.0.1:80/?t={QUERY_TOKEN}"))
    for command in ("run", "validate"):
        res = run_cli(command, path)
        assert res.code == 2, res.err
        assert "target" in res.err
        assert_clean(res.out + res.err, f"`loadkit {command}` refusing the target")


def test_a_header_value_never_appears_in_an_error_about_that_header(
        run_cli: Callable[..., Any], write_scenario: Callable[..., Path]) -> None:
    sc = secret_scenario("http://127.0.0.1:9")
    sc["request"]["headers"] = {"Authorization": ["Bearer", TOKEN]}   # wrong type
    res = run_cli("validate", write_scenario(sc))
    assert res.code == 2
    assert "Authorization" in res.err
    assert_clean(res.out + res.err, "the header error")


def test_a_missing_variable_names_the_variable_not_a_value(
        run_cli: Callable[..., Any], write_scenario: Callable[..., Path], monkeypatch: Any) -> None:
    monkeypatch.delenv("LOADKIT_TEST_TOKEN", raising=False)
    res = run_cli("validate", write_scenario(secret_scenario("http://127.0.0.1:9")))
    assert res.code == 2
    assert "LOADKIT_TEST_TOKEN" in res.err
