"""The supplier's contacts on a dossier and their mandates: add, change, remove, each audited.

Our own side is read from the memberships (`dossiers.role_holders`), never copied here: a
dossier's owner, managers and beheerders are the members holding those roles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from dossier import audit, dossiers
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    Contact,
    ContactRole,
    Dossier,
    Mandate,
    MandateKind,
    MemberRole,
    User,
)
from dossier.text import clean_line, has_nul

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^[0-9+() .\-/]{0,64}$")
MAX_AMOUNT = Decimal("999999999999.99")
FIELDS = ("name", "role", "function", "email", "phone")


@dataclass(frozen=True)
class BothSides:
    """Who speaks for each party: ours from the memberships, theirs from the contacts."""

    ours: dict[MemberRole, list[str]]
    theirs: list[Contact]


def contacts_of(dossier: Dossier) -> list[Contact]:
    """The supplier's contacts on `dossier`, by role, then name."""
    query = (
        sa.select(Contact)
        .where(Contact.dossier_id == dossier.id)
        .order_by(Contact.role, Contact.name, Contact.id)
    )
    return list(db.session.scalars(query))


def both_sides(dossier: Dossier) -> BothSides:
    return BothSides(dossiers.role_holders(dossier), contacts_of(dossier))


def describe(contact: Contact) -> dict[str, Any]:
    """A contact's values in the audit trail."""
    return {name: getattr(contact, name) for name in FIELDS}


def describe_mandate(mandate: Mandate) -> dict[str, Any]:
    return {
        "contact": mandate.contact.name,
        "kind": mandate.kind,
        "limit_amount": mandate.limit_amount,
        "note": mandate.note,
    }


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """The contact fields of `values`, each one line of text; rules broken raise, all at once."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in FIELDS:
        value = values.get(name)
        if isinstance(value, str) and has_nul(value):
            errors[name] = _("holds a NUL character; remove it")
            continue
        cleaned[name] = clean_line(value) if isinstance(value, str) else value
    if not cleaned.get("name"):
        errors["name"] = _("a name is required")
    elif len(cleaned["name"]) > 255:
        errors["name"] = _("a name is at most 255 characters")
    try:
        cleaned["role"] = ContactRole(cleaned.get("role") or ContactRole.CONTRACT_CONTACT)
    except ValueError:
        errors["role"] = _("choose one of the offered roles")
    cleaned["email"] = (cleaned.get("email") or "").lower()
    if cleaned["email"] and (len(cleaned["email"]) > 255 or not EMAIL_RE.match(cleaned["email"])):
        errors["email"] = _("not an e-mail address; write for example naam@leverancier.nl")
    if not PHONE_RE.match(cleaned.get("phone") or ""):
        errors["phone"] = _("a phone number holds digits, spaces and + ( ) - / . only")
    if len(cleaned.get("function") or "") > 255:
        errors["function"] = _("a function is at most 255 characters")
    if errors:
        raise ValidationError(errors)
    return {k: v or "" for k, v in cleaned.items()}


def add_contact(actor: User, dossier: Dossier, values: dict[str, Any]) -> Contact:
    """Record a new supplier contact on `dossier`; audited."""
    contact = Contact(dossier_id=dossier.id, **_clean(values))
    db.session.add(contact)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.CONTACT_CREATE,
        "contact",
        contact.id,
        dossier_id=dossier.id,
        after=describe(contact),
    )
    return contact


def update_contact(actor: User, contact: Contact, values: dict[str, Any]) -> bool:
    """Change the given details of a contact; returns whether anything changed (then
    audited)."""
    before = describe(contact)
    cleaned = _clean({**before, **values})
    for name, value in cleaned.items():
        setattr(contact, name, value)
    after = describe(contact)
    changed = {k for k in FIELDS if before[k] != after[k]}
    if not changed:
        return False
    db.session.flush()
    audit.record(
        actor,
        AuditAction.CONTACT_UPDATE,
        "contact",
        contact.id,
        dossier_id=contact.dossier_id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    return True


def remove_contact(actor: User, contact: Contact) -> None:
    """Delete a contact and its mandates; the trail keeps what they were."""
    before = {**describe(contact), "mandates": [describe_mandate(m) for m in contact.mandates]}
    contact_id, dossier_id = contact.id, contact.dossier_id
    db.session.delete(contact)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.CONTACT_DELETE,
        "contact",
        contact_id,
        dossier_id=dossier_id,
        before=before,
    )


def add_mandate(
    actor: User,
    contact: Contact,
    kind: MandateKind | str,
    limit_amount: Decimal | None = None,
    note: str = "",
) -> Mandate:
    """Record what `contact` may decide (up to `limit_amount` euro, when given); audited."""
    errors: dict[str, str] = {}
    try:
        kind = MandateKind(kind)
    except ValueError:
        errors["kind"] = _("choose one of the offered mandates")
    if limit_amount is not None and not (
        limit_amount.is_finite() and 0 <= limit_amount <= MAX_AMOUNT
    ):
        errors["limit_amount"] = _("an amount from 0 to %(max)s", max="999.999.999.999,99")
    note = clean_line(note or "")
    if has_nul(note) or len(note) > 500:
        errors["note"] = _("a note is at most 500 characters of text")
    if errors:
        raise ValidationError(errors)
    mandate = Mandate(contact=contact, kind=kind, limit_amount=limit_amount, note=note)
    db.session.add(mandate)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.MANDATE_ADD,
        "contact_mandate",
        mandate.id,
        dossier_id=contact.dossier_id,
        after=describe_mandate(mandate),
    )
    return mandate


def remove_mandate(actor: User, mandate: Mandate) -> None:
    before, mandate_id = describe_mandate(mandate), mandate.id
    dossier_id = mandate.contact.dossier_id
    mandate.contact.mandates.remove(mandate)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.MANDATE_REMOVE,
        "contact_mandate",
        mandate_id,
        dossier_id=dossier_id,
        before=before,
    )
