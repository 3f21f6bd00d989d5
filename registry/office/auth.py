"""Who is asking: staff sessions (Flask-Login over server-side sessions), roles and CSRF.

The cookie holds only a random session token, signed by Flask; the database
holds its SHA-256 and decides whether the session is alive (30 idle minutes,
12 hours in all). Every form carries a CSRF token (Flask-WTF); every route
that changes data needs a live session and the right role, and says so in
the one problem shape: a login page for people, 401 for programs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from flask import Flask, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from ..accounts.services import SESSION_LIMIT, resolve_session
from ..staff.models import StaffRole, StaffUser
from ..web import current
from ..web.negotiation import wants_json
from ..web.problems import problem
from .forms import ROLE_LABELS

login_manager = LoginManager()
csrf = CSRFProtect()


class SignedIn(UserMixin):
    """The member of staff behind this request, and the session token it came with."""

    def __init__(self, staff: StaffUser, token: str) -> None:
        self.staff = staff
        self.token = token

    def get_id(self) -> str:
        return self.token

    @property
    def roles(self) -> frozenset[StaffRole]:
        return self.staff.roles


@login_manager.user_loader
def _load(token: str) -> SignedIn | None:
    with current.database().transaction() as session:
        staff = resolve_session(session, token, datetime.now(UTC))
        if staff is None:
            return None
        session.expunge(staff)
    return SignedIn(staff, token)


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    if wants_json():
        return problem(
            401,
            "login_required",
            _("Log in first"),
            _("This address is for the agency's staff; log in with your account."),
        )
    return redirect(url_for("office.login", next=request.full_path.rstrip("?")))


def staff() -> StaffUser:
    """The signed-in member of staff (inside a ``staff_required`` view)."""
    return current_user.staff  # type: ignore[no-any-return]


def staff_required(*roles: StaffRole) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A live session and, when ``roles`` are given, at least one of them."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and not current_user.roles & set(roles):
                return problem(
                    403,
                    "forbidden",
                    _("Your roles do not allow this"),
                    _("Ask a registrar if you need another role."),
                )
            return view(*args, **kwargs)

        return wrapper

    return decorate


AUDIT_READERS = frozenset({StaffRole.AUDITOR, StaffRole.REGISTRAR, StaffRole.DECISION_MAKER})
ACCOUNT_READERS = frozenset({StaffRole.REGISTRAR, StaffRole.AUDITOR})


def capabilities() -> dict[str, bool]:
    """What the signed-in person may do, for templates to show only what works."""
    roles = current_user.roles if current_user.is_authenticated else frozenset()
    return {
        "officer": StaffRole.OFFICER in roles,
        "assessor": StaffRole.ASSESSOR in roles,
        "decide": StaffRole.DECISION_MAKER in roles,
        "registrar": StaffRole.REGISTRAR in roles,
        "audit": bool(roles & AUDIT_READERS),
        "accounts": bool(roles & ACCOUNT_READERS),
    }


def _csrf_failed(exc: CSRFError) -> Any:
    return problem(
        400,
        "csrf_failed",
        _("The form has expired or did not come from this site"),
        _("Go back, reload the page and send the form again."),
    )


def init_app(app: Flask) -> None:
    found = current.settings(app)
    app.config.update(
        SESSION_COOKIE_NAME="accredit_session",
        SESSION_COOKIE_SECURE=found.https,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=SESSION_LIMIT + timedelta(minutes=1),
        REMEMBER_COOKIE_DURATION=timedelta(0),
        WTF_CSRF_TIME_LIMIT=int(SESSION_LIMIT.total_seconds()),
        WTF_CSRF_SSL_STRICT=found.https,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.jinja_env.globals.update(
        role_label=lambda role: str(ROLE_LABELS[StaffRole(role)]),
        query_args_of=lambda filters, page: urlencode(
            {**{k: v for k, v in filters.items() if v}, "page": page}
        ),
    )
    app.context_processor(lambda: {"can": capabilities()})
