"""A spawned generator process starts cheaply: importing the engine pulls in no schema or dataset code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "pydantic", "scipy", "matplotlib", "jinja2", "locust")


def test_importing_the_engine_does_not_import_pandas_or_pydantic() -> None:
    code = ("import json, sys, loadkit.engine, loadkit.engine.processes; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True)
    assert json.loads(out.stdout) == []


def test_the_scenario_package_still_offers_every_name_it_lists() -> None:
    import loadkit.scenario as scenario

    assert scenario.__all__ == sorted(scenario.__all__)
    for name in scenario.__all__:
        assert getattr(scenario, name) is not None, name
    from loadkit.scenario import Stage, load_scenario  # noqa: F401 -- the import is the test
