"""result.json: the canonical, lossless text of a RunResult (``loadkit report`` reads it back)."""

from __future__ import annotations

from loadkit.results.codec import dumps
from loadkit.results.model import RunResult


def render(result: RunResult) -> str:
    """The same text ``loadkit.results.codec.dumps`` writes, so every path agrees."""
    return dumps(result)
