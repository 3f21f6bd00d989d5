"""A body's own details: its names, contacts and sites, kept by the agency's officers.

These are facts about the body, not legal acts about its accreditation: an
officer records them alone. They are public (the record pages and search
show them), so each change goes through ``changes.record`` with its audit
entry, a version bump and a reindex of the body's accreditations.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import changes
from ..changes import Actor, Change
from ..refusals import N_, Refused
from ..register.models import Accreditation, Cab, Site
from ..staff.models import StaffRole, StaffUser

CAB_FIELDS = ("national_id", "name_en", "name_th", "phone", "email", "website")
SITE_FIELDS = (
    "name_en",
    "name_th",
    "address_en",
    "address_th",
    "province_en",
    "province_th",
    "country",
)


class BodyRefused(Refused):
    """A change to a body that cannot be made; the message says why."""


def _officer(by: StaffUser) -> None:
    if not by.active or StaffRole.OFFICER not in by.roles:
        raise BodyRefused(N_("Only an officer can do this."))


def _record(
    session: Session, cab: Cab, action: str, by: StaffUser, now: datetime, detail: dict[str, Any]
) -> None:
    ids = set(session.scalars(select(Accreditation.id).where(Accreditation.cab_id == cab.id)))
    changes.record(
        session,
        Change(
            action=action,
            target_type="cab",
            target_id=str(cab.id),
            actor=Actor.staff(by.id),
            accreditations=ids,
            detail=detail,
        ),
        now,
    )


def _clean(values: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {
        f: (str(values[f]).strip() or None) if values.get(f) is not None else None for f in fields
    }


def create_cab(session: Session, values: Mapping[str, Any], *, by: StaffUser, now: datetime) -> Cab:
    _officer(by)
    cleaned = _clean(values, CAB_FIELDS)
    if session.scalar(select(Cab.id).where(Cab.national_id == cleaned["national_id"])):
        raise BodyRefused(
            N_("A body with the juristic person number %(number)s is already registered."),
            number=cleaned["national_id"],
        )
    cab = Cab(**cleaned, created_at=now, updated_at=now)
    session.add(cab)
    session.flush()
    _record(session, cab, "cab.create", by, now, {k: v for k, v in cleaned.items() if v})
    return cab


def update_cab(
    session: Session, cab: Cab, values: Mapping[str, Any], *, by: StaffUser, now: datetime
) -> None:
    _officer(by)
    cleaned = _clean(values, CAB_FIELDS)
    if cleaned["national_id"] != cab.national_id and session.scalar(
        select(Cab.id).where(Cab.national_id == cleaned["national_id"])
    ):
        raise BodyRefused(
            N_("A body with the juristic person number %(number)s is already registered."),
            number=cleaned["national_id"],
        )
    before = {f: getattr(cab, f) for f in CAB_FIELDS}
    changed = {f: v for f, v in cleaned.items() if v != before[f]}
    if not changed:
        return
    for field, value in changed.items():
        setattr(cab, field, value)
    cab.updated_at = now
    _record(
        session,
        cab,
        "cab.update",
        by,
        now,
        {"before": {f: before[f] for f in changed}, "after": changed},
    )


def save_site(
    session: Session,
    cab: Cab,
    site: Site | None,
    values: Mapping[str, Any],
    *,
    by: StaffUser,
    now: datetime,
) -> Site:
    """Add a site to ``cab`` (``site`` None) or change one of its sites."""
    _officer(by)
    cleaned = _clean(values, SITE_FIELDS)
    if site is None:
        site = Site(cab_id=cab.id, **cleaned)
        session.add(site)
        session.flush()
        _record(
            session,
            cab,
            "site.create",
            by,
            now,
            {"site": site.id, **{k: v for k, v in cleaned.items() if v}},
        )
        return site
    if site.cab_id != cab.id:
        raise BodyRefused(N_("This site belongs to another body."))
    changed = {f: v for f, v in cleaned.items() if v != getattr(site, f)}
    for field, value in changed.items():
        setattr(site, field, value)
    if changed:
        cab.updated_at = now
        _record(session, cab, "site.update", by, now, {"site": site.id, "after": changed})
    return site
