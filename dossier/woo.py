"""Woo requests (Wet open overheid): registering a request and its statutory deadline,
collecting documents for it, assessing them, marking passages and making the redacted PDFs.

Who: users with the global Woo role handle requests (auditors read them). The role reads no
document by itself: a handler collects, sees and redacts only the documents that
`access.visible_documents` lets them read through their memberships or another role, and
collecting re-checks that here, whatever the caller passed. The inventory list and the
publication package are in dossier/woo_package.py.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from dateutil.easter import easter
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dossier import access, audit, documents, pdf_rendering, redaction
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import (
    Assessment,
    AuditAction,
    Document,
    User,
    WooDocument,
    WooPassage,
    WooRequest,
    WooStatus,
    utcnow,
)
from dossier.services import blob_store

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


def _check_grounds(codes: Iterable[str]) -> list[str]:
    known = {code for code, _d in grounds()}
    chosen = sorted({c.strip() for c in codes if c.strip()})
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise ValidationError({"grounds": _("unknown ground: %(codes)s", codes=", ".join(unknown))})
    return chosen


# The statutory deadline


def is_holiday(day: date) -> bool:
    """A public holiday of the Algemene termijnenwet (art. 3): New Year's Day, Easter and Whit
    Monday, Ascension Day, both Christmas days, King's Day and the fifth of May."""
    easter_sunday = easter(day.year)
    kings_day = date(day.year, 4, 27)
    if kings_day.weekday() == 6:  # on a Sunday King's Day is celebrated the day before
        kings_day = date(day.year, 4, 26)
    fixed = {date(day.year, 1, 1), date(day.year, 5, 5), date(day.year, 12, 25)}
    fixed |= {date(day.year, 12, 26), kings_day}
    moving = {easter_sunday + timedelta(days=n) for n in (1, 39, 50)}
    return day in fixed or day in moving


def next_working_day(day: date) -> date:
    """`day`, or the first day after it that is no Saturday, Sunday or public holiday
    (Algemene termijnenwet art. 1: a statutory period ending on one of them runs on)."""
    while day.weekday() >= 5 or is_holiday(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class Deadline:
    first_period_ends: date  # the end of the four weeks: postponing must be announced by then
    decision_due: date  # the end of the period with the extension and suspension in it
    extended: bool
    suspended_days: int


def deadline(request: WooRequest) -> Deadline:
    """The decision deadline of `request` (Woo art. 4.4): four weeks from the day after receipt,
    plus two weeks when postponed, plus the days suspended; shifted past weekends and holidays."""
    config = current_app.config
    weeks = int(config.get("WOO_DECISION_WEEKS", 4))
    extension = int(config.get("WOO_EXTENSION_WEEKS", 2)) if request.extended_on else 0
    suspended = timedelta(days=request.suspended_days or 0)
    first = request.received_on + timedelta(weeks=weeks) + suspended
    return Deadline(
        first_period_ends=next_working_day(first),
        decision_due=next_working_day(first + timedelta(weeks=extension)),
        extended=request.extended_on is not None,
        suspended_days=request.suspended_days or 0,
    )


# Registering a request


def _text(value: str | None, field: str, limit: int, required: bool = True) -> str:
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
        requester=_text(requester, "requester", 255),
        subject=_text(subject, "subject", MAX_TEXT),
        created_by_id=actor.id,
    )
    db.session.add(request)
    db.session.flush()
    _audit(actor, AuditAction.WOO_REQUEST_CREATE, request, after=_summary(request))
    return request


def _summary(request: WooRequest) -> dict[str, object]:
    return {
        "received_on": request.received_on,
        "requester": request.requester,
        "subject": request.subject,
        "decision_due": deadline(request).decision_due,
    }


