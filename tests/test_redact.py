import pytest

from loadkit.redact import redact_text, redact_url


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
