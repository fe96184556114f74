"""Records management: the selection list, retention and disposal dates, destruction lists and
legal holds.

Destruction has two steps. Approving a list takes the listed dossiers' documents out of sight
(withdrawn, out of the search index) but keeps their blobs, text and clauses; the archivist can
still cancel. When the grace period (DISPOSAL_GRACE_DAYS) has passed, `purge_due` destroys them
for good: text and clauses are deleted, each version gets a `DestroyedVersion` row with its hash,
and after the commit `remove_destroyed_blobs` deletes every blob no live version still refers to
(blobs are stored once per SHA-256, so another dossier may share one). Nothing is destroyed
without an approved list, and a dossier under a legal hold is never proposed and is skipped
when the hold came after the approval.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import gettext as _

from dossier import audit, deadlines
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Category,
    Clause,
    DestroyedVersion,
    DisposalItem,
    DisposalItemState,
    DisposalList,
    DisposalStatus,
    Document,
    DocumentRetention,
    DocumentVersion,
    Dossier,
    DossierRetention,
    LegalHold,
    OutboxItem,
    OutboxTopic,
    RetentionTrigger,
    SelectionCategory,
    User,
    Valuation,
    utcnow,
)
from storage import BlobNotFound, BlobStore

OPEN_LIST_STATES = (DisposalItemState.PROPOSED, DisposalItemState.QUARANTINED)
SHIPPED_LIST = "data/selection_list.csv"


# The selection list


def categories(active_only: bool = True) -> list[SelectionCategory]:
    query = sa.select(SelectionCategory).order_by(SelectionCategory.code)
    if active_only:
        query = query.where(SelectionCategory.is_active.is_(True))
    return list(db.session.scalars(query))


def category_by_code(code: str) -> SelectionCategory | None:
    return db.session.scalar(sa.select(SelectionCategory).where(SelectionCategory.code == code))


_VALUATIONS = {
    "bewaren": Valuation.KEEP,
    "keep": Valuation.KEEP,
    "b": Valuation.KEEP,
    "vernietigen": Valuation.DESTROY,
    "destroy": Valuation.DESTROY,
    "v": Valuation.DESTROY,
}
_TRIGGERS = {
    **{t.value: t for t in RetentionTrigger},
    "einde contract": RetentionTrigger.CONTRACT_END,
    "einde overeenkomst": RetentionTrigger.CONTRACT_END,
    "sluiting dossier": RetentionTrigger.DOSSIER_CLOSED,
    "documentdatum": RetentionTrigger.DOCUMENT_DATE,
}
_YES = {"ja", "yes", "true", "1", "j", "y"}
_NO = {"nee", "no", "false", "0", "n", ""}
COLUMNS = ("code", "description", "valuation", "retention_years", "trigger", "for_documents")


def parse_selection_list(text: str) -> list[dict[str, object]]:
    """The rows of a selection-list CSV (`;` or `,` separated, a header naming COLUMNS, lines
    starting with # ignored); ValidationError naming every bad line, so nothing half-imports."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        raise ValidationError({"file": _("the file holds no categories")})
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS[:4] if c not in header]
    if missing:
        raise ValidationError(
            {"file": _("the header lacks the columns: %(cols)s", cols=", ".join(missing))}
        )
    rows, errors, seen = [], [], set()
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        try:
            parsed = _parse_row(row)
        except ValueError as exc:
            errors.append(_("line %(n)d: %(error)s", n=number, error=str(exc)))
            continue
        if parsed["code"] in seen:
            errors.append(
                _("line %(n)d: code %(code)s occurs twice", n=number, code=parsed["code"])
            )
        seen.add(parsed["code"])
        rows.append(parsed)
    if errors:
        raise ValidationError({"file": "; ".join(errors)})
    return rows


