"""Per-account login backoff: guessing slows down, the real user is never locked out (issue 9, item 12)."""

from __future__ import annotations

from agentlog.server.loginguard import ACCOUNT_FAILURES, FREE_FAILURES, LoginGuard
from agentlog.storage.accounts import Role
from tests.support.server import add_user


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_grows_per_account_and_address_and_resets_on_success():
    clock = Clock()
    guard = LoginGuard(clock)
    for _ in range(FREE_FAILURES):
        assert guard.wait("ana@x.io", "1.1.1.1") == 0
        guard.failed("ana@x.io", "1.1.1.1")
    assert guard.wait("ana@x.io", "1.1.1.1") == 0  # the failures so far were free
    guard.failed("ana@x.io", "1.1.1.1")
    first = guard.wait("ana@x.io", "1.1.1.1")
    assert first > 0
    clock.now += first
    guard.failed("ANA@x.io", "1.1.1.1")  # case does not matter
    assert guard.wait("ana@x.io", "1.1.1.1") > first  # doubles
    # another address is not slowed by these failures, another account neither
    assert guard.wait("ana@x.io", "2.2.2.2") == 0
    assert guard.wait("bo@x.io", "1.1.1.1") == 0
    guard.succeeded("ana@x.io", "1.1.1.1")
    assert guard.wait("ana@x.io", "1.1.1.1") == 0


def test_a_distributed_guess_cannot_lock_out_where_the_user_signs_in():
    clock = Clock()
    guard = LoginGuard(clock)
    guard.succeeded("ana@x.io", "10.0.0.5")  # the user's usual address
    for i in range(ACCOUNT_FAILURES):
        guard.failed("ana@x.io", f"203.0.113.{i}")
    # strangers are now held to one try per interval ...
    assert guard.wait("ana@x.io", "198.51.100.1") == 0
    assert guard.wait("ana@x.io", "198.51.100.2") > 0
    # ... the user's own address never is
    assert guard.wait("ana@x.io", "10.0.0.5") == 0


def test_the_login_route_answers_429_with_retry_after(tmp_path):
    from agentlog.server.testing import start_test_server

    srv = start_test_server(tmp_path, login_limit_per_minute=1000)  # only the account brake
    try:
        add_user(srv, "pat@example.com", Role.MEMBER, "main", password="correct horse 1")

        def attempt(email: str, password: str = "wrong guess 99"):
            return srv.client.post("/v1/auth/login", json={"email": email, "password": password})

        codes = [attempt("pat@example.com").status_code for _ in range(FREE_FAILURES + 1)]
        assert codes == [401] * (FREE_FAILURES + 1)
        r = attempt("pat@example.com")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "for this account" in r.json()["error"]["message"]
        # the right password during the wait is not even checked: still 429
        assert attempt("pat@example.com", "correct horse 1").status_code == 429
        # an unknown email is counted alike (no existence oracle)
        codes = [attempt("nobody@example.com").status_code for _ in range(FREE_FAILURES + 2)]
        assert codes == [401] * (FREE_FAILURES + 1) + [429]
    finally:
        srv.close()
