"""Who holds which role on a dossier: grant, change and revoke, each one an audit event."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from dossier import access, audit, crash
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import AuditAction, Dossier, Group, MemberRole, Membership, User, utcnow

Principal = User | Group


def find_principal(name: str) -> Principal:
    """A user by e-mail address, else a group by name, else a user by full name.

    People type a colleague's name as often as an address; a name that two users share is
    refused rather than guessed, since a role opens confidential documents.
    """
    name = name.strip()
    if "@" in name:
        user = db.session.scalar(sa.select(User).where(User.email == name.lower()))
        if user is None:
            raise DomainError(_("no user with e-mail address %(email)s", email=name))
        return user
    group = db.session.scalar(sa.select(Group).where(Group.name == name))
    if group is not None:
        return group
    users = list(
        db.session.scalars(sa.select(User).where(sa.func.lower(User.name) == name.lower()).limit(2))
    )
    if len(users) > 1:
        raise DomainError(
            _("several users are named %(name)s: type the e-mail address instead", name=name)
        )
    if not users:
        raise DomainError(_("no user or group named %(name)s", name=name))
    return users[0]


def label(principal: Principal) -> str:
    return principal.email if isinstance(principal, User) else principal.name


def describe(membership: Membership) -> dict[str, Any]:
    """The before/after value of a membership in the audit trail."""
    who = {"user": membership.user.email} if membership.user else {"group": membership.group.name}
    return {**who, "role": membership.role}


def members_of(dossier: Dossier) -> list[Membership]:
    """The memberships of `dossier`, users first, then groups, by name."""
    query = (
        sa.select(Membership)
        .outerjoin(User, Membership.user_id == User.id)
        .outerjoin(Group, Membership.group_id == Group.id)
        .where(Membership.dossier_id == dossier.id)
        .order_by(Membership.group_id.is_not(None), User.email, Group.name)
    )
    return list(db.session.scalars(query))


def membership_of(dossier: Dossier, principal: Principal) -> Membership | None:
    column = Membership.user_id if isinstance(principal, User) else Membership.group_id
    return db.session.scalar(
        sa.select(Membership).where(Membership.dossier_id == dossier.id, column == principal.id)
    )


def set_role(
    actor: User | None, dossier: Dossier, principal: Principal, role: MemberRole
) -> tuple[Membership, bool]:
    """Give `principal` exactly `role` on `dossier`; returns the membership and whether it
    changed. A new membership is a grant, a different role a change, both audited."""
    membership = membership_of(dossier, principal)
    if membership is not None and membership.role == role:
        return membership, False
    if membership is not None:
        _keep_a_beheerder(membership)
    before = describe(membership) if membership is not None else None
    if membership is None:
        is_user = isinstance(principal, User)
        membership = Membership(
            dossier_id=dossier.id,
            user=principal if is_user else None,
            group=None if is_user else principal,
            role=role,
        )
        db.session.add(membership)
    else:
        membership.role = role
    db.session.flush()
    crash.point("membership.after_row")
    action = AuditAction.MEMBERSHIP_GRANT if before is None else AuditAction.MEMBERSHIP_CHANGE
    audit.record(
        actor,
        action,
        "membership",
        membership.id,
        dossier_id=dossier.id,
        before=before,
        after=describe(membership),
    )
    crash.point("membership.before_commit")
    _touch(dossier)
    access.forget_roles()
    return membership, True


def revoke(
    actor: User | None, dossier: Dossier, principal: Principal, role: MemberRole | None = None
) -> None:
    """Take away `principal`'s role on `dossier` (only if it is `role`, when given); audited."""
    membership = membership_of(dossier, principal)
    if membership is None:
        raise DomainError(
            _("%(who)s has no role on dossier %(ref)s", who=label(principal), ref=dossier.reference)
        )
    if role is not None and membership.role != role:
        raise DomainError(
            _(
                "%(who)s holds the role %(role)s on dossier %(ref)s, not %(asked)s",
                who=label(principal),
                role=membership.role.value,
                ref=dossier.reference,
                asked=role.value,
            )
        )
    remove(actor, membership)


def remove(actor: User | None, membership: Membership) -> None:
    """Delete one membership and record what it was."""
    _keep_a_beheerder(membership)
    before, membership_id, dossier_id = describe(membership), membership.id, membership.dossier_id
    _touch(membership.dossier)
    db.session.delete(membership)
    db.session.flush()
    crash.point("membership.after_delete")
    audit.record(
        actor,
        AuditAction.MEMBERSHIP_REVOKE,
        "membership",
        membership_id,
        dossier_id=dossier_id,
        before=before,
        after=None,
    )
    crash.point("membership.revoke_before_commit")
    access.forget_roles()


def _touch(dossier: Dossier) -> None:
    """A new row version for the dossier: roles are part of its register data, so a form opened
    before this change is refused as stale instead of undoing it."""
    dossier.updated_at = utcnow()
    db.session.flush()


def _keep_a_beheerder(membership: Membership) -> None:
    """Refuse to take the role of a dossier's last beheerder (user or group) away: nobody but a
    functioneel beheerder could then file into it or manage its members."""
    if membership.role != MemberRole.BEHEERDER:
        return
    others = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .where(
            Membership.dossier_id == membership.dossier_id,
            Membership.role == MemberRole.BEHEERDER,
            Membership.id != membership.id,
        )
    )
    if not others:
        raise DomainError(
            _("A dossier keeps at least one beheerder: first make someone else beheerder.")
        )
