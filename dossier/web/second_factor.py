"""Two-step verification pages: the second step of a log-in, setting up and switching off the
authenticator app, recovery codes, and an administrator's reset.

After a right password, a user with a confirmed factor is not logged in: the session holds only
a pending log-in (user id, session token, when) that this second step turns into a real one.
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from dossier import access, accounts, database, second_factor, throttling
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import SecondFactor, User
from dossier.security import log_event
from dossier.web.forms import Form

bp = Blueprint("second_factor", __name__)

PENDING = "second_factor_pending"  # the session key of a log-in waiting for its code
# A session that single sign-on began carries this key: its identity provider asks for the
# second factor, so such a session is never led to the enrolment (the single sign-on view sets
# it after `auth.begin_session`).
SSO_SESSION = "signed_in_with_sso"
# What a user who must still set up the factor may reach (besides the password change).
ENROLMENT_ENDPOINTS = frozenset(
    {
        "static",
        "favicon",
        "auth.logout",
        "auth.language",
        "auth.password",
        "auth.password_submit",
        "second_factor.settings",
        "second_factor.confirm",
    }
)


class CodeForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class DisableForm(CodeForm):
    password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])


@bp.record_once
def _check_settings(state: Any) -> None:
    app: Flask = state.app
    second_factor.check_settings(app.config["SECOND_FACTOR_REQUIRED_ROLES"])


@bp.before_app_request
def _require_enrolment() -> Response | None:
    """A user whose role requires a second factor reaches nothing else until it is set up
    (after the endpoint policy, so a one-time password is replaced first)."""
    if not current_user.is_authenticated or request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if request.endpoint and access.endpoint_rule(request.endpoint) == access.TOKEN:
        return None  # the API answers with problem details; its tokens are made after set-up
    if request.endpoint is None or not _enrolment_pending():
        return None
    return redirect(url_for("second_factor.settings"))


def _enrolment_pending() -> bool:
    """Whether the logged-in user's role requires a second factor that is not set up yet (a
    single sign-on session is exempt: its provider checks the factors). Once a request."""
    if "enrolment_pending" not in g:
        g.enrolment_pending = (
            not session.get(SSO_SESSION)
            and second_factor.is_required(current_user)
            and not _enabled_without_transaction(current_user.id)
        )
    return bool(g.enrolment_pending)


def _enabled_without_transaction(user_id: int) -> bool:
    """Checked in a short read of its own, like the user itself (dossier.security.load_user)."""
    with database.read_only(), Session(db.engine) as own:
        factor = own.get(SecondFactor, user_id)
        return factor is not None and factor.confirmed_at is not None


def setting_up() -> bool:
    """Whether the user must finish setting up first (replace a one-time password, or set up a
    required second factor): every other page leads back there, so base.html shows no menu."""
    return bool(current_user.is_authenticated) and (
        bool(current_user.must_change_password) or _enrolment_pending()
    )


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"second_factor_of": second_factor.factor_of, "setting_up": setting_up}


# The second step of a log-in.


def start_challenge(user: User, remember: bool, next_url: str | None) -> Response:
    """Called by the log-in view after a right password: remember the pending log-in only."""
    chosen = session.get("lang")
    session.clear()  # nothing of an earlier session survives into this one
    if chosen:
        session["lang"] = chosen
    session[PENDING] = {
        "user_id": user.id,
        "token": user.session_token,
        "remember": bool(remember),
        "next": next_url,
        "at": time.time(),
    }
    return redirect(url_for("second_factor.challenge"))


def _pending_user() -> tuple[User, dict[str, Any]] | None:
    """The user of a pending log-in that has not expired and whose sessions were not ended."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    age = time.time() - float(pending.get("at", 0))
    user = db.session.get(User, int(pending.get("user_id", 0)))
    if (
        age > current_app.config["SECOND_FACTOR_PENDING_SECONDS"]
        or user is None
        or not user.is_enabled
        or user.session_token != pending.get("token")
    ):
        session.pop(PENDING, None)
        return None
    return user, pending


