"""Staff accounts as a service: create, disable, roles, logins, sessions, lockout.

Views and the CLI call these functions; the tests call them directly. Each
works in the caller's transaction and records what it did through
``changes.record`` (audit only: nothing here changes the public register).
Nothing secret is logged or stored in the clear: passwords as argon2id
hashes, session tokens as SHA-256, TOTP codes never.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from .. import changes
from ..changes import BOOTSTRAP, Actor, Change
from ..log import leaves
from ..refusals import N_, Refused
from ..staff.models import LoginAttempt, RoleGrant, StaffRole, StaffSession, StaffUser
from .credentials import (
    CredentialRefused,
    check_totp,
    hash_password,
    new_totp_secret,
    password_matches,
    provisioning_uri,
)

#: Failed logins, per account and per address, before logins are refused for a while.
LOCKOUT_FAILURES = 10
LOCKOUT_WINDOW = timedelta(minutes=15)
IDLE_LIMIT = timedelta(minutes=30)
SESSION_LIMIT = timedelta(hours=12)
#: How often a session's last-seen time is written (not on every request).
SEEN_RESOLUTION = timedelta(seconds=60)
MAX_EMAIL = 254


class AccountRefused(Refused):
    """An account change that cannot be made; the message says why, in plain words."""


def normalise_email(email: str) -> str:
    folded = email.strip().lower()
    if (
        not 3 <= len(folded) <= MAX_EMAIL
        or "@" not in folded[1:-1]
        or any(c.isspace() for c in folded)
    ):
        raise AccountRefused(N_("%(email)s is not an email address."), email=email[:60])
    return folded


def find_staff(session: Session, email: str) -> StaffUser | None:
    return session.scalars(
        select(StaffUser)
        .where(StaffUser.email == email.strip().lower())
        .options(selectinload(StaffUser.grants))
    ).one_or_none()


@dataclass(frozen=True)
class Enrolled:
    staff: StaffUser
    #: Shown once, to be scanned into an authenticator app; never stored in the clear elsewhere.
    provisioning_uri: str


def add_staff(
    session: Session,
    email: str,
    name: str,
    roles: set[StaffRole],
    password: str,
    *,
    issuer: str,
    by: StaffUser | None,
    now: datetime,
) -> Enrolled:
    """A new account with its roles, its password and a fresh TOTP secret."""
    email = normalise_email(email)
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountRefused(N_("A name has 1 to 200 characters."))
    if not roles:
        raise AccountRefused(N_("An account needs at least one role."))
    if find_staff(session, email) is not None:
        raise AccountRefused(N_("There is already an account for %(email)s."), email=email)
    try:
        hashed = hash_password(password)
    except CredentialRefused as exc:
        raise AccountRefused(exc.template, **exc.params) from exc
    secret = new_totp_secret()
    staff = StaffUser(
        email=email, name=name, password_hash=hashed, totp_secret=secret, created_at=now
    )
    session.add(staff)
    session.flush()
    for role in sorted(roles):
        session.add(
            RoleGrant(
                staff_id=staff.id, role=role, granted_at=now, granted_by_id=by.id if by else None
            )
        )
    session.flush()
    _audit(session, "staff.add", staff, by, now, {"roles": sorted(r.value for r in roles)})
    session.refresh(staff, ["grants"])
    return Enrolled(staff, provisioning_uri(secret, email, issuer))


def disable_staff(
    session: Session, staff: StaffUser, *, by: StaffUser | None, now: datetime
) -> None:
    """The account can no longer log in; its open sessions end now."""
    if by is not None and by.id == staff.id:
        raise AccountRefused(N_("Nobody can disable their own account."))
    staff.active = False
    staff.disabled_at = now
    session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    _audit(session, "staff.disable", staff, by, now, {})


def grant_role(
    session: Session, staff: StaffUser, role: StaffRole, *, by: StaffUser, now: datetime
) -> RoleGrant:
    """A registrar gives ``role`` to ``staff`` (never to themselves)."""
    _registrar(by, staff)
    if role in staff.roles:
        raise AccountRefused(N_("%(email)s already holds this role."), email=staff.email)
    grant = RoleGrant(staff_id=staff.id, role=role, granted_at=now, granted_by_id=by.id)
    session.add(grant)
    session.flush()
    _audit(session, "staff.grant", staff, by, now, {"role": role.value, "grant": grant.id})
    _log_role(session, grant, by, now, granted=True)
    session.refresh(staff, ["grants"])
    return grant


def revoke_role(
    session: Session, staff: StaffUser, role: StaffRole, *, by: StaffUser, now: datetime
) -> RoleGrant:
    _registrar(by, staff)
    grant = next((g for g in staff.grants if g.role is role and g.revoked_at is None), None)
    if grant is None:
        raise AccountRefused(N_("%(email)s does not hold this role."), email=staff.email)
    grant.revoked_at = now
    grant.revoked_by_id = by.id
    _audit(session, "staff.revoke", staff, by, now, {"role": role.value, "grant": grant.id})
    _log_role(session, grant, by, now, granted=False)
    session.refresh(staff, ["grants"])
    return grant


def _registrar(by: StaffUser, staff: StaffUser) -> None:
    if StaffRole.REGISTRAR not in by.roles:
        raise AccountRefused(N_("Only a registrar manages roles."))
    if by.id == staff.id:
        raise AccountRefused(N_("Nobody changes their own roles."))


def _audit(
    session: Session,
    action: str,
    staff: StaffUser,
    by: StaffUser | None,
    now: datetime,
    detail: dict,
) -> None:
    changes.record(
        session,
        Change(
            action=action,
            target_type="staff",
            target_id=staff.email,
            actor=Actor.staff(by.id) if by else BOOTSTRAP,
            detail=detail,
            public=False,
        ),
        now,
    )


def _log_role(
    session: Session, grant: RoleGrant, by: StaffUser | None, now: datetime, *, granted: bool
) -> None:
    """Who may decide is a public fact: the decision-maker role's grants go to the log."""
    if grant.role is not StaffRole.DECISION_MAKER:
        return
    changes.record(
        session,
        Change(
            action="role.grant" if granted else "role.revoke",
            target_type="role_grant",
            target_id=str(grant.id),
            actor=Actor.staff(by.id) if by else BOOTSTRAP,
            public=False,
            leaf=leaves.role_changed(
                grant=grant.id, role=grant.role.value, staff=grant.staff_id, granted=granted
            ),
        ),
        now,
    )


