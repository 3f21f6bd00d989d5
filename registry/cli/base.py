"""What every command shares: exit codes, one-line errors, the instance's settings and database."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup
from sqlalchemy.exc import OperationalError

from keys.config import PkiConfigError
from keys.errors import BadPassphrase, CorruptKeyFile, PkiError, PkiMissing
from verifier.errors import VerifierError

from .. import db
from .. import settings as settings_module
from ..app import create_app
from ..db import Database
from ..pki.material import publish_log as publish_checkpoint
from ..readiness import NotReady
from ..settings import Settings, SettingsError
from ..web import current

#: Exit codes: 1 refused (the request cannot be done), 2 configuration or database.
EXIT_REFUSED = 1
EXIT_ENVIRONMENT = 2
#: `accredit verify` uses 0-3 for verdicts; 4 means it could not verify at all.
EXIT_UNUSABLE_TRUST = 4


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"accredit: error: {message}", err=True)
    raise click.exceptions.Exit(code)


class AccreditGroup(FlaskGroup):
    """Turns environment problems into one readable line and a distinct exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except db.SchemaTooNew as exc:
            fail(str(exc), EXIT_REFUSED)
        except VerifierError as exc:
            fail(str(exc), EXIT_UNUSABLE_TRUST)
        except (PkiMissing, BadPassphrase, CorruptKeyFile, PkiConfigError, SettingsError) as exc:
            fail(str(exc), EXIT_ENVIRONMENT)
        except NotReady as exc:
            fail(str(exc), EXIT_ENVIRONMENT)
        except PkiError as exc:
            fail(str(exc), EXIT_REFUSED)
        except db.DatabaseError as exc:
            fail(str(exc), EXIT_ENVIRONMENT)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            fail(f"database error: {reason}", EXIT_ENVIRONMENT)


def make_app() -> Flask:
    """The app for a command: its database has no request budget (migrations, imports, demo
    data and issuance may rightly take longer than a web request may wait)."""
    try:
        found = settings_module.from_environ()
        return create_app(settings=found, database=Database.from_url(found.database_url))
    except (db.DatabaseError, SettingsError) as exc:
        fail(str(exc), EXIT_ENVIRONMENT)


def settings() -> Settings:
    return current.settings(current_app)


def database() -> Database:
    return current.database(current_app)


def require_schema() -> None:
    """Refuse, in one line, to work on a database that ``accredit init`` has not made."""
    engine = database().engine
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if path and path != ":memory:" and not Path(path).exists():
        fail(f"there is no database at {path}; run `accredit init` first", EXIT_ENVIRONMENT)
    db.check_connection(engine)
    found, head = db.current_revision(engine), db.head_revision(engine)
    if found != head:
        fail(
            f"the database is at revision {found or 'empty'}, not {head}; "
            "run `accredit init` first",
            EXIT_ENVIRONMENT,
        )


def development_only(what: str) -> None:
    """Refuse, in production, a command that would write register facts or sign.

    There, every legal act is a case in the back office, decided by a second
    person; only the staff bootstrap runs from the command line.
    """
    if settings().production:
        fail(
            f"{what} is refused in production (ACCREDIT_ENV=production): "
            "use the staff back office, where another person decides",
            EXIT_REFUSED,
        )


def publish_log() -> None:
    """After a command's change committed: sign the log's new checkpoint, if it grew."""
    size = publish_checkpoint(settings(), database())
    if size:
        click.echo(f"transparency log: checkpoint signed at size {size}")


def write_atomically(path: Path, data: bytes) -> None:
    """Write the whole file or nothing: a partial file never takes the name."""
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(data)
    tmp.replace(path)
