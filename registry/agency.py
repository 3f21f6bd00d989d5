"""The agency PKI as the app and the CLI use it: found in the instance, loaded once."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from threading import Lock
from typing import Any

from flask import Flask, current_app

from keys import pki as pki_module
from keys.config import PkiConfig
from keys.pki import Pki
from keys.signing import DocumentSigner, open_document_signer
from keys.stores import key_store_from_environ

UNENCRYPTED_WARNING = (
    "WARNING: ACCREDIT_KEY_PASSPHRASE is not set: the agency's private keys are stored "
    "UNENCRYPTED. This is for development only."
)
log = logging.getLogger(__name__)
_lock = Lock()


def pki_folder(config: dict[str, Any]) -> Path:
    return Path(config["INSTANCE"]) / "pki"


def pki_config(config: dict[str, Any]) -> PkiConfig:
    """``ACCREDIT_PKI_*`` settings; names default to the agency's English name."""
    environ = {"ACCREDIT_PKI_ORGANISATION": config["AGENCY_NAME_EN"], **os.environ}
    return PkiConfig.from_environ(environ, public_url=config["PUBLIC_URL"])


def warn_if_unencrypted(config: dict[str, Any]) -> None:
    if not config.get("KEY_PASSPHRASE"):
        print(UNENCRYPTED_WARNING, file=sys.stderr)


def create_pki(config: dict[str, Any]) -> Pki:
    warn_if_unencrypted(config)
    return pki_module.create(pki_folder(config), pki_config(config), config.get("KEY_PASSPHRASE"))


def load_pki(config: dict[str, Any]) -> Pki:
    return Pki.load(pki_folder(config), pki_config(config), config.get("KEY_PASSPHRASE"))


def get_pki(app: Flask | None = None) -> Pki:
    """The app's PKI, loaded on first use and kept for the life of the process."""
    app = app or current_app
    with _lock:
        if "accredit.pki" not in app.extensions:
            if not app.config.get("KEY_PASSPHRASE"):
                log.warning(UNENCRYPTED_WARNING)
            app.extensions["accredit.pki"] = load_pki(app.config)
        return app.extensions["accredit.pki"]


def get_document_signer(app: Flask | None = None) -> DocumentSigner:
    app = app or current_app
    with _lock:
        signer = app.extensions.get("accredit.signer")
    if signer is None:
        pki = get_pki(app)
        signer = open_document_signer(
            pki, key_store=key_store_from_environ(), tsa_url=os.environ.get("ACCREDIT_TSA_URL")
        )
        with _lock:
            app.extensions["accredit.signer"] = signer
    return signer


def forget(app: Flask) -> None:
    """Drop the cached PKI (after rotation or revocation in this process)."""
    with _lock:
        app.extensions.pop("accredit.pki", None)
        app.extensions.pop("accredit.signer", None)
