"""Place: the province filter of search, and each body's sites with their addresses.

On SQLite and PostgreSQL; every API answer is validated against the OpenAPI document.
"""

from __future__ import annotations

from registry.register.status import EventKind
from registry.web import current

from .. import factories

WORD = "Zirconiumtest"


def granted(app, province: tuple[str, str]) -> tuple[int, str]:
    with current.database(app).transaction() as session:
        acc = factories.accreditation(
            session, province=province, scope={"parameter_en": WORD, "parameter_th": WORD}
        )
        staff = factories.staff_pair(session)
        factories.event(session, acc, EventKind.GRANTED, acc.valid_from, staff=staff)
        return acc.cab_id, acc.number


def test_search_filters_by_province_with_a_facet(get, app):
    _, north = granted(app, ("Chiang Mai", "เชียงใหม่"))
    _, east = granted(app, ("Chon Buri", "ชลบุรี"))
    every = get(f"/api/v1/search?q={WORD}").json
    assert {r["accreditation"] for r in every["results"]} == {north, east}
    facet = {f["value"]: (f["count"], f["label_th"]) for f in every["facets"]["province"]}
    assert facet == {"Chiang Mai": (1, "เชียงใหม่"), "Chon Buri": (1, "ชลบุรี")}

    only = get(f"/api/v1/search?q={WORD}&province=Chiang+Mai").json
    assert [r["accreditation"] for r in only["results"]] == [north]
    assert only["query"]["province"] == "Chiang Mai"
    chosen = {f["value"]: f["selected"] for f in only["facets"]["province"]}
    assert chosen["Chiang Mai"] and not chosen["Chon Buri"]  # the other stays visible
    # The parameter's first name still works.
    older = get(f"/api/v1/search?q={WORD}&place=Chon+Buri").json
    assert [r["accreditation"] for r in older["results"]] == [east]
    # A misspelt name is refused, naming the known ones.
    wrong = get(f"/api/v1/search?q={WORD}&provnce=Chon+Buri")
    assert wrong.status_code == 400
    assert "province" in wrong.json["error"]["detail"]


def test_the_search_page_offers_the_province_facet_in_both_languages(get, app):
    _, north = granted(app, ("Chiang Mai", "เชียงใหม่"))
    granted(app, ("Chon Buri", "ชลบุรี"))
    english = get(f"/search?q={WORD}&lang=en").get_data(as_text=True)
    assert "Province or country" in english
    assert "province=Chiang+Mai" in english and ">Chiang Mai<" in english
    thai = get(f"/search?q={WORD}&lang=th").get_data(as_text=True)
    assert ">เชียงใหม่<" in thai
    narrowed = get(f"/search?q={WORD}&province=Chiang+Mai").get_data(as_text=True)
    assert north in narrowed and 'name="province" value="Chiang Mai"' in narrowed


def test_record_pages_and_the_api_show_each_site_with_its_address(get, app):
    cab_id, number = granted(app, ("Chiang Mai", "เชียงใหม่"))
    record = get(f"/api/v1/accreditations/{number}").json  # validated against the document
    (site,) = record["sites"]
    assert site["address_en"] == "1 Rama IV Road, Bangkok 10110, Thailand"
    assert (site["province_en"], site["province_th"]) == ("Chiang Mai", "เชียงใหม่")
    assert get(f"/api/v1/cabs/{cab_id}").json["sites"] == record["sites"]
    for page in (f"/a/{number}", f"/cab/{cab_id}"):
        english = get(f"{page}?lang=en").get_data(as_text=True)
        assert "1 Rama IV Road, Bangkok 10110, Thailand" in english
        assert "Province: Chiang Mai" in english
        thai = get(f"{page}?lang=th").get_data(as_text=True)
        assert "เลขที่ 1 ถนนพระรามที่ 4" in thai and "จังหวัด: เชียงใหม่" in thai
