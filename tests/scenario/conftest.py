"""Helpers for scenario tests: a small iris-like CSV and a scenario writer (no network)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

CSV = """sepal_length,sepal_width,petal_length,petal_width,species
5.1,3.5,1.4,0.2,setosa
4.9,3.0,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor
6.4,3.2,4.5,1.5,versicolor
6.3,3.3,6.0,2.5,virginica
5.8,2.7,5.1,1.9,virginica
5.0,3.6,1.4,0.2,setosa
6.9,3.1,4.9,1.5,versicolor
7.1,3.0,5.9,2.1,virginica
5.5,2.3,4.0,1.3,versicolor
"""

BASE = """\
name: t
target: http://127.0.0.1:8080
dataset: {path: data.csv, seed: 3}
profiles:
  - {name: lat, kind: latency, requests: 10}
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    (tmp_path / "data.csv").write_text(CSV)
    return tmp_path


@pytest.fixture
def write(data_dir: Path) -> Callable[[str], Path]:
    """Write YAML text (dedented) as scenario.yaml beside data.csv; return its path."""

    def _write(text: str, name: str = "scenario.yaml") -> Path:
        path = data_dir / name
        path.write_text(textwrap.dedent(text))
        return path

    return _write
