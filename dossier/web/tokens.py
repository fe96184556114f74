"""The user's personal access tokens for the API: make one (shown once), see them, revoke."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from dossier import tokens
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import TokenScope, User, utcnow

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")

SCOPE_LABELS = {
    TokenScope.READ: _l("Read only"),
    TokenScope.READ_WRITE: _l("Read and write (file documents, change register data)"),
}


class TokenForm(FlaskForm):
    name = StringField(_l("Name (what it is for)"), [DataRequired(), Length(max=tokens.NAME_MAX)])
    scope = SelectField(
        _l("Scope"),
        choices=[SelectChoice(scope.value, label) for scope, label in SCOPE_LABELS.items()],
    )
    days = SelectField(
        _l("Valid for"),
        coerce=int,
        default=90,
        choices=[SelectChoice(days, _l("%(num)d days", num=days)) for days in tokens.LIFETIMES],
    )


class RevokeForm(FlaskForm):
    """Only the CSRF token: revoking is a POST from the user's own page."""


def _page(form: TokenForm, secret: str | None = None, status: int = 200) -> Response:
    user = db.session.get(User, current_user.id)
    page = render_template(
        "tokens/index.html",
        form=form,
        revoke_form=RevokeForm(),
        tokens=tokens.tokens_of(user),
        secret=secret,
        now=utcnow(),
        scope_labels=SCOPE_LABELS,
        api_url=url_for("api-docs.openapi_json", _external=True),
    )
    # A page that shows a new secret must not be kept by any cache.
    return Response(page, status=status, headers={"Cache-Control": "no-store"})


@bp.get("")
@login_required
def index() -> Response:
    return _page(TokenForm())


@bp.post("")
@login_required
def create() -> Response:
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    user = db.session.get(User, current_user.id)
    try:
        created = tokens.create_token(
            user, form.name.data or "", TokenScope(form.scope.data), form.days.data
        )
    except ValidationError as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(message, "error")
        return _page(form, status=400)
    db.session.commit()
    return _page(TokenForm(formdata=None), secret=created.secret)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    if not RevokeForm().validate_on_submit():
        abort(400)
    user = db.session.get(User, current_user.id)
    token = tokens.token_of(user, token_id)
    if token is None:
        abort(404)  # another user's token is as unknown as a missing one
    if tokens.revoke(user, token):
        db.session.commit()
        flash(_("The token %(prefix)s… no longer works.", prefix=token.prefix), "success")
    return redirect(url_for("tokens.index"))