def _parse_row(row: dict[str, str]) -> dict[str, object]:
    code, description = row.get("code", ""), row.get("description", "")
    if not code or len(code) > 32:
        raise ValueError(_("a code of 1 to 32 characters is required"))
    if not description or len(description) > 500:
        raise ValueError(_("a description of 1 to 500 characters is required"))
    valuation = _VALUATIONS.get(row.get("valuation", "").lower())
    if valuation is None:
        raise ValueError(_("the valuation is 'bewaren' or 'vernietigen'"))
    years_text = row.get("retention_years", "")
    years = None
    if years_text:
        if not years_text.isdigit() or not 0 <= int(years_text) <= 200:
            raise ValueError(_("the retention period is a whole number of years (0 to 200)"))
        years = int(years_text)
    if valuation == Valuation.DESTROY and years is None:
        raise ValueError(_("a category to destroy needs a retention period"))
    trigger = _TRIGGERS.get(row.get("trigger", "").lower() or RetentionTrigger.CONTRACT_END.value)
    if trigger is None:
        raise ValueError(_("the event is contract_end, dossier_closed or document_date"))
    flag = row.get("for_documents", "").lower()
    if flag not in _YES | _NO:
        raise ValueError(_("for_documents is 'ja' or 'nee'"))
    return {
        "code": code,
        "description": description,
        "valuation": valuation,
        "retention_years": years,
        "trigger": trigger,
        "for_documents": flag in _YES,
    }


def import_selection_list(actor: User | None, text: str) -> tuple[int, int]:
    """Add or update the categories of a CSV by code; (added, updated). Categories not in the
    file stay (dossiers may carry them)."""
    rows = parse_selection_list(text)
    added = updated = 0
    for row in rows:
        category = category_by_code(str(row["code"]))
        if category is None:
            db.session.add(SelectionCategory(**row))
            added += 1
        else:
            for key, value in row.items():
                setattr(category, key, value)
            updated += 1
    db.session.flush()
    audit.record(
        actor,
        AuditAction.SELECTION_LIST_IMPORT,
        "selection_list",
        None,
        after={"codes": [row["code"] for row in rows], "added": added, "updated": updated},
    )
    return added, updated


def install_shipped_list(actor: User | None = None) -> tuple[int, int]:
    """Import the selection list that ships with Dossier (the contract results of the
    Selectielijst gemeenten 2020, see the file)."""
    from importlib.resources import files

    return import_selection_list(actor, files("dossier").joinpath(SHIPPED_LIST).read_text("utf-8"))


# Categories and dates


@dataclass
class Lookup:
    """Every category by code and every assignment by dossier, loaded once for a long list."""

    by_code: dict[str, SelectionCategory]
    assigned: dict[int, DossierRetention]

    @classmethod
    def load(cls) -> Lookup:
        return cls(
            {c.code: c for c in db.session.scalars(sa.select(SelectionCategory))},
            {r.dossier_id: r for r in db.session.scalars(sa.select(DossierRetention))},
        )

    @classmethod
    def for_dossier(cls, dossier: Dossier) -> Lookup:
        """The same for one dossier's page: its assignment looked up once (a missing one is
        not remembered by the session, so every helper asked the database again)."""
        assigned = assignment(dossier)
        return cls(
            {c.code: c for c in db.session.scalars(sa.select(SelectionCategory))},
            {dossier.id: assigned} if assigned is not None else {},
        )


def default_category(dossier: Dossier, cache: Lookup | None = None) -> SelectionCategory | None:
    """The configured default for the dossier's contract category (RETENTION_DEFAULTS);
    `cache`, when given, saves the queries per dossier in long lists."""
    defaults = current_app.config.get("RETENTION_DEFAULTS") or {}
    key = dossier.category.value if isinstance(dossier.category, Category) else "default"
    code = defaults.get(key) or defaults.get("default")
    if not code:
        return None
    return cache.by_code.get(code) if cache is not None else category_by_code(code)


def assignment(dossier: Dossier) -> DossierRetention | None:
    return db.session.get(DossierRetention, dossier.id)


