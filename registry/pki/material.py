"""The agency PKI as the app and the CLI use it: found in the instance, loaded once.

``keys/`` holds the PKI itself and takes every setting as an argument; this
module hands it the instance's settings. The document signer it opens is for
issuance only: nothing else in the registry signs with the agency's key.
"""

from __future__ import annotations

import logging
import sys
from threading import Lock

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app

from keys import pki as pki_module
from keys.errors import PkiError, PkiMissing
from keys.pki import Pki
from keys.signing import DocumentSigner, open_document_signer

from ..db import Database
from ..log.checkpoints import LogKey, Witness
from ..log.publishing import pending, publish
from ..settings import Settings
from ..web import current

UNENCRYPTED_WARNING = (
    "WARNING: ACCREDIT_KEY_PASSPHRASE is not set: the agency's private keys are stored "
    "UNENCRYPTED. This is for development only."
)
log = logging.getLogger(__name__)
_lock = Lock()
PKI = "accredit.pki"
SIGNER = "accredit.signer"


def exists(settings: Settings) -> bool:
    return (settings.pki_folder / "state.json").exists()


def key_warning(settings: Settings) -> str | None:
    """What is true of the keys on disk, when it needs saying; ``None`` when all is well.

    The passphrase alone does not tell: keys made with one stay encrypted when
    it is later unset, and then "UNENCRYPTED" would be false. So the key
    files themselves are read (each says whether it is encrypted).
    """
    found = pki_module.key_files(settings.pki_folder)
    plain = sum(1 for encrypted in found.values() if not encrypted)
    if not settings.key_passphrase:
        if found and not plain:
            return (
                "WARNING: ACCREDIT_KEY_PASSPHRASE is not set, but the agency's private keys "
                f"in {settings.pki_folder} are encrypted: nothing can be signed until it is set."
            )
        return UNENCRYPTED_WARNING
    if plain:
        return (
            f"WARNING: {plain} of the agency's private keys in {settings.pki_folder} are stored "
            "UNENCRYPTED although ACCREDIT_KEY_PASSPHRASE is set (they were made without it)."
        )
    return None


def warn_if_unencrypted(settings: Settings) -> None:
    warning = key_warning(settings)
    if warning:
        print(warning, file=sys.stderr)


def create_pki(settings: Settings) -> Pki:
    warn_if_unencrypted(settings)
    return pki_module.create(settings.pki_folder, settings.pki, settings.key_passphrase)


def load_pki(settings: Settings) -> Pki:
    return Pki.load(settings.pki_folder, settings.pki, settings.key_passphrase)


def open_signer(settings: Settings, pki: Pki) -> DocumentSigner:
    return open_document_signer(pki, key_store=settings.key_store.open(), tsa_url=settings.tsa_url)


def log_key(settings: Settings, pki: Pki) -> LogKey:
    key = pki.key("log")
    if not isinstance(key, Ed25519PrivateKey):
        raise PkiError("the transparency log key is not Ed25519")
    return LogKey(settings.log_origin, key)


def witnesses(settings: Settings) -> list[Witness]:
    return [Witness.parse(w) for w in settings.log_witnesses]


def publish_log(settings: Settings, database: Database) -> int | None:
    """Sign the log's new checkpoint and collect cosignatures (after a change commits).

    Nothing to do, nothing loaded: the PKI is opened only when the log grew.
    """
    if not pending(database):
        return None
    try:
        pki = load_pki(settings)
    except PkiMissing:
        log.warning("the log grew but there is no PKI to sign it; run `accredit log sign`")
        return None
    return publish(database, log_key(settings, pki), witnesses(settings))


def get_pki(app: Flask | None = None) -> Pki:
    """The app's PKI, loaded on first use and kept for the life of the process."""
    found = current.settings(app)
    extensions = (app or _app()).extensions
    with _lock:
        if PKI not in extensions:
            warning = key_warning(found)
            if warning:
                log.warning(warning)
            extensions[PKI] = load_pki(found)
        return extensions[PKI]


def get_document_signer(app: Flask | None = None) -> DocumentSigner:
    extensions = (app or _app()).extensions
    with _lock:
        signer = extensions.get(SIGNER)
    if signer is None:
        signer = open_signer(current.settings(app), get_pki(app))
        with _lock:
            extensions[SIGNER] = signer
    return signer


def forget(app: Flask) -> None:
    """Drop the cached PKI (after rotation or revocation in this process)."""
    with _lock:
        app.extensions.pop(PKI, None)
        app.extensions.pop(SIGNER, None)


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
