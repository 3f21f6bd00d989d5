"""One typed settings object, read once from ``ACCREDIT_*`` variables, defaults embedded.

Every other module takes a ``Settings`` (or a piece of it) as an argument:
``keys/`` never reads the environment, and neither does anything else in
``registry/``. ``from_environ`` is the one place that does, so the CLI, the app
and the tests agree on where the instance lives, which database it uses and
how the agency's keys are kept.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from keys.config import PkiConfig, PkiConfigError
from keys.stores import FileKeyStore, KeyStore, Pkcs11KeyStore

PREFIX = "ACCREDIT_"
#: The secret that signs session cookies, made once per instance (mode 0600).
SECRET_KEY_FILE = "secret_key"
#: Largest upload: one verification request, one or more PDFs. The verifier's
#: per-file limit is the same figure (``verifier.policy.Limits``).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """A setting cannot be used; the message names it and says what would work."""


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


@dataclass(frozen=True)
class KeyStoreSettings:
    """Where the document-signing key lives: files in the instance, or a PKCS#11 token."""

    kind: str = "file"
    pkcs11_module: str | None = None
    pkcs11_token: str | None = None
    pkcs11_pin: str | None = field(default=None, repr=False)
    pkcs11_key_label: str = "document-signing"
    pkcs11_raw_mechanism: bool = True

    def open(self) -> KeyStore:
        if self.kind == "file":
            return FileKeyStore()
        if self.kind == "pkcs11":
            missing = [
                f"{PREFIX}PKCS11_{name}"
                for name, value in (("MODULE", self.pkcs11_module), ("TOKEN", self.pkcs11_token))
                if not value
            ]
            if missing:
                raise SettingsError(f"the PKCS#11 key store needs {', '.join(missing)}")
            return Pkcs11KeyStore(
                module=str(self.pkcs11_module),
                token_label=str(self.pkcs11_token),
                pin=self.pkcs11_pin,
                key_label=self.pkcs11_key_label,
                raw_mechanism=self.pkcs11_raw_mechanism,
            )
        raise SettingsError(f"unknown {PREFIX}KEY_STORE {self.kind!r}; use 'file' or 'pkcs11'")


@dataclass(frozen=True)
class Recognition:
    """One mutual recognition arrangement the agency has signed, for some programmes.

    A reader abroad trusts a Thai test report because the agency is a signatory;
    the record pages say so for the programmes the arrangement covers, and only
    those. Scope codes are the register's programme codes (``testing``, ...).
    """

    name: str
    scope: tuple[str, ...]
    since: date
    until: date | None = None
    #: Where a reader checks the signatory list themselves (a link, never a logo).
    url: str | None = None

    def covers(self, programme: str) -> bool:
        return programme in self.scope

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scope": list(self.scope),
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "url": self.url,
        }


#: The agency's signatory status. PLACEHOLDERS: confirm the scopes and dates
#: against the APAC and ILAC signatory lists, and set ``ACCREDIT_RECOGNITION``.
DEFAULT_RECOGNITION = (
    Recognition(
        name="APAC MRA",
        scope=(
            "testing",
            "calibration",
            "medical",
            "inspection",
            "product_certification",
            "management_systems",
        ),
        since=date(2019, 1, 1),
        url="https://www.apac-accreditation.org/",
    ),
    Recognition(
        name="ILAC MRA",
        scope=("testing", "calibration", "medical", "inspection"),
        since=date(2001, 11, 2),
        url="https://ilac.org/signatory-search/",
    ),
)
SCOPE_CODE = re.compile(r"^[a-z][a-z_]{1,40}$")


def _day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise SettingsError(
            f"{PREFIX}RECOGNITION: {what} must be a date like 2001-11-02, not {value!r}"
        ) from None


def _arrangement(name: str, scope: Any, since: Any, until: Any, url: Any) -> Recognition:
    if not isinstance(name, str) or not name.strip():
        raise SettingsError(f"{PREFIX}RECOGNITION: every arrangement needs a name")
    codes = scope.split(",") if isinstance(scope, str) else scope
    if not isinstance(codes, list | tuple):
        raise SettingsError(f"{PREFIX}RECOGNITION: the scope of {name} must be a list of codes")
    codes = tuple(str(c).strip() for c in codes if str(c).strip())
    bad = [c for c in codes if not SCOPE_CODE.match(c)]
    if bad or not codes:
        raise SettingsError(
            f"{PREFIX}RECOGNITION: the scope of {name} must be programme codes "
            f"such as testing,calibration; not {', '.join(bad) or 'nothing'}"
        )
    return Recognition(
        name=name.strip(),
        scope=codes,
        since=_day(str(since or ""), f"the start of {name}"),
        until=_day(str(until), f"the end of {name}") if until else None,
        url=str(url).strip() or None if url else None,
    )


