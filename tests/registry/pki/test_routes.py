"""/pki: certificates, CRLs, OCSP and the TSA over HTTP, checked with real clients."""

from __future__ import annotations

import base64
import hashlib
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from asn1crypto import core, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from flask import Flask
from werkzeug.serving import make_server

from keys.errors import PkiError
from keys.signing import sign_pdf
from keys.tsa import AgencyTimeStamper
from registry.app import create_app
from registry.pki.material import create_pki, get_document_signer, get_pki
from registry.web import current

from ...documents import blank_pdf
from ...keys.validation import pdfsig


@pytest.fixture
def pki_app(make_app, make_database_url) -> Flask:
    app = make_app(DATABASE_URL=make_database_url("sqlite"))
    create_pki(current.settings(app))
    return app


@pytest.fixture
def live_server(make_database_url, tmp_path) -> Iterator[tuple[Flask, str]]:
    """The real app on a free loopback port, with PUBLIC_URL pointing at it."""
    server = make_server("127.0.0.1", 0, Flask(__name__))
    port = server.server_port
    server.server_close()
    url = f"http://127.0.0.1:{port}"
    app = create_app(
        {
            "INSTANCE": str(tmp_path / "live"),
            "PUBLIC_URL": url,
            "DATABASE_URL": make_database_url("sqlite"),
        }
    )
    create_pki(current.settings(app))
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, url
    server.shutdown()


def ocsp_request(cert: x509.Certificate, issuer: x509.Certificate, nonce: bytes | None = None):
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256())
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize("name", ["root", "issuing", "tsa", "ocsp"])
def test_ca_certificates_are_served(pki_app, name):
    response = pki_app.test_client().get(f"/pki/{name}.crt")
    assert response.status_code == 200
    assert response.mimetype == "application/pkix-cert"
    cert = x509.load_der_x509_certificate(response.data)
    assert cert == getattr(get_pki(pki_app), name)


def test_crls_are_signed_by_their_ca_and_list_revocations(pki_app):
    client = pki_app.test_client()
    pki = get_pki(pki_app)
    for name, ca in (("root", pki.root), ("issuing", pki.issuing)):
        response = client.get(f"/pki/{name}.crl")
        assert response.mimetype == "application/pkix-crl"
        crl = x509.load_der_x509_crl(response.data)
        assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
        assert crl.next_update_utc > datetime.now(UTC)
    serial = pki.current_signer
    pki.revoke(serial, "key_compromise", datetime.now(UTC))
    crl = x509.load_der_x509_crl(client.get("/pki/issuing.crl").data)
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is (
        x509.ReasonFlags.key_compromise
    )


def test_ocsp_answers_good_revoked_and_unknown(pki_app):
    client = pki_app.test_client()
    pki = get_pki(pki_app)
    nonce = b"0123456789abcdef"
    body = ocsp_request(pki.signing_cert, pki.issuing, nonce)
    response = client.post(
        "/pki/ocsp", data=body, headers={"Content-Type": "application/ocsp-request"}
    )
    assert response.mimetype == "application/ocsp-response"
    answer = ocsp.load_der_ocsp_response(response.data)
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce
    responder = pki.ocsp
    responder.public_key().verify(  # type: ignore[union-attr]
        answer.signature,
        answer.tbs_response_bytes,
        *(
            (
                __import__(
                    "cryptography.hazmat.primitives.asymmetric.ec", fromlist=["ECDSA"]
                ).ECDSA(hashes.SHA256()),
            )
        ),
    )
    pki.revoke(pki.current_signer, "superseded", datetime.now(UTC))
    encoded = base64.b64encode(ocsp_request(pki.signing_cert, pki.issuing)).decode()
    revoked = ocsp.load_der_ocsp_response(client.get(f"/pki/ocsp/{encoded}").data)
    assert revoked.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_reason is x509.ReasonFlags.superseded


@pytest.mark.parametrize("body", [b"", b"garbage", b"\x30\x03\x02\x01\x01", b"A" * 20000])
def test_malformed_ocsp_requests_get_an_error_status_not_a_crash(pki_app, body):
    response = pki_app.test_client().post("/pki/ocsp", data=body)
    if len(body) > 16 * 1024:
        assert response.status_code == 413
        return
    assert response.status_code == 200
    answer = ocsp.load_der_ocsp_response(response.data)
    assert answer.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def reworked(der: bytes, **changes: object) -> bytes:
    """A request built by cryptography, then changed where its builder refuses to go."""
    request = asn1_ocsp.OCSPRequest.load(der)
    tbs = request["tbs_request"]
    cert_id = tbs["request_list"][0]["req_cert"]
    if "algorithm" in changes:
        name = str(changes["algorithm"])
        cert_id["hash_algorithm"]["algorithm"] = name
        cert_id["issuer_name_hash"] = _digest(name, changes["issuer_name"])
        cert_id["issuer_key_hash"] = _digest(name, changes["issuer_key"])
    if "serial" in changes:
        cert_id["serial_number"] = changes["serial"]
    if "nonce" in changes:
        tbs["request_extensions"][0]["extn_value"] = core.ParsableOctetString(
            changes["nonce"]  # type: ignore[arg-type]
        )
    if changes.get("twice"):
        tbs["request_list"] = [tbs["request_list"][0], tbs["request_list"][0]]
    if changes.get("two_nonces"):
        extension = tbs["request_extensions"][0]
        tbs["request_extensions"] = [extension, extension]
    der = request.dump(force=True)
    return der


