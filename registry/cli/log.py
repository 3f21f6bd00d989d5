"""``accredit log`` and ``accredit witness``: the auditor's check, and a witness to run.

``accredit log verify`` is how an auditor or a trading partner proves that no
past fact was edited: against a register (``--registry``, no database needed)
or inside an instance, where it also holds every certificate and decision to
its leaf. ``accredit witness serve`` is the C2SP tlog-witness add-checkpoint
endpoint, for a partner who wants to cosign the register's checkpoints.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.cli import with_appcontext
from sqlalchemy import select
from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

from verifier import merkle, notes
from verifier.notes import Checkpoint, NoteError, Verifier

from ..log import auditing
from ..log.auditing import AuditFailed
from ..log.backfill import reconcile
from ..log.checkpoints import latest, with_cosignatures
from ..log.models import LogEntry, LogHash
from ..pki import material
from .base import EXIT_REFUSED, database, fail, make_app, require_schema, settings

MAX_REQUEST = 64 * 1024


@click.group("log")
def log_group() -> None:
    """The transparency log: sign its checkpoint, verify it."""


@log_group.command("sign")
@with_appcontext
def log_sign() -> None:
    """Sign a checkpoint over leaves not yet signed (after a crash, for example)."""
    require_schema()
    size = material.publish_log(settings(), database())
    click.echo(f"checkpoint signed at size {size}" if size else "nothing new to sign")


def _save(path: Path, note: str) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(note)
    tmp.replace(path)


@log_group.command("verify")
@click.option("--registry", "registry_url", metavar="URL", help="Audit this register over HTTP.")
@click.option(
    "--checkpoint",
    "saved",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The checkpoint of the last run: the log must extend it; the new one is saved here.",
)
@click.option("--log-key", metavar="VKEY", help="The log's verifier key (default: the register's).")
@click.option("--witness", "witness_keys", multiple=True, metavar="VKEY", help="A witness key.")
@click.option(
    "--require", type=click.IntRange(min=0), default=0, help="Witness cosignatures needed."
)
def log_verify(
    registry_url: str | None,
    saved: Path | None,
    log_key: str | None,
    witness_keys: tuple[str, ...],
    require: int,
) -> None:
    """Rebuild the tree from the entries and check it against the signed checkpoint.

    Exit 0 when it holds; 1 naming the first bad index otherwise; 2 when it cannot be checked.
    """
    try:
        witnesses = [Verifier.parse(k) for k in witness_keys]
        if require > len(witnesses):
            fail(f"--require {require} needs at least {require} --witness keys", 2)
        if registry_url:
            note, entries = auditing.fetch_remote(registry_url)
            vkey = log_key or auditing.fetch_vkey(registry_url)
            stored = None
            problem = None
        else:
            note, entries, vkey, stored, problem = _local(log_key)
        result = auditing.audit(
            note,
            entries,
            log=Verifier.parse(vkey),
            witnesses=witnesses,
            require=require,
            saved=saved.read_text() if saved and saved.exists() else None,
            stored_leaf_hashes=stored,
        )
    except AuditFailed as exc:
        where = f" (first bad index: {exc.index})" if exc.index is not None else ""
        fail(f"the log does not hold: {exc}{where}", EXIT_REFUSED)
    except NoteError as exc:
        fail(str(exc), 2)
    if problem is not None:
        fail(f"the register does not match its log: leaf {problem[0]}: {problem[1]}", EXIT_REFUSED)
    if saved:
        _save(saved, note)
    click.echo(
        f"the log holds: {result.checkpoint.size} entries, root "
        f"{result.checkpoint.root.hex()[:16]}, cosigned by {len(result.witnesses)} witnesses"
    )


def _local(log_key: str | None) -> tuple[str, list[bytes], str, list[bytes], Any]:
    """Inside an instance: the checkpoint, the entries, the stored leaf hashes, the rows."""
    app = make_app()
    with app.app_context():
        require_schema()
        found = settings()
        with database().session() as session:
            checkpoint = latest(session)
            if checkpoint is None:
                raise AuditFailed("the log has no signed checkpoint yet (run `accredit log sign`)")
            note = with_cosignatures(session, checkpoint)
            size = checkpoint.size
            entries = list(
                session.scalars(
                    select(LogEntry.data).where(LogEntry.index < size).order_by(LogEntry.index)
                )
            )
            stored = list(
                session.scalars(
                    select(LogHash.hash)
                    .where(LogHash.level == 0, LogHash.index < size)
                    .order_by(LogHash.index)
                )
            )
            problem = reconcile(session)
        vkey = log_key or material.log_key(found, material.load_pki(found)).verifier.vkey()
    return note, entries, vkey, stored, problem


# --- a witness ------------------------------------------------------------------------


@click.group("witness")
def witness_group() -> None:
    """A C2SP tlog-witness for the register's log: make its key, serve it."""