def category_of(
    dossier: Dossier, cache: Lookup | None = None
) -> tuple[SelectionCategory | None, bool]:
    """The dossier's category and whether it is the configured default (not assigned)."""
    assigned = cache.assigned.get(dossier.id) if cache is not None else assignment(dossier)
    if assigned is not None:
        return assigned.category, False
    return default_category(dossier, cache), True


def closed_on(dossier: Dossier) -> date | None:
    """The day the dossier was last given a closed status (ended, terminated, archived), from
    the audit trail; the end date for a dossier closed before that was recorded."""
    if dossier.status not in deadlines.CLOSED:
        return None
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.dossier_id == dossier.id,
            AuditEvent.object_type == "dossier",
            AuditEvent.action.in_([AuditAction.DOSSIER_UPDATE, AuditAction.DOSSIER_CREATE]),
        )
        .order_by(AuditEvent.id.desc())
    )
    closed = {s.value for s in deadlines.CLOSED}
    for event in events:
        if (event.after or {}).get("status") in closed:
            zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
            return event.at.astimezone(zone).date()
    return dossier.end_on


def retention_start(dossier: Dossier, cache: Lookup | None = None) -> date | None:
    """The day the dossier's retention period starts counting, by its category's event.

    The one place that decides it. The contract end is the end of the last term in the term
    history: recording an option exercised, a renewal, an extension or an early termination
    (dossier/terms.py) moves the register's end date with the event, so the end date is always
    the history's actual end (tests/dossier/test_contract_life.py holds it to that).
    """
    category, _default = category_of(dossier, cache)
    trigger = category.trigger if category else RetentionTrigger.CONTRACT_END
    if trigger == RetentionTrigger.DOSSIER_CLOSED:
        return closed_on(dossier)
    return dossier.end_on


def add_years(day: date, years: int) -> date:
    """`day` plus whole years; 29 February becomes 28 February in a common year."""
    return day + relativedelta(years=years)


def disposal_date(dossier: Dossier, cache: Lookup | None = None) -> date | None:
    """When the dossier may be destroyed; None when it is kept permanently or not yet known."""
    category, _default = category_of(dossier, cache)
    if category is None or category.valuation != Valuation.DESTROY:
        return None
    start = retention_start(dossier, cache)
    if start is None or category.retention_years is None:
        return None
    return add_years(start, category.retention_years)


def document_category(document: Document) -> SelectionCategory | None:
    row = db.session.get(DocumentRetention, document.id)
    return row.category if row else None


def document_disposal_date(document: Document) -> date | None:
    """A document with a category of its own: from its document date (or the dossier's start
    event for categories counted from the contract end or closing)."""
    category = document_category(document)
    if category is None or category.valuation != Valuation.DESTROY:
        return None
    if category.retention_years is None:
        return None
    if category.trigger == RetentionTrigger.DOCUMENT_DATE:
        start = document.document_date
    elif category.trigger == RetentionTrigger.DOSSIER_CLOSED:
        start = closed_on(document.dossier)
    else:
        start = document.dossier.end_on
    return add_years(start, category.retention_years) if start else None


