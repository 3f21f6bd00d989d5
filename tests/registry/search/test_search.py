"""Search: the same cases on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm).

Each test's bodies are rolled back at its end (the ``session`` fixture), so
counts are exact: a test sees only what it made.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry import version
from registry.acts.decisions import record
from registry.changes import ActorKind, AuditEntry
from registry.cli.ticks import tick
from registry.dates import local_date
from registry.db import Database
from registry.register.models import Accreditation, ScopeItem
from registry.register.programmes import Programme
from registry.register.status import PUBLIC_STATUSES, EventKind
from registry.search.index import reindex
from registry.search.models import SearchEntry
from registry.search.query import STATUS_RANK, SearchQuery, SearchRefused, search
from registry.search.text import clean_text

from .. import factories

NOW = datetime.now(UTC)
THAI_TOKENS = ["ซีโรคิว", "พลอยมณี", "ทองคำขาว", "ฟ้าครามใส", "ดาวเหนือ", "แม่น้ำใหญ่"]


def token() -> str:
    """A made-up Latin word no other test uses."""
    return "zq" + "".join(secrets.choice("bcdfghjkmnpqrstvwxz") for _ in range(6))


def body(
    session: Session,
    staff,
    *,
    name_en: str,
    name_th: str,
    product_en: str = "Fruit juice",
    product_th: str = "น้ำผลไม้",
    method: str = "AOAC 999.11",
    field_en: str = "Chemical testing",
    province: tuple[str, str] = ("Bangkok", "กรุงเทพมหานคร"),
    programme: Programme = Programme.TESTING,
    valid_until: date = date(2090, 1, 1),
) -> Accreditation:
    acc = factories.accreditation(
        session,
        items=1,
        programme=programme,
        valid_until=valid_until,
        name_en=name_en,
        name_th=name_th,
        province=province,
        scope={
            "field_en": field_en,
            "product_en": product_en,
            "product_th": product_th,
            "parameter_en": "Lead (Pb)",
            "parameter_th": "ตะกั่ว",
            "method": method,
        },
    )
    factories.event(session, acc, EventKind.GRANTED, date(2024, 1, 15), staff=staff)
    return acc


@pytest.fixture
def db(session: Session):
    return session, factories.staff_pair(session)


def numbers(session: Session, text: str, **filters) -> list[str]:
    result = search(session, SearchQuery(text=text, **filters), NOW)
    return [h.number for h in result.hits]


def test_thai_substrings_without_spaces_are_found(db):
    session, staff = db
    word = secrets.choice(THAI_TOKENS) + token()
    acc = body(session, staff, name_en=f"{token()} Lab", name_th=f"บริษัทแล็บ{word}ทดสอบ จำกัด")
    session.commit()
    assert acc.number in numbers(session, word[2:6])
    assert acc.number in numbers(session, word)
    assert acc.number in numbers(session, f"แล็บ{word}")


def test_english_substrings_ignore_case(db):
    session, staff = db
    word = token()
    acc = body(session, staff, name_en=f"{word.capitalize()}line Testing Co., Ltd.", name_th="x")
    session.commit()
    assert numbers(session, word.upper()[1:] + "LINE") == [acc.number]


def test_scope_products_and_methods_are_searchable_in_both_languages(db):
    session, staff = db
    word, thai = token(), secrets.choice(THAI_TOKENS)
    acc = body(
        session,
        staff,
        name_en="Plain Lab",
        name_th="แล็บ",
        product_en=f"Jasmine rice {word}",
        product_th=f"ข้าวหอมมะลิ{thai}{word}",
        method=f"TIS {word}-2569",
    )
    session.commit()
    assert acc.number in numbers(session, f"mine rice {word}")
    assert acc.number in numbers(session, f"หอมมะลิ{thai}")
    assert acc.number in numbers(session, f"{word}-2569")


def test_every_term_must_match(db):
    session, staff = db
    word = token()
    body(session, staff, name_en=f"{word} Lab", name_th="แล็บ")
    session.commit()
    assert numbers(session, f"{word} {token()}") == []


def test_the_exact_number_ranks_first(db):
    session, staff = db
    word = token()
    accs = [body(session, staff, name_en=f"{word} {k}", name_th="แล็บ") for k in range(3)]
    session.commit()
    assert numbers(session, accs[2].number.lower())[0] == accs[2].number


def test_name_matches_rank_above_scope_matches(db):
    session, staff = db
    word = token()
    in_scope = body(session, staff, name_en="Aaa Lab", name_th="ก", product_en=f"{word} oil")
    in_name = body(session, staff, name_en=f"Zzz {word} Lab", name_th="ข")
    session.commit()
    assert numbers(session, word) == [in_name.number, in_scope.number]


def test_facets_count_under_every_filter_but_their_own(db):
    session, staff = db
    word = token()
    a = body(session, staff, name_en=f"{word} A", name_th="ก", province=("Chon Buri", "ชลบุรี"))
    b = body(session, staff, name_en=f"{word} B", name_th="ข", field_en="Microbiological testing")
    body(session, staff, name_en=f"{word} C", name_th="ค", programme=Programme.CALIBRATION)
    officer, approver = staff
    record(
        session,
        b,
        EventKind.SUSPENDED,
        date(2025, 1, 1),
        proposed_by=officer,
        approved_by=approver,
        reason_en="test",
    )
    session.commit()
    result = search(session, SearchQuery(text=word), NOW)
    assert result.total == 3  # every status, by default
    status = {f.value: f.count for f in result.facets["status"]}
    assert status == {"valid": 2, "suspended": 1}
    programme = {f.value: f.count for f in result.facets["programme"]}
    assert programme == {"testing": 2, "calibration": 1}
    places = {f.value: (f.count, f.label_th) for f in result.facets["province"]}
    assert places["Chon Buri"] == (1, "ชลบุรี")

    valid = search(session, SearchQuery(text=word, status="valid"), NOW)
    assert valid.total == 2
    assert {f.value: f.count for f in valid.facets["status"]} == status
    only = search(session, SearchQuery(text=word, province="Chon Buri"), NOW)
    assert [h.number for h in only.hits] == [a.number]
    suspended = search(session, SearchQuery(text=word, status="suspended"), NOW)
    assert [h.number for h in suspended.hits] == [b.number]
    micro = search(
        session, SearchQuery(text=word, status="all", field="Microbiological testing"), NOW
    )
    assert [h.number for h in micro.hits] == [b.number]


def test_a_facet_value_holding_the_index_separators_is_still_its_own(db):
    """The index joins an entry's facets with control characters; a value may hold them."""
    session, staff = db
    word = token()
    odd = ("Chon\x1eBuri\x1fEast", "ชล\x1eบุรี")
    a = body(session, staff, name_en=f"{word} A", name_th="ก", province=odd)
    body(session, staff, name_en=f"{word} B", name_th="ข")
    session.commit()
    result = search(session, SearchQuery(text=word), NOW)
    places = {f.value: (f.count, f.label_th) for f in result.facets["province"]}
    assert places[odd[0]] == (1, odd[1])
    assert places["Bangkok"] == (1, "กรุงเทพมหานคร")
    only = search(session, SearchQuery(text=word, province=odd[0]), NOW)
    assert [h.number for h in only.hits] == [a.number]


