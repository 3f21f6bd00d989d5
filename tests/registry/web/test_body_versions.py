"""A body's record and QR pages are kept across changes to other bodies, never past their own.

Keyed on the whole register's version, every record page was rendered again
after any change anywhere; under the soak's change a second that alone put
the QR page's p99 at 205 ms (issue 16). Each page is now keyed on its body's
version (``version.of_body``). What must never happen is the other side: a
page kept past a change to its own body, or past the checkpoint that gives
one of its leaves an inclusion proof.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask, template_rendered

from registry.certificates.issuance import find_accreditation
from registry.pki.material import publish_log
from registry.register.status import EventKind
from registry.web import current
from registry.web.caching import EXTENSION

from ...documents import demo_instance, issue_certificates, valid_numbers
from ..factories import decide

JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    app = demo_instance(tmp_path_factory.mktemp("bodies"), 6)
    (issued,) = issue_certificates(app, 1)
    with current.database(app).session() as session:
        mine = issued.certificate.accreditation_id
        cab = find_accreditation(session, issued.certificate.number.split("/")[0]).cab_id
        other = next(n for n in valid_numbers(app) if find_accreditation(session, n).cab_id != cab)
    app.config.update(
        certificate=issued.certificate.number,
        accreditation=issued.certificate.number.split("/")[0],
        qr=urlsplit(issued.certificate.qr_url).path,
        other=other,
        mine=mine,
        cab=cab,
    )
    return app


def pages(app: Flask) -> list[str]:
    return [
        f"/c/{app.config['certificate']}",
        app.config["qr"],
        f"/a/{app.config['accreditation']}",
        f"/cab/{app.config['cab']}",
    ]


def etags(app: Flask) -> dict[str, str]:
    client = app.test_client()
    found = {}
    for path in pages(app):
        answer = client.get(path, headers=JSON)
        assert answer.status_code == 200, path
        found[path] = answer.headers["ETag"]
    return found


def test_a_change_to_another_body_keeps_the_pages_and_their_etags(app: Flask) -> None:
    first = etags(app)
    assert etags(app) == first  # the first answer already has the ETag of the kept copy
    decide(app, app.config["other"], EventKind.SUSPENDED, reason="Another body")
    publish_log(current.settings(app), current.database(app))
    assert etags(app) == first
    # A conditional request is answered 304 from the kept copy.
    client = app.test_client()
    for path, etag in first.items():
        assert client.get(path, headers={**JSON, "If-None-Match": etag}).status_code == 304
    decide(app, app.config["other"], EventKind.REINSTATED, reason="Back")


def test_a_change_to_the_body_itself_is_shown_at_once(app: Flask) -> None:
    before = etags(app)
    client = app.test_client()
    current_word = client.get(app.config["qr"], headers=JSON).get_json()["status"]
    decide(app, app.config["accreditation"], EventKind.SUSPENDED, reason="This body")
    after = etags(app)
    assert all(after[p] != before[p] for p in pages(app))
    old = client.get(pages(app)[0], headers={**JSON, "If-None-Match": before[pages(app)[0]]})
    assert old.status_code == 200
    record = client.get(f"/a/{app.config['accreditation']}", headers=JSON).get_json()
    assert record["accreditation"]["status"] == "suspended"
    assert client.get(app.config["qr"], headers=JSON).get_json()["status"] != current_word
    # The decision's leaf is not in a signed checkpoint yet: no proof link, until there is.
    newest = record["history"][0]
    assert newest["log_index"] is not None and newest["log_proof"] is None
    publish_log(current.settings(app), current.database(app))
    record = client.get(f"/a/{app.config['accreditation']}", headers=JSON).get_json()
    assert record["history"][0]["log_proof"] is not None
    assert etags(app) != after
    decide(app, app.config["accreditation"], EventKind.REINSTATED, reason="Back")
    assert client.get(app.config["qr"], headers=JSON).get_json()["status"] == current_word


def test_search_pages_are_kept_per_register_version_behind_the_limiter(app: Flask) -> None:
    """Search is kept inside Flask, after the rate limiter, and moves with every change."""
    client = app.test_client()
    cache = app.extensions[EXTENSION].cache
    first = client.get("/search?q=rice", headers=JSON)
    assert first.status_code == 200 and "/search" in cache
    again = client.get("/search?q=rice", headers=JSON)
    assert again.headers["ETag"] == first.headers["ETag"] and again.data == first.data
    assert "X-RateLimit-Remaining" in again.headers  # counted like any other search
    decide(app, app.config["other"], EventKind.SUSPENDED, reason="Another body")
    assert client.get("/search?q=rice", headers=JSON).headers["ETag"] != first.headers["ETag"]
    decide(app, app.config["other"], EventKind.REINSTATED, reason="Back")


def test_a_search_page_is_not_rendered_again_while_its_results_stay_the_same(app: Flask) -> None:
    rendered: list[str] = []

    def note(sender: Flask, template: object, context: object, **extra: object) -> None:
        rendered.append(getattr(template, "name", ""))

    template_rendered.connect(note, app)
    try:
        client = app.test_client()
        nothing, everything = "/search?q=nothingholdsthisword", "/search?q="
        first = client.get(nothing)
        assert first.status_code == 200 and client.get(everything).status_code == 200
        assert rendered.count("search.html") == 2
        decide(app, app.config["other"], EventKind.SUSPENDED, reason="Another body")
        again = client.get(nothing)
        assert again.headers["ETag"] != first.headers["ETag"]  # a new register version
        assert again.data == first.data and rendered.count("search.html") == 2
        # Every body is listed with its status, so the suspension shows: rendered again.
        assert client.get(everything).status_code == 200
        assert rendered.count("search.html") == 3
    finally:
        template_rendered.disconnect(note, app)
        decide(app, app.config["other"], EventKind.REINSTATED, reason="Back")
