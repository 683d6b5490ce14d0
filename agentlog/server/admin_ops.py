"""What `agentlog admin` does, twice: on the server's database (`LocalAdmin`) or through its API (`HttpAdmin`).

Both return the same plain rows (dicts with team names and owner emails
resolved), so the CLI prints them alike. No FastAPI here: the local side
calls `service` and the account store, the remote side is an httpx client of
`/v1/users`, `/v1/teams`, `/v1/api-keys` and `/v1/audit` with an admin's key.
"""

from __future__ import annotations

from typing import Any, Protocol

from agentlog.errors import (
    AuthError,
    Forbidden,
    NotFound,
    ServerUnavailable,
    UsageError,
    error_class,
)
from agentlog.server import service
from agentlog.server.passwords import hash_password
from agentlog.storage.accounts import ApiKey, Role, User

Row = dict[str, Any]


class Admin(Protocol):
    where: str  # "store: PATH" or "server: URL", for messages that say where a change went

    def create_user(
        self, email: str, password: str | None, role: Role, team: str | None
    ) -> Row: ...
    def create_team(self, name: str) -> Row: ...
    def list_teams(self) -> list[Row]: ...
    def list_users(self, team: str | None) -> list[Row]: ...
    def update_user(
        self, who: str, *, role: Role | None, team: str | None, enable: bool, password: str | None
    ) -> Row: ...
    def disable_user(self, who: str) -> Row: ...
    def create_key(self, label: str, team: str | None, user: str | None) -> Row: ...
    def list_keys(self, team: str | None) -> list[Row]: ...
    def rotate_key(self, key_id: str, grace_seconds: int) -> Row: ...
    def revoke_key(self, key_id: str) -> Row: ...
    def audit(self, limit: int) -> list[Row]: ...
    def set_retention(self, team: str, days: int | None) -> Row: ...
    def erase_user(self, who: str, sessions: str) -> Row: ...
    def apply_retention(self, archive_dir: str | None) -> Row: ...
    def close(self) -> None: ...


