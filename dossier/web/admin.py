"""Administration for the functioneel beheerder: users, their global roles, groups."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from dossier import access, accounts, groups
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import GlobalRole, Group, Membership, User
from dossier.web.forms import (
    GlobalRoleForm,
    GroupForm,
    GroupMemberForm,
    ResetPasswordForm,
    UserForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _administrators_only() -> None:
    """Every page here is for administrators; the app-wide policy has already required a log-in."""
    access.require(
        current_user.is_authenticated and access.can_administer(current_user), access.NEEDS_ADMIN
    )


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _group_or_404(group_id: int) -> Group:
    return db.session.get(Group, group_id) or abort(404)


def _flash_errors(error: ValidationError) -> None:
    for message in error.errors.values():
        flash(message, "error")


def _role(value: str | None) -> GlobalRole | None:
    return GlobalRole(value) if value else None


@bp.get("/users")
@login_required
def users(form: UserForm | None = None) -> str:
    people = db.session.scalars(sa.select(User).order_by(User.email)).all()
    return render_template("admin/users.html", users=people, form=form or UserForm())


@bp.post("/users")
@login_required
def create_user() -> str | Response | tuple[str, int]:
    form = UserForm()
    if form.validate_on_submit():
        password = form.password.data or accounts.generate_password()
        try:
            user = accounts.create_user(
                current_user,
                form.email.data,
                form.name.data or "",
                password,
                _role(form.role.data),
                must_change_password=True,
            )
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error)
        else:
            db.session.commit()
            flash(_("User %(email)s created.", email=user.email), "success")
            if form.password.data:
                return redirect(url_for(".user", user_id=user.id))
            return render_template("admin/password_shown.html", user=user, password=password)
    return users(form), 400


@bp.get("/users/<int:user_id>")
@login_required
def user(user_id: int) -> str:
    person = _user_or_404(user_id)
    memberships = db.session.scalars(
        sa.select(Membership).where(Membership.user_id == person.id).order_by(Membership.id)
    ).all()
    return render_template(
        "admin/user.html",
        user=person,
        memberships=memberships,
        role_form=GlobalRoleForm(data={"role": person.global_role or ""}),
        password_form=ResetPasswordForm(),
    )


@bp.post("/users/<int:user_id>/enabled")
@login_required
def set_enabled(user_id: int) -> Response:
    person = _user_or_404(user_id)
    enable = request.form.get("enabled") == "1"  # CSRF is checked app-wide for every POST
    try:
        accounts.set_enabled(current_user, person, enable)
    except ValidationError as error:
        db.session.rollback()
        _flash_errors(error)
    else:
        db.session.commit()
        message = _("%(email)s can log in again.") if enable else _("%(email)s is disabled.")
        flash(message % {"email": person.email}, "success")
    return redirect(url_for(".user", user_id=person.id))


@bp.post("/users/<int:user_id>/password")
@login_required
def reset_password(user_id: int) -> str | Response | tuple[str, int]:
    person = _user_or_404(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password = accounts.reset_password(current_user, person, form.password.data or None)
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error)
        else:
            db.session.commit()
            if form.password.data:
                flash(_("The password of %(email)s was set.", email=person.email), "success")
                return redirect(url_for(".user", user_id=person.id))
            return render_template("admin/password_shown.html", user=person, password=password)
    return user(user_id), 400


@bp.post("/users/<int:user_id>/role")
@login_required
def set_role(user_id: int) -> str | Response | tuple[str, int]:
    person = _user_or_404(user_id)
    form = GlobalRoleForm()
    if form.validate_on_submit():
        try:
            accounts.set_global_role(current_user, person, _role(form.role.data))
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error)
        else:
            db.session.commit()
            flash(_("The global role of %(email)s was saved.", email=person.email), "success")
            return redirect(url_for(".user", user_id=person.id))
    return user(user_id), 400


@bp.get("/groups")
@login_required
def groups_index(form: GroupForm | None = None) -> str:
    everyone = db.session.scalars(sa.select(Group).order_by(Group.name)).all()
    return render_template("admin/groups.html", groups=everyone, form=form or GroupForm())


@bp.post("/groups")
@login_required
def create_group() -> str | Response | tuple[str, int]:
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = groups.create_group(current_user, form.name.data)
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error)
        else:
            db.session.commit()
            flash(_("Group %(name)s created.", name=group.name), "success")
            return redirect(url_for(".group", group_id=group.id))
    return groups_index(form), 400


@bp.get("/groups/<int:group_id>")
@login_required
def group(group_id: int, form: GroupMemberForm | None = None) -> str:
    return render_template(
        "admin/group.html", group=_group_or_404(group_id), form=form or GroupMemberForm()
    )


@bp.post("/groups/<int:group_id>/members")
@login_required
def add_group_member(group_id: int) -> str | Response | tuple[str, int]:
    team = _group_or_404(group_id)
    form = GroupMemberForm()
    if form.validate_on_submit():
        try:
            groups.add_member(current_user, team, accounts.find_user(form.email.data))
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error)
        else:
            db.session.commit()
            flash(_("Member added."), "success")
            return redirect(url_for(".group", group_id=team.id))
    return group(group_id, form), 400


@bp.post("/groups/<int:group_id>/members/<int:user_id>/remove")
@login_required
def remove_group_member(group_id: int, user_id: int) -> Response:
    team = _group_or_404(group_id)
    person = _user_or_404(user_id)
    if person not in team.members:
        abort(404)
    groups.remove_member(current_user, team, person)
    db.session.commit()
    flash(_("%(email)s removed from the group.", email=person.email), "success")
    return redirect(url_for(".group", group_id=team.id))
