"""The log as the register writes and serves it: leaves with their facts, checkpoints, tiles."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text, update

from registry.certificates.issuance import find_accreditation, issue
from registry.changes import DEVELOPMENT
from registry.log import checkpoints, leaves, store
from registry.log.checkpoints import LogCorrupted
from registry.log.models import LogCheckpoint, LogEntry, LogHash
from registry.pki.material import create_pki, get_document_signer, get_pki, log_key, publish_log
from registry.register.status import EventKind
from registry.web import current
from verifier import merkle, notes
from verifier.qr import decode_qr_payload

from .. import factories

NOW = datetime.now(UTC)


@pytest.fixture
def instance(app):
    create_pki(current.settings(app))
    return app


def decide_and_issue(app) -> tuple[str, int]:
    with current.database(app).transaction() as session:
        staff = factories.staff_pair(session)
        acc = factories.accreditation(session, items=2, valid_until=date(2090, 1, 1))
        factories.event(session, acc, EventKind.GRANTED, date(2024, 1, 15), staff=staff)
        cert = issue(
            session,
            find_accreditation(session, acc.number),
            get_document_signer(app),
            current.settings(app),
            actor=DEVELOPMENT,
        ).certificate
        return cert.number, cert.log_index


def test_each_public_fact_gets_its_leaf_in_the_same_transaction(instance):
    number, index = decide_and_issue(instance)
    with current.database(instance).session() as session:
        entries = session.scalars(select(LogEntry).order_by(LogEntry.index)).all()
        assert [e.kind for e in entries] == ["status.decided", "certificate.issued"]
        fact = leaves.decode(entries[1].data)
        assert fact["certificate"] == number and fact["v"] == 1
        assert entries[1].index == index
        cert_qr = session.execute(text("SELECT qr_url FROM certificate")).scalar_one()
    claims = decode_qr_payload(cert_qr, get_pki(instance).qr_jwks())
    assert claims.log_index == index, "the QR code names its leaf"
    assert leaves.encode(leaves.decode(entries[0].data) | {}) == entries[0].data, "deterministic"


def test_leaves_are_canonical_json():
    data = leaves.encode({"type": "x", "b": [1, None, True], "a": "ตะกั่ว \u2028\n"})
    expected = '{"a":"ตะกั่ว \u2028\\n","b":[1,null,true],"type":"x","v":1}'
    assert data == expected.encode()
    with pytest.raises(leaves.LeafError):
        leaves.encode({"type": "x", "f": 1.5})
    with pytest.raises(leaves.LeafError):
        leaves.encode({"type": "x", "n": 2**60})


def test_a_checkpoint_is_signed_after_commit_and_always_extends_the_last(instance):
    database = current.database(instance)
    decide_and_issue(instance)
    first = publish_log(current.settings(instance), database)
    assert first == 2
    # A crash between appending a leaf and signing: the leaf is committed, no checkpoint.
    decide_and_issue(instance)
    with database.session() as session:
        assert store.size(session) == 4
        assert checkpoints.latest(session).size == 2
    assert publish_log(current.settings(instance), database) == 4
    with database.session() as session:
        old, new = session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.size)).all()
        key = log_key(current.settings(instance), get_pki(instance))
        for checkpoint in (old, new):
            notes.verify_note(checkpoint.note, [key.verifier])
        merkle.verify_consistency(2, 4, old.root, new.root, store.consistency(session, 2, 4))
    assert publish_log(current.settings(instance), database) is None, "nothing new, nothing signed"


@pytest.mark.parametrize("tamper", ["entry", "leaf hash", "node", "delete"])
def test_the_log_refuses_to_sign_a_rewritten_tree(instance, tamper):
    database = current.database(instance)
    decide_and_issue(instance)
    publish_log(current.settings(instance), database)
    decide_and_issue(instance)
    with database.transaction() as session:
        if tamper == "entry":
            session.execute(update(LogEntry).where(LogEntry.index == 3).values(data=b'{"v":1}'))
        elif tamper == "leaf hash":  # a leaf not yet signed
            session.execute(
                update(LogHash).where(LogHash.level == 0, LogHash.index == 3).values(hash=bytes(32))
            )
        elif tamper == "node":  # a subtree over new leaves
            session.execute(
                update(LogHash).where(LogHash.level == 1, LogHash.index == 1).values(hash=bytes(32))
            )
        else:
            session.execute(text('DELETE FROM log_hash WHERE level = 1 AND "index" = 0'))
    key = log_key(current.settings(instance), get_pki(instance))
    with pytest.raises(LogCorrupted), database.transaction() as session:
        checkpoints.sign(session, key, NOW)
    with database.session() as session:
        assert checkpoints.latest(session).size == 2


def test_tiles_entries_and_proofs_over_http(instance):
    for _ in range(3):
        decide_and_issue(instance)
    publish_log(current.settings(instance), current.database(instance))
    client = instance.test_client()
    note = client.get("/log/checkpoint")
    assert note.status_code == 200 and note.mimetype == "text/plain"
    assert note.headers["Cache-Control"] == "public, max-age=5"
    vkey = client.get("/pki/log.vkey").get_data(as_text=True).strip()
    parsed, _ = notes.verify_note(note.get_data(as_text=True), [notes.Verifier.parse(vkey)])
    checkpoint = notes.Checkpoint.parse(parsed.text)
    assert checkpoint.size == 6

    tile = client.get("/log/tile/0/000.p/6")
    assert tile.status_code == 200 and len(tile.data) == 6 * 32
    assert client.get("/log/tile/0/000").status_code == 404, "no full tile yet"
    assert client.get("/log/tile/0/000.p/7").status_code == 404, "beyond the checkpoint"
    for bad in (
        "/log/tile/0/0.p/6",
        "/log/tile/0/000.p/06",
        "/log/tile/0/000.p/0",
        "/log/tile/64/000",
    ):
        assert client.get(bad).status_code == 404, bad
    bundle = list(merkle.read_bundle(client.get("/log/tile/entries/000.p/6").data))
    assert [merkle.leaf_hash(e) for e in bundle] == [
        tile.data[i : i + 32] for i in range(0, 192, 32)
    ]

    proof = client.get("/log/proof/inclusion?index=3&size=6").json
    merkle.verify_inclusion(
        merkle.leaf_hash(bundle[3]),
        3,
        6,
        [base64.b64decode(p) for p in proof["proof"]],
        checkpoint.root,
    )
    consistency = client.get("/log/proof/consistency?from=2&to=6").json
    assert consistency["from"] == 2 and len(consistency["proof"]) > 0
    for bad in (
        "/log/proof/inclusion?index=6&size=6",
        "/log/proof/inclusion?index=1&size=7",
        "/log/proof/inclusion?index=²&size=6",
        "/log/proof/consistency?from=5&to=2",
        "/log/proof/consistency?from=0&to=2",
        "/log/proof/consistency?to=2",
    ):
        response = client.get(bad)
        assert response.status_code == 400, bad
        assert response.json["error"]["code"] == "bad_proof_request"


def test_a_full_tile_is_immutable(instance):
    with current.database(instance).transaction() as session:
        store.append_many(
            session, ((f"test.{i}", f'{{"n":{i},"v":1}}'.encode(), NOW) for i in range(300))
        )
    publish_log(current.settings(instance), current.database(instance))
    client = instance.test_client()
    full = client.get("/log/tile/0/000")
    assert full.status_code == 200 and len(full.data) == 256 * 32
    assert full.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/log/tile/1/000.p/1").data == store_root_of_first_tile(instance)
    entries = client.get("/log/tile/entries/000")
    assert entries.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(list(merkle.read_bundle(entries.data))) == 256


def store_root_of_first_tile(app) -> bytes:
    with current.database(app).session() as session:
        return store.root(session, 256)
