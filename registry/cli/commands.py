"""The `accredit` command group (Flask-based). Its options and output formats are a contract."""

from __future__ import annotations

from flask.cli import routes_command, shell_command

from .backup import backup_command, restore_command
from .base import AccreditGroup, make_app
from .certificates import documents_group, issue_command
from .doctor import doctor_command
from .exports import exports_command
from .instance import init_command, list_command
from .keys import keys_group
from .log import log_group, witness_group
from .serving import run_command
from .staff import staff_group
from .ticks import tick_command
from .verify import trust_group, verify_command

cli = AccreditGroup(
    create_app=make_app,
    add_default_commands=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="The accreditation register: set up, inspect and serve it.",
)
for command in (
    shell_command,
    routes_command,
    init_command,
    list_command,
    tick_command,
    exports_command,
    run_command,
    doctor_command,
    backup_command,
    restore_command,
    keys_group,
    issue_command,
    documents_group,
    verify_command,
    trust_group,
    staff_group,
    log_group,
    witness_group,
):
    cli.add_command(command)
