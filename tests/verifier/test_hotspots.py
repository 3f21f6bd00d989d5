"""The faster replacements in ``verifier.hotspots`` give exactly the originals' answers."""

from __future__ import annotations

from io import BytesIO

from asn1crypto.x509 import Name
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic

import verifier.policy  # noqa: F401  (installs the replacements, as every verifier does)
from verifier import hotspots

HEX_BYTES = st.sampled_from(list(b"0123456789abcdefABCDEF \n\r\t\f\x00"))
ODD_BYTES = st.sampled_from(list(b"%<>()/gZ\xff\n") + list(range(256)))


def _outcome(read, data: bytes) -> tuple[object, int]:
    stream = BytesIO(data)
    try:
        result: object = read(stream)
        result = (type(result).__name__, bytes(result.original_bytes))
    except Exception as exc:
        result = type(exc).__name__
    return result, stream.tell()


@settings(max_examples=400, deadline=None)
@given(
    body=st.lists(st.one_of(HEX_BYTES, HEX_BYTES, HEX_BYTES, ODD_BYTES), max_size=300).map(bytes),
    close=st.booleans(),
    tail=st.binary(max_size=20),
)
def test_hex_strings_read_as_pyhanko_reads_them(body: bytes, close: bool, tail: bytes) -> None:
    data = b"<" + body + (b">" if close else b"") + tail
    assert _outcome(hotspots.read_hex_string, data) == _outcome(hotspots._original_hex, data)


def test_a_long_signature_contents_string() -> None:
    data = b"<" + b"3082" * 20_000 + b"0" * 70_000 + b"\n>/Type/Sig"
    fast = _outcome(hotspots.read_hex_string, data)
    assert fast == _outcome(hotspots._original_hex, data)
    assert generic.read_hex_string_from_stream is hotspots.read_hex_string  # installed


NAME_TEXT = st.text(
    alphabet=st.sampled_from(list("aAbB zZ  \t\u00a0\u200bกขค-.'\u0301\ufb01\u2163\x00\ue000")),
    max_size=12,
)


def _prep(function, value: str) -> object:
    try:
        return function(None, value)
    except ValueError as exc:
        return ("ValueError", str(exc))


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(NAME_TEXT, st.text(max_size=12)))
def test_string_preparation_is_unchanged(value: str) -> None:
    assert _prep(hotspots._ldap_string_prep, value) == _prep(hotspots._original_prep, value)


def _name(common: str, organisation: str) -> Name:
    return Name.build({"common_name": common, "organization_name": organisation})


def _compare(first: Name, second: Name, how) -> object:
    try:
        return how(first, second)
    except ValueError:
        return "ValueError"


@settings(max_examples=300, deadline=None)
@given(a=NAME_TEXT, b=NAME_TEXT, c=NAME_TEXT, d=NAME_TEXT)
def test_name_equality_and_keys_are_unchanged(a: str, b: str, c: str, d: str) -> None:
    pairs = [(_name(a, b), _name(c, d)), (_name(a, b), _name(a.upper(), b)), (_name(a, b),) * 2]
    for first, second in pairs:
        for _ in range(2):  # the second time answers from the memo
            assert _compare(first, second, lambda x, y: x == y) == _compare(
                first, second, lambda x, y: hotspots._original_name_eq(x.chosen, y.chosen)
            )
            assert _compare(first, second, lambda x, y: x.hashable) == _compare(
                first, second, lambda x, y: hotspots._original_hashable(x.chosen)
            )


def test_caches_stay_bounded() -> None:
    for i in range(hotspots.NAME_CACHE_ENTRIES + 10):
        _ = _name(f"n{i}", "o") == _name("m", "o")
    assert len(hotspots._names_equal) <= hotspots.NAME_CACHE_ENTRIES
    long = "x" * (hotspots.NAME_CACHE_MAX_BYTES + 1)
    before = dict(hotspots._names_equal)
    assert _name(long, "o") == _name(long, "o")
    assert hotspots._names_equal == before


def test_a_signature_is_memoised_only_once_it_verified() -> None:
    from asn1crypto import algos, keys
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

    key = ec.generate_private_key(ec.SECP256R1())
    info = keys.PublicKeyInfo.load(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    data = b"tbs certificate bytes"
    good = key.sign(data, ec.ECDSA(hashes.SHA256()))
    other = key.sign(b"something else", ec.ECDSA(hashes.SHA256()))
    validator = DefaultSignatureValidator()
    assert validator.validate_signature.__func__ is hotspots._validate_signature  # type: ignore[attr-defined]
    for _ in range(2):
        validator.validate_signature(good, data, info, algorithm)
        for signature, signed in ((other, data), (good, data + b"!"), (good[:-1] + b"\0", data)):
            try:
                validator.validate_signature(signature, signed, info, algorithm)
            except (InvalidSignature, ValueError):
                pass
            else:
                raise AssertionError("a bad signature verified")
    assert len(hotspots._verified) <= hotspots.SIGNATURE_CACHE_ENTRIES
