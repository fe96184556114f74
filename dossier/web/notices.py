"""Notices: a user's own list (with the unread count in the navigation), a dossier's notices,
sending one (the beheerder), and following a dossier (anyone who sees it)."""

from __future__ import annotations

import logging
import smtplib

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from dossier import access, following, labels, notices
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import Document, Dossier, MemberRole, Notice, NoticeKind
from dossier.web.forms import Form, _choices

bp = Blueprint("notices", __name__)
log = logging.getLogger(__name__)
EVERY_MEMBER = "all"


class NoticeForm(Form):
    kind = SelectField(_l("About"), choices=_choices(labels.NOTICE_KIND))
    audience = SelectField(_l("To"), choices=[])
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=255)])
    body = TextAreaField(_l("Message"), validators=[Length(max=notices.MAX_BODY)])
    document = SelectField(_l("Document it is about"), choices=[], validate_choice=True)

    def offer(self, documents: list[Document]) -> NoticeForm:
        self.audience.choices = [
            (EVERY_MEMBER, _("Every member of this dossier")),
            *((role.value, label) for role, label in labels.MEMBER_ROLE.items()),
        ]
        self.document.choices = [("", "—"), *((str(d.id), d.title) for d in documents)]
        return self


def _documents(dossier: Dossier) -> list[Document]:
    """The documents of `dossier` the sender may open, to link a notice to."""
    query = access.visible_documents(current_user).where(Document.dossier_id == dossier.id)
    return list(db.session.scalars(query.order_by(Document.title)))


def _sending(reference: str) -> Dossier:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_send_notice(current_user, dossier))
    return dossier


@bp.get("/notices")
@login_required
def index() -> str:
    return render_template(
        "notices/index.html", received=notices.received(current_user), notices_api=notices
    )


@bp.post("/notices/<int:notice_id>/read")
@login_required
def mark_read(notice_id: int) -> Response:
    if not notices.received_one(current_user, notice_id):
        abort(404)
    notices.mark_read(current_user, [notice_id])
    db.session.commit()
    return redirect(url_for(".index"))


@bp.post("/notices/read")
@login_required
def mark_all_read() -> Response:
    count = notices.mark_read(current_user)
    db.session.commit()
    flash(_("Marked as read: %(num)d.", num=count), "success")
    return redirect(url_for(".index"))


@bp.get("/dossiers/<reference>/notices")
@login_required
def dossier(reference: str) -> str:
    found = access.get_dossier_or_404(current_user, reference)
    return render_template(
        "notices/dossier.html",
        dossier=found,
        notices=notices.of_dossier(current_user, found),
        can_send=access.can_send_notice(current_user, found),
        following=following.is_following(current_user, found),
        notices_api=notices,
    )


@bp.get("/dossiers/<reference>/notices/new")
@login_required
def new(reference: str) -> str:
    found = _sending(reference)
    form = NoticeForm().offer(_documents(found))
    return render_template("notices/new.html", dossier=found, form=form)


@bp.post("/dossiers/<reference>/notices/new")
@login_required
def create(reference: str) -> str | Response | tuple[str, int]:
    found = _sending(reference)
    documents = _documents(found)
    form = NoticeForm().offer(documents)
    if form.validate_on_submit():
        try:
            notice = notices.send_notice(
                current_user,
                found,
                form.subject.data,
                form.body.data or "",
                kind=NoticeKind(form.kind.data),
                role=None if form.audience.data == EVERY_MEMBER else MemberRole(form.audience.data),
                document=next((d for d in documents if str(d.id) == form.document.data), None),
            )
        except ValidationError as error:
            db.session.rollback()
            for name, message in error.errors.items():
                getattr(form, name).errors.append(message)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            _mail(notice)
            return redirect(url_for(".dossier", reference=found.reference))
    return render_template("notices/new.html", dossier=found, form=form), 400


def _mail(notice: Notice) -> None:
    """Mail a committed notice. It is recorded and shown in-app whatever the mail server
    does, so the receipts of who was mailed are a second, separate commit."""
    count = len(notice.recipients)
    try:
        notices.deliver(notice)
    except (OSError, smtplib.SMTPException) as exc:
        db.session.rollback()
        log.warning("notice %s not mailed: %s", notice.id, exc)
        flash(
            ngettext(
                "Notice sent in Dossier to %(num)d person, but the e-mail could not be sent; "
                "they see it under Notices.",
                "Notice sent in Dossier to %(num)d people, but the e-mail could not be sent; "
                "they see it under Notices.",
                count,
            ),
            "warning",  # the notice itself went out; only its mail did not
        )
        return
    db.session.commit()
    flash(
        ngettext(
            "Notice sent to %(num)d person, in Dossier and by e-mail.",
            "Notice sent to %(num)d people, in Dossier and by e-mail.",
            count,
        ),
        "success",
    )


@bp.post("/dossiers/<reference>/follow")
@login_required
def follow(reference: str) -> Response:
    found = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_follow(current_user, found))
    following.follow(current_user, found)
    db.session.commit()
    flash(_("You follow this dossier: its news comes to you in the daily digest."), "success")
    return redirect(url_for("dossiers.show", reference=found.reference))


@bp.post("/dossiers/<reference>/unfollow")
@login_required
def unfollow(reference: str) -> Response:
    found = access.get_dossier_or_404(current_user, reference)
    following.unfollow(current_user, found)
    db.session.commit()
    flash(_("You no longer follow this dossier."), "success")
    return redirect(url_for("dossiers.show", reference=found.reference))


@bp.app_template_global()
def unread_notice_count() -> int:
    """For the navigation: the logged-in user's unread notices (0 for a visitor)."""
    if not current_user.is_authenticated:
        return 0
    try:
        return notices.unread_count(current_user)
    except sa.exc.SQLAlchemyError:
        # The page being drawn may be the error page of a failed database request: the
        # badge is left out rather than failing that page too.
        log.warning("unread notices not counted", exc_info=True)
        return 0


@bp.app_template_global()
def dossier_notice_panel(dossier: Dossier) -> dict[str, object]:
    """What the dossier page shows of its notices: the latest few the user may read, and
    whether they follow it and may send."""
    return {
        "notices": notices.of_dossier(current_user, dossier)[:5],
        "following": following.is_following(current_user, dossier),
        "can_send": access.can_send_notice(current_user, dossier),
        "can_follow": access.can_follow(current_user, dossier),
    }
