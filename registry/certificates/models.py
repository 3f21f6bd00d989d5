"""Issued certificates and the immutable blobs that hold their PDFs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..db import Base, utcnow
from ..register.models import Accreditation


class Blob(Base):
    """Immutable content addressed by its SHA-256 (issued PDFs)."""

    __tablename__ = "blob"
    __table_args__ = (CheckConstraint("length(sha256) = 64", name="sha256_hex"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Certificate(Base):
    """One signed revision of an accreditation certificate. Never edited."""

    __tablename__ = "certificate"
    __table_args__ = (
        UniqueConstraint("accreditation_id", "revision"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_hex"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    accreditation_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[str] = mapped_column(String(60), unique=True)
    revision: Mapped[int] = mapped_column(Integer)
    #: The file as issued and signed. Verification binds to it for ever.
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"), unique=True)
    #: The copy the registry serves, after LTA refreshes (None: the original).
    served_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    #: SHA-256 of the signing certificate (DER), hex.
    signer_fingerprint: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    qr_url: Mapped[str | None] = mapped_column(Text)
    status_list_index: Mapped[int | None] = mapped_column(Integer, unique=True)
    #: Its ``certificate.issued`` leaf in the transparency log (also in its QR code).
    log_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)

    accreditation: Mapped[Accreditation] = relationship(foreign_keys=[accreditation_id])
    superseded_by: Mapped[Certificate | None] = relationship(remote_side=[id])

    @property
    def current_sha256(self) -> str:
        """The file to serve: the latest LTA-refreshed copy, or the original."""
        return self.served_sha256 or self.sha256


def revisions_of(session: Session, accreditation_id: int) -> list[Certificate]:
    """Every certificate revision of one accreditation, oldest first."""
    return list(
        session.scalars(
            select(Certificate)
            .where(Certificate.accreditation_id == accreditation_id)
            .order_by(Certificate.revision)
        )
    )
