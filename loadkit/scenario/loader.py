"""``load_scenario``: file -> YAML tree -> ``${VAR}`` -> schema -> frozen Scenario.

Where it sits: the entry point the CLI, the runner and the Locust bridge call.
Everything it raises is a ``loadkit.errors`` exception with one line naming the
field (exit 2); pydantic's own errors never escape.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loadkit.errors import DatasetError, ScenarioError
from loadkit.scenario.model import Scenario, build_scenario
from loadkit.scenario.schema import ScenarioModel
from loadkit.scenario.source import parse_yaml, read_yaml, substitute
from loadkit.scenario.translate import translate


def load_scenario(path: str | Path, env: Mapping[str, str] | None = None) -> Scenario:
    """Load and validate a scenario file; ``env`` defaults to ``os.environ``.

    The dataset's path is resolved against the file's folder and must exist;
    its contents are read later, by ``build_payloads``.
    """
    file = Path(path)
    tree = read_yaml(file)
    scenario = scenario_from_tree(tree, env=env, base_dir=file.resolve().parent,
                                  default_name=file.stem, source=file)
    check_dataset_exists(scenario)
    return scenario


def scenario_from_text(text: str, env: Mapping[str, str] | None = None,
                       base_dir: Path | None = None) -> Scenario:
    """Load a scenario from YAML text (tests, Locust bridge); relative paths use ``base_dir``."""
    tree = parse_yaml(text)
    return scenario_from_tree(tree, env=env, base_dir=base_dir or Path.cwd())


def scenario_from_tree(tree: Any, env: Mapping[str, str] | None = None,
                       base_dir: Path | None = None, default_name: str = "scenario",
                       source: Path | None = None) -> Scenario:
    if not isinstance(tree, dict):
        raise ScenarioError("", "a scenario must be a mapping of fields "
                                "(name, target, request, dataset, profiles, sla, ...)")
    tree = substitute(tree, env)
    try:
        model = ScenarioModel.model_validate(tree)
    except ValidationError as exc:
        raise translate(exc) from None
    except RecursionError:
        raise ScenarioError("", "the scenario is nested too deeply") from None
    return build_scenario(model, base_dir or Path.cwd(), default_name, source)


def check_dataset_exists(scenario: Scenario) -> None:
    ds = scenario.dataset
    if ds is None:
        return
    if not ds.path.exists():
        raise DatasetError(f"dataset.path: file not found: {ds.shown} (looked at {ds.path})")
    if not ds.path.is_file():
        raise DatasetError(f"dataset.path: not a file: {ds.shown}")
