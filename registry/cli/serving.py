"""``accredit run``: serve the register, with the daily calendar tick beside it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext

from ..readiness import require_ready
from .base import require_schema, settings
from .certificates import echo_qr_urls
from .ticks import start_daily_ticks


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--dev", is_flag=True, help="Use Flask's development server with reloading.")
@with_appcontext
def run_command(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the register (gunicorn when installed, Flask's server otherwise)."""
    require_ready(settings())
    require_schema()
    public_url = settings().public_url
    served = urlsplit(public_url)
    if served.hostname in ("127.0.0.1", "localhost") and served.port != port:
        click.echo(
            f"note: ACCREDIT_PUBLIC_URL is {public_url} but this serves port {port}: "
            f"certificates issued now point there (set ACCREDIT_PUBLIC_URL, or use "
            f"`make run PORT={port}`)"
        )
    echo_qr_urls()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which(
        "gunicorn"
    )
    if dev or gunicorn is None:
        click.echo(f"serving on http://{host}:{port} with Flask's development server")
        start_daily_ticks()
        current_app.run(host=host, port=port, debug=dev, use_reloader=dev)
        return
    click.echo(f"serving on http://{host}:{port} with gunicorn, {workers} workers")
    args = [
        gunicorn,
        "--config",
        "python:registry.cli.gunicorn_config",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
    ]
    if settings().verify_slots_value is None:
        # One worker always stays free of uploads, for the QR and record pages.
        args += ["--env", f"ACCREDIT_VERIFY_SLOTS={max(1, workers - 1)}"]
    args.append("registry.app:serve()")
    sys.stdout.flush()  # execv drops what is still buffered: the QR URLs, into a pipe
    os.execv(gunicorn, args)
