"""Keep secrets out of everything loadkit writes or prints.

URL userinfo and the values of query parameters are replaced by ``***``; header
values are never written at all (only names). Every path that can show a URL to
a person (result.json, reports, progress, error messages) goes through here.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote_plus, urlsplit, urlunsplit

MASK = "***"

_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def _mask_query(query: str) -> str:
    """``token=x&flag`` -> ``token=***&flag=***``: every key kept, every value masked.

    The mask is written as is (never percent-encoded), so a report reads ``***``."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return "&".join(f"{quote_plus(k)}={MASK}" for k, _ in pairs)


def redact_url(url: str) -> str:
    """``https://user:pw@host/p?token=x`` -> ``https://***@host/p?token=***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = _mask_query(parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_target(value: str) -> str:
    """A target as typed, masked even when it is not a URL (``user:pw@host`` has no scheme)."""
    if "://" in value:
        return redact_url(value)
    host = value.rpartition("@")[2].partition("?")[0]
    return (MASK + "@" + host) if "@" in value else host + ("?" + MASK if "?" in value else "")


def redact_path(path: str) -> str:
    """``/predict?api_key=x`` -> ``/predict?api_key=***``: a request path keeps no query value."""
    base, sep, query = path.partition("?")
    if not sep:
        return path
    masked = _mask_query(query)
    return f"{base}?{masked}" if masked else base


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Redact every URL in free text, and any known secret value (e.g. header values)."""
    out = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            out = out.replace(secret, MASK)
    return out