def set_category(actor: User, dossier: Dossier, category: SelectionCategory, reason: str) -> None:
    """Give the dossier another category; a reason is required and recorded."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("give the reason for the change")})
    before, _default = category_of(dossier)
    row = assignment(dossier)
    if row is None:
        row = DossierRetention(dossier_id=dossier.id, category_id=category.id)
        db.session.add(row)
    row.category_id = category.id
    row.category = category
    row.assigned_by_id = actor.id
    row.assigned_at = utcnow()
    row.reason = reason
    db.session.flush()
    audit.record(
        actor,
        AuditAction.RETENTION_CATEGORY_SET,
        "dossier",
        dossier.id,
        dossier_id=dossier.id,
        before={"category": before.code if before else None},
        after={"category": category.code, "reason": reason},
    )


def set_document_category(
    actor: User, document: Document, category: SelectionCategory | None
) -> None:
    """Give a document a category of its own (only one the list allows for documents)."""
    if category is not None and not category.for_documents:
        raise ValidationError(
            {"retention_category": _("this category is not for single documents")}
        )
    row = db.session.get(DocumentRetention, document.id)
    before = row.category.code if row else None
    if (category.code if category else None) == before:
        return
    if row is not None:
        db.session.delete(row)
        db.session.flush()
    if category is not None:
        db.session.add(DocumentRetention(document_id=document.id, category_id=category.id))
    db.session.flush()
    audit.record(
        actor,
        AuditAction.RETENTION_CATEGORY_SET,
        "document",
        document.id,
        dossier_id=document.dossier_id,
        before={"category": before},
        after={"category": category.code if category else None},
    )


# Legal holds


def active_hold(dossier: Dossier) -> LegalHold | None:
    return db.session.scalar(
        sa.select(LegalHold).where(
            LegalHold.dossier_id == dossier.id, LegalHold.lifted_at.is_(None)
        )
    )


def held_dossier_ids() -> sa.Select[tuple[int]]:
    return sa.select(LegalHold.dossier_id).where(LegalHold.lifted_at.is_(None))


def place_hold(actor: User, dossier: Dossier, reason: str) -> LegalHold:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("give the reason for the legal hold")})
    if active_hold(dossier) is not None:
        raise ValidationError(
            {"reason": _("dossier %(ref)s is already on hold", ref=dossier.reference)}
        )
    hold = LegalHold(dossier_id=dossier.id, reason=reason, placed_by_id=actor.id)
    db.session.add(hold)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.HOLD_PLACE,
        "legal_hold",
        hold.id,
        dossier_id=dossier.id,
        after={"reason": reason},
    )
    return hold


def place_holds(actor: User, dossiers: Iterable[Dossier], reason: str) -> list[LegalHold]:
    """Hold every dossier not yet held (for a selection from the register or a search)."""
    if not reason.strip():
        raise ValidationError({"reason": _("give the reason for the legal hold")})
    return [place_hold(actor, d, reason) for d in dossiers if active_hold(d) is None]


def lift_hold(actor: User, dossier: Dossier, reason: str) -> LegalHold:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"lift_reason": _("give the reason for lifting the hold")})
    hold = active_hold(dossier)
    if hold is None:
        raise ValidationError({"lift_reason": _("this dossier is not on hold")})
    hold.lifted_at = utcnow()
    hold.lifted_by_id = actor.id
    hold.lift_reason = reason
    db.session.flush()
    audit.record(
        actor,
        AuditAction.HOLD_LIFT,
        "legal_hold",
        hold.id,
        dossier_id=dossier.id,
        before={"reason": hold.reason},
        after={"lift_reason": reason},
    )
    return hold


def holds(include_lifted: bool = False) -> list[LegalHold]:
    query = sa.select(LegalHold).order_by(LegalHold.placed_at.desc(), LegalHold.id.desc())
    if not include_lifted:
        query = query.where(LegalHold.lifted_at.is_(None))
    return list(db.session.scalars(query))


# Disposal


@dataclass(frozen=True)
class Due:
    dossier: Dossier
    category: SelectionCategory
    disposal_on: date


def upcoming(dossiers: Iterable[Dossier], until: date) -> list[Due]:
    """The closed dossiers to destroy whose disposal date is on or before `until`, not on hold
    and not destroyed or on an open list; soonest first."""
    held = set(db.session.scalars(held_dossier_ids()))
    busy = set(
        db.session.scalars(
            sa.select(DisposalItem.dossier_id).where(
                DisposalItem.state.in_([*OPEN_LIST_STATES, DisposalItemState.DESTROYED])
            )
        )
    )
    cache = Lookup.load()  # no query per dossier (but the trail's, for closing-counted ones)
    due = []
    for dossier in dossiers:
        if dossier.id in held or dossier.id in busy or dossier.status not in deadlines.CLOSED:
            continue
        day = disposal_date(dossier, cache)
        category, _default = category_of(dossier, cache)
        if day is not None and category is not None and day <= until:
            due.append(Due(dossier, category, day))
    return sorted(due, key=lambda d: (d.disposal_on, d.dossier.reference))


def _all_dossiers() -> list[Dossier]:
    return list(db.session.scalars(sa.select(Dossier).order_by(Dossier.reference)))


def propose(actor: User | None, as_of: date) -> DisposalList | None:
    """A destruction list of every dossier due on `as_of`; None when none is due."""
    due = upcoming(_all_dossiers(), as_of)
    if not due:
        return None
    listing = DisposalList(proposed_by_id=actor.id if actor else None, as_of=as_of)
    for item in due:
        listing.items.append(
            DisposalItem(
                dossier_id=item.dossier.id,
                reference=item.dossier.reference,
                title=item.dossier.title,
                category_code=item.category.code,
                disposal_on=item.disposal_on,
            )
        )
    db.session.add(listing)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.DISPOSAL_PROPOSE,
        "disposal_list",
        listing.id,
        after={"as_of": as_of, "dossiers": [i.reference for i in listing.items]},
    )
    return listing


def _require_status(listing: DisposalList, *states: DisposalStatus) -> None:
    if listing.status not in states:
        raise ValidationError({"list": _("this destruction list can no longer be changed")})


def exclude(actor: User, listing: DisposalList, item: DisposalItem, reason: str) -> None:
    _require_status(listing, DisposalStatus.PROPOSED)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("give the reason for the exclusion")})
    if item.state != DisposalItemState.PROPOSED:
        raise ValidationError({"reason": _("this dossier is no longer on the list")})
    item.state = DisposalItemState.EXCLUDED
    item.reason = reason
    db.session.flush()
    audit.record(
        actor,
        AuditAction.DISPOSAL_EXCLUDE,
        "disposal_list",
        listing.id,
        dossier_id=item.dossier_id,
        after={"reference": item.reference, "reason": reason},
    )


def approve(actor: User, listing: DisposalList, grace_days: int | None = None) -> None:
    """Approve the list: its dossiers' documents leave sight now and are destroyed when the
    grace period ends. Not by the person who proposed it."""
    _require_status(listing, DisposalStatus.PROPOSED)
    if listing.proposed_by_id is not None and listing.proposed_by_id == actor.id:
        raise ValidationError(
            {"list": _("a destruction list is approved by someone other than who proposed it")}
        )
    if grace_days is None:
        grace_days = int(current_app.config.get("DISPOSAL_GRACE_DAYS", 30))
    now = utcnow()
    listing.status = DisposalStatus.APPROVED
    listing.approved_at = now
    listing.approved_by_id = actor.id
    listing.purge_after = now + timedelta(days=grace_days)
    held = set(db.session.scalars(held_dossier_ids()))
    for item in listing.items:
        if item.state != DisposalItemState.PROPOSED:
            continue
        if item.dossier_id in held:
            item.state = DisposalItemState.SKIPPED
            item.reason = _("on legal hold")
            continue
        item.state = DisposalItemState.QUARANTINED
        item.withdrawn_documents = " ".join(str(i) for i in _withdraw_all(item.dossier_id))
    db.session.flush()
    audit.record(
        actor,
        AuditAction.DISPOSAL_APPROVE,
        "disposal_list",
        listing.id,
        after={
            "destroy": [
                i.reference for i in listing.items if i.state == DisposalItemState.QUARANTINED
            ],
            "excluded": [
                i.reference for i in listing.items if i.state == DisposalItemState.EXCLUDED
            ],
            "skipped": [i.reference for i in listing.items if i.state == DisposalItemState.SKIPPED],
            "purge_after": listing.purge_after,
        },
    )


def _withdraw_all(dossier_id: int) -> list[int]:
    documents = db.session.scalars(
        sa.select(Document).where(
            Document.dossier_id == dossier_id, Document.withdrawn_at.is_(None)
        )
    ).all()
    now = utcnow()
    for document in documents:
        document.withdrawn_at = now
        db.session.add(OutboxItem(topic=OutboxTopic.DOCUMENT_REMOVE, object_id=document.id))
    return [d.id for d in documents]


def _restore(item: DisposalItem) -> None:
    for document_id in (int(i) for i in item.withdrawn_documents.split()):
        document = db.session.get(Document, document_id)
        if document is not None:
            document.withdrawn_at = None
            db.session.add(OutboxItem(topic=OutboxTopic.DOCUMENT_INDEX, object_id=document_id))
    item.withdrawn_documents = ""


def cancel(actor: User, listing: DisposalList, reason: str) -> None:
    """Cancel a proposed list, or an approved one within its grace period: nothing is lost."""
    _require_status(listing, DisposalStatus.PROPOSED, DisposalStatus.APPROVED)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("give the reason for the cancellation")})
    for item in listing.items:
        if item.state == DisposalItemState.QUARANTINED:
            _restore(item)
            item.state = DisposalItemState.RESTORED
    listing.status = DisposalStatus.CANCELLED
    listing.closed_at = utcnow()
    listing.closed_by_id = actor.id
    db.session.flush()
    audit.record(
        actor, AuditAction.DISPOSAL_CANCEL, "disposal_list", listing.id, after={"reason": reason}
    )


def purge_due(now: datetime | None = None) -> list[DisposalList]:
    """Destroy, for good, what approved lists hold once their grace period has passed; a
    dossier placed on hold since the approval is skipped and its documents come back. The
    caller commits, then calls `remove_destroyed_blobs`."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(DisposalList)
        .where(DisposalList.status == DisposalStatus.APPROVED, DisposalList.purge_after <= now)
        .order_by(DisposalList.id)
    ).all()
    held = set(db.session.scalars(held_dossier_ids()))
    for listing in due:
        for item in listing.items:
            if item.state != DisposalItemState.QUARANTINED:
                continue
            if item.dossier_id in held:
                _restore(item)
                item.state = DisposalItemState.SKIPPED
                item.reason = _("placed on legal hold after the approval")
                continue
            _destroy(listing, item, now)
        listing.status = DisposalStatus.DESTROYED
        listing.closed_at = now
    db.session.flush()
    return list(due)


