"""Woo requests (Wet open overheid): registering a request and its statutory deadline,
collecting documents for it, assessing them, marking passages and making the redacted PDFs.

Who: users with the global Woo role handle requests (auditors read them). The role reads no
document by itself: a handler collects, sees and redacts only the documents that
`access.visible_documents` lets them read through their memberships or another role, and
collecting re-checks that here, whatever the caller passed. The statutory deadline is in
dossier/woo_deadlines.py, marking passages and the redacted PDFs in dossier/woo_marks.py, the
inventory list and the publication package in dossier/woo_package.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from flask import current_app
from flask_babel import gettext as _

from dossier import access, audit
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import (
    Assessment,
    AuditAction,
    Document,
    User,
    WooDocument,
    WooRequest,
    WooStatus,
)
from dossier.woo_deadlines import deadline

# The grounds of the Woo on which information is withheld (art. 5.1 lid 1 absolute, lid 2
# relative, 5.2 personal opinions on policy in documents for internal deliberation). An
# installation may replace the list with WOO_GROUNDS in its configuration.
WOO_GROUNDS: list[tuple[str, str]] = [
    ("5.1.1a", "de eenheid van de Kroon"),
    ("5.1.1b", "de veiligheid van de Staat"),
    ("5.1.1c", "vertrouwelijk meegedeelde bedrijfs- en fabricagegegevens"),
    ("5.1.1d", "bijzondere persoonsgegevens"),
    ("5.1.1e", "identificatienummers van personen"),
    ("5.1.2a", "de betrekkingen van Nederland met andere landen, staten en organisaties"),
    ("5.1.2b", "de economische of financiële belangen van de Staat of bestuursorganen"),
    ("5.1.2c", "de opsporing en vervolging van strafbare feiten"),
    ("5.1.2d", "de inspectie, controle en toezicht door bestuursorganen"),
    ("5.1.2e", "eerbiediging van de persoonlijke levenssfeer"),
    ("5.1.2f", "concurrentiegevoelige bedrijfs- en fabricagegegevens"),
    ("5.1.2g", "de bescherming van het milieu waarop de informatie betrekking heeft"),
    ("5.1.2h", "de beveiliging van personen en bedrijven en het voorkomen van sabotage"),
    ("5.1.2i", "het goed functioneren van de Staat of bestuursorganen"),
    ("5.1.5", "onevenredige benadeling van een ander belang"),
    ("5.2.1", "persoonlijke beleidsopvattingen in documenten voor intern beraad"),
]
MAX_TEXT = 10_000


def grounds() -> list[tuple[str, str]]:
    """The configured grounds, (code, description)."""
    configured = current_app.config.get("WOO_GROUNDS")
    return [tuple(g) for g in configured] if configured else list(WOO_GROUNDS)  # type: ignore[misc]


def ground_label(code: str) -> str:
    return next((f"{c} – {d}" for c, d in grounds() if c == code), code)


def check_grounds(codes: Iterable[str]) -> list[str]:
    known = {code for code, _d in grounds()}
    chosen = sorted({c.strip() for c in codes if c.strip()})
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise ValidationError({"grounds": _("unknown ground: %(codes)s", codes=", ".join(unknown))})
    return chosen


# Registering a request


def clean_text(value: str | None, field: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("this field is required")})
    if len(value) > limit:
        raise ValidationError({field: _("at most %(n)d characters", n=limit)})
    return value


def create_request(
    actor: User, received_on: date, requester: str, subject: str, today: date
) -> WooRequest:
    if received_on > today:
        raise ValidationError({"received_on": _("the date of receipt lies in the future")})
    request = WooRequest(
        received_on=received_on,
        requester=clean_text(requester, "requester", 255),
        subject=clean_text(subject, "subject", MAX_TEXT),
        created_by_id=actor.id,
    )
    db.session.add(request)
    db.session.flush()
    record(actor, AuditAction.WOO_REQUEST_CREATE, request, after=_summary(request))
    return request


def _summary(request: WooRequest) -> dict[str, object]:
    return {
        "received_on": request.received_on,
        "requester": request.requester,
        "subject": request.subject,
        "decision_due": deadline(request).decision_due,
    }


def record(
    actor: User,
    action: AuditAction,
    request: WooRequest,
    *,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
    dossier_id: int | None = None,
) -> None:
    audit.record(
        actor,
        action,
        "woo_request",
        request.id,
        dossier_id=dossier_id,
        before=audit.jsonable(before) if before else None,
        after=audit.jsonable(after) if after else None,
    )


def require_open(request: WooRequest) -> None:
    if request.status != WooStatus.OPEN:
        raise DomainError(_("the request was decided; it can no longer change"))


def extend(actor: User, request: WooRequest, notice_on: date, reason: str) -> None:
    """Postpone the decision once by the extension period (art. 4.4 lid 2); the requester was
    told why on `notice_on`, which must lie within the first period."""
    require_open(request)
    if request.extended_on is not None:
        raise ValidationError({"notice_on": _("the decision was already postponed once")})
    reason = clean_text(reason, "reason", MAX_TEXT)
    before = deadline(request)
    if notice_on > before.first_period_ends:
        raise ValidationError(
            {"notice_on": _("the requester must be told before the first period ends")}
        )
    request.extended_on, request.extension_reason = notice_on, reason
    db.session.flush()
    record(
        actor,
        AuditAction.WOO_REQUEST_EXTEND,
        request,
        before={"decision_due": before.decision_due},
        after={
            "decision_due": deadline(request).decision_due,
            "notice_on": notice_on,
            "reason": reason,
        },
    )


def suspend(actor: User, request: WooRequest, days: int, reason: str) -> None:
    """Record a suspension (opschorting, art. 4.4 lid 3 and Awb 4:15) of `days` days."""
    require_open(request)
    if not 1 <= days <= 365:
        raise ValidationError({"days": _("a suspension is 1 to 365 days")})
    reason = clean_text(reason, "reason", MAX_TEXT)
    before = deadline(request).decision_due
    request.suspended_days = (request.suspended_days or 0) + days
    db.session.flush()
    record(
        actor,
        AuditAction.WOO_REQUEST_SUSPEND,
        request,
        before={"decision_due": before},
        after={"decision_due": deadline(request).decision_due, "days": days, "reason": reason},
    )


def set_decision_text(actor: User, request: WooRequest, text: str) -> None:
    require_open(request)
    text = clean_text(text, "decision_text", 100_000, required=False)
    if text == request.decision_text:
        return
    before = {"decision_text": request.decision_text}
    request.decision_text = text
    db.session.flush()
    record(
        actor, AuditAction.WOO_REQUEST_UPDATE, request, before=before, after={"decision_text": text}
    )


def decide(actor: User, request: WooRequest, decided_on: date) -> None:
    """Close the request: every document assessed and every partly public one redacted."""
    require_open(request)
    problems = package_problems(request)
    if problems:
        raise DomainError("; ".join(problems))
    request.status, request.decided_on = WooStatus.DECIDED, decided_on
    db.session.flush()
    record(actor, AuditAction.WOO_REQUEST_DECIDE, request, after={"decided_on": decided_on})


def package_problems(request: WooRequest) -> list[str]:
    """What stands between `request` and its publication package, in words."""
    problems = []
    if not request.items:
        problems.append(_("no documents were collected"))
    for item in request.items:
        if item.assessment == Assessment.PENDING:
            problems.append(_("document %(n)d is not assessed", n=item.number))
        elif item.assessment == Assessment.PARTLY_PUBLIC and not item.redacted_blob_key:
            problems.append(_("document %(n)d has no redacted PDF yet", n=item.number))
        elif item.assessment == Assessment.PUBLIC and not has_pdf_form(item):
            problems.append(no_rendition_problem(item))
    if not request.decision_text.strip():
        problems.append(_("the decision letter is empty"))
    return problems


def is_pdf(item: WooDocument) -> bool:
    return item.version.mime_type == "application/pdf"


def has_pdf_form(item: WooDocument) -> bool:
    """Whether `item` is a PDF or has extracted text to make one of (what is published)."""
    return is_pdf(item) or bool((item.version.text or "").strip())


def no_rendition_problem(item: WooDocument) -> str:
    return _(
        "document %(n)d (%(title)s) is no PDF and has no extracted text: no PDF of it can be"
        " published, and the original is not published as it is",
        n=item.number,
        title=item.document.title,
    )


# Collecting documents


def readable_items(actor: User, request: WooRequest) -> tuple[list[WooDocument], int]:
    """The documents of `request` that `actor` may read, and how many others it holds."""
    readable = (
        set(
            db.session.scalars(
                access.visible_documents(actor)
                .with_only_columns(Document.id)
                .where(Document.id.in_([i.document_id for i in request.items]))
            )
        )
        if request.items
        else set()
    )
    shown = [i for i in request.items if i.document_id in readable]
    return shown, len(request.items) - len(shown)


def collect(actor: User, request: WooRequest, document_ids: Sequence[int]) -> list[WooDocument]:
    """Add the current versions of these documents to the request: all of them, only when
    `actor` may read every one (else nothing is added and the answer is the same as for a
    missing id). Documents already collected are skipped."""
    require_open(request)
    wanted = set(document_ids)
    if not wanted:
        raise ValidationError({"documents": _("choose at least one document")})
    found = list(db.session.scalars(access.visible_documents(actor).where(Document.id.in_(wanted))))
    if len(found) != len(wanted):
        raise ValidationError({"documents": _("not every chosen document can be read by you")})
    present = {i.document_id for i in request.items}
    number = max((i.number for i in request.items), default=0)
    added = []
    for document in sorted(found, key=lambda d: d.id):
        version = document.current_version
        if document.id in present or version is None:
            continue
        number += 1
        item = WooDocument(
            request=request,
            document=document,
            version=version,
            number=number,
            added_by_id=actor.id,
        )
        db.session.add(item)
        added.append(item)
    db.session.flush()
    for item in added:
        record(
            actor,
            AuditAction.WOO_DOCUMENT_ADD,
            request,
            dossier_id=item.document.dossier_id,
            after={
                "document_id": item.document_id,
                "version": item.version.number,
                "number": item.number,
            },
        )
    return added


def remove_item(actor: User, item: WooDocument) -> None:
    request = item.request
    require_open(request)
    record(
        actor,
        AuditAction.WOO_DOCUMENT_REMOVE,
        request,
        dossier_id=item.document.dossier_id,
        before={"document_id": item.document_id, "number": item.number},
    )
    request.items.remove(item)
    db.session.flush()


# Assessing


def assess(
    actor: User, item: WooDocument, assessment: Assessment, codes: Iterable[str], note: str
) -> None:
    """Record the assessment; a document withheld as a whole needs at least one ground."""
    require_open(item.request)
    chosen = check_grounds(codes)
    if assessment == Assessment.NOT_PUBLIC and not chosen:
        raise ValidationError({"grounds": _("name the ground the document is withheld on")})
    before = {"assessment": item.assessment, "grounds": item.grounds}
    item.assessment = assessment
    item.grounds = " ".join(chosen) if assessment == Assessment.NOT_PUBLIC else ""
    item.note = clean_text(note, "note", MAX_TEXT, required=False)
    db.session.flush()
    record(
        actor,
        AuditAction.WOO_ASSESS,
        item.request,
        dossier_id=item.document.dossier_id,
        before=before,
        after={"number": item.number, "assessment": assessment, "grounds": item.grounds},
    )


def item_grounds(item: WooDocument) -> list[str]:
    """The grounds of a document: its own (withheld) or those of its redacted passages."""
    if item.assessment == Assessment.NOT_PUBLIC:
        return item.grounds.split()
    if item.assessment == Assessment.PARTLY_PUBLIC:
        return sorted({p.ground for p in item.passages})
    return []