def _digest(name: str, data: object) -> bytes:
    """The CertID hash a client would send; an unknown OID's stands in as SHA-256."""
    known = name.replace("sha3_", "sha3-") if name.startswith("sha3") else name
    return hashlib.new(known if "." not in name else "sha256", data).digest()  # type: ignore[arg-type]


def issuer_parts(issuer: x509.Certificate) -> dict[str, bytes]:
    key = issuer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    bits = asn1_keys.PublicKeyInfo.load(key)["public_key"].native
    return {"issuer_name": issuer.subject.public_bytes(), "issuer_key": bits}


def posted_ocsp(app: Flask, body: bytes) -> ocsp.OCSPResponse:
    response = app.test_client().post(
        "/pki/ocsp", data=body, headers={"Content-Type": "application/ocsp-request"}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/ocsp-response"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return ocsp.load_der_ocsp_response(response.data)


@pytest.mark.parametrize("algorithm", ["md5", "sha3_256", "sha3_512", "1.2.3.4"])
def test_a_cert_id_hashed_with_an_algorithm_we_refuse_is_unauthorized(pki_app, algorithm):
    pki = get_pki(pki_app)
    der = ocsp_request(pki.signing_cert, pki.issuing, b"n" * 16)
    body = reworked(der, algorithm=algorithm, **issuer_parts(pki.issuing))
    answer = posted_ocsp(pki_app, body)
    assert answer.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


@pytest.mark.parametrize(
    "changes",
    [
        {"serial": -5},
        {"serial": 0},
        {"nonce": core.OctetString(b"x" * 64).dump()},
        {"nonce": b"\x04\x00"},
        {"two_nonces": True},
        {"twice": True},
    ],
    ids=["negative-serial", "zero-serial", "long-nonce", "empty-nonce", "two-nonces", "two"],
)
def test_a_malformed_request_gets_malformed_request(pki_app, changes):
    pki = get_pki(pki_app)
    body = reworked(ocsp_request(pki.signing_cert, pki.issuing, b"n" * 16), **changes)
    answer = posted_ocsp(pki_app, body)
    assert answer.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


@pytest.mark.parametrize("encoded", ["", "%%%", "AAAA", "not-base64!", "MA=="])
def test_a_malformed_get_request_gets_an_ocsp_error(pki_app, encoded):
    response = pki_app.test_client().get(f"/pki/ocsp/{encoded}")
    if not encoded:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert response.mimetype == "application/ocsp-response"
    answer = ocsp.load_der_ocsp_response(response.data)
    assert answer.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_ocsp_refuses_certificates_of_another_issuer(pki_app, make_pki):
    other = make_pki()
    body = ocsp_request(other.signing_cert, other.issuing)
    answer = ocsp.load_der_ocsp_response(pki_app.test_client().post("/pki/ocsp", data=body).data)
    assert answer.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_tsa_issues_rfc3161_tokens(pki_app):
    digest = hashlib.sha256(b"document").digest()
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": 424242,
            "cert_req": True,
        }
    )
    response = pki_app.test_client().post(
        "/pki/tsa", data=request.dump(), headers={"Content-Type": "application/timestamp-query"}
    )
    assert response.mimetype == "application/timestamp-reply"
    reply = tsp.TimeStampResp.load(response.data)
    assert reply["status"]["status"].native == "granted"
    signed = reply["time_stamp_token"]["content"]
    info = signed["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == digest
    assert info["nonce"].native == 424242
    assert abs(info["gen_time"].native - datetime.now(UTC)).total_seconds() < 60
    signer_info = signed["signer_infos"][0]
    attrs = {a["type"].native for a in signer_info["signed_attrs"]}
    assert "signing_certificate_v2" in attrs


def tsa_request(**fields: object) -> bytes:
    values = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": "sha256"},
            "hashed_message": hashlib.sha256(b"document").digest(),
        },
        "cert_req": True,
        **fields,
    }
    return tsp.TimeStampReq(values).dump()


def tsa_status(data: bytes) -> tsp.PKIStatusInfo:
    return tsp.PKIStatusInfo.load(core.Sequence.load(data)[0].dump())


