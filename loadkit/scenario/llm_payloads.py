"""Request bodies of an OpenAI-compatible endpoint, one per dataset row, built before the run.

Where it sits: ``payloads.build_payloads`` hands a scenario with ``request.api:
openai-chat | openai-completions`` here. Each row gives the prompt: a
``messages`` column (a chat list), a ``prompt`` column (text; a chat sends it
as one user message), or a ShareGPT ``conversations`` column (its first user
turn). The body is ``model``, the prompt, ``max_tokens`` (a number, or
``"{{ row.COL }}"`` per row), ``stream`` (default true, with
``stream_options.include_usage``) and the scenario's ``request.body`` fields
merged last. With ``request.tokenizer`` each body's prompt tokens are counted
here, once (for servers that send no usage).
"""

from __future__ import annotations

import re
from typing import Any

from loadkit.errors import DatasetError, ScenarioError
from loadkit.scenario.model import Scenario
from loadkit.scenario.plan import PayloadSet

_ROW_FIELD = re.compile(r"^\{\{\s*row\.([^\s{}]+)\s*\}\}$")
_USER_ROLES = ("human", "user")


def load_tokenizer(path: str) -> Any:
    """A ``tokenizers.Tokenizer`` from a local tokenizer.json (never downloaded)."""
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise ScenarioError("request.tokenizer", "needs the tokenizers package "
                            "(pip install 'loadkit[llm]')") from None
    try:
        return Tokenizer.from_file(path)
    except Exception as exc:  # noqa: BLE001 - the Rust side raises its own exception type
        raise ScenarioError("request.tokenizer", f"{path}: not a tokenizer.json "
                            f"({str(exc).splitlines()[0][:120]})") from None


def count_tokens(tokenizer: Any, text: str) -> int:
    return len(tokenizer.encode(text, add_special_tokens=False).ids)


def _first_user_turn(conversation: Any) -> str | None:
    if not isinstance(conversation, list):
        return None
    for turn in conversation:
        if isinstance(turn, dict) and turn.get("from", turn.get("role")) in _USER_ROLES:
            text = turn.get("value", turn.get("content"))
            return text if isinstance(text, str) else None
    return None


def _prompt(row: dict[str, Any], chat: bool, where: str) -> tuple[Any, str]:
    """(the body's prompt value, its text for counting tokens)."""
    if chat and isinstance(row.get("messages"), list):
        messages = row["messages"]
        return messages, " ".join(str(m.get("content", "")) for m in messages
                                  if isinstance(m, dict))
    text = row.get("prompt")
    if not isinstance(text, str) and "conversations" in row:
        text = _first_user_turn(row["conversations"])
    if not isinstance(text, str):
        raise DatasetError(f"{where}: a row has no usable prompt (a text 'prompt', "
                           f"{'a list of messages, ' if chat else ''}or a ShareGPT "
                           "conversation with a user turn)")
    return ([{"role": "user", "content": text}] if chat else text), text


def _max_tokens(value: int | str | None, row: dict[str, Any]) -> int | None:
    if value is None or isinstance(value, int):
        return value
    column = _ROW_FIELD.match(value)
    assert column is not None      # checked in build_llm_payloads
    got = row.get(column.group(1))
    if isinstance(got, float) and got.is_integer():
        got = int(got)
    if isinstance(got, bool) or not isinstance(got, int) or got < 1:
        raise DatasetError(f"request.max_tokens: column {column.group(1)!r} holds {got!r}, "
                           "not a positive whole number")
    return got


def build_llm_payloads(scenario: Scenario, rows: list[dict[str, Any]],
                       columns: list[str]) -> dict[int, PayloadSet]:
    """The one PayloadSet (batch size 1) of an openai-* scenario."""
    from loadkit.scenario.payloads import encode  # payloads imports this module

    request = scenario.request
    chat = request.api == "openai-chat"
    shown = scenario.dataset.shown if scenario.dataset else ""
    where = f"dataset.path: {shown}"
    usable = ("messages", "prompt", "conversations") if chat else ("prompt", "conversations")
    if not any(c in columns for c in usable):
        raise DatasetError(f"{where}: api {request.api} needs a "
                           f"{'prompt (text) or messages (chat list)' if chat else 'prompt'} "
                           f"column, or ShareGPT conversations (columns: {', '.join(columns)})")
    if isinstance(request.max_tokens, str):
        column = _ROW_FIELD.match(request.max_tokens)
        if column is None:
            raise ScenarioError("request.max_tokens", f"{request.max_tokens!r} is not a number "
                                "or '{{ row.COLUMN }}'")
        if column.group(1) not in columns:
            raise DatasetError(f"request.max_tokens: column {column.group(1)!r} is not in "
                               f"dataset.path {shown} (columns: {', '.join(columns)})")
    stream = request.stream
    streamed = stream is None or stream.streamed
    tokenizer = load_tokenizer(stream.tokenizer) if stream and stream.tokenizer else None
    extra = dict(request.body) if isinstance(request.body, dict) else {}
    bodies: list[bytes] = []
    inputs: list[int] = []
    for row in rows:
        value, text = _prompt(row, chat, where)
        body: dict[str, Any] = {"model": request.model, "messages" if chat else "prompt": value}
        limit = _max_tokens(request.max_tokens, row)
        if limit is not None:
            body["max_tokens"] = limit
        body["stream"] = streamed
        if streamed:
            body["stream_options"] = {"include_usage": True}
        body.update(extra)
        bodies.append(encode(body))
        if tokenizer is not None:
            inputs.append(count_tokens(tokenizer, text))
    return {1: PayloadSet(batch_size=1, bodies=tuple(bodies), content_type="application/json",
                          payload_bytes=tuple(len(b) for b in bodies),
                          input_tokens=tuple(inputs))}
