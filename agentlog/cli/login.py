"""`agentlog login URL`: log in to a server and keep a key for it in the config (mode 0600)."""

from __future__ import annotations

import socket
import sys
from typing import Annotated

import typer

from agentlog.cli.output import message
from agentlog.errors import AuthError, ServerUnavailable, UsageError


def read_password(from_stdin: bool, prompt: str = "Password") -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: standard input gave an empty password")
        return password
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password; pipe it in with --password-stdin")
    return typer.prompt(prompt, hide_input=True)


def login(
    url: Annotated[
        str, typer.Argument(metavar="URL", help="Server URL, e.g. https://agentlog.example.com")
    ],
    email: Annotated[str, typer.Option("--email", help="Your account's email.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    label: Annotated[
        str | None, typer.Option("--label", help="Label of the key made for this machine.")
    ] = None,
) -> None:
    """Log in to an AgentLog server; later commands use it (server + key saved in the config).

    Example: echo "$PW" | agentlog login https://agentlog.example.com --email me@example.com --password-stdin
    """
    import httpx

    from agentlog.config import write_value
    from agentlog.tls import tls_verify

    if not url.startswith(("http://", "https://")):
        raise UsageError(f"URL must start with http:// or https:// (got {url!r})")
    url = url.rstrip("/")
    password = read_password(password_stdin)
    try:
        with httpx.Client(base_url=url, verify=tls_verify(url), timeout=30) as client:
            answer = client.post("/v1/auth/login", json={"email": email, "password": password})
            if answer.status_code != 200:
                raise _error(answer)
            token = answer.json()["access_token"]
            key_label = label or f"agentlog login on {socket.gethostname()}"
            made = client.post(
                "/v1/api-keys",
                json={"label": key_label[:200]},
                headers={"Authorization": f"Bearer {token}"},
            )
            if made.status_code != 201:
                raise _error(made)
            key = made.json()
    except httpx.TransportError as exc:
        raise ServerUnavailable(f"cannot reach {url} ({exc}); is the server running?") from None
    write_value("server", url)
    path = write_value("api_key", key["secret"])
    message(f"Logged in to {url} as {email}; saved the server and key {key['prefix']}… in {path}")


def _error(response: object) -> Exception:
    import httpx

    assert isinstance(response, httpx.Response)
    try:
        text = response.json()["error"]["message"]
    except Exception:
        text = f"{response.status_code} {response.reason_phrase}"
    if response.status_code in (401, 403):
        return AuthError(text)
    return ServerUnavailable(f"the server refused: {text}")


def register(app: typer.Typer) -> None:
    app.command("login")(login)