def test_pages_split_the_results_without_overlap(db):
    session, staff = db
    word = token()
    for k in range(7):
        body(session, staff, name_en=f"{word} {k:02d}", name_th="แล็บ")
    session.commit()
    pages = [
        [h.number for h in search(session, SearchQuery(text=word, page=p, per_page=3), NOW).hits]
        for p in (1, 2, 3, 4)
    ]
    assert [len(p) for p in pages] == [3, 3, 1, 0]
    assert len({n for p in pages for n in p}) == 7


def test_a_decision_shows_in_the_next_search(db):
    session, staff = db
    word = token()
    acc = body(session, staff, name_en=f"{word} Lab", name_th="แล็บ")
    session.commit()
    assert numbers(session, word) == [acc.number]
    officer, approver = staff
    record(
        session,
        acc,
        EventKind.WITHDRAWN,
        local_date(NOW) - timedelta(days=1),
        proposed_by=officer,
        approved_by=approver,
        reason_en="test",
    )
    session.commit()
    assert numbers(session, word, status="valid") == []
    assert numbers(session, word) == [acc.number]
    assert numbers(session, word, status="withdrawn") == [acc.number]


def test_expiry_shows_without_any_decision(db):
    session, staff = db
    word = token()
    acc = body(session, staff, name_en=f"{word} Lab", name_th="แล็บ", valid_until=local_date(NOW))
    session.commit()
    assert numbers(session, word, status="valid") == [acc.number]
    later = NOW + timedelta(days=2)
    result = search(session, SearchQuery(text=word, status="expired"), later)
    assert [h.number for h in result.hits] == [acc.number]