def _destroy(listing: DisposalList, item: DisposalItem, now: datetime) -> None:
    versions = db.session.scalars(
        sa.select(DocumentVersion)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Document.dossier_id == item.dossier_id)
        .where(DocumentVersion.id.not_in(sa.select(DestroyedVersion.version_id)))
        .order_by(DocumentVersion.id)
    ).all()
    ids = [v.id for v in versions]
    if ids:
        db.session.execute(sa.delete(Clause).where(Clause.version_id.in_(ids)))
        # An extraction still queued would read a blob about to go, and write text back.
        db.session.execute(
            sa.delete(OutboxItem).where(
                OutboxItem.topic == OutboxTopic.VERSION_EXTRACT, OutboxItem.object_id.in_(ids)
            )
        )
    for version in versions:
        db.session.add(
            DestroyedVersion(
                version_id=version.id,
                item_id=item.id,
                blob_key=version.blob_key,
                size=version.size,
                destroyed_at=now,
            )
        )
        version.text = None
    item.state = DisposalItemState.DESTROYED
    item.destroyed_at = now
    db.session.flush()
    db.session.expire_all()
    audit.record(
        None,
        AuditAction.DISPOSAL_DESTROY,
        "disposal_list",
        listing.id,
        dossier_id=item.dossier_id,
        after={
            "reference": item.reference,
            "versions": len(versions),
            "hashes": sorted({v.blob_key for v in versions}),
        },
    )


