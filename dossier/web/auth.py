"""Logging in and out, and choosing the interface language."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from dossier import accounts, oidc, second_factor, throttling
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import User
from dossier.security import log_event
from dossier.web import second_factor as second_factor_views
from dossier.web.forms import LoginForm, PasswordForm

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only a local path may follow log-in; `//evil.example` and `https://...` are dropped."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


@bp.get("/login")
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("register.index"))
    return render_template("auth/login.html", form=LoginForm(), next=request.args.get("next"))


@bp.post("/login")
def login_submit() -> str | Response | tuple[str, int]:
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    # Throttled on the address as log-in compares it: invisible characters make no new account.
    email = accounts.normalised_email(request.form.get("email", ""))
    address = request.remote_addr or ""
    # Refused before any password is checked: a throttled guess learns nothing.
    if refusal := throttling.login_refusal(email, address):
        log_event(
            "login.throttled", email=accounts.attempted_account(email)[1], scope=refusal.scope
        )
        return _throttled(refusal)
    if not oidc.local_login_allowed(current_app.config, email):
        log_event("login.local_refused", email=accounts.attempted_account(email)[1])
        flash(_("Log in with single sign-on: log-in with a password is switched off."), "error")
        return render_template("auth/login.html", form=form, next=next_url), 403
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            db.session.commit()
            if second_factor.is_enabled(user.id):  # not logged in until the code is right
                return second_factor_views.start_challenge(user, bool(form.remember.data), next_url)
            begin_session(user, remember=bool(form.remember.data))
            if user.must_change_password:
                return redirect(url_for("auth.password"))
            return redirect(next_url or url_for("register.index"))
        _record_failed_login(email, address)
        flash(_("Unknown e-mail address or wrong password."), "error")
    return render_template("auth/login.html", form=form, next=next_url), 400


def begin_session(user: User, remember: bool = False) -> None:
    """Log `user` in on a fresh session (no fixation), keeping the language picked on the
    log-in page; local and single sign-on log-ins both start here."""
    chosen = session.get("lang")
    session.clear()
    if chosen in current_app.config["LANGUAGES"]:
        session["lang"] = chosen
    login_user(user, remember=remember)


def _record_failed_login(email: str, address: str) -> None:
    """Log, audit and count a wrong password; audit a throttle this failure closes."""
    recordable = accounts.attempted_account(email)[1]
    log_event("login.failed", email=recordable)
    accounts.record_failed_login(email, address)
    for scope in throttling.record_login_failure(email, address):
        log_event("login.locked", email=recordable, scope=scope)
        accounts.record_lockout(email, address, scope)
    db.session.commit()


def _throttled(refusal: throttling.Refusal) -> tuple[str, int, dict[str, str]]:
    """The error page saying why and for how long, with Retry-After for programs."""
    page = render_template(
        "errors/error.html", code=429, reason=f"throttled_{refusal.scope}", minutes=refusal.minutes
    )
    return page, 429, {"Retry-After": str(refusal.retry_after)}


@bp.post("/logout")
@login_required
def logout() -> Response:
    from dossier.web.sso import end_session_url  # sso imports this module

    at_provider = end_session_url()  # read from the session before it is cleared
    accounts.end_sessions(current_user.id)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(at_provider or url_for("auth.login"))


@bp.get("/account/password")
@login_required
def password() -> str:
    return render_template("auth/password.html", form=PasswordForm())


@bp.post("/account/password")
@login_required
def password_submit() -> str | Response | tuple[str, int]:
    form = PasswordForm()
    if refusal := throttling.password_refusal(current_user.id):
        log_event("password.throttled", scope=refusal.scope)
        return _throttled(refusal)
    if form.validate_on_submit():
        user = db.session.get(User, current_user.id)
        try:
            accounts.change_password(user, form.current_password.data, form.new_password.data)
        except ValidationError as error:
            db.session.rollback()
            if "current_password" in error.errors:
                _record_wrong_current_password(user)
            for message in error.errors.values():
                flash(message, "error")
        else:
            db.session.commit()
            forget_initial_password(user)
            login_user(user)  # this session carries the new token; all others have ended
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("register.index"))
    return render_template("auth/password.html", form=form), 400


def _record_wrong_current_password(user: User) -> None:
    """Count a wrong current password (a guess at it from an open session); audit a lock."""
    log_event("password.check_failed")
    if throttling.record_password_failure(user.id):
        log_event("password.locked", scope=throttling.PASSWORD)
        accounts.record_password_lockout(user, throttling.PASSWORD)
        db.session.commit()


def forget_initial_password(user: User) -> None:
    """The first administrator's generated password stops being shown once it is replaced."""
    if user.email == accounts.FIRST_ADMIN_EMAIL:
        Path(current_app.instance_path, accounts.FIRST_ADMIN_FILE).unlink(missing_ok=True)


@bp.post("/language")
def language() -> Response:
    chosen = request.form.get("lang", "")
    if chosen in current_app.config["LANGUAGES"]:
        session["lang"] = chosen
        if current_user.is_authenticated and current_user.locale != chosen:
            # Kept for the next log-in and the e-mailed digest (current_user is detached).
            accounts.set_locale(current_user.id, chosen)
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("register.index"))