def test_tsa_grants_its_own_policy_only(pki_app):
    own = get_pki(pki_app).config.tsa_policy_oid
    client = pki_app.test_client()
    granted = tsp.TimeStampResp.load(client.post("/pki/tsa", data=tsa_request(req_policy=own)).data)
    assert granted["status"]["status"].native == "granted"
    info = granted["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["policy"].dotted == own
    response = client.post("/pki/tsa", data=tsa_request(req_policy="1.3.6.1.4.1.99999.1"))
    assert response.mimetype == "application/timestamp-reply"
    status = tsa_status(response.data)
    assert status["status"].native == "rejection"
    assert status["fail_info"].native == {"unaccepted_policy"}
    assert own in status["status_string"].native[0]


def test_tsa_refuses_request_extensions(pki_app):
    extensions = [{"extn_id": "1.3.6.1.4.1.99999.2", "critical": False, "extn_value": b"\x05\x00"}]
    data = pki_app.test_client().post("/pki/tsa", data=tsa_request(extensions=extensions)).data
    assert tsa_status(data)["fail_info"].native == {"unaccepted_extensions"}


def test_a_token_never_names_a_foreign_policy(pki_app):
    stamper = AgencyTimeStamper(get_pki(pki_app))
    imprint = tsp.TimeStampReq.load(tsa_request())["message_imprint"]
    with pytest.raises(PkiError, match="policy"):
        stamper.token(imprint, None, "1.3.6.1.4.1.99999.1", datetime.now(UTC))


@pytest.mark.parametrize(
    ("public", "address", "code"),
    [
        ("true", "203.0.113.7", 200),
        ("false", "203.0.113.7", 403),
        ("false", "127.0.0.1", 200),
        ("false", "::1", 200),
    ],
)
def test_an_internal_tsa_answers_loopback_callers_only(
    make_app, make_database_url, public, address, code
):
    app = make_app(DATABASE_URL=make_database_url("sqlite"), TSA_PUBLIC=public)
    create_pki(current.settings(app))
    response = app.test_client().post(
        "/pki/tsa",
        data=tsa_request(),
        environ_overrides={"REMOTE_ADDR": address},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == code
    if code == 403:
        assert response.json["error"]["code"] == "tsa_not_public"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    else:
        assert tsp.TimeStampResp.load(response.data)["status"]["status"].native == "granted"


def test_the_tsa_is_rate_limited(make_app, make_database_url):
    app = make_app(DATABASE_URL=make_database_url("sqlite"), TSA_RATE_LIMIT="3 per minute")
    create_pki(current.settings(app))
    client = app.test_client()
    address = {"REMOTE_ADDR": "198.51.100.16"}
    codes = [
        client.post("/pki/tsa", data=tsa_request(), environ_overrides=address).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    limited = client.post("/pki/tsa", data=tsa_request(), environ_overrides=address)
    assert int(limited.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("body", [b"", b"junk", b"\x30\x00"])
def test_tsa_rejects_malformed_requests(pki_app, body):
    data = pki_app.test_client().post("/pki/tsa", data=body).data
    # A rejection carries a status and no token (RFC 3161 section 2.4.2).
    status = tsp.PKIStatusInfo.load(core.Sequence.load(data)[0].dump())
    assert status["status"].native == "rejection"
    assert status["status_string"].native


def test_pdfsig_checks_revocation_live_against_our_ocsp(live_server, tmp_path):
    app, _ = live_server
    pki = get_pki(app)
    signed = sign_pdf(blank_pdf(), get_document_signer(app))
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    output = pdfsig(path, pki.root, tmp_path / "nss", ocsp=True)
    approval = output.split("Signature #2")[0]
    assert "Signature is Valid." in approval
    assert "Certificate is Trusted." in approval
    pki.revoke(pki.current_signer, "key_compromise", datetime.now(UTC))
    output = pdfsig(path, pki.root, tmp_path / "nss", ocsp=True)
    assert "Certificate has been Revoked." in output.split("Signature #2")[0]


def test_mutated_ocsp_requests_always_get_an_ocsp_response(pki_app):
    """Bytes flipped at random in a real request: every answer parses, none is internalError."""
    pki = get_pki(pki_app)
    der = ocsp_request(pki.signing_cert, pki.issuing, b"n" * 16)
    rnd = random.Random(16)
    client = pki_app.test_client()
    for _ in range(300):
        body = bytearray(der)
        for _ in range(rnd.randint(1, 4)):
            body[rnd.randrange(len(body))] = rnd.randrange(256)
        response = client.post("/pki/ocsp", data=bytes(body))
        assert response.status_code == 200
        answer = ocsp.load_der_ocsp_response(response.data)
        assert answer.response_status is not ocsp.OCSPResponseStatus.INTERNAL_ERROR
