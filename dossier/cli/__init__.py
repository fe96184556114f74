"""The `dossier` command line: the root group and the console script's entry point.

The commands live in one module per group: `instance` (init, run, worker), `maintenance`
(verify, backup, restore, reindex, migrate-storage), `users` (create-user, disable-user,
create-group, grant, revoke), `filing` (import, register import/export) and `information`
(search, digest, report), `notices` (deliver-notices), `records` (import-selection-list,
propose-disposal, purge-disposals), `intake` (mail and
folder intake), `transfer` (MDTO transfer packages: export, verify), `webhooks`
(webhook-deadlines, deliver-webhooks); `common` holds what they share.
"""

from __future__ import annotations

import os
from typing import Any

import click
from flask.cli import AppGroup, ScriptInfo

from dossier.cli import (
    filing,
    information,
    instance,
    intake,
    maintenance,
    notices,
    records,
    transfer,
    users,
    webhooks,
)


def _create_app() -> Any:
    from dossier import create_app

    return create_app()


@click.group(cls=AppGroup)
def cli() -> None:
    """Dossier: versioned contract dossiers."""


for _group in (
    instance,
    maintenance,
    users,
    filing,
    information,
    notices,
    records,
    intake,
    transfer,
    webhooks,
):
    for _command in _group.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """Entry point of the `dossier` console script."""
    # Whatever the command writes (index segments, exports, backups) is the owner's alone;
    # the code also sets explicit modes where it creates the instance's files (R16).
    os.umask(0o077)
    cli(obj=ScriptInfo(create_app=_create_app, set_debug_flag=False))