class LocalAdmin:
    """Runs on the server's machine, straight against its database (like Django's createsuperuser)."""

    def __init__(self, db: str) -> None:
        from agentlog.storage.base import redact_url

        self._store, self.accounts = service.open_backends(db)
        self.where = f"store: {redact_url(self._store.url)}"

    def close(self) -> None:
        self.accounts.close()
        self._store.close()

    def _teams(self) -> dict[str, str]:
        return {t.id: t.name for t in self.accounts.list_teams()}

    def _user_row(self, user: User) -> Row:
        return {**user.public(), "team": self._teams().get(user.team_id, user.team_id)}

    def _key_row(self, key: ApiKey, secret: str | None = None) -> Row:
        emails = {u.id: u.email for u in self.accounts.list_users()}
        row = {
            **key.public(),
            "team": self._teams().get(key.team_id, key.team_id),
            "owner": emails.get(key.user_id),
        }
        if secret is not None:
            row["secret"] = secret
        return row

    def _find(self, who: str) -> User:
        try:
            return self.accounts.user_by_email(who) if "@" in who else self.accounts.get_user(who)
        except NotFound:
            raise NotFound(f"no user {who!r}; `agentlog admin users list` shows them") from None

    def _team_id(self, name: str | None) -> str | None:
        return service.team_for(self.accounts, name, create=False).id if name else None

    def create_user(self, email: str, password: str | None, role: Role, team: str | None) -> Row:
        team_obj = service.team_for(self.accounts, team, create=True)
        new = service.create_user(self.accounts, email, password=password, role=role, team=team_obj)
        return {**self._user_row(new.user), "generated_password": new.generated_password}

    def create_team(self, name: str) -> Row:
        return self.accounts.create_team(name).public()

    def list_teams(self) -> list[Row]:
        return [t.public() for t in self.accounts.list_teams()]

    def list_users(self, team: str | None) -> list[Row]:
        return [self._user_row(u) for u in self.accounts.list_users(self._team_id(team))]

    def update_user(
        self, who: str, *, role: Role | None, team: str | None, enable: bool, password: str | None
    ) -> Row:
        user = self._find(who)
        updated = self.accounts.update_user(
            user.id,
            role=role,
            team_id=self._team_id(team),
            disabled=False if enable else None,
            password_hash=hash_password(service.check_password(password, email=user.email))
            if password
            else None,
        )
        return self._user_row(updated)

    def disable_user(self, who: str) -> Row:
        return self._user_row(self.accounts.update_user(self._find(who).id, disabled=True))

    def create_key(self, label: str, team: str | None, user: str | None) -> Row:
        if user:
            owner = self._find(user)
        else:
            admins = [
                u for u in self.accounts.list_users() if u.role.manages_team and not u.disabled
            ]
            if not admins:
                raise UsageError(
                    "no admin to own the key; create one first: agentlog admin create-user EMAIL --admin"
                )
            owner = min(admins, key=lambda u: u.created_at)
        team_obj = (
            service.team_for(self.accounts, team, create=False)
            if team
            else self.accounts.get_team(owner.team_id)
        )
        new = service.create_key(self.accounts, owner, team_obj, label)
        return self._key_row(new.key, new.secret)

    def list_keys(self, team: str | None) -> list[Row]:
        return [self._key_row(k) for k in self.accounts.list_keys(team_id=self._team_id(team))]

    def rotate_key(self, key_id: str, grace_seconds: int) -> Row:
        new = service.rotate_key(self.accounts, key_id, grace_seconds)
        return self._key_row(new.key, new.secret)

    def revoke_key(self, key_id: str) -> Row:
        return self._key_row(self.accounts.revoke_key(key_id))

    def audit(self, limit: int) -> list[Row]:
        return [e.public() for e in self.accounts.list_audit(limit=limit)]

    def set_retention(self, team: str, days: int | None) -> Row:
        team_obj = service.team_for(self.accounts, team, create=False)
        return self.accounts.set_team_retention(team_obj.id, days).public()

    def erase_user(self, who: str, sessions: str) -> Row:
        user = self._find(who)
        return {
            **service.erase_user(self._store, self.accounts, user, sessions),
            "email": user.email,
        }

    def apply_retention(self, archive_dir: str | None) -> Row:
        from pathlib import Path

        from agentlog.server.retention import apply_retention

        report = apply_retention(
            self._store, self.accounts, archive_dir=Path(archive_dir) if archive_dir else None
        )
        return report.public()


