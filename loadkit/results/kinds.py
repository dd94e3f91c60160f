"""The error kinds: every way a request can fail, defined once, here.

A stage's ``error_kinds`` counts requests under these names; both transports, the
checks and the Locust bridge raise only these, and the README's "Error kinds" table
lists every one (a test holds the two together). A kind names what the *server* did
(or what its answer failed), so the same server event is the same kind whichever
transport saw it.
"""

from __future__ import annotations

from dataclasses import dataclass

TIMEOUT = "timeout"
CONNECT = "connect"
RESET = "reset"
PROTOCOL = "protocol"
HTTP_4XX = "http_4xx"
HTTP_5XX = "http_5xx"
CHECK_FAILED = "check_failed"
TOO_LARGE = "too_large"
STREAM_INCOMPLETE = "stream_incomplete"
REDIRECT_LOOP = "redirect_loop"
OTHER = "other"


@dataclass(frozen=True)
class ErrorKind:
    name: str
    meaning: str
    status: bool          # the HTTP status is recorded in ``status_codes`` with it


KINDS: tuple[ErrorKind, ...] = (
    ErrorKind(TIMEOUT, "no complete answer within `request.timeout` (connecting included); the "
              "latency recorded is the time waited", False),
    ErrorKind(CONNECT, "the connection could not be made (refused, unreachable, TLS "
              "verification failed)", False),
    ErrorKind(RESET, "the connection closed or was reset after it was made, before the whole "
              "answer came (a crash, a restart, in-flight requests when the server exits)",
              False),
    ErrorKind(PROTOCOL, "the server answered bytes that are not HTTP/1.x (a malformed status "
              "line, header or chunk)", False),
    ErrorKind(HTTP_4XX, "a 4xx status the scenario's `checks.status` does not allow", True),
    ErrorKind(HTTP_5XX, "a 5xx status the scenario's `checks.status` does not allow", True),
    ErrorKind(CHECK_FAILED, "an answer that failed the scenario's `checks` (status, `json_has`, "
              "`body_contains`); for a stream, an answer that is not an event stream, an SSE "
              "`error` event or a stream without content (`error_details` says which)", True),
    ErrorKind(TOO_LARGE, "a body larger than `request.max_response_bytes`; the read stops at "
              "the cap", True),
    ErrorKind(STREAM_INCOMPLETE, "a streamed answer that ended without `data: [DONE]` or broke "
              "after content began (its partial TTFT and gaps are not recorded)", True),
    ErrorKind(REDIRECT_LOOP, "one more redirect than `request.follow_redirects` allows (a loop, "
              "or a chain too long); the status is the last redirect's", True),
    ErrorKind(OTHER, "a failure inside loadkit itself, never a server's doing (a bug: please "
              "report it)", False),
)

ERROR_KINDS: tuple[str, ...] = tuple(k.name for k in KINDS)