def live_blob_keys() -> sa.Select[tuple[str]]:
    """Blob keys some version that was not destroyed still refers to."""
    return sa.select(DocumentVersion.blob_key).where(
        DocumentVersion.id.not_in(sa.select(DestroyedVersion.version_id))
    )


def remove_destroyed_blobs(store: BlobStore) -> int:
    """Delete the blobs of destroyed versions that no live version shares; how many went.

    Run after the purge has committed (it ends its own read transactions, so each key is
    checked against the newest uploads just before it goes); idempotent, so the next run
    finishes what an interrupted one left.
    """
    keys = set(
        db.session.scalars(
            sa.select(DestroyedVersion.blob_key).where(
                DestroyedVersion.blob_key.not_in(live_blob_keys())
            )
        )
    )
    removed = 0
    for key in sorted(keys):
        # Asked again per key: an upload of the same bytes may have arrived since.
        again = db.session.scalar(
            sa.select(sa.func.count()).select_from(
                live_blob_keys().where(DocumentVersion.blob_key == key).subquery()
            )
        )
        db.session.rollback()  # end the read: the next question sees new uploads
        if again:
            continue
        try:
            if store.exists(key):
                store.delete(key)
                removed += 1
        except BlobNotFound:
            continue
    return removed


def destroyed_keys() -> set[str]:
    return set(db.session.scalars(sa.select(DestroyedVersion.blob_key)))