@bp.get("/login/code")
def challenge() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("register.index"))
    if _pending_user() is None:
        flash(_("Log in with your e-mail address and password first."), "info")
        return redirect(url_for("auth.login"))
    return render_template("second_factor/challenge.html", form=CodeForm())


@bp.post("/login/code")
def challenge_submit() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    found = _pending_user()
    if found is None:
        flash(_("Log in with your e-mail address and password first."), "info")
        return redirect(url_for("auth.login"))
    user, pending = found
    if refusal := throttling.second_factor_refusal(user.id):
        log_event("second_factor.throttled", email=user.email, scope=refusal.scope)
        return _throttled(refusal)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            result = second_factor.check_code(user, form.code.data or "")
        except second_factor.SecretUnreadable:
            db.session.rollback()
            log_event("second_factor.unreadable", email=user.email)
            flash(
                _(
                    "Your two-step verification cannot be checked. "
                    "Ask an administrator to reset it."
                ),
                "error",
            )
            return render_template("second_factor/challenge.html", form=form), 400
        if result.accepted:
            db.session.commit()
            from dossier.web.auth import begin_session  # auth imports this module

            begin_session(user, remember=pending["remember"])
            if result.by_recovery_code:  # after the fresh session, which drops earlier flashes
                _warn_recovery_codes_left(result.recovery_codes_left)
            if user.must_change_password:
                return redirect(url_for("auth.password"))
            return redirect(pending.get("next") or url_for("register.index"))
        db.session.rollback()
        _record_wrong_code(user)
        flash(_("That code is not right, or it was used already."), "error")
    return render_template("second_factor/challenge.html", form=form), 400


def _warn_recovery_codes_left(left: int) -> None:
    message = ngettext(
        "You logged in with a recovery code. %(num)d recovery code is left.",
        "You logged in with a recovery code. %(num)d recovery codes are left.",
        left,
    )
    advice = _("Make new recovery codes on the two-step verification page.")
    flash(f"{message} {advice}" if left <= 3 else message, "warning")


def _record_wrong_code(user: User) -> None:
    """Log, audit and count a wrong code; audit a throttle it closes."""
    address = request.remote_addr
    log_event("second_factor.failed", email=user.email)
    second_factor.record_failure(user, address)
    if throttling.record_second_factor_failure(user.id):
        log_event("second_factor.locked", email=user.email, scope=throttling.SECOND_FACTOR)
        second_factor.record_lockout(user, address)
    db.session.commit()


def _throttled(refusal: throttling.Refusal) -> tuple[str, int, dict[str, str]]:
    page = render_template(
        "errors/error.html", code=429, reason=f"throttled_{refusal.scope}", minutes=refusal.minutes
    )
    return page, 429, {"Retry-After": str(refusal.retry_after)}


# The user's own page.


@bp.get("/account/two-step")
@login_required
def settings() -> str | Response:
    user = db.session.get(User, current_user.id)
    if second_factor.is_enabled(user.id):
        return _status_page(user)
    return _enrolment_page(user, CodeForm())


def _enrolment_page(user: User, form: CodeForm, status: int = 200) -> Response:
    secret = second_factor.start_enrolment(user)
    db.session.commit()
    uri = second_factor.provisioning_uri(user, secret)
    page = render_template(
        "second_factor/enrol.html",
        form=form,
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        qr=second_factor.qr_svg(uri, _("QR code for your authenticator app")),
        required=second_factor.is_required(user),
    )
    # The page shows the secret: no cache may keep it, whatever the application's defaults.
    # (Flask's response, not werkzeug's: that one would send the page as text/plain.)
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _status_page(
    user: User, renew_form: CodeForm | None = None, disable_form: DisableForm | None = None
) -> str:
    return render_template(
        "second_factor/status.html",
        factor=second_factor.factor_of(user.id),
        left=second_factor.recovery_codes_left(user.id),
        renew_form=renew_form or CodeForm(prefix="renew"),
        disable_form=disable_form or DisableForm(prefix="disable"),
        required=second_factor.is_required(user),
    )