def parse_recognition(value: str) -> tuple[Recognition, ...]:
    """``NAME|scope,scope|since[|until[|url]]`` joined by ``;``, or the same as JSON.

    The compact form fits one environment variable; JSON (a list of objects with
    ``name``, ``scope``, ``since``, ``until``, ``url``) suits a file. An empty
    value means no arrangement: an agency that is not (yet) a signatory.
    """
    text = value.strip()
    if not text:
        return ()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"{PREFIX}RECOGNITION is not valid JSON: {exc.msg}") from None
        if not all(isinstance(i, dict) for i in items):
            raise SettingsError(f"{PREFIX}RECOGNITION: JSON must be a list of objects")
        return tuple(
            _arrangement(
                i.get("name", ""), i.get("scope", []), i.get("since"), i.get("until"), i.get("url")
            )
            for i in items
        )
    out = []
    for part in filter(str.strip, text.split(";")):
        bits = [b.strip() for b in part.split("|", 4)]
        if len(bits) < 3:
            raise SettingsError(
                f"{PREFIX}RECOGNITION: write NAME|scope,scope|since[|until[|url]], not {part!r}"
            )
        bits += [""] * (5 - len(bits))
        out.append(_arrangement(*bits))
    return tuple(out)


@dataclass(frozen=True)
class Settings:
    instance: Path
    database_url: str
    public_url: str = "http://127.0.0.1:5000"
    #: A PostgreSQL streaming replica of ``database_url``: the public's reads go there.
    database_replica_url: str | None = None
    env: Environment = Environment.DEVELOPMENT
    agency_name_en: str = "Thai Industrial Standards Institute"
    agency_name_th: str = "สำนักงานมาตรฐานผลิตภัณฑ์อุตสาหกรรม"
    agency_short: str = "TISI"
    #: How the public reaches the agency (``/about``, and every warning links there).
    #: The address is the institute's; the phone and email are PLACEHOLDERS to
    #: configure (``ACCREDIT_AGENCY_PHONE``, ``ACCREDIT_AGENCY_EMAIL``).
    agency_address_en: str = (
        "Thai Industrial Standards Institute, Rama VI Road, Ratchathewi, Bangkok 10400, Thailand"
    )
    agency_address_th: str = (
        "สำนักงานมาตรฐานผลิตภัณฑ์อุตสาหกรรม ถนนพระรามที่ 6 เขตราชเทวี กรุงเทพมหานคร 10400"
    )
    agency_phone: str = "+66 2 430 6800"
    agency_email: str = "accreditation@tisi.go.th"
    agency_website: str = "https://www.tisi.go.th"
    #: Where to report a suspicious certificate; unset: ``agency_email``.
    agency_report_email_value: str | None = None
    recognition: tuple[Recognition, ...] = DEFAULT_RECOGNITION
    key_passphrase: str | None = field(default=None, repr=False)
    #: From the environment; when unset, ``secret_key()`` reads or makes the instance's own.
    secret_key_value: str | None = field(default=None, repr=False)
    #: Per client address, for search and the API (Flask-Limiter notation).
    rate_limit: str = "300 per minute"
    upload_rate_limit: str = "30 per minute"
    #: Where the counts live: ``memory://`` (per worker process) or ``redis://host:port/db``
    #: (shared by every worker and every app server, and kept across restarts).
    rate_limit_storage: str = "memory://"
    #: Direct peers whose ``X-Forwarded-For`` is believed (addresses or CIDRs): the
    #: reverse proxies in front. Anyone else could name any address and dodge the limits.
    trusted_proxies: tuple[IpNetwork, ...] = ()
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    #: Seconds a web request waits on the database (connect, statement, pool, lock), then 503.
    database_timeout: int = 2
    page_cache: bool = True
    #: The verifier's proven library speed-ups (``verifier.speedups``).
    speedups: bool = True
    pki: PkiConfig = field(default_factory=PkiConfig)
    key_store: KeyStoreSettings = field(default_factory=KeyStoreSettings)
    #: An external RFC 3161 TSA; unset means the agency's own, in-process.
    tsa_url: str | None = None
    #: Whether ``/pki/tsa`` answers anyone, or only callers on this machine (loopback).
    tsa_public: bool = True
    #: Per client address, for ``/pki/tsa``: each token is a signature by the agency's key.
    tsa_rate_limit: str = "60 per minute"
    #: The transparency log's origin line; unset: the public host followed by ``/log``.
    log_origin_value: str | None = None
    #: Witnesses asked to cosign each checkpoint: ``vkey|URL``, comma-separated.
    log_witnesses: tuple[str, ...] = ()
    #: Uploaded PDFs are verified in worker processes (``verification.pool``);
    #: 0 verifies inside the web worker (tests that share one transaction).
    verify_processes: int = 1
    #: Verification requests at once across all web workers; the next gets 503.
    #: Unset: ``accredit run`` makes it one less than its workers (one stays
    #: free for the pages), and anything else uses 1.
    verify_slots_value: int | None = None
    #: A file still running after this is cut off (its worker killed): ``time_budget``.
    verify_file_seconds: int = 10
    #: One request's budget, below gunicorn's 30 s worker timeout.
    verify_request_seconds: int = 20
    #: Address-space cap of a verification worker (``RLIMIT_AS``), in MiB.
    verify_memory_mb: int = 2048
    #: A worker is replaced after this many files (whatever a file leaves behind).
    verify_files_per_process: int = 200
    #: The licence the open data (API, exports, feeds) is published under: a
    #: reuser must be told, and an agency may choose another (OGL, CC0).
    data_licence: str = "CC BY 4.0"
    data_licence_url: str = "https://creativecommons.org/licenses/by/4.0/"

    @property
    def log_origin(self) -> str:
        if self.log_origin_value:
            return self.log_origin_value
        parts = urlsplit(self.public_url)
        return f"{parts.netloc}{parts.path.rstrip('/')}/log"

    @property
    def agency_report_email(self) -> str:
        return self.agency_report_email_value or self.agency_email

    @property
    def verify_slots(self) -> int:
        return max(1, self.verify_slots_value or 1)

    @property
    def production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def pki_folder(self) -> Path:
        return self.instance / "pki"

    @property
    def https(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def secret_key(self) -> str | None:
        """The session-signing secret: from the environment, else made once in the instance.

        Every worker of an instance then signs with the same key, so a session
        made by one is accepted by the others. Production requires it from the
        environment: a key on the same disk as the database protects little.
        With no instance folder yet there is none (and nothing is written):
        ``accredit verify --bundle`` runs anywhere and leaves no trace.
        """
        if self.secret_key_value:
            return self.secret_key_value
        if self.production:
            raise SettingsError(
                f"{PREFIX}SECRET_KEY must be set in production (for example the output "
                "of `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        path = self.instance / SECRET_KEY_FILE
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            if not self.instance.is_dir():
                return None
        made = secrets.token_hex(32)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first: use theirs
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as handle:
            handle.write(made + "\n")
        return made


def _flag(value: str) -> bool:
    return value.strip().lower() not in FALSE_WORDS


def _number(name: str) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not value.strip().isascii() or not value.strip().isdigit():
            raise SettingsError(f"{PREFIX}{name} must be a whole number, not {value!r}")
        return int(value)

    return parse


def _storage(value: str) -> str:
    """``ACCREDIT_RATE_LIMIT_STORAGE``: the two stores the project runs and tests."""
    if not value.strip().startswith(("memory://", "redis://", "rediss://")):
        raise SettingsError(
            f"{PREFIX}RATE_LIMIT_STORAGE must be 'memory://' or 'redis://host:port/db', "
            f"not {value!r}"
        )
    return value.strip()


def _networks(value: str) -> tuple[IpNetwork, ...]:
    """``ACCREDIT_TRUSTED_PROXIES``: comma-separated addresses or CIDRs, each checked now."""
    found = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            found.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(
                f"{PREFIX}TRUSTED_PROXIES must list addresses or CIDRs such as "
                f"'127.0.0.1, 10.0.0.0/8', not {part!r}"
            ) from None
    return tuple(found)


def _environment(value: str) -> Environment:
    try:
        return Environment(value.strip().lower())
    except ValueError:
        raise SettingsError(
            f"{PREFIX}ENV must be 'development' or 'production', not {value!r}"
        ) from None


#: ``ACCREDIT_<NAME>`` -> (field, parser). Values given to ``from_environ`` as
#: overrides use the same names without the prefix, and may be typed already.
TOP_LEVEL: dict[str, tuple[str, Callable[[str], Any]]] = {
    "INSTANCE": ("instance", str),
    "DATABASE_URL": ("database_url", str),
    "DATABASE_REPLICA_URL": ("database_replica_url", str),
    "PUBLIC_URL": ("public_url", str),
    "ENV": ("env", _environment),
    "AGENCY_NAME_EN": ("agency_name_en", str),
    "AGENCY_NAME_TH": ("agency_name_th", str),
    "AGENCY_SHORT": ("agency_short", str),
    "AGENCY_ADDRESS_EN": ("agency_address_en", str),
    "AGENCY_ADDRESS_TH": ("agency_address_th", str),
    "AGENCY_PHONE": ("agency_phone", str),
    "AGENCY_EMAIL": ("agency_email", str),
    "AGENCY_WEBSITE": ("agency_website", str),
    "AGENCY_REPORT_EMAIL": ("agency_report_email_value", str),
    "RECOGNITION": ("recognition", parse_recognition),
    "KEY_PASSPHRASE": ("key_passphrase", str),
    "SECRET_KEY": ("secret_key_value", str),
    "RATE_LIMIT": ("rate_limit", str),
    "UPLOAD_RATE_LIMIT": ("upload_rate_limit", str),
    "RATE_LIMIT_STORAGE": ("rate_limit_storage", _storage),
    "TRUSTED_PROXIES": ("trusted_proxies", _networks),
    "MAX_UPLOAD_BYTES": ("max_upload_bytes", _number("MAX_UPLOAD_BYTES")),
    "DATABASE_TIMEOUT": ("database_timeout", _number("DATABASE_TIMEOUT")),
    "PAGE_CACHE": ("page_cache", _flag),
    "SPEEDUPS": ("speedups", _flag),
    "TSA_URL": ("tsa_url", str),
    "TSA_PUBLIC": ("tsa_public", _flag),
    "TSA_RATE_LIMIT": ("tsa_rate_limit", str),
    "LOG_ORIGIN": ("log_origin_value", str),
    "LOG_WITNESSES": ("log_witnesses", lambda v: tuple(w for w in v.split(",") if w.strip())),
    "VERIFY_PROCESSES": ("verify_processes", _number("VERIFY_PROCESSES")),
    "VERIFY_SLOTS": ("verify_slots_value", _number("VERIFY_SLOTS")),
    "VERIFY_FILE_SECONDS": ("verify_file_seconds", _number("VERIFY_FILE_SECONDS")),
    "VERIFY_REQUEST_SECONDS": ("verify_request_seconds", _number("VERIFY_REQUEST_SECONDS")),
    "VERIFY_MEMORY_MB": ("verify_memory_mb", _number("VERIFY_MEMORY_MB")),
    "VERIFY_FILES_PER_PROCESS": ("verify_files_per_process", _number("VERIFY_FILES_PER_PROCESS")),
    "DATA_LICENCE": ("data_licence", str),
    "DATA_LICENCE_URL": ("data_licence_url", str),
}
KEY_STORE: dict[str, tuple[str, Callable[[str], Any]]] = {
    "KEY_STORE": ("kind", str),
    "PKCS11_MODULE": ("pkcs11_module", str),
    "PKCS11_TOKEN": ("pkcs11_token", str),
    "PKCS11_PIN": ("pkcs11_pin", str),
    "PKCS11_KEY_LABEL": ("pkcs11_key_label", str),
    "PKCS11_RAW_MECHANISM": ("pkcs11_raw_mechanism", _flag),
}


def _pki_config(values: Mapping[str, str], public_url: str, organisation: str) -> PkiConfig:
    """``ACCREDIT_PKI_*``; the organisation defaults to the agency's English name."""
    given: dict[str, Any] = {"public_url": public_url, "organisation": organisation}
    for f in fields(PkiConfig):
        raw = values.get(f"PKI_{f.name.upper()}")
        if raw in (None, ""):
            continue
        if f.type == "int" and isinstance(raw, str):
            raw = _number(f"PKI_{f.name.upper()}")(raw)
        given[f.name] = raw
    try:
        return PkiConfig(**given)
    except PkiConfigError as exc:
        raise SettingsError(str(exc)) from exc


def from_environ(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Settings from ``environ`` (default ``os.environ``), then ``overrides``.

    Derived values (the SQLite URL inside the instance) are computed last, so
    that an overridden instance folder also moves the default database.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {
        name.removeprefix(PREFIX): value
        for name, value in env.items()
        if name.startswith(PREFIX) and value != ""
    }
    raw.update(overrides or {})
    unknown = sorted(
        name
        for name in (overrides or {})
        if name not in TOP_LEVEL and name not in KEY_STORE and not name.startswith("PKI_")
    )
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")

    def parsed(table: dict[str, tuple[str, Callable[[str], Any]]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, (attribute, parse) in table.items():
            if name in raw and raw[name] is not None:
                value = raw[name]
                out[attribute] = parse(value) if isinstance(value, str) else value
        return out

    top = parsed(TOP_LEVEL)
    instance = Path(top.pop("instance", "instance")).expanduser().resolve()
    database_url = top.pop("database_url", None) or f"sqlite:///{instance / 'accredit.sqlite3'}"
    replica_url = top.get("database_replica_url")
    if replica_url and not all(url.startswith("postgresql") for url in (database_url, replica_url)):
        raise SettingsError(
            f"{PREFIX}DATABASE_REPLICA_URL needs PostgreSQL for both the database and its "
            "replica (postgresql://HOST/NAME): SQLite has no replicas"
        )
    public_url = top.get("public_url", Settings.public_url)
    organisation = top.get("agency_name_en", Settings.agency_name_en)
    return Settings(
        instance=instance,
        database_url=database_url,
        pki=_pki_config(raw, public_url, organisation),
        key_store=KeyStoreSettings(**parsed(KEY_STORE)),
        **top,
    )
