"""Older history into the log: certificates and decisions that have no leaf yet, in order.

Used by migration 0006 (history from before the log existed) and by the demo
loader (which writes its histories in bulk). It reads the tables directly,
by name, so that the log stays below the domains whose facts it records.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import leaves, store
from .models import LogEntry

certificate = sa.table(
    "certificate",
    sa.column("id", sa.Integer),
    sa.column("number", sa.String),
    sa.column("revision", sa.Integer),
    sa.column("sha256", sa.String),
    sa.column("signer_fingerprint", sa.String),
    sa.column("issued_at", sa.DateTime),
    sa.column("accreditation_id", sa.Integer),
    sa.column("log_index", sa.BigInteger),
)
status_event = sa.table(
    "status_event",
    sa.column("id", sa.Integer),
    sa.column("accreditation_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("effective_date", sa.Date),
    sa.column("end_date", sa.Date),
    sa.column("reason_en", sa.Text),
    sa.column("reason_th", sa.Text),
    sa.column("approved_at", sa.DateTime),
    sa.column("log_index", sa.BigInteger),
)
event_item = sa.table(
    "status_event_item", sa.column("event_id", sa.Integer), sa.column("scope_item_id", sa.Integer)
)
accreditation = sa.table(
    "accreditation", sa.column("id", sa.Integer), sa.column("number", sa.String)
)
scope_item = sa.table(
    "scope_item",
    *(
        sa.column(name)
        for name in (
            "id",
            "site_id",
            "field_en",
            "field_th",
            "product_en",
            "product_th",
            "parameter_en",
            "parameter_th",
            "method",
            "range_text",
            "cmc_text",
        )
    ),
)
SCOPE_KINDS = ("extended", "reduced")


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Fact = tuple[datetime, int, str, int, dict[str, Any]]


def certificate_facts(session: Session, only_missing: bool) -> list[Fact]:
    """Each certificate's fact: (when, order, "certificate", id, fact)."""
    numbers = dict(session.execute(sa.select(accreditation.c.id, accreditation.c.number)).all())
    query = sa.select(certificate)
    if only_missing:
        query = query.where(certificate.c.log_index.is_(None))
    facts = []
    for row in session.execute(query).mappings():
        fact = leaves.certificate_issued(
            number=row["number"],
            accreditation=numbers[row["accreditation_id"]],
            revision=row["revision"],
            sha256=row["sha256"],
            signer=row["signer_fingerprint"],
        )
        facts.append((_utc(row["issued_at"]), 1, "certificate", row["id"], fact))
    return facts


def event_facts(session: Session, only_missing: bool) -> list[Fact]:
    """Each approved decision's fact: (when, order, "event", id, fact)."""
    numbers = dict(session.execute(sa.select(accreditation.c.id, accreditation.c.number)).all())
    query = sa.select(status_event).where(status_event.c.approved_at.is_not(None))
    if only_missing:
        query = query.where(status_event.c.log_index.is_(None))
    events = session.execute(query).mappings().all()
    items: dict[int, list[int]] = defaultdict(list)
    if events:
        for event_id, item_id in session.execute(
            sa.select(event_item.c.event_id, event_item.c.scope_item_id)
        ):
            items[event_id].append(item_id)
    scoped = {i for e in events if e["kind"] in SCOPE_KINDS for i in items[e["id"]]}
    lines = (
        {
            r["id"]: {
                **{k: r[k] for k in r if not k.endswith("_text")},
                "range": r["range_text"],
                "cmc": r["cmc_text"],
            }
            for r in session.execute(
                sa.select(scope_item).where(scope_item.c.id.in_(scoped))
            ).mappings()
        }
        if scoped
        else {}
    )
    facts = []
    for row in events:
        fact = leaves.status_decided(
            event=row["id"],
            accreditation=numbers[row["accreditation_id"]],
            kind=row["kind"],
            items=items[row["id"]],
            effective=row["effective_date"],
            until=row["end_date"],
            reason_en=row["reason_en"] or "",
            reason_th=row["reason_th"] or "",
            scope=[lines[i] for i in items[row["id"]]] if row["kind"] in SCOPE_KINDS else (),
        )
        facts.append((_utc(row["approved_at"]), 0, "event", row["id"], fact))
    return facts


def backfill(session: Session) -> int:
    """Append a leaf for every certificate and approved decision without one; return how many."""
    facts = certificate_facts(session, True) + event_facts(session, True)
    if not facts:
        return 0
    facts.sort(key=lambda f: (f[0], f[1], f[3]))
    indexes = store.append_many(
        session,
        (
            (str(fact["type"]), leaves.encode({**fact, "at": leaves.instant(at)}), at)
            for at, _, _, _, fact in facts
        ),
    )
    for table, target in (("certificate", certificate), ("event", status_event)):
        rows = [
            {"row": row_id, "index": index}
            for (_, _, kind, row_id, _), index in zip(facts, indexes, strict=True)
            if kind == table
        ]
        if rows:
            session.execute(
                sa.update(target)
                .where(target.c.id == sa.bindparam("row"))
                .values(log_index=sa.bindparam("index")),
                rows,
            )
    return len(facts)


def reconcile(session: Session) -> tuple[int, str] | None:
    """The first leaf (by index) whose row disagrees with it, or a row with no leaf.

    Returns (index, what is wrong), or None when every certificate and decision
    has its leaf, says what its leaf says, when it says, and every such leaf has
    its row. A row with no leaf is reported at the index it should have had:
    the log's size.
    """
    by_row = {
        (kind, row_id): (at, fact)
        for at, _, kind, row_id, fact in certificate_facts(session, False)
        + event_facts(session, False)
    }
    indexes = {
        ("certificate", r[0]): r[1]
        for r in session.execute(sa.select(certificate.c.id, certificate.c.log_index))
    } | {
        ("event", r[0]): r[1]
        for r in session.execute(
            sa.select(status_event.c.id, status_event.c.log_index).where(
                status_event.c.approved_at.is_not(None)
            )
        )
    }
    leaf_of = {}
    problems: list[tuple[int, str]] = []
    for index, data in session.execute(
        sa.select(LogEntry.index, LogEntry.data).order_by(LogEntry.index)
    ):
        fact = leaves.decode(data)
        kind = fact.get("type")
        if kind == "certificate.issued":
            key = ("certificate", _certificate_id(session, fact["certificate"]))
        elif kind == "status.decided":
            key = ("event", fact["event"])
        else:
            continue
        leaf_of[key] = index
        found = by_row.get(key)
        if found is None:
            problems.append((index, f"its {key[0]} is no longer in the register"))
            continue
        at, expected = found
        want = {**expected, "at": leaves.instant(at), "v": leaves.VERSION}
        if want != fact:
            changed = ", ".join(
                sorted(k for k in set(fact) | set(want) if fact.get(k) != want.get(k))
            )
            problems.append(
                (index, f"its {key[0]} {key[1]} no longer says what it says ({changed})")
            )
        elif indexes.get(key) != index:
            problems.append((index, f"its {key[0]} {key[1]} points at another leaf"))
    size = store.size(session)
    for key in by_row:
        if key not in leaf_of:
            problems.append((indexes.get(key) or size, f"{key[0]} {key[1]} has no leaf in the log"))
    return min(problems) if problems else None


def _certificate_id(session: Session, number: str) -> int | None:
    return session.scalar(sa.select(certificate.c.id).where(certificate.c.number == number))