def test_expiry_is_derived_on_read_and_stored_by_the_tick(db):
    session, staff = db
    word = token()
    acc = body(session, staff, name_en=f"{word} Lab", name_th="แล็บ", valid_until=local_date(NOW))
    session.commit()
    later = NOW + timedelta(days=2)
    before = version.current(session, later).number

    result = search(session, SearchQuery(text=word, status="all"), later)
    assert [(h.number, h.status) for h in result.hits] == [(acc.number, "expired")]
    assert {f.value: f.count for f in result.facets["status"]} == {"expired": 1}
    # The search only read: the stored entry and the version are as they were.
    session.expire_all()
    assert session.get(SearchEntry, acc.id).status == "valid"
    assert version.current(session, later).number == before
    assert not session.new and not session.dirty

    assert tick(Database.bound_to(session.get_bind()), later) == 1
    session.expire_all()
    assert session.get(SearchEntry, acc.id).status == "expired"
    assert version.current(session, later).number == before + 1
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "register.tick"))
    assert entry.actor_kind is ActorKind.SYSTEM
    assert tick(Database.bound_to(session.get_bind()), later) == 0  # nothing left to do


HOSTILE = [
    "'; DROP TABLE cab; --",
    '" OR 1=1 --',
    "NEAR(a b)",
    "lead*",
    "%",
    "_",
    "\\",
    "<script>alert(1)</script>",
    "a AND b OR NOT c",
    "\u0000\u202e",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_matches_literally(db, text):
    session, staff = db
    word = token()
    plain = body(session, staff, name_en=f"{word} Plain Lab", name_th="แล็บ")
    assert search(session, SearchQuery.from_args({"q": f"{word} {text}"}), NOW).total == 0
    odd = body(session, staff, name_en=f"{word} {clean_text(text)} Lab", name_th="แล็บ")
    session.commit()
    found = search(session, SearchQuery.from_args({"q": f"{word} {text}"}), NOW)
    assert [h.number for h in found.hits] == [odd.number]
    assert plain.number in numbers(session, word)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"q": "x" * 10_000}, "too long"),
        ({"status": "bogus"}, "unknown status"),
        ({"programme": "nope"}, "unknown programme"),
    ],
)
def test_out_of_bounds_queries_are_refused(args, message):
    with pytest.raises(SearchRefused, match=message):
        SearchQuery.from_args(args)


@pytest.mark.parametrize("page", [0, 10_001])
def test_a_page_out_of_bounds_is_refused(page):
    with pytest.raises(SearchRefused, match="page"):
        SearchQuery.from_args({}, page)


def test_hostile_input_over_http(client):
    cases = [
        "/?q=%27%3B+DROP+TABLE+cab%3B+--",
        "/?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/?q=%ff%fe%fd",
        "/?q=" + "x" * 10_000,
        "/?status=%00",
        "/?field=%3Cimg+src%3Dx%3E&place=%27",
    ]
    for url in cases:
        response = client.get(url)
        assert response.status_code in (200, 400), url
        assert b"Traceback" not in response.data
        assert b"<script>alert" not in response.data
        assert b"<img src=x>" not in response.data
    assert client.get(cases[3]).status_code == 400
    json = client.get("/api/v1/search?q=" + "x" * 10_000).json
    assert json["error"]["code"] == "bad_request"
    assert "too long" in json["error"]["detail"]


