"""Users, groups and their roles on dossiers: `create-user`, `disable-user`, `create-group`,
`grant`, `revoke` and `reset-second-factor`."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from dossier import access, accounts, crash, groups, memberships, second_factor
from dossier.cli.common import acting_user, fail, require_database
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import Dossier, GlobalRole, MemberRole, User


@click.command("create-user")
@click.argument("email")
@click.option("--name", default="", help="Full name (default: the e-mail address).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in GlobalRole] + ["none"]),
    default="none",
    help="Global role.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Add a user who can log in."""
    require_database()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(
            None, email, name, password, None if role == "none" else GlobalRole(role)
        )
    except ValidationError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(f"Created user {user.email}")


# Access administration: the same domain functions as the web pages, audited alike.

ROLE_CHOICE = click.Choice([r.value for r in MemberRole])
AS_OPTION = click.option(
    "--as", "as_email", default=None, help="Act as this user (default: first admin)."
)


def _managed_dossier(actor: User, reference: str) -> Dossier:
    """The dossier `actor` may manage the members of, or a clear error."""
    dossier = db.session.scalar(sa.select(Dossier).where(Dossier.reference == reference))
    if dossier is None or not access.can_view_dossier(actor, dossier):
        fail(f"no dossier {reference} that {actor.email} may see")
    if not access.can_manage_members(actor, dossier):  # type: ignore[arg-type]
        fail(f"{actor.email} may not manage the members of dossier {reference}")
    return dossier  # type: ignore[return-value]


def _administrator(as_email: str | None) -> User:
    actor = acting_user(as_email)
    if not access.can_administer(actor):
        fail(f"{actor.email} is not an administrator")
    return actor


@click.command("grant")
@click.argument("who", metavar="EMAIL|GROUP")
@click.argument("reference", metavar="REF")
@click.argument("role", type=ROLE_CHOICE)
@AS_OPTION
@with_appcontext
def grant_command(who: str, reference: str, role: str, as_email: str | None) -> None:
    """Give a user or group exactly ROLE on dossier REF (a new grant or a role change)."""
    actor = acting_user(as_email)
    dossier = _managed_dossier(actor, reference)
    try:
        principal = memberships.find_principal(who)
        changed = memberships.set_role(actor, dossier, principal, MemberRole(role))[1]
    except DomainError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    crash.point("membership.after_commit")
    label = memberships.label(principal)
    click.echo(
        f"{label} is now {role} on {reference}"
        if changed
        else f"{label} already was {role} on {reference}; nothing changed"
    )


@click.command("revoke")
@click.argument("who", metavar="EMAIL|GROUP")
@click.argument("reference", metavar="REF")
@click.argument("role", type=ROLE_CHOICE, required=False)
@AS_OPTION
@with_appcontext
def revoke_command(who: str, reference: str, role: str | None, as_email: str | None) -> None:
    """Take away a user's or group's role on dossier REF (only if it is ROLE, when given)."""
    actor = acting_user(as_email)
    dossier = _managed_dossier(actor, reference)
    try:
        principal = memberships.find_principal(who)
        memberships.revoke(actor, dossier, principal, MemberRole(role) if role else None)
    except DomainError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    crash.point("membership.revoke_after_commit")
    click.echo(f"{memberships.label(principal)} no longer has a role on {reference}")


@click.command("create-group")
@click.argument("name")
@click.option("--member", "members", multiple=True, metavar="EMAIL", help="Repeat for each.")
@AS_OPTION
@with_appcontext
def create_group_command(name: str, members: tuple[str, ...], as_email: str | None) -> None:
    """Create a group (department) with its first members."""
    actor = _administrator(as_email)
    try:
        people = [accounts.find_user(email) for email in members]
        group = groups.create_group(actor, name, people)
    except DomainError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(f"Created group {group.name} with {len(group.members)} members")


@click.command("disable-user")
@click.argument("email")
@AS_OPTION
@with_appcontext
def disable_user_command(email: str, as_email: str | None) -> None:
    """Disable an account: it can no longer log in and every session of it ends."""
    actor = _administrator(as_email)
    try:
        changed = accounts.set_enabled(actor, accounts.find_user(email), False)
    except DomainError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(f"Disabled {email}" if changed else f"{email} was already disabled")


@click.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in GlobalRole] + ["none"]))
@AS_OPTION
@with_appcontext
def set_role_command(email: str, role: str, as_email: str | None) -> None:
    """Give a user a global role (portfolio: contractmanagement, reads every dossier's register
    data, reports and non-confidential documents), or none."""
    actor = _administrator(as_email)
    try:
        changed = accounts.set_global_role(
            actor, accounts.find_user(email), None if role == "none" else GlobalRole(role)
        )
    except DomainError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(f"{email} now has the role {role}" if changed else f"{email} already had {role}")


@click.command("reset-second-factor")
@click.argument("email")
@with_appcontext
def reset_second_factor_command(email: str) -> None:
    """Remove a user's two-step verification (a lost phone and lost recovery codes); they set it
    up again at the next log-in. Recorded as the system's act: also for the only administrator."""
    require_database()
    try:
        changed = second_factor.reset(None, accounts.find_user(email))
    except DomainError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(
        f"Reset two-step verification of {email}"
        if changed
        else f"{email} had no two-step verification"
    )


COMMANDS = [
    create_user_command,
    disable_user_command,
    set_role_command,
    create_group_command,
    grant_command,
    revoke_command,
    reset_second_factor_command,
]
