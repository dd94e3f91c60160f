import pytest

from loadkit.redact import redact_path, redact_target, redact_text, redact_url


@pytest.mark.parametrize("url, expected", [
    ("https://user:pw@host:8443/p?token=abc&x=1", "https://***@host:8443/p?token=***&x=***"),
    ("http://127.0.0.1:8080/predict", "http://127.0.0.1:8080/predict"),
    ("http://k@h/", "http://***@h/"),
], ids=["userinfo-and-query", "plain", "user-only"])
def test_urls_lose_their_credentials_and_query_values(url, expected):
    assert redact_url(url) == expected


def test_free_text_loses_urls_credentials_and_known_secret_values():
    text = "cannot reach http://bob:hunter2@10.0.0.1/x?api_key=s3cr3t with Bearer tok-12345"
    out = redact_text(text, secrets=("Bearer tok-12345",))
    for secret in ("hunter2", "s3cr3t", "tok-12345", "bob"):
        assert secret not in out


@pytest.mark.parametrize("url, expected", [
    # a password may hold '@': the host is what follows the LAST one
    ("http://u:p@ss@host/x", "http://***@host/x"),
    # a parameter with no value still names a secret slot: kept, masked
    ("http://h/p?token=&x=1", "http://h/p?token=***&x=***"),
    ("http://h/p?flag", "http://h/p?flag=***"),
    # the mask reads as *** in the URL, never percent-encoded
    ("http://h/?k=v", "http://h/?k=***"),
    ("http://[::1:bad/", "***"),                          # not a URL at all: all of it masked
    # keys stay readable and valid: encoded as a form would encode them
    ("http://h/?a%20b=1&c/d=2", "http://h/?a+b=***&c%2Fd=***"),
], ids=["at-in-password", "blank-value", "bare-key", "mask-unencoded", "unparsable",
        "keys-encoded"])
def test_url_edge_cases_keep_nothing_secret_and_stay_readable(url, expected):
    assert redact_url(url) == expected


def test_free_text_keeps_everything_but_the_secrets():
    text = "cannot reach http://bob:hunter2@10.0.0.1/x?api_key=s3cr3t with Bearer tok-12345"
    assert redact_text(text, secrets=("Bearer tok-12345",)) == (
        "cannot reach http://***@10.0.0.1/x?api_key=*** with ***")


def test_short_or_empty_secrets_are_not_masked_everywhere():
    # a 3-character header value would blank out every 'abc' in a message: too short to mask
    assert redact_text("abc def", secrets=("abc", "")) == "abc def"
    assert redact_text("abcd def", secrets=("abcd",)) == "*** def"


@pytest.mark.parametrize("target, shown", [
    ("https://u:pw@h:8443/?k=v", "https://***@h:8443/?k=***"),     # a URL: redact_url's rules
    ("user:pw@host:8080", "***@host:8080"),                        # no scheme, still masked
    ("a@b@host", "***@host"),                                      # the host follows the last @
    ("u:p@host?token=x", "***@host"),
    ("host?token=x?y", "host?***"),                                # cut at the FIRST ?
    ("host:8080?token=x", "host:8080?***"),
    ("host:8080", "host:8080"),
    ("not a url", "not a url"),
], ids=["url", "userinfo", "two-ats", "userinfo-and-query", "two-question-marks", "query",
        "plain", "words"])
def test_a_target_as_typed_is_masked_even_without_a_scheme(target, shown):
    assert redact_target(target) == shown


@pytest.mark.parametrize("path, shown", [
    ("/predict", "/predict"),
    ("/predict?api_key=s3cr3t", "/predict?api_key=***"),
    ("/p?a=1&b", "/p?a=***&b=***"),
    ("/p?", "/p"),                                                 # an empty query: nothing left
    ("/p?&&", "/p"),
    ("/p?a=s3cr3t?b", "/p?a=***"),                                 # the query starts at the FIRST ?
    ("/v1/x:predict?k=v&k=w", "/v1/x:predict?k=***&k=***"),
], ids=["no-query", "secret", "two-keys", "empty-query", "only-separators", "two-question-marks",
        "repeated-key"])
def test_a_request_path_keeps_its_query_keys_but_never_a_value(path, shown):
    assert redact_path(path) == shown