def test_the_index_stays_whole_after_reindexing_everything(db):
    session, staff = db
    word = token()
    acc = body(session, staff, name_en=f"{word} Lab", name_th="แล็บ")
    session.commit()
    reindex(session, NOW, version.bump(session, NOW))
    session.commit()
    assert numbers(session, word) == [acc.number]


# -- Thai as it is written, stop words, suggestions ----------------------------


def catalogue_body(session: Session, staff, **names: str) -> Accreditation:
    """A body tested for lead in milled rice, as the scope catalogue words it."""
    return body(
        session,
        staff,
        product_en="Milled rice",
        product_th="ข้าวสาร",
        **{"name_en": f"{token()} Lab", "name_th": "ห้องปฏิบัติการทดสอบ", **names},
    )


@pytest.mark.parametrize(
    ("written", "spaced"),
    [
        ("ตะกั่วในข้าว", "ตะกั่ว ข้าว"),
        ("ตะกั่วและข้าวสาร", "ตะกั่ว ข้าวสาร"),
        ("ข้าวที่มีตะกั่ว", "ข้าว ตะกั่ว"),
        ("ห้องปฏิบัติการกรุงเทพมหานคร", "ห้องปฏิบัติการ กรุงเทพมหานคร"),
    ],
)
def test_thai_without_spaces_finds_what_its_spaced_form_finds(db, written, spaced):
    session, staff = db
    acc = catalogue_body(session, staff)
    session.commit()
    assert numbers(session, spaced) == [acc.number]
    assert numbers(session, written) == [acc.number]
    result = search(session, SearchQuery(text=written), NOW)
    assert not set(result.terms) & {"ใน", "และ", "ที่", "มี"}


def test_mixed_thai_and_english(db):
    session, staff = db
    acc = catalogue_body(session, staff)
    session.commit()
    assert numbers(session, "ตะกั่ว rice") == [acc.number]
    assert numbers(session, "lead in rice") == [acc.number]
    assert numbers(session, "ตะกั่วในrice") == [acc.number]


def test_english_stop_words_are_dropped_unless_they_are_all_there_is(db):
    session, staff = db
    word = token()
    acc = body(session, staff, name_en=f"{word} Lab", name_th="แล็บ")
    session.commit()
    assert numbers(session, f"the {word} of") == [acc.number]
    assert SearchQuery(text="the of").terms() == ["the", "of"]


def test_a_query_that_finds_nothing_suggests_the_registers_own_words(db):
    session, staff = db
    word = token()
    body(session, staff, name_en=f"{word}ium Lab", name_th="แล็บ", product_th="ทุเรียนสด")
    session.commit()
    typo = f"{word}iun"
    result = search(session, SearchQuery(text=typo), NOW)
    assert result.total == 0
    assert f"{word}ium" in result.suggestions
    assert result.as_json()["suggestions"] == list(result.suggestions)
    thai = search(session, SearchQuery(text="ทุเรียนสถ"), NOW)
    assert thai.total == 0 and "ทุเรียนสด" in thai.suggestions
    assert search(session, SearchQuery(text=word), NOW).suggestions == ()


