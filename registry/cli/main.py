"""The ``accredit`` entry point: the command group, or the verifier alone.

``accredit verify --bundle FILE`` and ``accredit verify --registry URL`` (outside
an instance) need no app, no database and no Flask: they run the verifier's own
command, so that a verifying laptop loads and writes nothing else.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def _standalone_verify(args: Sequence[str]) -> bool:
    """Whether ``args`` ask for a verification that needs no instance."""
    if args[:1] != ["verify"]:
        return False
    named = {a.split("=", 1)[0] for a in args[1:] if a.startswith("--")}
    if "--bundle" in named:
        return True
    if "--registry" not in named:
        return False
    from ..settings import SettingsError, from_environ  # optional: only for --registry

    try:
        return not (from_environ().pki_folder / "state.json").exists()
    except SettingsError:
        return False  # the command group says what is wrong with the settings


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if _standalone_verify(args):
        from verifier.cli import standalone_command  # optional: the verifier alone, no Flask

        standalone_command.main(args[1:], prog_name="accredit verify")
        return
    from .commands import cli  # optional: Flask is loaded only for the command group

    cli.main(args, prog_name="accredit")
