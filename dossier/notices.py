"""Information pushed unasked: notices a beheerder sends about a dossier to its members or one
role, in-app and by mail (the events of followed dossiers are in `dossier.following`).

Every notice is filtered for its reader when it is shown or mailed, never when it was made: a
recipient who lost access to the dossier no longer sees it, and the title of a linked
document reaches only those who may open it.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from dossier import access, audit
from dossier.config import public_url
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    Document,
    Dossier,
    GroupMember,
    MemberRole,
    Membership,
    Notice,
    NoticeKind,
    NoticeRecipient,
    User,
    utcnow,
)
from dossier.text import clean_line, clean_text, has_nul

MAX_BODY = 5000


# ------------------------------------------------------------------ sending


def recipients_for(dossier: Dossier, role: MemberRole | None, sender: User | None) -> list[User]:
    """The enabled users holding a role (`role`, when given) on `dossier`, directly or through
    a group, except the sender."""
    direct = sa.select(Membership.user_id).where(
        Membership.dossier_id == dossier.id, Membership.user_id.is_not(None)
    )
    by_group = (
        sa.select(GroupMember.user_id)
        .join(Membership, Membership.group_id == GroupMember.group_id)
        .where(Membership.dossier_id == dossier.id)
    )
    if role is not None:
        direct = direct.where(Membership.role == role)
        by_group = by_group.where(Membership.role == role)
    query = (
        sa.select(User)
        .where(User.is_enabled.is_(True), sa.or_(User.id.in_(direct), User.id.in_(by_group)))
        .order_by(User.email)
    )
    if sender is not None:
        query = query.where(User.id != sender.id)
    return list(db.session.scalars(query))


def _checked(subject: str, body: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    if has_nul(subject) or has_nul(body):
        errors["body" if has_nul(body) else "subject"] = _("holds a NUL character; remove it")
    subject, body = clean_line(subject), clean_text(body)
    if not subject:
        errors.setdefault("subject", _("a subject is required"))
    elif len(subject) > 255:
        errors.setdefault("subject", _("a subject is at most 255 characters"))
    if len(body) > MAX_BODY:
        errors.setdefault("body", _("a notice is at most %(num)d characters", num=MAX_BODY))
    if errors:
        raise ValidationError(errors)
    return subject, body


def send_notice(
    actor: User,
    dossier: Dossier,
    subject: str,
    body: str = "",
    *,
    kind: NoticeKind = NoticeKind.OTHER,
    role: MemberRole | None = None,
    document: Document | None = None,
) -> Notice:
    """Record a notice to the members of `dossier` (or the holders of `role`) with one
    recipient row each, in-app at once; mail it with `deliver` after the commit. Audited."""
    subject, body = _checked(subject, body)
    if document is not None and document.dossier_id != dossier.id:
        raise ValidationError({"document": _("that document is not in this dossier")})
    users = recipients_for(dossier, role, actor)
    if not users:
        raise DomainError(_("Nobody would receive this notice: no one else holds that role."))
    notice = Notice(
        dossier_id=dossier.id,
        sender_id=actor.id,
        kind=kind,
        subject=subject,
        body=body,
        role=role,
        document_id=document.id if document is not None else None,
    )
    notice.recipients = [NoticeRecipient(user_id=u.id) for u in users]
    db.session.add(notice)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.NOTICE_SEND,
        "notice",
        notice.id,
        dossier_id=dossier.id,
        after={
            "kind": kind,
            "subject": subject,
            "role": role,
            "document_id": notice.document_id,
            "recipients": [u.email for u in users],
        },
    )
    return notice


def document_for(user: User, notice: Notice) -> Document | None:
    """The notice's document if `user` may open it, else None (its title stays unseen)."""
    document = notice.document
    if document is None or not access.can_view_document(user, document):
        return None
    return document


def _locale(user: User) -> str:
    return user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]


def message(notice: Notice, user: User) -> EmailMessage:
    """The e-mail of `notice` for one recipient, in their language, filtered for them."""
    mail = EmailMessage()
    with force_locale(_locale(user)):
        mail["Subject"] = _(
            "[%(ref)s] %(subject)s", ref=notice.dossier.reference, subject=notice.subject
        )
        text = render_template(
            "notices/mail.txt",
            notice=notice,
            user=user,
            document=document_for(user, notice),
            base_url=public_url(current_app.config),
        )
    mail["From"] = current_app.config["MAIL_FROM"]
    mail["To"] = user.email
    mail.set_content(text)
    return mail


def deliver(notice: Notice) -> int:
    """Mail `notice` to its recipients who were not mailed yet and still see its dossier;
    returns how many were sent. SMTP errors propagate (the notice stays recorded in-app)."""
    from dossier import digest

    pending = [
        r
        for r in notice.recipients
        if r.emailed_at is None
        and r.user.is_enabled
        and access.can_view_dossier(r.user, notice.dossier)
    ]
    sent = digest.send([message(notice, r.user) for r in pending])
    now = utcnow()
    for recipient in pending:
        recipient.emailed_at = now
    db.session.flush()
    return sent


# ------------------------------------------------------------------ reading


def received(user: User, limit: int = 200) -> list[tuple[Notice, NoticeRecipient]]:
    """The notices sent to `user` that they may still see, newest first, with their receipt."""
    query = (
        access.received_notices(user)
        .add_columns(NoticeRecipient)
        .order_by(Notice.created_at.desc(), Notice.id.desc())
        .limit(limit)
    )
    return [(notice, receipt) for notice, receipt in db.session.execute(query)]


def received_one(user: User, notice_id: int) -> Notice | None:
    """The notice `notice_id` if it was sent to `user` and they may still see it."""
    return db.session.scalar(access.received_notices(user).where(Notice.id == notice_id))


def unread_count(user: User) -> int:
    query = access.received_notices(user).where(NoticeRecipient.read_at.is_(None))
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def mark_read(user: User, notice_ids: Iterable[int] | None = None) -> int:
    """Mark the visible notices sent to `user` (those of `notice_ids`, or all) as read."""
    visible = access.received_notices(user).with_only_columns(Notice.id)
    if notice_ids is not None:
        visible = visible.where(Notice.id.in_(list(notice_ids)))
    result = db.session.execute(
        sa.update(NoticeRecipient)
        .where(
            NoticeRecipient.user_id == user.id,
            NoticeRecipient.read_at.is_(None),
            NoticeRecipient.notice_id.in_(visible),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def of_dossier(user: User, dossier: Dossier) -> list[Notice]:
    """The notices of `dossier` that `user` may read: all for its beheerder (and auditors),
    else those sent to them; newest first."""
    query = access.dossier_notices(user, dossier)
    return list(db.session.scalars(query.order_by(Notice.created_at.desc(), Notice.id.desc())))
