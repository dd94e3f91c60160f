"""Fixtures for the reporter tests: the fixed RunResult and the golden-file check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loadkit.results.model import RunResult
from tests.reporters.builders import build_result

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def result() -> RunResult:
    return build_result()


def check_golden(name: str, text: str) -> None:
    """Compare with tests/reporters/golden/<name>; LOADKIT_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("LOADKIT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.exists(), f"golden file {path} missing: run with LOADKIT_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its golden file (LOADKIT_UPDATE_GOLDEN=1 to accept)"
