"""Scenario side of generative endpoints: bodies from prompts, SLOs, and bad input named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadkit.errors import LoadkitError, ScenarioError
from loadkit.scenario import apply_overrides, build_payloads, compile_profile, load_scenario
from loadkit.scenario.plan import Slo, StreamSpec

HEAD = "name: t\ntarget: http://127.0.0.1:8080\n"
CHAT = "request: {api: openai-chat, model: m, max_tokens: 16}\n"
DS = "dataset: {path: p.jsonl}\n"
LAT = "profiles:\n  - {name: lat, kind: latency, requests: 4}\n"


def write(tmp_path: Path, text: str, rows: list[dict[str, object]] | None = None,
          name: str = "p.jsonl") -> Path:
    if rows is None:
        rows = [{"prompt": "hello there", "n": 4}, {"prompt": "a b c", "n": 7}]
    (tmp_path / name).write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def bodies(path: Path) -> list[dict[str, object]]:
    return [json.loads(b) for b in build_payloads(load_scenario(str(path)))[1].bodies]


def test_chat_body_from_prompt_column_streams_with_usage_and_merges_extra_fields(
        tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "request: {api: openai-chat, model: m, max_tokens: 16, "
                 "body: {temperature: 0}}\n" + DS + LAT)
    sc = load_scenario(str(path))
    assert sc.request.path == "/v1/chat/completions"
    assert sc.request_spec("http://x").stream == StreamSpec("openai")
    assert bodies(path)[0] == {"model": "m", "messages": [{"role": "user", "content": "hello there"}],
                               "max_tokens": 16, "stream": True,
                               "stream_options": {"include_usage": True}, "temperature": 0}


def test_completions_max_tokens_per_row_and_no_stream(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "request: {api: openai-completions, model: m, stream: false,"
                 " max_tokens: '{{ row.n }}'}\n" + DS + LAT)
    got = bodies(path)
    assert [(b["prompt"], b["max_tokens"], b["stream"]) for b in got] == [
        ("hello there", 4, False), ("a b c", 7, False)]
    assert "stream_options" not in got[0]


def test_sharegpt_conversations_give_the_first_user_turn(tmp_path: Path) -> None:
    rows = [{"conversations": [{"from": "system", "value": "be nice"},
                               {"from": "human", "value": "why is the sky blue"},
                               {"from": "gpt", "value": "..."}]}]
    path = write(tmp_path, HEAD + CHAT + DS + LAT, rows)
    assert bodies(path)[0]["messages"] == [{"role": "user", "content": "why is the sky blue"}]


def test_messages_column_is_sent_as_is(tmp_path: Path) -> None:
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    path = write(tmp_path, HEAD + CHAT + DS + LAT, [{"messages": msgs}])
    assert bodies(path)[0]["messages"] == msgs


def test_a_goodput_rule_loads_when_its_profile_or_the_scenario_has_an_slo(tmp_path: Path) -> None:
    rules = "sla: [goodput >= 5rps, slo_attainment >= 0.9]"
    own = load_scenario(str(write(tmp_path, HEAD + CHAT + DS + "profiles:\n  - {name: lat, kind: "
                                  f"latency, requests: 4, slo: {{ttft: 1s}}, {rules}}}\n")))
    shared = load_scenario(str(write(tmp_path, HEAD + CHAT + DS + "slo: {ttft: 1s}\nprofiles:\n"
                                     f"  - {{name: lat, kind: latency, requests: 4, {rules}}}\n")))
    assert [r.metric for r in own.profiles[0].sla] == ["goodput", "slo_attainment"]
    assert [r.metric for r in shared.profiles[0].sla] == ["goodput", "slo_attainment"]


def test_a_goodput_rule_on_the_command_line_is_refused_for_a_profile_without_an_slo(
        tmp_path: Path) -> None:
    path = str(write(tmp_path, HEAD + CHAT + DS + "profiles:\n"
                     "  - {name: bounded, kind: latency, requests: 4, slo: {ttft: 1s}}\n"
                     "  - {name: open, kind: latency, requests: 4}\n"))
    scenario = load_scenario(path)
    with pytest.raises(ScenarioError) as err:
        apply_overrides(scenario, sla=["p99 < 1s", "goodput >= 5rps"])
    assert str(err.value) == (
        "--sla: goodput counts the requests within the SLO's bounds: add an slo: block "
        "(e.g. slo: {ttft: 500ms, tpot: 50ms}), for profile 'open' or the scenario")
    # The profile with bounds takes it; so does every profile under a scenario-wide slo:.
    only_bounded = apply_overrides(scenario, profiles=["bounded"], sla=["slo_attainment >= 0.9"])
    assert "slo_attainment" in [r.metric for r in only_bounded.profiles[0].sla]
    shared = load_scenario(str(write(tmp_path, HEAD + CHAT + DS + "slo: {ttft: 1s}\n" + LAT)))
    assert "goodput" in [r.metric for r in apply_overrides(shared, sla=["goodput >= 5rps"]).profiles[0].sla]


def test_profile_slo_overrides_the_scenarios_in_its_stages(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + CHAT + DS + "slo: {ttft: 500ms, tpot: 50ms}\n"
                 "profiles:\n  - {name: a, kind: latency, requests: 4}\n"
                 "  - {name: b, kind: latency, requests: 4, slo: {itl: 20ms}}\n")
    sc = load_scenario(str(path))
    assert compile_profile(sc.profiles[0], sc)[0].slo == Slo(ttft_ms=500, tpot_ms=50)
    assert compile_profile(sc.profiles[1], sc)[0].slo == Slo(itl_ms=20)


BAD = [
    ("unknown-api", HEAD + "request: {api: openai-chatt, model: m}\n" + DS + LAT,
     "request.api", "did you mean 'openai-chat'?"),
    ("slo-key-not-a-timing", HEAD + CHAT + DS + "slo: {ttfb: 1s}\n" + LAT, "slo.ttfb",
     "did you mean 'ttft'?"),
    ("slo-value-not-a-duration", HEAD + CHAT + DS + "slo: {ttft: fast}\n" + LAT, "slo.ttft",
     "fast"),
    ("slo-without-a-stream", HEAD + DS + "slo: {ttft: 1s}\n" + LAT, "slo",
     "set request.api"),
    ("goodput-without-an-slo", HEAD + CHAT + DS + "profiles:\n"
     "  - {name: lat, kind: latency, requests: 4, sla: [goodput >= 5rps]}\n",
     "profiles[0].sla[0]", "goodput counts the requests within the SLO's bounds: add an slo:"),
    ("global-attainment-without-an-slo", HEAD + CHAT + DS + LAT + "sla: [slo_attainment >= 0.9]\n",
     "sla[0]", "for profile 'lat' or the scenario"),
    ("max-tokens-on-http", HEAD + "request: {max_tokens: 5}\n" + DS + LAT, "request",
     "max_tokens: only for api: openai-chat"),
    ("stream-true-on-http", HEAD + "request: {stream: true}\n" + DS + LAT, "request",
     "sse or chunks"),
    ("sse-on-openai", HEAD + "request: {api: openai-chat, model: m, stream: sse}\n" + DS + LAT,
     "request", "true or false"),
    ("no-model", HEAD + "request: {api: openai-chat}\n" + DS + LAT, "request.model", "required"),
    ("no-dataset", HEAD + CHAT + LAT, "dataset", "prompt or messages column"),
    ("body-check-on-stream", HEAD + CHAT + DS + "checks: {json_has: [x]}\n" + LAT,
     "checks.json_has", "only checks.status applies"),
    ("tokenizer-missing", HEAD + "request: {api: openai-chat, model: m, tokenizer: t.json}\n"
     + DS + LAT, "request.tokenizer", "never downloaded"),
]


@pytest.mark.parametrize(("text", "field", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_streaming_input_is_refused_naming_the_field(tmp_path: Path, text: str, field: str,
                                                         words: str) -> None:
    with pytest.raises(LoadkitError) as info:
        load_scenario(str(write(tmp_path, text)))
    message = str(info.value)
    assert message.startswith(field + ":") and words in message
    assert info.value.exit_code == 2


def test_dataset_without_prompt_or_messages_is_refused_naming_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + CHAT + DS + LAT, [{"question": "x"}])
    with pytest.raises(LoadkitError, match=r"^dataset.path: p.jsonl: api openai-chat needs a "
                       r"prompt \(text\) or messages \(chat list\) column.*\(columns: question\)"):
        build_payloads(load_scenario(str(path)))


def test_max_tokens_template_naming_a_missing_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "request: {api: openai-chat, model: m, max_tokens: "
                 "'{{ row.limit }}'}\n" + DS + LAT)
    with pytest.raises(LoadkitError, match=r"^request.max_tokens: column 'limit' is not in"):
        build_payloads(load_scenario(str(path)))


def test_local_tokenizer_counts_prompt_tokens_before_the_run(tmp_path: Path) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(
        {"[UNK]": 0, "hello": 1, "there": 2}, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.save(str(tmp_path / "tok.json"))
    path = write(tmp_path, HEAD + "request: {api: openai-chat, model: m, tokenizer: tok.json}\n"
                 + DS + LAT)
    assert build_payloads(load_scenario(str(path)))[1].input_tokens == (2, 3)
