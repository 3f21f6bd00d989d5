"""``verifier.speedups``: the faster replacements give exactly the originals' answers, are
installed only on request and on the proven library versions, and come off again."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import algos, keys
from asn1crypto.x509 import Name, NameTypeAndValue, RDNSequence
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic, misc
from pyhanko_certvalidator.context import ValidationContext
from pyhanko_certvalidator.revinfo import validate_ocsp
from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

from verifier import speedups
from verifier.policy import verify
from verifier.sources import TrustBundle

ROOT = Path(__file__).resolve().parents[2]
HEX_BYTES = st.sampled_from(list(b"0123456789abcdefABCDEF \n\r\t\f\x00"))
ODD_BYTES = st.sampled_from(list(b"%<>()/gZ\xff\n") + list(range(256)))


def _library_state() -> list[object]:
    """Every attribute ``enable`` replaces, as the libraries now hold it."""
    return [
        generic.read_hex_string_from_stream,
        misc._read_until_class,
        vars(NameTypeAndValue)["_ldap_string_prep"],
        vars(RDNSequence)["__eq__"],
        vars(RDNSequence)["hashable"],
        validate_ocsp.ValidationContext,
    ]


ORIGINALS = _library_state() if not speedups.active() else None


@pytest.fixture
def bare() -> Iterator[None]:
    """Speed-ups off for the test; the state it found is put back afterwards."""
    was = speedups.active()
    speedups.disable()
    yield
    speedups.disable()
    if was:
        speedups.enable()


@pytest.fixture(scope="module")
def installed() -> Iterator[None]:
    was = speedups.active()
    assert speedups.enable()
    yield
    if not was:
        speedups.disable()


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
    assert _outcome(speedups.read_hex_string, data) == _outcome(speedups._original_hex, data)


TOKEN_BYTES = st.sampled_from(list(b"aZ09#.-+ \n\r\t\f\x00()<>[]{}/%\xff") + list(range(256)))
CLASSES = st.sampled_from(
    [misc.PDF_WHITESPACE, misc.PDF_WHITESPACE + misc.PDF_DELIMITERS, b"x", b"]\\^-"]
)


def _until(read, class_chars: bytes, data: bytes, start: int, maxchars: int | None) -> object:
    stream = BytesIO(data)
    stream.seek(min(start, len(data)))
    try:
        result: object = read(class_chars, stream, maxchars)
    except Exception as exc:
        result = type(exc).__name__
    return result, stream.tell()


@settings(max_examples=600, deadline=None)
@given(
    class_chars=CLASSES,
    # Runs longer than one read (64 bytes) of the fast path, and short ones.
    data=st.lists(st.one_of(TOKEN_BYTES, st.just(ord("a"))), max_size=300).map(bytes),
    start=st.integers(0, 310),
    maxchars=st.one_of(st.none(), st.integers(-1, 200)),
)
def test_tokens_read_as_pyhanko_reads_them(
    class_chars: bytes, data: bytes, start: int, maxchars: int | None
) -> None:
    """Same bytes, same end-of-stream flag, same position after: names, numbers, headers."""
    fast = _until(speedups.read_until_class, class_chars, data, start, maxchars)
    assert fast == _until(speedups._original_until_class, class_chars, data, start, maxchars)


def test_a_long_signature_contents_string(installed) -> None:
    data = b"<" + b"3082" * 20_000 + b"0" * 70_000 + b"\n>/Type/Sig"
    fast = _outcome(speedups.read_hex_string, data)
    assert fast == _outcome(speedups._original_hex, data)
    assert generic.read_hex_string_from_stream is speedups.read_hex_string  # installed


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
    assert _prep(speedups._ldap_string_prep, value) == _prep(speedups._original_prep, value)


def _name(common: str, organisation: str) -> Name:
    return Name.build({"common_name": common, "organization_name": organisation})


def _compare(first: Name, second: Name, how) -> object:
    try:
        return how(first, second)
    except ValueError:
        return "ValueError"


@settings(max_examples=300, deadline=None)
@given(a=NAME_TEXT, b=NAME_TEXT, c=NAME_TEXT, d=NAME_TEXT)
def test_name_equality_and_keys_are_unchanged(installed, a: str, b: str, c: str, d: str) -> None:
    pairs = [(_name(a, b), _name(c, d)), (_name(a, b), _name(a.upper(), b)), (_name(a, b),) * 2]
    for first, second in pairs:
        for _ in range(2):  # the second time answers from the memo
            assert _compare(first, second, lambda x, y: x == y) == _compare(
                first, second, lambda x, y: speedups._original_name_eq(x.chosen, y.chosen)
            )
            assert _compare(first, second, lambda x, y: x.hashable) == _compare(
                first, second, lambda x, y: speedups._original_hashable(x.chosen)
            )


def test_caches_stay_bounded(installed) -> None:
    for i in range(speedups.NAME_CACHE_ENTRIES + 10):
        _ = _name(f"n{i}", "o") == _name("m", "o")
    assert len(speedups._names_equal) <= speedups.NAME_CACHE_ENTRIES
    long = "x" * (speedups.NAME_CACHE_MAX_BYTES + 1)
    before = dict(speedups._names_equal)
    assert _name(long, "o") == _name(long, "o")
    assert speedups._names_equal == before


class _Signed:
    """One key, a signature that verifies and three that do not."""

    def __init__(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        self.info = keys.PublicKeyInfo.load(
            key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        self.algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
        self.data = b"tbs certificate bytes"
        self.good = key.sign(self.data, ec.ECDSA(hashes.SHA256()))
        other = key.sign(b"something else", ec.ECDSA(hashes.SHA256()))
        self.bad = [
            (other, self.data),
            (self.good, self.data + b"!"),
            # The last byte flipped (setting it to 0 was the same signature 1 time in 256).
            (self.good[:-1] + bytes([self.good[-1] ^ 1]), self.data),
        ]

    def check(self, validator: DefaultSignatureValidator) -> None:
        validator.validate_signature(self.good, self.data, self.info, self.algorithm)
        for signature, signed in self.bad:
            try:
                validator.validate_signature(signature, signed, self.info, self.algorithm)
            except (InvalidSignature, ValueError):
                pass
            else:
                raise AssertionError("a bad signature verified")


def test_a_signature_is_memoised_only_once_it_verified(bare) -> None:
    signed = _Signed()
    validator = speedups.MemoisingSignatureValidator()
    for _ in range(2):
        signed.check(validator)
        assert len(speedups._verified) == 1  # the good one; a failure is never kept
    assert len(speedups._verified) <= speedups.SIGNATURE_CACHE_ENTRIES


def test_the_policy_validator_memoises_only_while_active(bare) -> None:
    signed = _Signed()
    plain = speedups.signature_validator()
    assert type(plain) is DefaultSignatureValidator
    signed.check(plain)
    assert not speedups._verified

    assert speedups.enable()
    memo = speedups.signature_validator()
    assert isinstance(memo, speedups.MemoisingSignatureValidator)
    signed.check(memo)
    assert len(speedups._verified) == 1

    speedups.disable()
    assert not speedups._verified  # forgotten: the next enable starts cold
    assert type(speedups.signature_validator()) is DefaultSignatureValidator


def test_the_ocsp_responder_context_gets_the_memo_only_while_active(bare) -> None:
    assert validate_ocsp.ValidationContext is ValidationContext
    speedups.enable()
    context = validate_ocsp.ValidationContext(trust_roots=[])
    assert isinstance(context, ValidationContext)
    assert isinstance(context.sig_validator, speedups.MemoisingSignatureValidator)
    own = DefaultSignatureValidator()
    chosen = validate_ocsp.ValidationContext(trust_roots=[], signature_validator=own)
    assert chosen.sig_validator is own
    # Nowhere else: a context made elsewhere keeps pyhanko-certvalidator's default.
    assert type(ValidationContext(trust_roots=[]).sig_validator) is DefaultSignatureValidator
    speedups.disable()
    assert validate_ocsp.ValidationContext is ValidationContext


def _tampered(pdf: bytes) -> bytes:
    """The signed bytes changed by one digit (of the creation date): the per-part path."""
    at = pdf.index(b"D:", pdf.index(b"/CreationDate")) + 3
    return pdf[:at] + (b"2" if pdf[at : at + 1] == b"1" else b"1") + pdf[at + 1 :]


def test_verify_answers_the_same_and_every_signature_check_goes_through_the_memo(
    bare, monkeypatch, shared_pki, signed_pdf
) -> None:
    trust = TrustBundle((shared_pki.root,), shared_pki.qr_jwks())
    now = datetime.now(UTC)
    calls: Counter[type] = Counter()
    original = DefaultSignatureValidator.validate_signature

    def spy(self, *args, **kwargs):
        calls[type(self)] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DefaultSignatureValidator, "validate_signature", spy)

    def checks(pdf: bytes) -> list[tuple[object, ...]]:
        report = verify(pdf, trust, now=now)
        return [(c.name, c.outcome, c.code, c.detail) for c in report.checks]

    documents = [signed_pdf, _tampered(signed_pdf)]
    cold = [checks(pdf) for pdf in documents]
    assert cold[0] != cold[1]  # the tampered one fails (signature_integrity, at least)
    assert calls[DefaultSignatureValidator] > 0
    assert not speedups._verified

    assert speedups.enable()
    calls.clear()
    for _ in range(2):
        assert [checks(pdf) for pdf in documents] == cold
    # The policy's hook (and, for the ocsp-nocheck responder, validate_ocsp's context)
    # reach every signature check pyHanko makes: none goes to a plain validator.
    assert calls[DefaultSignatureValidator] == 0
    assert calls[speedups.MemoisingSignatureValidator] > 0
    assert speedups._verified


def test_the_installed_libraries_are_the_proven_ones() -> None:
    """Fails on an upgrade: prove the replacements on the new versions, then widen PROVEN."""
    assert speedups.unproven() == []


def test_enable_is_idempotent_and_disable_restores_the_originals(bare) -> None:
    originals = _library_state()
    assert ORIGINALS is None or originals == ORIGINALS
    assert not speedups.active()
    assert speedups.enable() is True
    first = _library_state()
    assert all(a is not b for a, b in zip(first, originals, strict=True))
    assert speedups.enable() is True
    assert _library_state() == first
    assert speedups.active()
    speedups.disable()
    assert not speedups.active()
    assert all(a is b for a, b in zip(_library_state(), originals, strict=True))
    speedups.disable()  # also idempotent
    assert all(a is b for a, b in zip(_library_state(), originals, strict=True))


def test_enable_false_installs_nothing(bare) -> None:
    originals = _library_state()
    assert speedups.enable(False) is False
    assert not speedups.active()
    assert all(a is b for a, b in zip(_library_state(), originals, strict=True))


@pytest.mark.parametrize(
    ("distribution", "version"),
    [
        ("pyHanko", "0.39.0"),
        ("pyHanko", "0.37.2"),
        ("pyHanko", "0.38.1rc1"),
        ("pyhanko-certvalidator", "0.34.0"),
        ("asn1crypto", "1.5.0"),
        ("asn1crypto", None),
    ],
)
def test_an_unproven_version_installs_nothing_and_warns(
    bare, monkeypatch, distribution: str, version: str | None
) -> None:
    real = speedups._installed_version
    monkeypatch.setattr(
        speedups,
        "_installed_version",
        lambda name: version if name == distribution else real(name),
    )
    originals = _library_state()
    with pytest.warns(RuntimeWarning) as caught:
        assert speedups.enable() is False
    assert len(caught) == 1
    message = str(caught[0].message)
    assert distribution in message
    assert (version or "not installed") in message
    assert speedups.proven_range(distribution) in message
    assert not speedups.active()
    assert all(a is b for a, b in zip(_library_state(), originals, strict=True))
    assert type(speedups.signature_validator()) is DefaultSignatureValidator


def test_proven_versions_enable_without_a_warning(bare, monkeypatch) -> None:
    found = {"pyHanko": "0.38.9", "pyhanko-certvalidator": "0.33", "asn1crypto": "1.5.1"}
    monkeypatch.setattr(speedups, "_installed_version", found.get)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert speedups.enable() is True


def test_release_numbers() -> None:
    assert speedups._release("0.38.0") == (0, 38)
    assert speedups._release("1.5.1") == (1, 5, 1)
    assert speedups._release("0.38.0.post1") is None
    assert speedups._release("0.39.0a1") is None
    assert speedups._release("1.5.1+local") is None
    assert speedups.proven_range("asn1crypto") == ">=1.5.1,<1.6"


def _fresh_python(code: str) -> None:
    """Run ``code`` in a new interpreter (nothing from this test session imported)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_importing_the_verifier_changes_no_library() -> None:
    _fresh_python(
        """
        from asn1crypto.x509 import NameTypeAndValue, RDNSequence
        from pyhanko.pdf_utils import generic, misc
        from pyhanko_certvalidator.revinfo import validate_ocsp
        from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

        def state():
            return [
                generic.read_hex_string_from_stream,
                misc._read_until_class,
                vars(NameTypeAndValue)["_ldap_string_prep"],
                vars(RDNSequence)["__eq__"],
                vars(RDNSequence)["hashable"],
                validate_ocsp.ValidationContext,
                vars(DefaultSignatureValidator)["validate_signature"],
            ]

        before = state()
        original_hex = generic.read_hex_string_from_stream
        import verifier.policy, verifier.cli, verifier.speedups, keys.signing
        assert generic.read_hex_string_from_stream is original_hex
        assert all(a is b for a, b in zip(state(), before, strict=True)), "a library was patched"
        assert not verifier.speedups.active()
        """
    )


def test_importing_the_verifier_or_the_signer_changes_no_logger() -> None:
    _fresh_python(
        """
        import logging
        import verifier.policy, verifier.cli, keys.signing

        for name in ("pyhanko", "pyhanko_certvalidator", "pyhanko.sign.signers.pdf_signer"):
            logger = logging.getLogger(name)
            assert logger.level == 0, (name, logger.level)
            assert not logger.filters, (name, logger.filters)
        verifier.cli.quiet_library_logs()
        assert logging.getLogger("pyhanko").level == logging.CRITICAL
        assert logging.getLogger("pyhanko_certvalidator").level == logging.CRITICAL
        keys.signing.quiet_fetching_notice()
        keys.signing.quiet_fetching_notice()
        assert len(logging.getLogger("pyhanko.sign.signers.pdf_signer").filters) == 1
        """
    )