def destroyed_version_ids() -> set[int]:
    return set(db.session.scalars(sa.select(DestroyedVersion.version_id)))


def lists(statuses: Iterable[DisposalStatus] | None = None) -> list[DisposalList]:
    query = sa.select(DisposalList).order_by(DisposalList.id.desc())
    if statuses is not None:
        query = query.where(DisposalList.status.in_(list(statuses)))
    return list(db.session.scalars(query))


def is_destroyed(dossier: Dossier) -> bool:
    return _has_item(dossier, DisposalItemState.DESTROYED)


def is_being_destroyed(dossier: Dossier) -> bool:
    """Whether `dossier` is on an approved destruction list (its documents withdrawn for the
    grace period) or already destroyed."""
    return _has_item(dossier, DisposalItemState.QUARANTINED, DisposalItemState.DESTROYED)


def _has_item(dossier: Dossier, *states: DisposalItemState) -> bool:
    found = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DisposalItem)
        .where(DisposalItem.dossier_id == dossier.id, DisposalItem.state.in_(states))
    )
    return (found or 0) > 0


# Reports


def disposal_table(user: User, today: date) -> Any:
    """Disposals due within DISPOSAL_HORIZON_DAYS (and overdue ones), over the visible dossiers."""
    from dossier import access, reports

    horizon = today + timedelta(days=int(current_app.config.get("DISPOSAL_HORIZON_DAYS", 180)))
    visible = db.session.scalars(access.visible_dossiers(user)).unique()
    table = reports.Table(
        "disposal",
        _("Upcoming disposals"),
        [
            ("reference", _("Dossier")),
            ("title", _("Title")),
            ("category", _("Selection-list category")),
            ("retention_start", _("Retention starts")),
            ("disposal_on", _("Disposal date")),
            ("due", _("Due")),
        ],
    )
    for due in upcoming(visible, horizon):
        table.rows.append(
            [
                due.dossier.reference,
                due.dossier.title,
                due.category.code,
                retention_start(due.dossier),
                due.disposal_on,
                due.disposal_on <= today,
            ]
        )
    return table


def holds_table(user: User) -> Any:
    """The active legal holds on the dossiers `user` may see."""
    from dossier import access, reports

    visible = set(db.session.scalars(access.visible_dossier_ids(user)))
    table = reports.Table(
        "holds",
        _("Legal holds"),
        [
            ("reference", _("Dossier")),
            ("title", _("Title")),
            ("reason", _("Reason")),
            ("placed_on", _("Placed on")),
            ("placed_by", _("Placed by")),
        ],
    )
    for hold in holds():
        if hold.dossier_id in visible:
            table.rows.append(
                [
                    hold.dossier.reference,
                    hold.dossier.title,
                    hold.reason,
                    hold.placed_at.date(),
                    hold.placed_by.email if hold.placed_by else "",
                ]
            )
    return table


def ensure_shipped_list() -> None:
    """Load the shipped list into an empty selection list (new installations, tests)."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(SelectionCategory)) == 0:
        install_shipped_list(None)
