"""Is this instance fit to serve in production? Each shortfall as a finding with its fix.

``ACCREDIT_ENV=production`` refuses to serve while any finding stands
(``app.serve`` and ``accredit run``), and ``accredit doctor`` prints them
all. They are checked from the settings and the instance's files alone, with
no app and no database, so the answer comes before anything is started.
"""

from __future__ import annotations

from dataclasses import dataclass

from keys.pki import key_files

from .settings import PREFIX, Settings


@dataclass(frozen=True)
class Finding:
    """One reason the instance is not ready for production, and what makes it so."""

    code: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.problem}\n  fix: {self.fix}"


def production_findings(settings: Settings) -> list[Finding]:
    found = []
    keys = key_files(settings.pki_folder)
    folder = settings.pki_folder
    plain = sorted(p.relative_to(folder).as_posix() for p, enc in keys.items() if not enc)
    if plain:
        found.append(
            Finding(
                "unencrypted_keys",
                f"{len(plain)} private key(s) in {settings.pki_folder} are stored unencrypted "
                f"({', '.join(plain[:4])}{', ...' if len(plain) > 4 else ''})",
                f"create the PKI with {PREFIX}KEY_PASSPHRASE set (or keep the document-signing "
                f"key in an HSM: {PREFIX}KEY_STORE=pkcs11), so that a copy of the disk "
                "does not carry the agency's keys",
            )
        )
    root = settings.pki_folder / "root.key"
    if root.exists():
        found.append(
            Finding(
                "root_key_online",
                f"the root CA's private key is in the instance ({root})",
                "move it to offline storage (an encrypted medium in a safe) and delete it "
                "here; it signs the issuing CA and the root CRL, so the root CRL must then be "
                f"renewed offline before it expires ({PREFIX}PKI_CRL_DAYS)",
            )
        )
    if not settings.secret_key_value:
        found.append(
            Finding(
                "secret_key_missing",
                f"{PREFIX}SECRET_KEY is not set (staff sessions would be signed with a key "
                "kept beside the database)",
                f"set {PREFIX}SECRET_KEY to a long random value, the same for every server, "
                "for example the output of "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`",
            )
        )
    if not settings.https:
        found.append(
            Finding(
                "public_url_not_https",
                f"{PREFIX}PUBLIC_URL is {settings.public_url!r}, not https (QR codes, "
                "certificates and staff logins would name an address anyone on the way can change)",
                f"set {PREFIX}PUBLIC_URL to the register's https address, for example "
                "https://register.example.go.th, and serve it behind TLS",
            )
        )
    return found


class NotReady(Exception):
    """Production was asked for and the instance is not ready; the message lists why."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        lines = "\n".join(f"- {f}" for f in findings)
        super().__init__(
            f"{PREFIX}ENV=production, but this instance is not ready to serve "
            f"(`accredit doctor` lists the same):\n{lines}"
        )


def require_ready(settings: Settings) -> None:
    """In production, refuse to go on while any finding stands; elsewhere, do nothing."""
    if settings.production and (findings := production_findings(settings)):
        raise NotReady(findings)
