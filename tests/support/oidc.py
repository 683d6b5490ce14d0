"""A small OpenID provider for tests, on loopback: discovery, JWKS, authorize and token endpoints.

It signs RS256 ID tokens with joserfc (authlib's JOSE library), checks the
client's secret, the redirect URI and the PKCE verifier like a real provider,
and approves every authorization request as `person` at once (no login page).
Knobs let a test break one thing: the ID token's claims (`tamper`), the key it
is signed with (`sign_with`), or the e-mail it vouches for.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from agentlog.server.testing import LiveServer

CLIENT_ID = "agentlog-test-client"
CLIENT_SECRET = "a test client secret"


@dataclass
class Grant:
    nonce: str | None
    challenge: str
    redirect_uri: str
    email: str


@dataclass
class Person:
    email: str = "newcomer@example.com"
    email_verified: bool = True
    sub: str = field(default_factory=lambda: secrets.token_hex(8))


class TestProvider:
    """The provider's state; `app` is its ASGI app, `url` its issuer once started."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1"})
        self.sign_with = self.key  # a test may sign with a key the JWKS does not have
        self.person = Person()
        self.tamper: dict[str, Any] = {}  # claims to override in the next ID tokens
        self.grants: dict[str, Grant] = {}
        self.token_requests: list[dict[str, str]] = []
        self.url = ""
        self.app = self._make_app()

    def _make_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            return KeySet([self.key]).as_dict(private=False)

        @app.get("/authorize")
        def authorize(request: Request) -> Any:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
                return JSONResponse({"error": "unauthorized_client"}, 400)
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                return JSONResponse({"error": "invalid_request", "why": "PKCE required"}, 400)
            if "openid" not in (q.get("scope") or "").split():
                return JSONResponse({"error": "invalid_scope"}, 400)
            code = secrets.token_urlsafe(16)
            self.grants[code] = Grant(
                q.get("nonce"), q["code_challenge"], q["redirect_uri"], self.person.email
            )
            target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
            return RedirectResponse(target, 302)

        @app.post("/token")
        def token(
            request: Request,
            grant_type: str = Form(),
            code: str = Form(),
            redirect_uri: str = Form(),
            code_verifier: str = Form(),
        ) -> Any:
            self.token_requests.append({"code": code, "redirect_uri": redirect_uri})
            basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {basic}":
                return JSONResponse({"error": "invalid_client"}, 401)
            grant = self.grants.pop(code, None)  # a code works once
            if grant_type != "authorization_code" or grant is None:
                return JSONResponse({"error": "invalid_grant"}, 400)
            if redirect_uri != grant.redirect_uri:
                return JSONResponse({"error": "invalid_grant", "why": "redirect_uri"}, 400)
            digest = hashlib.sha256(code_verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, 400)
            access = secrets.token_urlsafe(24)
            return {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 3600,
                "id_token": self.id_token(grant),
            }

        return app

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": self.person.sub,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "email": grant.email,
            "email_verified": self.person.email_verified,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        claims.update(self.tamper)
        kid = self.sign_with.kid
        return jwt.encode({"alg": "RS256", "kid": kid}, claims, self.sign_with)


class RunningProvider:
    """`with RunningProvider() as provider:` a TestProvider served by uvicorn on loopback."""

    def __init__(self) -> None:
        self.provider = TestProvider()
        self._live = LiveServer(self.provider.app)
        self.provider.url = self._live.url

    def __enter__(self) -> TestProvider:
        self._live.__enter__()
        return self.provider

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)
