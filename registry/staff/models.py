"""Staff accounts. Decisions name the people who proposed and approved them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, enum_column, utcnow


class StaffRole(StrEnum):
    OFFICER = "officer"  # proposes
    APPROVER = "approver"  # approves what another proposed
    ADMIN = "admin"


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole, "staff_role"))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