# --- logins ---------------------------------------------------------------------


class LoginRefused(Refused):
    """Login refused; ``reason`` is a code, the message a sentence for the person."""

    def __init__(self, reason: str, template: str) -> None:
        super().__init__(template)
        self.reason = reason


def failures_since(session: Session, column: object, value: str, since: datetime) -> int:
    """Failed attempts for an account or address since ``since``, after its last success."""
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(column == value, LoginAttempt.succeeded)  # type: ignore[operator]
    )
    start = max(since, last_success) if last_success else since
    return (
        session.scalar(
            select(func.count()).where(
                column == value,  # type: ignore[operator]
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > start,
            )
        )
        or 0
    )


def locked(session: Session, email: str, address: str, now: datetime) -> bool:
    since = now - LOCKOUT_WINDOW
    return (
        failures_since(session, LoginAttempt.email, email, since) >= LOCKOUT_FAILURES
        or failures_since(session, LoginAttempt.address, address, since) >= LOCKOUT_FAILURES
    )


def authenticate(
    session: Session, email: str, password: str, code: str, *, address: str, now: datetime
) -> StaffUser:
    """The account, if the password and the TOTP code are right and nothing is locked.

    Every attempt is recorded (the lockout counts them in the database); the
    caller commits even when this raises, so failures are never lost.
    """
    folded = email.strip().lower()[:MAX_EMAIL]
    address = address[:64]
    if locked(session, folded, address, now):
        session.add(LoginAttempt(at=now, email=folded, address=address, succeeded=False))
        raise LoginRefused(
            "locked",
            N_("Too many failed logins: try again in 15 minutes, or ask a registrar."),
        )
    staff = find_staff(session, folded)
    ok = password_matches(staff.password_hash if staff else None, password)
    totp = None
    if ok and staff is not None and staff.totp_secret is not None:
        totp = check_totp(staff.totp_secret, code, now.timestamp(), staff.totp_last_step)
    if staff is None or not ok or totp is None or not totp.accepted or not staff.active:
        session.add(LoginAttempt(at=now, email=folded, address=address, succeeded=False))
        raise LoginRefused("bad_credentials", N_("The email, password or code is not right."))
    staff.totp_last_step = totp.step
    session.add(LoginAttempt(at=now, email=folded, address=address, succeeded=True))
    return staff


def open_session(session: Session, staff: StaffUser, *, address: str, now: datetime) -> str:
    """A new session for ``staff``; returns its token (for the signed cookie only)."""
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_sha256=_digest(token),
            staff_id=staff.id,
            created_at=now,
            last_seen_at=now,
            address=address[:64],
        )
    )
    _audit(session, "staff.login", staff, staff, now, {"address": address[:64]})
    return token


def resolve_session(session: Session, token: str, now: datetime) -> StaffUser | None:
    """The account behind a session token, if the session is still alive; else None.

    A session ends after ``IDLE_LIMIT`` without a request and after
    ``SESSION_LIMIT`` in all; an ended session stays ended.
    """
    if not token or len(token) > 100:
        return None
    found = session.scalars(
        select(StaffSession)
        .where(StaffSession.token_sha256 == _digest(token))
        .options(selectinload(StaffSession.staff).selectinload(StaffUser.grants))
    ).one_or_none()
    if found is None or found.ended_at is not None:
        return None
    if (
        now - found.last_seen_at > IDLE_LIMIT
        or now - found.created_at > SESSION_LIMIT
        or not found.staff.active
    ):
        found.ended_at = now
        return None
    if now - found.last_seen_at > SEEN_RESOLUTION:
        found.last_seen_at = now
    return found.staff


def end_session(session: Session, token: str, now: datetime) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_sha256 == _digest(token), StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
