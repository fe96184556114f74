"""The members of one dossier and their roles, managed by its beheerder (and administrators)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from dossier import access, labels, memberships
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import Dossier, MemberRole, Membership
from dossier.web.forms import MemberForm, MemberRoleForm

bp = Blueprint("members", __name__, url_prefix="/dossiers/<reference>/members")


def _managed_dossier(reference: str) -> Dossier:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_manage_members(current_user, dossier))
    return dossier


def _membership_or_404(dossier: Dossier, membership_id: int) -> Membership:
    """A membership looked up through its dossier, never by its id alone."""
    membership = db.session.scalar(
        sa.select(Membership).where(
            Membership.id == membership_id, Membership.dossier_id == dossier.id
        )
    )
    return membership or abort(404)


@bp.get("")
@login_required
def index(reference: str, form: MemberForm | None = None) -> str:
    dossier = _managed_dossier(reference)
    return render_template(
        "members/index.html",
        dossier=dossier,
        members=memberships.members_of(dossier),
        form=form or MemberForm(),
        role_form=MemberRoleForm(),
        can_view_audit=access.can_view_audit(current_user, dossier),
    )


@bp.post("")
@login_required
def add(reference: str) -> str | Response | tuple[str, int]:
    dossier = _managed_dossier(reference)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            principal = memberships.find_principal(form.principal.data)
            changed = memberships.set_role(
                current_user, dossier, principal, MemberRole(form.role.data)
            )[1]
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_role_message(principal, MemberRole(form.role.data), changed), "success")
            return redirect(url_for(".index", reference=dossier.reference))
    return index(reference, form), 400


@bp.post("/<int:membership_id>")
@login_required
def update(reference: str, membership_id: int) -> str | Response | tuple[str, int]:
    dossier = _managed_dossier(reference)
    membership = _membership_or_404(dossier, membership_id)
    form = MemberRoleForm()
    if not form.validate_on_submit():
        return index(reference), 400
    principal = membership.user or membership.group
    try:
        memberships.set_role(current_user, dossier, principal, MemberRole(form.role.data))
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".index", reference=dossier.reference))
    db.session.commit()
    flash(_role_message(principal, MemberRole(form.role.data), True), "success")
    return _back(dossier)


@bp.post("/<int:membership_id>/remove")
@login_required
def remove(reference: str, membership_id: int) -> Response:
    dossier = _managed_dossier(reference)
    membership = _membership_or_404(dossier, membership_id)
    who = memberships.label(membership.user or membership.group)
    try:
        memberships.remove(current_user, membership)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".index", reference=dossier.reference))
    db.session.commit()
    flash(_("Removed from this dossier: %(who)s.", who=who), "success")
    return _back(dossier)


def _role_message(principal: memberships.Principal, role: MemberRole, changed: bool) -> str:
    """What a role change did, naming the role; worded so that an e-mail address never opens
    the sentence (a flash message gets a capital first letter)."""
    who, label = memberships.label(principal), labels.MEMBER_ROLE[role]
    if changed:
        return _("Role of %(who)s is now %(role)s.", who=who, role=label)
    return _("Role of %(who)s was already %(role)s; nothing changed.", who=who, role=label)


def _back(dossier: Dossier) -> Response:
    """To the member list, or to the register when the user just gave up managing it."""
    if access.can_manage_members(current_user, dossier):
        return redirect(url_for(".index", reference=dossier.reference))
    return redirect(url_for("register.index"))