class HttpAdmin:
    """The same operations through a running server's admin endpoints (needs an admin's key)."""

    def __init__(self, url: str, api_key: str | None) -> None:
        import httpx

        from agentlog.tls import tls_verify

        if not api_key:
            raise UsageError(
                f"no API key for {url}: run `agentlog login {url} --email EMAIL` or pass --api-key"
            )
        self.url = url.rstrip("/")
        self.where = f"server: {self.url}"
        self._http = httpx.Client(
            base_url=self.url,
            verify=tls_verify(self.url),
            timeout=30,
            headers={"Authorization": f"Bearer {api_key}"},
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            r = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ServerUnavailable(
                f"cannot reach {self.url} ({exc}); is the server running?"
            ) from None
        if r.status_code < 300:
            return r.json()
        try:
            err = r.json()["error"]
            cls, message = error_class(err["code"]) or ServerUnavailable, err["message"]
        except Exception:
            cls, message = ServerUnavailable, f"{r.status_code} {r.reason_phrase}"
        if r.status_code == 401:
            cls = AuthError
        if r.status_code == 403:
            cls, message = Forbidden, f"{message} (admin commands need an admin's key)"
        raise cls(message)

    def _teams(self) -> dict[str, str]:
        return {t["id"]: t["name"] for t in self._call("GET", "/v1/teams")}

    def _with_team(self, row: Row, teams: dict[str, str] | None = None) -> Row:
        teams = teams if teams is not None else self._teams()
        return {**row, "team": teams.get(row["team_id"], row["team_id"])}

    def _find(self, who: str) -> Row:
        for user in self._call("GET", "/v1/users"):
            if user["id"] == who or user["email"].lower() == who.lower():
                return user
        raise NotFound(f"no user {who!r}; `agentlog admin users list` shows them")

    def create_user(self, email: str, password: str | None, role: Role, team: str | None) -> Row:
        body = {
            "email": email,
            "password": password,
            "role": role.value,
            "team": team or service.DEFAULT_TEAM,
        }
        return self._with_team(self._call("POST", "/v1/users", json=body))

    def create_team(self, name: str) -> Row:
        return self._call("POST", "/v1/teams", json={"name": name})

    def list_teams(self) -> list[Row]:
        return self._call("GET", "/v1/teams")

    def list_users(self, team: str | None) -> list[Row]:
        teams = self._teams()
        return [
            self._with_team(u, teams)
            for u in self._call("GET", "/v1/users", params={"team": team} if team else None)
        ]

    def update_user(
        self, who: str, *, role: Role | None, team: str | None, enable: bool, password: str | None
    ) -> Row:
        body: Row = {"role": role.value if role else None, "team": team, "password": password}
        if enable:
            body["disabled"] = False
        user = self._find(who)
        return self._with_team(self._call("PATCH", f"/v1/users/{user['id']}", json=body))

    def disable_user(self, who: str) -> Row:
        user = self._find(who)
        return self._with_team(
            self._call("PATCH", f"/v1/users/{user['id']}", json={"disabled": True})
        )

    def _key_rows(self, keys: list[Row]) -> list[Row]:
        teams = self._teams()
        emails = {u["id"]: u["email"] for u in self._call("GET", "/v1/users")}
        return [{**self._with_team(k, teams), "owner": emails.get(k["user_id"])} for k in keys]

    def create_key(self, label: str, team: str | None, user: str | None) -> Row:
        body: Row = {"label": label, "team": team}
        if user:
            body["user_id"] = self._find(user)["id"]
        return self._key_rows([self._call("POST", "/v1/api-keys", json=body)])[0]

    def list_keys(self, team: str | None) -> list[Row]:
        return self._key_rows(
            self._call("GET", "/v1/api-keys", params={"team": team} if team else None)
        )

    def rotate_key(self, key_id: str, grace_seconds: int) -> Row:
        return self._key_rows(
            [
                self._call(
                    "POST", f"/v1/api-keys/{key_id}/rotate", json={"grace_seconds": grace_seconds}
                )
            ]
        )[0]

    def revoke_key(self, key_id: str) -> Row:
        return self._key_rows([self._call("DELETE", f"/v1/api-keys/{key_id}")])[0]

    def audit(self, limit: int) -> list[Row]:
        return self._call("GET", "/v1/audit", params={"limit": limit})

    def set_retention(self, team: str, days: int | None) -> Row:
        for row in self._call("GET", "/v1/teams"):
            if row["id"] == team or row["name"].lower() == team.strip().lower():
                return self._call("PATCH", f"/v1/teams/{row['id']}", json={"retention_days": days})
        raise NotFound(f"no team {team!r}; `agentlog admin teams list` shows them")

    def erase_user(self, who: str, sessions: str) -> Row:
        user = self._find(who)
        row = self._call("POST", f"/v1/users/{user['id']}:erase", json={"sessions": sessions})
        return {**row, "email": user["email"]}

    def apply_retention(self, archive_dir: str | None) -> Row:
        if archive_dir:
            raise UsageError(
                "--archive names a folder on this machine; a server archives into its own "
                "serve.retention_archive_dir"
            )
        return self._call("POST", "/v1/retention:apply")
