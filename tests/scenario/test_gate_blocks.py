"""The ``compare:`` and ``canary:`` blocks: checked by ``loadkit validate`` with field paths
(exit 2, one line, nothing sent) and loaded into exactly the values the gates read."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from loadkit.cli import cli
from loadkit.results.canary import DEFAULT_STAGES, CanaryConfig, CanaryStage
from loadkit.results.compare import CompareThresholds
from loadkit.scenario import scenario_from_text
from tests.scenario.conftest import BASE


def validate(write, block: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", str(write(BASE + block))], prog_name="loadkit")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr


BAD_BLOCKS = [
    ("compare: {p99: banana}", "compare.p99: 'banana' is not a percentage"),
    ("compare: {p98: 10%}", "compare.p98: unknown field; did you mean 'p99'?"),
    ("compare: {min_windows: 0}", "compare.min_windows: must be greater than 0"),
    ("compare: {error_rate: -1}", "compare.error_rate: must not be negative"),
    ("compare: {error_rate: lots}", "compare.error_rate: 'lots' is not in percentage points"),
    ("compare: {p99: 10%, p99_increase: 20%}", "compare: p99_increase repeats p99"),
    ("compare: [p99]", "compare: expected a mapping"),
    ("canary: {stagez: []}", "canary.stagez: unknown field; did you mean 'stages'?"),
    ("canary: {stages: [{share: 150%}]}", "canary.stages[0].share: must be at most 100%"),
    ("canary: {stages: [{duration: 2s}]}", "canary.stages[0].share: required"),
    ("canary: {stages: [{share: 5%, duration: soon}]}", "canary.stages[0].duration: "),
    ("canary: {stages: [{share: 5%, min_requests: 0}]}",
     "canary.stages[0].min_requests: must be greater than 0"),
    ("canary: {stages: [{share: 50%}, {share: 5%}]}",
     "canary.stages: shares must not decrease from one stage to the next"),
    ("canary: {stages: []}", "canary.stages: must not be empty"),
    ("canary: {agreement_mode: fuzzy}", "canary.agreement_mode: agreement_mode 'fuzzy' is not one of"),
    ("canary: {min_agreement: 120%}", "canary.min_agreement: must be between 0% and 100%"),
    ("canary: {alpha: 0}", "canary.alpha: must be greater than 0"),
    ("canary: {rate: -5}", "canary.rate: must be greater than 0"),
    ("canary: {rate: 50, concurrency: 4}", "canary: give rate or concurrency, not both"),
    ("canary: {promote_p99_ratio: 3, rollback_p99_ratio: 2x}",
     "canary: promote_p99_ratio (3) is above rollback_p99_ratio (2)"),
    ("canary: {profile: latency}", "canary.profile: no profile named 'latency' (profiles: lat)"),
    ("canary: {warmup_s: later}", "canary.warmup_s: "),
]


@pytest.mark.parametrize("block, line", BAD_BLOCKS, ids=[
    "compare-not-a-percentage", "compare-unknown-key", "compare-zero-windows",
    "compare-negative", "compare-points-not-a-number", "compare-key-twice", "compare-not-a-map",
    "canary-unknown-key", "canary-share-over-100", "canary-share-missing",
    "canary-bad-duration", "canary-zero-min-requests", "canary-shares-decrease",
    "canary-no-stages", "canary-bad-mode", "canary-agreement-over-1", "canary-alpha-zero",
    "canary-negative-rate", "canary-rate-and-concurrency", "canary-promote-above-rollback",
    "canary-unknown-profile", "canary-bad-warmup"])
def test_validate_names_the_bad_field_of_a_gate_block_and_exits_2(write, block, line):
    code, err = validate(write, block)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert line in err, err
    assert "Traceback" not in err


def test_validate_accepts_good_gate_blocks(write):
    code, err = validate(write, "compare: {p99: 20%}\ncanary: {stages: [{share: 10%}]}\n")
    assert code == 0, err


def test_a_compare_block_loads_exactly_over_the_defaults():
    sc = scenario_from_text(BASE.replace("dataset: {path: data.csv, seed: 3}\n", "") + (
        "compare: {p99: 20%, p50_increase: 5%, error_rate: 1pp, throughput: 0.05, p95: null,"
        " min_windows: 8}\n"))
    assert sc.compare == CompareThresholds(p50_increase=0.05, p95_increase=None,
                                           p99_increase=0.2, error_rate_increase_pp=1.0,
                                           throughput_decrease=0.05, min_windows=8,
                                           min_requests=20)


def test_a_canary_block_loads_exactly_over_the_defaults():
    sc = scenario_from_text(BASE.replace("dataset: {path: data.csv, seed: 3}\n", "") + """\
canary:
  stages: [{share: 1%, duration: 2s, min_requests: 10}, {share: 100%, duration: 1s}]
  min_agreement: 90%
  rollback_error_rate_pp: 3pp
  rate: 80rps
  warmup_s: 500ms
  agreement_mode: top_label
  profile: lat
""")
    assert sc.canary == CanaryConfig(
        stages=(CanaryStage(0.01, 2.0, 10), CanaryStage(1.0, 1.0, 100)), profile="lat",
        rate=80.0, warmup_s=0.5, min_agreement=0.9, rollback_error_rate_pp=3.0,
        agreement_mode="top_label")


def test_no_gate_blocks_load_as_none_and_an_empty_one_as_the_defaults():
    text = BASE.replace("dataset: {path: data.csv, seed: 3}\n", "")
    sc = scenario_from_text(text)
    assert (sc.compare, sc.canary) == (None, None)
    sc = scenario_from_text(text + "compare: {}\ncanary: {}\n")
    assert (sc.compare, sc.canary) == (CompareThresholds(), CanaryConfig())
    assert sc.canary.stages == DEFAULT_STAGES


def test_validate_says_which_rules_judge_each_canary_arm(write):
    path = write(BASE + "sla: [p99 < 200ms, throughput >= 100rps]\n"
                        "canary: {stages: [{share: 5%}, {share: 100%}]}\n")
    result = CliRunner().invoke(cli, ["validate", str(path)], prog_name="loadkit")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == [
        "canary: 5% -> 100% of lat's load; each side judged on p99 < 200ms",
        "  throughput >= 100rps: not judged on a canary arm (the canary sets each side's load)"]
