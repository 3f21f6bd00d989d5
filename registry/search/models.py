"""What search reads: one denormalised entry per accreditation, its facets, its words."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..register import models as _register  # noqa: F401  (the tables these rows point at)


class SearchEntry(Base):
    """What search reads: one row per accreditation, denormalised.

    ``body`` is the folded text that search matches: names, numbers and the
    distinct products, tests and methods of the scope; its words go to
    ``search_word``. ``status`` is stored so that it can be filtered and
    counted, and re-derived on ``recheck_on``, the next day it could change
    without any decision (expiry, end of a suspension, an event that takes
    effect later). ``version`` is the register version that wrote the row, so
    a search process can pick up just the rows changed since it last looked.
    """

    __tablename__ = "search_entry"

    accreditation_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation.id", ondelete="CASCADE"), primary_key=True
    )
    cab_id: Mapped[int] = mapped_column(ForeignKey("cab.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(300))
    name_th: Mapped[str] = mapped_column(String(300))
    programme: Mapped[str] = mapped_column(String(32), index=True)
    standard: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(32), index=True)
    valid_until: Mapped[date] = mapped_column(Date)
    recheck_on: Mapped[date | None] = mapped_column(Date, index=True)
    places_en: Mapped[str] = mapped_column(String(500))
    places_th: Mapped[str] = mapped_column(String(500))
    #: Folded (lower-case) names: ranks a name match above a scope match.
    names: Mapped[str] = mapped_column(String(700))
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, index=True)


class SearchFacet(Base):
    """Multi-valued facets of a search entry: its fields and its places."""

    __tablename__ = "search_facet"

    accreditation_id: Mapped[int] = mapped_column(
        ForeignKey("search_entry.accreditation_id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    label_th: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_search_facet_lookup", "facet", "value", "accreditation_id"),)


class SearchWord(Base):
    """Every distinct word of every entry's body: what the trigram indexes cover.

    SQLite indexes it with the FTS5 table ``search_word_fts`` (trigram
    tokenizer), PostgreSQL with the ``pg_trgm`` GIN index ``ix_search_word_trgm``;
    both are made by migration 0003. Words are never deleted: a word no entry
    uses any more simply matches nothing.
    """

    __tablename__ = "search_word"

    word: Mapped[str] = mapped_column(String(300), primary_key=True)


#: Backend-specific search structures made by migration 0003, not by the models.
SEARCH_INDEX_OBJECTS = ("search_word_fts", "ix_search_word_trgm")
