"""Passwords (argon2id) and the TOTP second factor, with what the libraries already give.

Passwords are hashed by argon2-cffi's defaults (argon2id). TOTP is
cryptography's own RFC 6238 implementation, as Warehouse uses it
(``warehouse/utils/otp.py``): a 160-bit secret, six digits, 30-second steps,
one step of clock drift either way, and never the same step twice.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from ..refusals import N_, Refused

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
TOTP_DIGITS = 6
TOTP_STEP = 30
#: Steps accepted either side of now: clocks drift.
TOTP_WINDOW = 1

_hasher = PasswordHasher()


class CredentialRefused(Refused):
    """A password or code that cannot be used; the message says why, and never echoes it."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise CredentialRefused(
            N_("A password has at least %(count)s characters."), count=MIN_PASSWORD
        )
    if len(password) > MAX_PASSWORD:
        raise CredentialRefused(
            N_("A password has at most %(count)s characters."), count=MAX_PASSWORD
        )
    if not password.strip():
        raise CredentialRefused(N_("A password cannot be only spaces."))


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _hasher.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (constant time in argon2)."""
    if stored is None or len(password) > MAX_PASSWORD:
        _hasher.hash("a password that is never right")  # the same time either way
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> bytes:
    return secrets.token_bytes(20)


def _totp(secret: bytes) -> TOTP:
    return TOTP(secret, TOTP_DIGITS, SHA1(), TOTP_STEP, enforce_key_length=True)


def provisioning_uri(secret: bytes, email: str, issuer: str) -> str:
    """The ``otpauth://`` address an authenticator app scans or takes by hand."""
    return _totp(secret).get_provisioning_uri(email, issuer)


def totp_code(secret: bytes, at: float) -> str:
    """The code at ``at`` (seconds since the epoch): for tests and for enrolment checks."""
    return _totp(secret).generate(int(at)).decode()


@dataclass(frozen=True)
class TotpResult:
    accepted: bool
    #: The time step the code belongs to, when accepted: store it, refuse it next time.
    step: int | None = None


def check_totp(secret: bytes, code: str, at: float, last_step: int | None) -> TotpResult:
    """Accept ``code`` for a step within ±1 of ``at`` that is newer than ``last_step``."""
    code = code.strip().replace(" ", "")
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return TotpResult(False)
    totp = _totp(secret)
    now = int(at) // TOTP_STEP
    for step in range(now - TOTP_WINDOW, now + TOTP_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        expected = totp.generate(step * TOTP_STEP)
        if hmac.compare_digest(expected, code.encode()):
            return TotpResult(True, step)
    return TotpResult(False)
