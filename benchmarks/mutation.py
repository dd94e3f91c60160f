"""Mutation score of loadkit's unit tests: plant small bugs, count how many the tests catch.

mutmut (the dev extra) rewrites one operator, constant or call at a time in the
chosen rooms and runs that room's own unit tests against each mutant; a mutant
is *killed* when a test fails, *survives* when every test passes. The score is
killed / (killed + survived): timeouts count as killed (the bug hung a test),
mutants no test reaches count as survivors (untested code is not caught code).

Each room is judged by its own tests only (``ROOMS``): a bug in ``sla/`` that
only a slow end-to-end test notices is a survivor here, on purpose.

    python benchmarks/mutation.py                     # every room (CPU heavy: tens of minutes)
    python benchmarks/mutation.py --rooms sla redact  # a subset
    python benchmarks/mutation.py --max-children 1 --budget-min 20
    python benchmarks/mutation.py --rooms results --sample 4:3   # mutants numbered 3 mod 4

A whole room can take tens of minutes on a shared 2-core machine. ``--sample K:R``
runs only the mutants whose number is R modulo K (a systematic sample, spread over
every function): an estimate of the score, with a binomial interval printed beside
it. Write tests against one residue and measure another, so the figure is not fitted.

It works on a copy of the tracked files in a temporary folder (the checkout is
never touched), prints one line per room and a total, writes the same as JSON
(``--json FILE``), and lists the survivors (``--survivors``) to write tests for.

Two things mutmut does that a test writer must know. Its workers fork from a
process that has already imported loadkit, so a function called only at import
(a factory filling a module-level table, as ``sla/metrics.py`` does) never runs a
mutant: its tests call the factory themselves. And it has no mutation for an
``isinstance`` chain returning named constants (``engine/failures.py``): such code
scores nothing here, and its unit tests are what pin the order of its checks.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# room -> (files to mutate, the room's own unit tests)
ROOMS: dict[str, tuple[list[str], list[str]]] = {
    "sla": (["loadkit/sla/*"], ["tests/sla"]),
    # every module of results/ (it grew: hdr, streams, server, search, status, history, ...)
    "results": (["loadkit/results/*"], ["tests/results"]),
    # the profile analyses, compare and canary; capacity search's analysis is its own room
    "analysis": ([f"loadkit/analysis/{m}.py" for m in (
        "__init__", "breakdown", "canary", "compare", "latency", "ramp", "recovery", "server",
        "soak", "spike", "stats", "stress", "throughput")], ["tests/analysis"]),
    "search": (["loadkit/analysis/search.py", "loadkit/analysis/search_plan.py",
                "loadkit/analysis/probe_verdict.py"], ["tests/search"]),
    "redact": (["loadkit/redact.py"], ["tests/test_redact.py"]),
    # engine error classification: an exception's kind (engine/failures.py) and a
    # response's (Checks.failure: status class, then body checks; json_has's walk)
    "classify": (["loadkit/engine/failures.py", "loadkit/scenario/plan.py",
                  "loadkit/scenario/json_has.py"], ["tests/engine/test_errors.py"]),
}
# rooms that own some functions of a file only (mutmut mutates whole files): the mutants
# run and scored, as mutmut names them (fnmatch patterns). classify() itself gives mutmut
# nothing to change (isinstance checks returning named kinds): its unit tests pin the order.
SELECT: dict[str, list[str]] = {
    "classify": ["loadkit.engine.failures.*", "loadkit.scenario.plan.xǁChecksǁfailure__mutmut_*",
                 "loadkit.scenario.json_has.x_has_paths__mutmut_*",
                 "loadkit.scenario.json_has.x__walk__mutmut_*",
                 "loadkit.scenario.json_has.x__named__mutmut_*"],
}

# mutmut's exit codes per mutant (mutmut.stats.status_by_exit_code)
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}   # a test failed, a type check or a timeout caught it
SURVIVED = {0, 5, 33}                        # every test passed, or no test reaches the mutant


def _copy_tree(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    for rel in files:
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _configure(work: Path, mutate: list[str], tests: list[str], max_children: int) -> None:
    """A [tool.mutmut] section for this room alone (mutmut reads pyproject.toml)."""
    pyproject = work / "pyproject.toml"
    text = pyproject.read_text()
    section = "\n[tool.mutmut]\n" + "\n".join([
        'source_paths = ["loadkit"]',
        f"only_mutate = {json.dumps(mutate)}",
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        'pytest_add_cli_args = ["-q", "-p", "no:cacheprovider", "-x"]',
        "timeout_multiplier = 5.0",
        "use_git_change_detection = false",
    ]) + "\n"
    pyproject.write_text(text + section)


def _sampled(work: Path, select: list[str] | None, k: int, r: int) -> list[str]:
    """The generated mutants whose number is ``r`` modulo ``k`` (within ``select``)."""
    keys = []
    for meta in sorted((work / "mutants").rglob("*.py.meta")):
        for key in json.loads(meta.read_text()).get("exit_code_by_key", {}):
            if select is not None and not any(fnmatch.fnmatch(key, p) for p in select):
                continue
            if int(key.rsplit("_", 1)[1]) % k == r:
                keys.append(key)
    return keys


def run_room(name: str, max_children: int, budget_s: float, keep: Path | None,
             show: bool = False, sample: tuple[int, int] | None = None) -> dict:
    mutate, tests = ROOMS[name]
    work = Path(tempfile.mkdtemp(prefix=f"loadkit-mutation-{name}-"))
    try:
        _copy_tree(work)
        _configure(work, mutate, tests, max_children)
        env = dict(os.environ, PYTHONPATH=str(work))
        mutmut = [sys.executable, "-m", "mutmut"]
        started = time.monotonic()
        names = SELECT.get(name, [])
        if sample is not None:      # generate every mutant (running none), then pick
            subprocess.run([*mutmut, "run", "--max-children", "1", "nothing.matches*"],
                           cwd=work, env=env, capture_output=True, timeout=budget_s)
            names = _sampled(work, SELECT.get(name), *sample)
        try:
            proc = subprocess.run([*mutmut, "run", "--max-children", str(max_children),
                                   *names],
                                  cwd=work, env=env, capture_output=True, text=True,
                                  timeout=budget_s)
            finished = proc.returncode == 0
            log = proc.stdout[-2000:] + proc.stderr[-2000:]
        except subprocess.TimeoutExpired:
            finished, log = False, "budget ran out: the counts cover the mutants run so far"
        elapsed = time.monotonic() - started
        codes, survivors = _collect(work, names if sample is not None else SELECT.get(name))
        killed = sum(n for c, n in codes.items() if c in KILLED)
        survived = sum(n for c, n in codes.items() if c in SURVIVED)
        judged = killed + survived
        out = {"room": name, "mutated": mutate, "tests": tests, "killed": killed,
               "survived": survived, "not_run": sum(n for c, n in codes.items()
                                                   if c not in KILLED | SURVIVED),
               "score": round(killed / judged, 4) if judged else None,
               "finished": finished, "seconds": round(elapsed, 1), "survivors": survivors,
               "sample": f"{sample[0]}:{sample[1]}" if sample else None}
        if not judged:
            out["log"] = log
        if show:                    # each survivor's diff, while mutmut's folder is there
            out["diffs"] = {key: subprocess.run([*mutmut, "show", key], cwd=work, env=env,
                                                capture_output=True, text=True).stdout
                            for key in survivors}
        return out
    finally:
        if keep is not None:
            shutil.copytree(work / "mutants", keep / name, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def _collect(work: Path, select: list[str] | None = None
             ) -> tuple[Counter[int | None], list[str]]:
    """Exit code per mutant, from mutmut's ``.meta`` files (one per mutated source file)."""
    codes: Counter[int | None] = Counter()
    survivors: list[str] = []
    chosen = set(select or ())
    for meta in sorted((work / "mutants").rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        for key, code in data.get("exit_code_by_key", {}).items():
            if select is not None and key not in chosen and not any(
                    fnmatch.fnmatch(key, p) for p in select):
                continue
            codes[code] += 1
            if code in SURVIVED:
                survivors.append(key)
    return codes, survivors


def _sample_arg(text: str) -> tuple[int, int]:
    try:
        k, r = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected K:R, e.g. 4:3") from None
    if k < 1 or not 0 <= r < k:
        raise argparse.ArgumentTypeError(f"{text!r}: needs K >= 1 and 0 <= R < K")
    return k, r


def _half_width(killed: int, judged: int) -> float:
    """Half the 95% normal-approximation interval of a sampled score, in points."""
    p = killed / judged
    return 196.0 * (p * (1 - p) / judged) ** 0.5


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rooms", nargs="+", choices=sorted(ROOMS), default=sorted(ROOMS))
    ap.add_argument("--max-children", type=int, default=2, help="parallel mutants (cores)")
    ap.add_argument("--budget-min", type=float, default=15.0, help="wall-time cap per room")
    ap.add_argument("--json", type=Path, help="write the per-room figures here")
    ap.add_argument("--survivors", action="store_true", help="list surviving mutants")
    ap.add_argument("--keep", type=Path, help="copy mutmut's mutants/ folders here")
    ap.add_argument("--sample", type=_sample_arg, metavar="K:R",
                    help="run only the mutants numbered R modulo K (an estimate)")
    args = ap.parse_args(argv)
    rows = []
    for name in args.rooms:
        row = run_room(name, args.max_children, args.budget_min * 60, args.keep, args.survivors,
                       args.sample)
        rows.append(row)
        judged = row["killed"] + row["survived"]
        score = f"{row['killed'] / judged * 100:.1f}%" if judged else "-"
        note = "" if row["finished"] else "  (budget ran out: partial)"
        if args.sample and judged:
            note += f"  (sample {row['sample']}: +-{_half_width(row['killed'], judged):.1f} pp, 95%)"
        print(f"{name:10s} killed {row['killed']:4d}  survived {row['survived']:4d}  "
              f"score {score:>6s}  {row['seconds']:7.1f} s{note}", flush=True)
        if row.get("log"):
            print(row["log"], file=sys.stderr)
        if args.survivors:
            for key in row["survivors"]:
                print(f"    survived: {key}")
                print("      " + row["diffs"].get(key, "").strip().replace("\n", "\n      "))
    killed = sum(r["killed"] for r in rows)
    survived = sum(r["survived"] for r in rows)
    total = f"{killed / (killed + survived) * 100:.1f}%" if killed + survived else "-"
    print(f"{'total':10s} killed {killed:4d}  survived {survived:4d}  score {total:>6s}")
    if args.json is not None:
        args.json.write_text(json.dumps({"rooms": rows, "killed": killed, "survived": survived},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
