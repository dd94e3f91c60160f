"""Scenario file -> plain YAML tree with ``${VAR}`` substituted: the first step of loading.

Where it sits: ``load_scenario`` reads the file here, then hands the tree to the
pydantic schema. Substitution runs on the parsed tree (not the raw text), so a
value from the environment can never break the YAML around it, and a missing
variable is reported with the field that uses it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from loadkit.errors import ScenarioError

_VAR_RE = re.compile(r"\$\$|\$\{([^}]*)\}")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_NODES = 100_000  # a scenario is a few hundred nodes; anchors can multiply that


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """``('profiles', 2, 'rate')`` -> ``profiles[2].rate``; a key that is not one plain
    printable word (``"\\n"``, ``"a b"``) is quoted, so the message stays one line."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            text = str(part)
            if not text.isprintable() or not text or any(c.isspace() for c in text):
                text = repr(text)
            out += ("." if out else "") + text
    return out


def read_yaml(path: Path) -> Any:
    """Parse the file; malformed YAML is one ScenarioError line with its line number."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("", f"scenario file not found: {path}") from None
    except IsADirectoryError:
        raise ScenarioError("", f"scenario path is a directory, not a file: {path}") from None
    except UnicodeDecodeError:
        raise ScenarioError("", f"{path.name}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ScenarioError("", f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_yaml(text, path.name)


def parse_yaml(text: str, source: str = "scenario") -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "not valid YAML"
        if exc.context and exc.context_mark is not None and exc.problem:
            problem += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        raise ScenarioError("", f"{source}{where}: malformed YAML: {problem}") from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "not valid YAML"
        raise ScenarioError("", f"{source}: malformed YAML: {first}") from None
    except RecursionError:
        raise ScenarioError("", f"{source}: malformed YAML: nested too deeply") from None


def _expand(text: str, env: Mapping[str, str], where: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        body = m.group(1)
        name, sep, default = body.partition(":-")
        if not _NAME_RE.match(name):
            raise ScenarioError(where, f"${{{body}}} is not a valid variable reference "
                                       "(use ${NAME} or ${NAME:-default})")
        value = env.get(name)
        if value is None or (sep and value == ""):
            if sep:
                return default
            raise ScenarioError(where, f"environment variable {name} is not set "
                                       f"(set it, or write ${{{name}:-default}})")
        return value

    if "${" in _VAR_RE.sub("", text):
        raise ScenarioError(where, "unclosed ${ (write ${NAME}, or $${ for a literal ${)")
    return _VAR_RE.sub(one, text)


def substitute(tree: Any, env: Mapping[str, str] | None = None) -> Any:
    """A copy of ``tree`` with ``${VAR}`` / ``${VAR:-default}`` expanded in every string.

    ``$$`` is a literal ``$``. Keys are not expanded. Self-referencing anchors and
    trees larger than MAX_NODES are refused rather than walked forever.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    count = 0
    active: set[int] = set()

    def walk(node: Any, loc: tuple[Any, ...]) -> Any:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise ScenarioError("", f"the scenario has more than {MAX_NODES} values; "
                                    "is an anchor repeated too often?")
        if isinstance(node, str):
            return _expand(node, environ, field_path(loc)) if "$" in node else node
        if isinstance(node, (dict, list)):
            if id(node) in active:
                raise ScenarioError(field_path(loc), "refers to itself (a YAML anchor cycle)")
            active.add(id(node))
            try:
                if isinstance(node, dict):
                    return {k: walk(v, loc + (k,)) for k, v in node.items()}
                return [walk(v, loc + (i,)) for i, v in enumerate(node)]
            finally:
                active.discard(id(node))
        return node

    try:
        return walk(tree, ())
    except RecursionError:
        raise ScenarioError("", "the scenario is nested too deeply") from None
