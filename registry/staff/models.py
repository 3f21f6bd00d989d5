"""Staff accounts, their roles, their sessions and their login attempts.

Roles are grants, not a column: a person may hold several (an officer who is
also an assessor), each grant has an id, a granter and, once revoked, a
revoker. Who may decide what is judged from the grants in force, and the
independence rule of ISO/IEC 17011 is judged per case (``cases``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, enum_column, utcnow


class StaffRole(StrEnum):
    #: Prepares cases, CAB data and scope.
    OFFICER = "officer"
    #: Records assessments and findings.
    ASSESSOR = "assessor"
    #: Decides cases (never one they proposed or assessed).
    DECISION_MAKER = "decision_maker"
    #: Manages accounts and roles; decides nothing.
    REGISTRAR = "registrar"
    #: Reads everything, the audit log included.
    AUDITOR = "auditor"


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored folded to lower case: one account per address.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: argon2id (argon2-cffi); None for accounts that cannot log in (demo staff).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    #: The TOTP secret (20 random bytes); the second factor is mandatory.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    #: The last TOTP time step accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="staff", order_by="RoleGrant.id", foreign_keys="RoleGrant.staff_id"
    )

    @property
    def roles(self) -> frozenset[StaffRole]:
        """The roles in force: granted and not revoked."""
        return frozenset(g.role for g in self.grants if g.revoked_at is None)

    def has(self, *roles: StaffRole) -> bool:
        return bool(self.roles & set(roles))


class RoleGrant(Base):
    """One role given to one person, by a registrar (or at bootstrap), until revoked."""

    __tablename__ = "staff_role_grant"
    __table_args__ = (Index("ix_staff_role_grant_staff_role", "staff_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole, "staff_role"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: None: granted at bootstrap (``accredit staff add``) or by demo data.
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    staff: Mapped[StaffUser] = relationship(back_populates="grants", foreign_keys=[staff_id])


class StaffSession(Base):
    """A login: the cookie holds a random token, the database its SHA-256.

    Ends after 30 idle minutes, after 12 hours in all, at logout, or when the
    account is disabled. A new login always makes a new session.
    """

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    address: Mapped[str] = mapped_column(String(64), default="")
    ended_at: Mapped[datetime | None]

    staff: Mapped[StaffUser] = relationship()


class LoginAttempt(Base):
    """Every login attempt, for the lockout: counted per account and per address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