@witness_group.command("init")
@click.option("--name", required=True, help="The witness's name, for example partner.example/w1.")
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
def witness_init(name: str, key_file: Path) -> None:
    """Make the witness's Ed25519 key (mode 0600) and print its verifier key."""
    if key_file.exists():
        fail(f"{key_file} exists; a witness keeps its key", EXIT_REFUSED)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    try:
        verifier = Verifier(name, key.public_key(), notes.COSIGNATURE_ALG)
        click.echo(verifier.vkey())
    except NoteError as exc:
        key_file.unlink()
        fail(str(exc), EXIT_REFUSED)


class WitnessState:
    """The latest cosigned checkpoint per origin, in one JSON file, changed atomically.

    Checking the old size and storing the new checkpoint happen under one
    exclusive lock, and the file is replaced whole: no race can roll it back.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = path.with_name(path.name + ".lock")

    def update(self, origin: str, decide: Any) -> Any:
        with self.lock.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            known = json.loads(self.path.read_text()) if self.path.exists() else {}
            result, new = decide(known.get(origin))
            if new is not None:
                known[origin] = new
                tmp = self.path.with_name(f".{self.path.name}.partial")
                with tmp.open("w") as out:
                    json.dump(known, out)
                    out.flush()
                    os.fsync(out.fileno())
                tmp.replace(self.path)
            return result


def witness_app(
    name: str, key: Ed25519PrivateKey, logs: list[Verifier], state: WitnessState
) -> Any:
    """The add-checkpoint endpoint as a WSGI application."""
    by_origin = {v.name: v for v in logs}

    def text(body: str, status: int, kind: str = "text/plain; charset=utf-8") -> Response:
        return Response(body, status=status, content_type=kind)

    @Request.application
    def application(request: Request) -> Response:
        if request.path.rstrip("/") != "/add-checkpoint":
            return text("not found\n", 404)
        if request.method != "POST":
            return text("use POST\n", 405)
        body = request.get_data(cache=False)[: MAX_REQUEST + 1]
        if len(body) > MAX_REQUEST:
            return text("too large\n", 413)
        try:
            head, _, note = body.decode().partition("\n\n")
            lines = head.split("\n")
            if not lines[0].startswith("old ") or len(lines) > 64:
                raise NoteError("the first line is the old size")
            old_text = lines[0][4:]
            if (
                not old_text.isascii()
                or not old_text.isdigit()
                or (old_text != "0" and old_text.startswith("0"))
            ):
                raise NoteError("the old size is a decimal number")
            old = int(old_text)
            proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
            origin = note.split("\n", 1)[0]
            log = by_origin.get(origin)
            if log is None:
                return text("unknown log\n", 404)
            parsed, _ = notes.verify_note(note, [log])
            checkpoint = Checkpoint.parse(parsed.text)
        except NoteError as exc:
            status = 403 if "does not verify" in str(exc) or "no known key" in str(exc) else 400
            return text(f"{exc}\n", status)
        except (UnicodeDecodeError, ValueError) as exc:
            return text(f"{exc}\n", 400)
        if old > checkpoint.size:
            return text("the old size is larger than the checkpoint\n", 400)

        def decide(known: dict[str, Any] | None) -> tuple[Response, dict[str, Any] | None]:
            known_size = known["size"] if known else 0
            if old != known_size:
                return text(f"{known_size}\n", 409, "text/x.tlog.size"), None
            if known and old == checkpoint.size:
                if base64.b64decode(known["root"]) != checkpoint.root:
                    return text("the same size with another root\n", 409), None
            elif old:
                try:
                    merkle.verify_consistency(
                        old,
                        checkpoint.size,
                        base64.b64decode(known["root"]),
                        checkpoint.root,
                        proof,
                    )
                except merkle.ProofError as exc:
                    return text(f"{exc}\n", 422), None
            elif proof:
                return text("the proof from size 0 is empty\n", 422), None
            line = notes.cosign(parsed.text, name, key).line
            new = {
                "size": checkpoint.size,
                "root": base64.b64encode(checkpoint.root).decode(),
            }
            return text(line, 200), new

        return state.update(origin, decide)

    return application


@witness_group.command("serve")
@click.option("--name", required=True, help="The witness's name (as given to `witness init`).")
@click.option(
    "--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--log", "log_keys", multiple=True, required=True, metavar="VKEY", help="A log to witness."
)
@click.option(
    "--state", "state_file", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5050, show_default=True)
def witness_serve(
    name: str, key_file: Path, log_keys: tuple[str, ...], state_file: Path, host: str, port: int
) -> None:
    """Serve POST /add-checkpoint (C2SP tlog-witness) for the logs given."""
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        fail(f"{key_file} is not an Ed25519 key", 2)
    try:
        logs = [Verifier.parse(k) for k in log_keys]
    except NoteError as exc:
        fail(str(exc), 2)
    click.echo(f"witness {name} for {', '.join(v.name for v in logs)} on http://{host}:{port}")
    run_simple(host, port, witness_app(name, key, logs, WitnessState(state_file)), threaded=True)
