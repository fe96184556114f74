"""What the command groups share: failing with a message, the database check, the user a
command acts as, and the --lang option."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa

from dossier.extensions import db
from dossier.i18n import COMMAND_LINE_LOCALE
from dossier.models import GlobalRole, User

LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(["en", "nl"]),
    default=COMMAND_LINE_LOCALE,
    show_default=True,
    help="Language of labels; nl also writes CSV with ; and decimal commas for Dutch Excel.",
)


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def require_database() -> None:
    """Stop with advice instead of a traceback when `dossier init` has not made the tables."""
    if not sa.inspect(db.engine).has_table(User.__tablename__):
        fail("the database has no tables yet; run `dossier init` first")


def acting_user(email: str | None) -> User:
    """The user a command acts as: --as EMAIL, or the first administrator."""
    require_database()
    query = sa.select(User).where(User.is_enabled.is_(True))
    if email:
        query = query.where(User.email == email.strip().lower())
    else:
        query = query.where(User.global_role == GlobalRole.ADMIN).order_by(User.id)
    user = db.session.scalars(query.limit(1)).first()
    if user is None:
        fail(f"no enabled user {email}" if email else "no administrator; run `dossier init`")
    return user  # type: ignore[return-value]