def test_every_status_is_found_and_valid_ones_come_first(db):
    session, staff = db
    officer, approver = staff
    word = token()
    made = {}
    for kind, name in [
        (EventKind.WITHDRAWN, "Aaa"),
        (EventKind.SUSPENDED, "Bbb"),
        (None, "Ccc"),
        (None, "Ddd"),
    ]:
        acc = body(session, staff, name_en=f"{name} {word} Lab", name_th="แล็บ")
        if kind is not None:
            record(
                session,
                acc,
                kind,
                date(2025, 1, 1),
                proposed_by=officer,
                approved_by=approver,
                reason_en="test",
            )
        made[name] = acc.number
    expired = body(session, staff, name_en=f"Aab {word}", name_th="ก", valid_until=date(2025, 1, 1))
    session.commit()
    result = search(session, SearchQuery.from_args({"q": word, "status": ""}), NOW)
    assert result.query.status == "all"
    assert [(h.number, h.status) for h in result.hits] == [
        (made["Ccc"], "valid"),
        (made["Ddd"], "valid"),
        (made["Bbb"], "suspended"),
        (expired.number, "expired"),
        (made["Aaa"], "withdrawn"),
    ]
    narrowed = search(session, SearchQuery(text=word, status="suspended"), NOW)
    assert [h.number for h in narrowed.hits] == [made["Bbb"]]


def test_every_public_status_has_a_rank():
    assert sorted(STATUS_RANK) == sorted(s.value for s in PUBLIC_STATUSES)


# -- why it matched, and the Thai order -----------------------------------------


def test_each_hit_carries_its_matching_scope_lines(db):
    session, staff = db
    acc = catalogue_body(session, staff)
    session.commit()
    [before] = search(session, SearchQuery(text="rice nitrate"), NOW).hits or [None]
    assert before is None  # no nitrate yet; the hit's lines are now read and kept
    assert search(session, SearchQuery(text="rice"), NOW).hits[0].lines
    acc.scope_items.append(
        ScopeItem(
            site=acc.scope_items[0].site,
            field_en="Chemical testing",
            field_th="การทดสอบทางเคมี",
            product_en="Drinking water",
            product_th="น้ำดื่ม",
            parameter_en="Nitrate",
            parameter_th="ไนเตรต",
            method="APHA 4500",
        )
    )
    session.flush()
    reindex(session, NOW, version.bump(session, NOW), [acc.id])
    session.commit()
    result = search(session, SearchQuery(text="ตะกั่วในข้าว"), NOW)
    [hit] = result.hits
    assert result.terms == ("ตะกั่ว", "ข้าว")
    assert [(line.product_th, line.parameter_th) for line in hit.lines] == [("ข้าวสาร", "ตะกั่ว")]
    assert hit.scope_terms == ("ตะกั่ว", "ข้าว")
    [row] = result.as_json()["results"]
    assert row["matches"][0]["method"] == "AOAC 999.11"
    assert row["scope_filter"] == "ตะกั่ว ข้าว"
    # A term only the name holds matches no line and is left out of the filter.
    word = acc.cab.name_en.split()[0]
    [by_name] = search(session, SearchQuery(text=f"{word} rice"), NOW).hits
    assert by_name.scope_terms == ("rice",)
    # The kept lines follow the register: the item added above is there.
    [both] = search(session, SearchQuery(text="ข้าวสาร nitrate"), NOW).hits
    assert sorted(line.parameter_en for line in both.lines) == ["Lead (Pb)", "Nitrate"]


def test_thai_readers_get_hits_in_thai_dictionary_order(db):
    session, staff = db
    word = token()
    # English order A, B, C; Thai order ก (เกษตร: its leading vowel is not sorted on), ข, ร.
    a = body(session, staff, name_en=f"Aaa {word}", name_th="โรงงานทดสอบ")
    b = body(session, staff, name_en=f"Bbb {word}", name_th="เกษตรทดสอบ")
    c = body(session, staff, name_en=f"Ccc {word}", name_th="ขอนแก่นทดสอบ")
    session.commit()
    assert numbers(session, word) == [a.number, b.number, c.number]
    thai = search(session, SearchQuery(text=word), NOW, thai_order=True)
    assert [h.number for h in thai.hits] == [b.number, c.number, a.number]
    paged = [
        search(session, SearchQuery(text=word, page=p, per_page=1), NOW, thai_order=True).hits
        for p in (1, 2, 3)
    ]
    assert [h.number for page in paged for h in page] == [b.number, c.number, a.number]
