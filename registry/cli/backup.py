"""``accredit backup DIR`` and ``accredit restore DIR`` (the work is in ``registry.backups``).

Neither makes the app: a restore targets an instance that may not exist yet,
and a backup must not create anything in the instance it copies.
"""

from __future__ import annotations

from pathlib import Path

import click

from .. import settings as settings_module
from ..backups import BackupError, ToolMissing, backup, restore
from .base import EXIT_ENVIRONMENT, EXIT_REFUSED, fail

FOLDER = click.Path(file_okay=False, path_type=Path)


@click.command("backup")
@click.argument("folder", type=FOLDER)
def backup_command(folder: Path) -> None:
    """Write the database, the agency PKI and the instance's secrets into a new FOLDER."""
    try:
        done = backup(settings_module.from_environ(), folder)
    except ToolMissing as exc:
        fail(str(exc), EXIT_ENVIRONMENT)
    except BackupError as exc:
        fail(str(exc), EXIT_REFUSED)
    click.echo(f"backup written to {done.folder} ({done.database} database, {done.files} files)")
    click.echo("it holds the agency's private keys: keep it as safe as the instance itself")


@click.command("restore")
@click.argument("folder", type=FOLDER)
@click.option("--force", is_flag=True, help="Replace a non-empty instance and database.")
def restore_command(folder: Path, force: bool) -> None:
    """Restore a backup FOLDER into the instance (and database) the settings name."""
    try:
        done = restore(settings_module.from_environ(), folder, force=force)
    except ToolMissing as exc:
        fail(str(exc), EXIT_ENVIRONMENT)
    except BackupError as exc:
        fail(str(exc), EXIT_REFUSED)
    click.echo(f"restored {done.files} files into {done.folder} ({done.database} database)")
