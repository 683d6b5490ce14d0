"""The web view's team pages: agents, usage (SVG charts), members (admins) and the audit log (admins).

Each page is a thin face over what the HTTP API already answers with: the
Store's `agents()`, `agentlog.usage.usage_report`, the account store's users
and audit log, and the user-change rules of `routes/users.py`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from agentlog.errors import AgentLogError, NotFound
from agentlog.model import from_us, to_us, utcnow
from agentlog.server.auth import Principal
from agentlog.server.routes.users import _managed_user, change_user, unchangeable
from agentlog.server.schemas import UserUpdateIn
from agentlog.server.web import signin
from agentlog.server.web.charts import bar_chart
from agentlog.server.web.render import page
from agentlog.server.web.routes import (
    Text,
    _context,
    _form,
    _principal,
    _state,
    _to_login,
    unknown_choice,
)
from agentlog.storage.accounts import Role
from agentlog.usage import day_start, usage_report

router = APIRouter(include_in_schema=False)
AUDIT_PAGE = 50
USAGE_DAYS = (7, 30, 90)


def _forbidden(request: Request, principal: Principal) -> Response:
    return page(
        "error.html",
        403,
        title="Admins only",
        message=f"only team admins see this page; your role is {principal.role.value}",
        **_context(request, principal),
    )


# ---------------------------------------------------------------- agents
@router.get("/agents")
def agents_page(request: Request) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    store = _state(request).store.scoped(principal.team_id, principal.user_id)
    agents = sorted(
        store.agents(None),
        key=lambda a: a.last_seen.timestamp() if a.last_seen else 0.0,
        reverse=True,
    )
    return page("agents.html", agents=agents, **_context(request, principal))


# ---------------------------------------------------------------- usage
@router.get("/usage")
def usage_page(request: Request, days: Text = None) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    choices = [str(d) for d in USAGE_DAYS]
    error = None
    if days and days not in choices:
        error = unknown_choice("period (days)", days, choices)
    span = int(days) if days and not error else 30
    state = _state(request)
    store = state.store.scoped(principal.team_id, principal.user_id)
    end = utcnow()
    start = day_start(end - timedelta(days=span - 1))
    emails = {u.id: u.email for u in state.accounts.list_users(principal.team_id)}
    report = usage_report(store, start, end, emails)
    per_day = report["per_day"]
    charts = {
        "tokens": bar_chart(
            [(d["day"], d["input_tokens"] + d["output_tokens"]) for d in per_day],
            label="Tokens per day",
        ),
        "cost": bar_chart(
            [(d["day"], d["cost_usd"] or 0.0) for d in per_day],
            label="Cost per day (USD)",
            fmt=lambda v: f"${v:,.4f}" if v < 1 else f"${v:,.2f}",
            kind="cost",
        ),
        "errors": bar_chart(
            [(d["day"], d["errors"]) for d in per_day], label="Errors per day", kind="errors"
        ),
    }
    return page(
        "usage.html",
        400 if error else 200,
        error=error,
        report=report,
        charts=charts,
        days=span,
        choices=USAGE_DAYS,
        **_context(request, principal),
    )


# ---------------------------------------------------------------- members
def _members_page(
    request: Request, principal: Principal, code: int = 200, **extra: Any
) -> Response:
    state = _state(request)
    members = state.accounts.list_users(principal.team_id)
    roles = [r.value for r in Role if r is not Role.OWNER or principal.is_owner]
    extra.setdefault("error", None)
    extra.setdefault("notice", None)
    return page(
        "members.html",
        code,
        members=[(m, unchangeable(principal, m)) for m in members],
        roles=roles,
        team=state.accounts.get_team(principal.team_id),
        **_context(request, principal, **extra),
    )


@router.get("/team")
def members_page(request: Request) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    if not principal.is_admin:
        return _forbidden(request, principal)
    return _members_page(request, principal)


def _confirm_remove(request: Request, principal: Principal, user_id: str) -> Response:
    """The page that asks before a member is removed (or says why they cannot be)."""
    state = _state(request)
    try:
        member = _managed_user(state, principal, user_id)
    except NotFound:
        return _members_page(request, principal, 404, error="no such member in your team")
    except AgentLogError as exc:
        return _members_page(request, principal, exc.http_status, error=exc.message)
    if member.disabled:
        return RedirectResponse("/team", 303)
    why = unchangeable(principal, member)
    if why:
        return _members_page(request, principal, 403, error=f"{member.email} stays: {why}")
    return page(
        "confirm.html",
        title="Remove member",
        question=f"Remove {member.email} from {state.accounts.get_team(principal.team_id).name}?",
        consequence="They are signed out everywhere, their API keys are revoked and they can "
        "no longer sign in. Restore lets them sign in again; their old keys stay revoked.",
        action=f"/team/{member.id}/remove",
        button="Remove member",
        back="/team",
        **_context(request, principal),
    )


@router.get("/team/{user_id}/remove")
def remove_member_page(request: Request, user_id: str) -> Response:
    """Remove asks first: this page changes nothing (a link or a reload may land here)."""
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    if not principal.is_admin:
        return _forbidden(request, principal)
    return _confirm_remove(request, principal, user_id)


@router.post("/team/{user_id}/{action}")
async def change_member(request: Request, user_id: str, action: str) -> Response:
    """role (with the form's role), remove (disable: signed out, keys revoked) or restore."""
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    if not principal.is_admin:
        return _forbidden(request, principal)
    form = await _form(request)
    state = _state(request)
    if not signin.same(form.get("csrf"), signin.session_csrf(state, principal)):
        return _members_page(request, principal, 403, error="the form expired; reload the page")
    if action == "role":
        body = UserUpdateIn(role=form.get("role") or None)
    elif action == "remove" and form.get("confirm") != "yes":
        return _confirm_remove(request, principal, user_id)  # a form from before the step
    elif action in ("remove", "restore"):
        body = UserUpdateIn(disabled=action == "remove")
    else:
        return _members_page(request, principal, 404, error="no such change")
    try:
        await run_in_threadpool(change_user, state, principal, user_id, body)
    except NotFound:
        return _members_page(request, principal, 404, error="no such member in your team")
    except AgentLogError as exc:
        return _members_page(request, principal, exc.http_status, error=exc.message)
    return RedirectResponse("/team", 303)


# ---------------------------------------------------------------- audit log
def _cursor(text: str | None) -> tuple[datetime, str] | None:
    """The opaque `before` of the audit page: "<microseconds>_<id>" of the last entry shown."""
    if not text:
        return None
    at, _, entry = text.partition("_")
    if not at.isdigit() or not entry or len(entry) > 64:
        raise ValueError(text)
    return from_us(int(at)), entry


@router.get("/audit")
def audit_page(request: Request, before: Text = None) -> Response:
    principal = _principal(request)
    if principal is None:
        return _to_login(request)
    if not principal.is_admin:
        return _forbidden(request, principal)
    state = _state(request)
    try:
        after = _cursor(before)
    except ValueError:
        return page(
            "error.html",
            400,
            title="Audit log",
            message="that page link is broken; start from the first page",
            **_context(request, principal),
        )
    entries = state.accounts.list_audit(
        team_id=principal.team_id, limit=AUDIT_PAGE + 1, before=after
    )
    more = None
    if len(entries) > AUDIT_PAGE:
        entries = entries[:AUDIT_PAGE]
        last = entries[-1]
        more = "/audit?" + urlencode({"before": f"{to_us(last.at)}_{last.id}"})
    emails = {u.id: u.email for u in state.accounts.list_users(principal.team_id)}
    return page(
        "audit.html",
        entries=entries,
        emails=emails,
        more=more,
        first=after is None,
        **_context(request, principal),
    )