@bp.post("/account/two-step/confirm")
@login_required
def confirm() -> str | Response | tuple[str, int]:
    user = db.session.get(User, current_user.id)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = second_factor.confirm_enrolment(user, form.code.data or "")
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error)
        else:
            db.session.commit()
            flash(_("Two-step verification is switched on."), "success")
            return render_template("second_factor/codes.html", codes=codes)
    if second_factor.is_enabled(user.id):
        return redirect(url_for(".settings"))
    return _enrolment_page(user, form, 400)


@bp.post("/account/two-step/recovery-codes")
@login_required
def renew() -> str | Response | tuple[str, int]:
    user = db.session.get(User, current_user.id)
    form = CodeForm(prefix="renew")
    if form.validate_on_submit() and second_factor.is_enabled(user.id):
        try:
            codes = second_factor.renew_recovery_codes(user, form.code.data or "")
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error)
        else:
            db.session.commit()
            flash(_("New recovery codes are made; the old ones no longer work."), "success")
            return render_template("second_factor/codes.html", codes=codes)
    if not second_factor.is_enabled(user.id):
        return _enrolment_page(user, CodeForm(), 400)
    return _status_page(user, renew_form=form), 400


@bp.post("/account/two-step/disable")
@login_required
def disable() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    user = db.session.get(User, current_user.id)
    refusal = throttling.password_refusal(user.id) or throttling.second_factor_refusal(user.id)
    if refusal:
        log_event(f"{refusal.scope}.throttled", scope=refusal.scope)
        return _throttled(refusal)
    form = DisableForm(prefix="disable")
    if form.validate_on_submit() and second_factor.is_enabled(user.id):
        try:
            second_factor.disable(user, form.password.data or "", form.code.data or "")
        except ValidationError as error:
            db.session.rollback()
            _count_disable_failure(user, error)
            _flash_errors(error)
        else:
            db.session.commit()
            flash(_("Two-step verification is switched off."), "success")
            return redirect(url_for(".settings"))
    if not second_factor.is_enabled(user.id):
        return redirect(url_for(".settings"))
    return _status_page(user, disable_form=form), 400


def _count_disable_failure(user: User, error: ValidationError) -> None:
    """A wrong password counts like one on the password page, a wrong code like one at log-in."""
    if "password" in error.errors:
        log_event("password.check_failed")
        if throttling.record_password_failure(user.id):
            log_event("password.locked", scope=throttling.PASSWORD)
            accounts.record_password_lockout(user, throttling.PASSWORD)
    elif "code" in error.errors:
        log_event("second_factor.failed", email=user.email)
        if throttling.record_second_factor_failure(user.id):
            log_event("second_factor.locked", email=user.email, scope=throttling.SECOND_FACTOR)
            second_factor.record_lockout(user, request.remote_addr)
    db.session.commit()


# An administrator's reset.


@bp.post("/admin/users/<int:user_id>/two-step/reset")
@login_required
def reset(user_id: int) -> Response:
    access.require(access.can_administer(current_user), access.NEEDS_ADMIN)
    person = db.session.get(User, user_id) or abort(404)
    try:
        changed = second_factor.reset(current_user, person)
    except ValidationError as error:
        db.session.rollback()
        _flash_errors(error)
    else:
        db.session.commit()
        if changed:
            flash(
                _(
                    "Two-step verification of %(email)s is reset; "
                    "they set it up again at the next log-in.",
                    email=person.email,
                ),
                "success",
            )
        else:
            flash(_("%(email)s had no two-step verification.", email=person.email), "info")
    return redirect(url_for("admin.user", user_id=person.id))


def _flash_errors(error: ValidationError) -> None:
    for message in error.errors.values():
        flash(message, "error")
