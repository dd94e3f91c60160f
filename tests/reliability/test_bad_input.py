"""Bad input through the CLI: exit 2, one line on stderr naming the field, no traceback.

The scenario room tests the same refusals at the library level; these go through
``loadkit run`` and ``loadkit validate`` as a user would meet them. The rows are
the README's "Bad input" table. Nothing is sent: every target here is a closed
port, so a refusal that came too late would show up as exit 3, not 2.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from collections.abc import Callable

import pytest

from tests.reliability.conftest import IRIS, one_line_error, scenario

BASE = scenario("http://127.0.0.1:9")


def edit(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A change to the base scenario: dotted paths set (or, with None, delete) a field."""

    def apply(sc: dict[str, Any]) -> dict[str, Any]:
        for dotted, value in changes.items():
            node: Any = sc
            *parents, last = dotted.replace("__", ".").split(".")
            for key in parents:
                node = node[int(key)] if key.isdigit() else node[key]
            if value is None:
                del node[last]
            elif last.isdigit():
                node[int(last)] = value
            else:
                node[last] = value
        return sc

    return apply


# id -> (scenario change or raw YAML, words the one line must contain)
CASES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "malformed YAML": ("name: x\nprofiles: [\n  {kind: latency\n", ("line",)),
    "not a mapping": ("- just\n- a list\n", ("mapping",)),
    "unknown field, did you mean": (edit(**{"request.timeuot": "1s"}),
                                    ("request.timeuot", "did you mean", "timeout")),
    "unknown profile kind": (edit(**{"profiles.0.kind": "constant_rate"}),
                             ("profiles[0]", "did you mean", "constant-rate")),
    "wrong type": (edit(**{"profiles.0.rate": [1, 2]}), ("profiles[0].rate",)),
    "zero rate": (edit(**{"profiles.0.rate": 0}), ("profiles[0].rate",)),
    "negative duration": (edit(**{"profiles.0.duration": "-5s"}), ("profiles[0].duration",)),
    "bad duration": (edit(**{"profiles.0.duration": "5 parsecs"}), ("profiles[0].duration",)),
    "bad rate unit": (edit(**{"profiles.0.rate": "100rpm/s"}), ("profiles[0].rate",)),
    "zero timeout": (edit(**{"request.timeout": "0s"}), ("request.timeout",)),
    "bad SLA expression": (edit(sla=["p99 < fast"]), ("sla[0]",)),
    "unknown SLA metric": (edit(sla=["p98 < 200ms"]), ("sla[0]", "p98")),
    "missing dataset": (edit(**{"dataset.path": "nowhere.csv"}), ("dataset.path", "not found")),
    "empty dataset": ("EMPTY", ("dataset",)),
    "template names a missing column": (edit(**{"request.body": {"x": "{{ row.petal_colour }}"}}),
                                        ("petal_colour",)),
    "target not http": (edit(target="ftp://127.0.0.1:21"), ("target", "http")),
    "target not a URL": (edit(target="localhost"), ("target",)),
    "missing ${VAR}": (edit(**{"request.headers": {"Authorization": "Bearer ${NO_SUCH_VAR_X}"}}),
                       ("NO_SUCH_VAR_X",)),
    "header name with <script>": (edit(**{"request.headers": {"<script>": "x"}}),
                                  ("request.headers", "header name")),
}


def write_case(case: Any, tmp_path: Path) -> Path:
    path = tmp_path / "scenario.yaml"
    if case == "EMPTY":
        empty = tmp_path / "empty.csv"
        empty.write_text("sepal_length,sepal_width,petal_length,petal_width,species\n")
        sc = copy.deepcopy(BASE)
        sc["dataset"]["path"] = str(empty)
        import yaml
        path.write_text(yaml.safe_dump(sc))
    elif isinstance(case, str):
        path.write_text(case)
    else:
        import yaml
        path.write_text(yaml.safe_dump(case(copy.deepcopy(BASE))))
    return path


@pytest.mark.parametrize("command", ["run", "validate"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_scenario_is_refused_with_exit_2_and_one_line(
        case: str, command: str, run_cli: Callable[..., Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_VAR_X", raising=False)
    change, words = CASES[case]
    res = run_cli(command, write_case(change, tmp_path))
    assert res.code == 2, (res.code, res.err)
    line = one_line_error(res.err)
    assert line.startswith("loadkit: error:"), line
    for word in words:
        assert word in line, (word, line)


OPTION_CASES: dict[str, tuple[tuple[str, ...], str]] = {
    "--sla that does not parse": (("--sla", "p99 <"), "p99"),
    "--sla with an unknown metric": (("--sla", "latency < 5ms"), "latency"),
    "--sla with an ambiguous error rate": (("--sla", "error_rate < 1"), "write 1% for percent"),
    "--sla with a unitless latency": (("--sla", "p99 < 200"), "has no unit"),
    "--duration not a duration": (("--duration", "soon"), "--duration: 'soon'"),
    "--rate not a rate": (("--rate", "fast"), "--rate: 'fast'"),
    "--rate zero": (("--rate", "0"), "rate"),
    "--concurrency zero": (("--concurrency", "0"), "--concurrency"),
    "--target not http": (("--target", "ftp://127.0.0.1"), "--target"),
    "--wait-ready not a duration": (("--wait-ready", "a while"), "--wait-ready: 'a while'"),
    "--processes not a number": (("--processes", "many"), "--processes"),
    "--profile unknown": (("--profile", "stedy"), "stedy"),
}


@pytest.mark.parametrize("case", list(OPTION_CASES))
def test_bad_option_is_refused_with_exit_2_and_one_line(
        case: str, run_cli: Callable[..., Any], write_scenario: Callable[..., Path]) -> None:
    args, word = OPTION_CASES[case]
    res = run_cli("run", write_scenario(BASE), *args)
    assert res.code == 2, (res.code, res.err)
    line = one_line_error(res.err)
    assert word in line, line


def test_a_missing_scenario_file_is_one_line(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    for command in ("run", "validate"):
        res = run_cli(command, tmp_path / "nope.yaml")
        assert res.code == 2
        assert "nope.yaml" in one_line_error(res.err)


def test_the_base_scenario_itself_is_valid(run_cli: Callable[..., Any],
                                           write_scenario: Callable[..., Path]) -> None:
    """The table's rows fail because of their one change, not because of the base."""
    assert IRIS.exists()
    res = run_cli("validate", write_scenario(BASE))
    assert res.code == 0, res.err
