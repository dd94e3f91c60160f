"""What a reader of a result's server figures must know, in one line each (pure).

Derived from what the result stores (each stage's ``server_scrapes``), so a merged
or re-rendered result says the same: scrapes that failed (by kind), series that
disappeared mid-run, series beyond a source's bounds. Scrape failures never fail
a run; they are shown.
"""

from __future__ import annotations

from loadkit.results.model import RunResult


def scrape_notes(result: RunResult) -> list[str]:
    """One line per thing a reader of the server figures must know: failed scrapes (by
    kind), series that disappeared, series beyond a bound. Failures never fail a run."""
    out: list[str] = []
    for p in result.profiles:
        profile = p.name
        failed: dict[str, dict[str, int]] = {}
        total: dict[str, int] = {}
        lost: dict[str, list[str]] = {}
        dropped: dict[str, int] = {}
        uncharted: dict[str, int] = {}
        for stage in p.stages:
            index = stage.index
            for st in stage.server_scrapes:
                total[st.source] = total.get(st.source, 0) + st.ok + st.failed
                kinds = failed.setdefault(st.source, {})
                for kind, n in st.failures.items():
                    kinds[kind] = kinds.get(kind, 0) + n
                lost.setdefault(st.source, []).extend(
                    f"{k} (stage {index})" for k in st.lost)
                dropped[st.source] = max(dropped.get(st.source, 0), st.dropped)
                uncharted[st.source] = max(uncharted.get(st.source, 0), st.uncharted)
        for src, kinds in failed.items():
            if kinds:
                n = sum(kinds.values())
                detail = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
                out.append(f"{profile}: server_metrics {src}: {n} of {total[src]} scrapes "
                           f"failed ({detail}); the load went on")
        for src, keys in lost.items():
            if keys:
                more = f" and {len(keys) - 5} more" if len(keys) > 5 else ""
                out.append(f"{profile}: server_metrics {src}: series disappeared mid-run: "
                           f"{', '.join(keys[:5])}{more}")
        for src, n in dropped.items():
            if n:
                out.append(f"{profile}: server_metrics {src}: {n} series beyond max_series "
                           "were not kept (narrow `include`)")
        for src, n in uncharted.items():
            if n:
                out.append(f"{profile}: server_metrics {src}: the time series keeps the "
                           f"first 24 series; {n} more are in the stage figures only")
    return out
