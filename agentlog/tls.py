"""The TLS setting every HTTP client AgentLog opens uses: one verifying context a process.

Building a verifying `ssl.SSLContext` loads the whole CA bundle, about 40 ms of
CPU; httpx builds one per client unless it is given one. So the SDK's first
write to a server, every CLI command against one and the admin client each paid
it, also for plain `http://` URLs that never speak TLS. Here a plain URL gets
none, and an `https://` one shares a context built once, honouring
`SSL_CERT_FILE` / `SSL_CERT_DIR` as httpx does.
"""

from __future__ import annotations

import functools
import ssl


@functools.cache
def _verifying_context() -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()


def tls_verify(url: str) -> ssl.SSLContext | bool:
    """The `verify=` for an httpx client whose every request goes to `url` (its base URL):
    False for plain HTTP (no TLS is ever spoken, so nothing is checked or weakened), the
    shared verifying context for HTTPS."""
    if url.lower().startswith("http://"):
        return False
    return _verifying_context()
