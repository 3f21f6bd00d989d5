"""Settings come from ``ACCREDIT_*`` environment variables with embedded defaults.

One place decides the defaults so that the CLI, the app and the tests agree on
where the instance lives and which database it uses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PREFIX = "ACCREDIT_"

#: Default values; each can be overridden by ``ACCREDIT_<NAME>``.
DEFAULTS: dict[str, Any] = {
    "INSTANCE": "instance",
    "DATABASE_URL": None,  # derived from INSTANCE when unset
    "PUBLIC_URL": "http://127.0.0.1:5000",
    "AGENCY_NAME_EN": "Thai Industrial Standards Institute",
    "AGENCY_NAME_TH": "สำนักงานมาตรฐานผลิตภัณฑ์อุตสาหกรรม",
    "AGENCY_SHORT": "TISI",
    "KEY_PASSPHRASE": None,
    "SECRET_KEY": None,
    "PAGE_SIZE": 50,
    "TIMEZONE": "Asia/Bangkok",
    #: Per client address, for search and the API (Flask-Limiter notation).
    "RATE_LIMIT": "300 per minute",
    "UPLOAD_RATE_LIMIT": "30 per minute",
    "RATE_LIMIT_STORAGE": "memory://",
    #: Largest request accepted: verification uploads (one or more PDFs).
    "MAX_UPLOAD_BYTES": 25 * 1024 * 1024,
    "PAGE_CACHE": True,
}


def from_environ(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Settings from the environment, then ``overrides``, then derived values.

    Derived values (the SQLite URL inside the instance) are computed last, so
    that an overridden instance folder also moves the default database.
    """
    env = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    for name, default in DEFAULTS.items():
        value = env.get(PREFIX + name)
        settings[name] = default if value in (None, "") else value
    settings.update(overrides or {})
    return resolve(settings)


def resolve(settings: dict[str, Any]) -> dict[str, Any]:
    """Fill in values that depend on others (instance path, SQLite URL)."""
    instance = Path(settings["INSTANCE"]).expanduser().resolve()
    settings["INSTANCE"] = str(instance)
    if not settings.get("DATABASE_URL"):
        settings["DATABASE_URL"] = f"sqlite:///{instance / 'accredit.sqlite3'}"
    settings["PAGE_SIZE"] = int(settings["PAGE_SIZE"])
    settings["MAX_UPLOAD_BYTES"] = int(settings["MAX_UPLOAD_BYTES"])
    if isinstance(settings["PAGE_CACHE"], str):
        settings["PAGE_CACHE"] = settings["PAGE_CACHE"].lower() not in ("0", "false", "no", "")
    return settings