def _audit(
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


def _require_open(request: WooRequest) -> None:
    if request.status != WooStatus.OPEN:
        raise DomainError(_("the request was decided; it can no longer change"))


def extend(actor: User, request: WooRequest, notice_on: date, reason: str) -> None:
    """Postpone the decision once by the extension period (art. 4.4 lid 2); the requester was
    told why on `notice_on`, which must lie within the first period."""
    _require_open(request)
    if request.extended_on is not None:
        raise ValidationError({"notice_on": _("the decision was already postponed once")})
    reason = _text(reason, "reason", MAX_TEXT)
    before = deadline(request)
    if notice_on > before.first_period_ends:
        raise ValidationError(
            {"notice_on": _("the requester must be told before the first period ends")}
        )
    request.extended_on, request.extension_reason = notice_on, reason
    db.session.flush()
    _audit(
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
    _require_open(request)
    if not 1 <= days <= 365:
        raise ValidationError({"days": _("a suspension is 1 to 365 days")})
    reason = _text(reason, "reason", MAX_TEXT)
    before = deadline(request).decision_due
    request.suspended_days = (request.suspended_days or 0) + days
    db.session.flush()
    _audit(
        actor,
        AuditAction.WOO_REQUEST_SUSPEND,
        request,
        before={"decision_due": before},
        after={"decision_due": deadline(request).decision_due, "days": days, "reason": reason},
    )


def set_decision_text(actor: User, request: WooRequest, text: str) -> None:
    _require_open(request)
    text = _text(text, "decision_text", 100_000, required=False)
    if text == request.decision_text:
        return
    before = {"decision_text": request.decision_text}
    request.decision_text = text
    db.session.flush()
    _audit(
        actor, AuditAction.WOO_REQUEST_UPDATE, request, before=before, after={"decision_text": text}
    )


def decide(actor: User, request: WooRequest, decided_on: date) -> None:
    """Close the request: every document assessed and every partly public one redacted."""
    _require_open(request)
    problems = package_problems(request)
    if problems:
        raise DomainError("; ".join(problems))
    request.status, request.decided_on = WooStatus.DECIDED, decided_on
    db.session.flush()
    _audit(actor, AuditAction.WOO_REQUEST_DECIDE, request, after={"decided_on": decided_on})


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
    if not request.decision_text.strip():
        problems.append(_("the decision letter is empty"))
    return problems


# Collecting documents


def requests(status: WooStatus | None = None) -> list[WooRequest]:
    query = sa.select(WooRequest).order_by(WooRequest.received_on.desc(), WooRequest.id.desc())
    if status is not None:
        query = query.where(WooRequest.status == status)
    return list(db.session.scalars(query))


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
    _require_open(request)
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
        _audit(
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
    _require_open(request)
    _audit(
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
    _require_open(item.request)
    chosen = _check_grounds(codes)
    if assessment == Assessment.NOT_PUBLIC and not chosen:
        raise ValidationError({"grounds": _("name the ground the document is withheld on")})
    before = {"assessment": item.assessment, "grounds": item.grounds}
    item.assessment = assessment
    item.grounds = " ".join(chosen) if assessment == Assessment.NOT_PUBLIC else ""
    item.note = _text(note, "note", MAX_TEXT, required=False)
    db.session.flush()
    _audit(
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


# The PDF a document is redacted on


class NotRedactable(DomainError):
    """The document has no PDF form and no extracted text to make one of."""


def unreadable_pdf(item: WooDocument) -> NotRedactable:
    return NotRedactable(
        _(
            "Document %(n)d is a PDF that cannot be opened for redaction (encrypted or damaged).",
            n=item.number,
        )
    )


def is_pdf(item: WooDocument) -> bool:
    return item.version.mime_type == "application/pdf"


def source_pdf(item: WooDocument) -> bytes:
    """The PDF that passages are marked on: the collected version itself when it is a PDF,
    else a PDF rendition of its extracted text (WeasyPrint)."""
    if is_pdf(item):
        with documents.open_version(item.version) as stream:
            return stream.read()
    text = item.version.text or ""
    if not text.strip():
        raise NotRedactable(
            _("This document is no PDF and has no extracted text: it cannot be redacted here.")
        )
    from markupsafe import escape

    html = (
        "<html><head><meta charset='utf-8'><style>body{font-family:sans-serif;font-size:10pt}"
        "pre{white-space:pre-wrap;font-family:inherit}</style></head><body>"
        f"<h1>{escape(item.document.title)}</h1><pre>{escape(text)}</pre></body></html>"
    )
    try:
        return pdf_rendering.render(html)
    except pdf_rendering.Unavailable as exc:
        raise NotRedactable(_("PDF rendering is not available on this server.")) from exc


# Passages


def _passage_audit(actor: User, action: AuditAction, passage: WooPassage) -> None:
    item = passage.item
    _audit(
        actor,
        action,
        item.request,
        dossier_id=item.document.dossier_id,
        after={
            "number": item.number,
            "page": passage.page,
            "ground": passage.ground,
            "phrase": passage.phrase,
            "area": [round(v, 1) for v in (passage.x0, passage.y0, passage.x1, passage.y1)],
        },
    )


def _add(actor: User, item: WooDocument, area: redaction.Area, ground: str, phrase: str) -> None:
    passage = WooPassage(
        item=item,
        page=area.page,
        x0=area.x0,
        y0=area.y0,
        x1=area.x1,
        y1=area.y1,
        ground=ground,
        phrase=phrase,
        created_by_id=actor.id,
    )
    db.session.add(passage)
    item.redacted_blob_key = None  # the redacted PDF no longer matches the marks
    db.session.flush()
    _passage_audit(actor, AuditAction.WOO_PASSAGE_ADD, passage)


def _ground(code: str) -> str:
    chosen = _check_grounds([code])
    if not chosen:
        raise ValidationError({"ground": _("choose a ground")})
    return chosen[0]


def mark_area(actor: User, item: WooDocument, area: redaction.Area, ground: str) -> None:
    """Mark a rectangle drawn (or typed) on a page."""
    _require_open(item.request)
    code = _ground(ground)
    try:
        area = redaction.check_area(source_pdf(item), area)
    except redaction.PdfRefused as exc:
        raise unreadable_pdf(item) from exc
    except ValueError as exc:
        raise ValidationError({"area": _("the area is too small or off the page")}) from exc
    _add(actor, item, area, code, "")


def mark_phrase(
    actor: User, item: WooDocument, phrase: str, ground: str, page: int | None = None
) -> int:
    """Mark every occurrence of `phrase` (on `page`, or on every page); how many were found."""
    _require_open(item.request)
    code = _ground(ground)
    phrase = _text(phrase, "phrase", 500)
    try:
        found = redaction.find_phrase(source_pdf(item), phrase, None if page is None else [page])
    except redaction.PdfRefused as exc:
        raise unreadable_pdf(item) from exc
    for area in found:
        _add(actor, item, area, code, phrase)
    return len(found)


def unmark(actor: User, passage: WooPassage) -> None:
    item = passage.item
    _require_open(item.request)
    _passage_audit(actor, AuditAction.WOO_PASSAGE_REMOVE, passage)
    item.passages.remove(passage)
    item.redacted_blob_key = None
    db.session.flush()


def make_redacted(actor: User, item: WooDocument) -> str:
    """Make and store the redacted PDF of a partly public document (a new blob; the original
    version is untouched); its SHA-256."""
    _require_open(item.request)
    if item.assessment != Assessment.PARTLY_PUBLIC:
        raise DomainError(_("only a partly public document is redacted"))
    if not item.passages:
        raise DomainError(_("mark at least one passage first"))
    areas = [redaction.Area(p.page, p.x0, p.y0, p.x1, p.y1, p.ground) for p in item.passages]
    try:
        data = redaction.redact(source_pdf(item), areas)
    except redaction.PdfRefused as exc:
        raise unreadable_pdf(item) from exc
    info = blob_store().put_stream(io.BytesIO(data))
    item.redacted_blob_key, item.redacted_size, item.redacted_at = info.key, info.size, utcnow()
    db.session.flush()
    _audit(
        actor,
        AuditAction.WOO_REDACT,
        item.request,
        dossier_id=item.document.dossier_id,
        after={
            "number": item.number,
            "sha256": info.key,
            "passages": len(areas),
            "grounds": item_grounds(item),
        },
    )
    return info.key


def redacted_bytes(item: WooDocument) -> bytes:
    store = blob_store()
    key = item.redacted_blob_key
    if key is None or not store.verify(key):
        raise DomainError(_("the redacted PDF is missing or damaged; make it again"))
    with store.open(key) as stream:
        return stream.read()


def woo_blob_keys() -> sa.Select[tuple[str]]:
    """The blob keys of every stored redacted PDF (verify and backups keep them)."""
    return sa.select(WooDocument.redacted_blob_key).where(
        WooDocument.redacted_blob_key.is_not(None)
    )


# Deadlines for dashboards and reports


def upcoming(today: date, days: int) -> list[tuple[WooRequest, Deadline]]:
    """Open requests whose decision is due within `days` days or overdue, soonest first."""
    found = [(r, deadline(r)) for r in requests(WooStatus.OPEN)]
    soon = [(r, d) for r, d in found if d.decision_due <= today + timedelta(days=days)]
    return sorted(soon, key=lambda pair: pair[1].decision_due)


def woo_table(user: User, today: date) -> Any:
    """Every Woo request with its deadline, for `dossier report woo` and the report export;
    empty for a user who may not see Woo requests."""
    from dossier import reports  # it imports records and deadlines; imported on use

    table = reports.Table(
        "woo",
        _l("Woo requests"),
        [
            ("number", _l("Number")),
            ("received_on", _l("Received on")),
            ("requester", _l("Requester")),
            ("subject", _l("Subject")),
            ("first_period_ends", _l("First period ends")),
            ("decision_due", _l("Decision due")),
            ("postponed", _l("Postponed")),
            ("suspended_days", _l("Days suspended")),
            ("days_left", _l("Days left")),
            ("status", _l("Status")),
            ("documents", _l("Documents")),
        ],
    )
    shown = requests() if access.can_view_woo(user) else []
    for request in sorted(shown, key=lambda r: deadline(r).decision_due):
        due = deadline(request)
        table.rows.append(
            [
                f"Woo-{request.id}",
                request.received_on,
                request.requester,
                request.subject,
                due.first_period_ends,
                due.decision_due,
                due.extended,
                due.suspended_days,
                (due.decision_due - today).days if request.status == WooStatus.OPEN else None,
                request.status.value,
                len(request.items),
            ]
        )
    return table
