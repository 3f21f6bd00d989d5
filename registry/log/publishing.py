"""After a change commits: sign the new checkpoint, then ask the witnesses to cosign it.

Signing is its own transaction, after the change's; the witnesses are asked
after that commits, since a witness that cosigned a tree the register then
rolled back would refuse every checkpoint after. A witness that does not
answer delays nothing but its own cosignature.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select

from ..db import Database
from . import store
from .checkpoints import LogKey, Witness, add_cosignature, request_body, sign
from .models import LogCheckpoint, LogCosignature

log = logging.getLogger(__name__)
TIMEOUT = 5.0
MAX_BODY = 64 * 1024


def pending(database: Database) -> bool:
    """Whether the log holds leaves that no checkpoint has signed yet."""
    with database.session() as session:
        signed = session.scalar(select(func.max(LogCheckpoint.size))) or 0
        return store.size(session) > signed


def publish(database: Database, key: LogKey, witnesses: Sequence[Witness] = ()) -> int | None:
    """Sign the log if it grew, then collect cosignatures; the signed size, or None."""
    now = datetime.now(UTC)
    with database.transaction() as session:
        signed = sign(session, key, now)
        if signed is None:
            return None
        size, note = signed.size, signed.note
    for witness in witnesses:
        try:
            lines = ask(database, witness, size, note)
        except (OSError, ValueError) as exc:
            log.warning(
                "witness %s did not cosign checkpoint %d: %s", witness.verifier.name, size, exc
            )
            continue
        with database.transaction() as session:
            checkpoint = session.get(LogCheckpoint, size)
            if checkpoint is None or not add_cosignature(
                session, checkpoint, witness.verifier, lines, now
            ):
                log.warning(
                    "witness %s answered without a valid cosignature", witness.verifier.name
                )
    return size


def ask(database: Database, witness: Witness, size: int, note: str) -> list[str]:
    """One add-checkpoint call, and one retry from the size a 409 names."""
    with database.session() as session:
        old = (
            session.scalar(
                select(func.max(LogCosignature.size)).where(
                    LogCosignature.witness == witness.verifier.name
                )
            )
            or 0
        )
    for _ in range(2):
        with database.session() as session:
            proof = store.consistency(session, old, size) if 0 < old < size else []
        request = urllib.request.Request(
            f"{witness.url}/add-checkpoint",
            data=request_body(old, proof, note),
            method="POST",
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                body = response.read(MAX_BODY).decode()
                return [line + "\n" for line in body.splitlines() if line]
        except urllib.error.HTTPError as exc:
            if exc.code != 409:
                raise ValueError(f"HTTP {exc.code}") from exc
            known = exc.read(64).decode().strip()
            if not known.isdigit() or int(known) > size:
                raise ValueError(
                    f"the witness knows a larger or unreadable size: {known!r}"
                ) from exc
            old = int(known)
    raise ValueError("the witness kept answering 409")
