"""Groups (departments) whose members share the roles the group holds on dossiers."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask_babel import gettext as _

from dossier import access, audit
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import AuditAction, Group, User
from dossier.text import clean_line


def _member_emails(group: Group) -> list[str]:
    return sorted(user.email for user in group.members)


def create_group(actor: User | None, name: str, members: list[User] | None = None) -> Group:
    """Add a group; its name is how the CLI and the member forms name it, so no `@`."""
    name = clean_line(name)
    if not name or len(name) > 255 or "@" in name:
        raise ValidationError({"name": _("give a name of 1-255 characters without @")})
    if db.session.scalar(sa.select(Group.id).where(Group.name == name)) is not None:
        raise ValidationError({"name": _("a group named %(name)s already exists", name=name)})
    group = Group(name=name)
    group.members = list(dict.fromkeys(members or []))
    db.session.add(group)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.GROUP_CREATE,
        "group",
        group.id,
        after={"name": name, "members": _member_emails(group)},
    )
    return group


def add_member(actor: User | None, group: Group, user: User) -> bool:
    """Put `user` in `group`; False when already a member (nothing recorded)."""
    if user in group.members:
        return False
    _change_members(actor, group, AuditAction.GROUP_MEMBER_ADD, lambda: group.members.append(user))
    return True


def remove_member(actor: User | None, group: Group, user: User) -> bool:
    """Take `user` out of `group`; False when not a member (nothing recorded)."""
    if user not in group.members:
        return False
    _change_members(
        actor, group, AuditAction.GROUP_MEMBER_REMOVE, lambda: group.members.remove(user)
    )
    return True


def _change_members(
    actor: User | None, group: Group, action: AuditAction, change: Callable[[], None]
) -> None:
    """Apply a change to the member list and record it with the list before and after."""
    before = _member_emails(group)
    change()
    db.session.flush()
    audit.record(
        actor,
        action,
        "group",
        group.id,
        before={"name": group.name, "members": before},
        after={"name": group.name, "members": _member_emails(group)},
    )
    access.forget_roles()
