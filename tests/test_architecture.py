"""DESIGN.md's one-way flow, held by import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_imports_follow_the_one_way_flow_and_keep_locust_off_the_asyncio_path():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    proc = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "BROKEN" not in proc.stdout


def test_importing_loadkit_does_not_import_the_engine_or_locust():
    # ... and the reporters that write text (terminal, Markdown, JUnit, CSV) leave
    # matplotlib to the HTML report: a `loadkit run --format json` never pays its import.
    code = ("import sys, loadkit, loadkit.cli; "
            "bad = [m for m in ('locust', 'gevent', 'loadkit.engine', 'matplotlib') if m in sys.modules]; "
            "from loadkit.reporters import text, markdown, junit, csv_report; "
            "bad += ['matplotlib by a text reporter'] if 'matplotlib' in sys.modules else []; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
