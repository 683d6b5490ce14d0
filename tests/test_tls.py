"""Every HTTP client shares one verifying TLS context, and plain HTTP builds none."""

from __future__ import annotations

import ssl

from agentlog.storage.remote import RemoteStore
from agentlog.tls import tls_verify


def test_https_clients_share_one_verifying_context() -> None:
    first, second = tls_verify("https://a.example"), tls_verify("HTTPS://b.example/v1")
    assert isinstance(first, ssl.SSLContext) and first is second
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname


def test_plain_http_never_speaks_tls() -> None:
    assert tls_verify("http://127.0.0.1:8000") is False


def test_a_remote_store_over_https_verifies_certificates() -> None:
    store = RemoteStore("https://agentlog.example")
    try:
        pool = store._client._transport._pool  # type: ignore[attr-defined]
        assert pool._ssl_context is tls_verify("https://agentlog.example")
    finally:
        store.close()
