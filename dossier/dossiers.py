"""Domain functions for contract dossiers: register, edit, derive the dates that drive action."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dossier import audit, memberships, webhooks
from dossier.errors import DomainError, StaleEdit, ValidationError
from dossier.extensions import db
from dossier.models import (
    REFERENCE_RE,
    AuditAction,
    Dossier,
    DossierTag,
    MemberRole,
    Membership,
    NoticeUnit,
    OutboxItem,
    OutboxTopic,
    Party,
    PartyKind,
    User,
)
from dossier.text import has_nul

REFERENCE_MAX = 64
MAX_AMOUNT = Decimal("999999999999.99")
# The ninth digit of a CPV code is a check digit, but it is not checked: the algorithm in the
# EU's CPV documentation does not reproduce the check digits of the official 2008 list
# (03300000-2, for one), as the Commission confirmed in 2024 (OP-TED/ePO discussion 589), and
# a check that refused official codes would be worse than none.
CPV_RE = re.compile(r"^\d{8}-\d$")
KVK_RE = re.compile(r"^\d{8}$")
# Register dates and renewal options stay where every derived date (notice deadline, maximum
# end, tender start, running term) can still be computed.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
MAX_OPTIONS = 20
MAX_LEAD_MONTHS = 60  # the option-decision and tender lead times (dossier/terms.py)
TAG_RE = re.compile(r"^[\w .&/+-]{1,64}$")

# The contract-register fields a dossier carries, in register order; `supplier` is a party name
# and the three people are lists of users' e-mail addresses: views of the dossier's memberships,
# which are the one record of who holds which role. Import, export, forms and audit all use
# this list.
FIELDS = (
    "reference",
    "title",
    "description",
    "supplier",
    "supplier_kvk",
    "client_department",
    "owner",
    "manager",
    "beheerder",
    "status",
    "signed_on",
    "start_on",
    "end_on",
    "option_count",
    "option_months",
    # Months before the end an option is decided / a new procurement starts (None: the
    # configured default); dossier/terms.py reads them.
    "option_lead_months",
    "tender_lead_months",
    "notice_value",
    "notice_unit",
    "auto_renewal",
    "value",
    "annual_value",
    "procedure",
    "tender_reference",
    "cpv_code",
    "category",
    "confidentiality",
    "retention_years",
    "personal_data",
    "review_months",
    "tags",
)
_PEOPLE = ("owner", "manager", "beheerder")
# Register fields that the search index copies into every unit of the dossier.
INDEXED_FIELDS = frozenset({"reference", "supplier", "status"})
# Beheerder first: a new beheerder is in place before the old one changes role.
_PEOPLE_ROLES = {
    "beheerder": MemberRole.BEHEERDER,
    "owner": MemberRole.OWNER,
    "manager": MemberRole.MANAGER,
}
_ROLE_NAMES = {
    "owner": _l("contract owner"),
    "manager": _l("contract manager"),
    "beheerder": _l("contract administrator"),
}


@dataclass(frozen=True)
class DerivedDates:
    """Dates computed from the contract data, never typed twice."""

    # Last day to give notice before the end date; only a contract that renews automatically
    # has one (a fixed term ends by itself; an option is decided by its own deadline).
    notice_deadline: date | None
    max_end_on: date | None  # end date with every remaining option used
    # The end of the running term when a contract that renews automatically has rolled on past
    # its recorded end date (`deadlines.running_dates`); None when it is the recorded one.
    current_end_on: date | None = None


def subtract_period(day: date, value: int, unit: NoticeUnit) -> date:
    """`day` minus a notice period; months clamp to the month's end (31 Mar - 1 = 28/29 Feb)."""
    if unit == NoticeUnit.MONTHS:
        return day - relativedelta(months=value)
    return day - relativedelta(days=value)


def derived_dates(dossier: Dossier) -> DerivedDates:
    """Notice deadline and maximum end date for `dossier`, where its data allows."""
    if dossier.end_on is None:
        return DerivedDates(None, None)
    notice = None
    if dossier.auto_renewal and dossier.notice_value is not None and dossier.notice_unit:
        notice = subtract_period(dossier.end_on, dossier.notice_value, dossier.notice_unit)
    max_end = dossier.end_on
    if dossier.option_count and dossier.option_months:
        max_end = dossier.end_on + relativedelta(
            months=dossier.option_count * dossier.option_months
        )
    return DerivedDates(notice, max_end)


def snapshot(
    dossier: Dossier, holders: dict[MemberRole, list[str]] | None = None
) -> dict[str, Any]:
    """The register fields of `dossier` as plain values, for audit events and exports.

    `holders`: the e-mail addresses per role when the caller read them for many dossiers at
    once (`people_of`); otherwise they are read here.
    """
    values: dict[str, Any] = {}
    for name in FIELDS:
        if name == "supplier":
            values[name] = dossier.supplier.name if dossier.supplier else ""
        elif name == "supplier_kvk":
            values[name] = (dossier.supplier.kvk_number or "") if dossier.supplier else ""
        elif name in _PEOPLE:
            role = _PEOPLE_ROLES[name]
            values[name] = (
                list(holders.get(role, []))
                if holders is not None
                else [user.email for user in people(dossier, role)]
            )
        elif name == "tags":
            values[name] = dossier.tag_names
        else:
            values[name] = getattr(dossier, name)
    return values


def validate(values: dict[str, Any], dossier: Dossier | None = None) -> None:
    """Check the rules a register entry must meet; raise ValidationError naming every break.

    The messages are in the active language (see `dossier.i18n.select_locale`).
    """
    errors: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, str) and has_nul(value):
            # SQLite would store it, PostgreSQL refuses it: refuse it everywhere, and say so.
            errors[name] = _("holds a NUL character; remove it")
    merged = {**(snapshot(dossier) if dossier else {}), **values}
    reference = merged.get("reference") or ""
    if not REFERENCE_RE.match(reference):
        errors["reference"] = _("use 1-64 letters, digits and . _ - (for example 2025-017)")
    elif _reference_taken(reference, dossier):
        errors["reference"] = _("reference %(reference)s is already in use", reference=reference)
    if not (merged.get("title") or "").strip():
        errors["title"] = _("a title is required")
    for name in ("signed_on", "start_on", "end_on"):
        day = merged.get(name)
        if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
            # Far-off placeholders (31-12-9999) would break every date derived from them.
            errors[name] = _(
                "give a date between %(first)s and %(last)s; leave it empty when it is unknown",
                first=EARLIEST_DATE.year,
                last=LATEST_DATE.year,
            )
    start, end = merged.get("start_on"), merged.get("end_on")
    if start and end and start > end:
        errors["end_on"] = _("the end date lies before the start date")
    for name in ("value", "annual_value"):
        amount = merged.get(name)
        if amount is None:
            continue
        if not amount.is_finite():
            errors[name] = _("not an amount; write for example 450.000,00")
        elif amount < 0:
            errors[name] = _("an amount cannot be negative")
        elif amount > MAX_AMOUNT:
            # The column holds 14 digits, 2 of them cents; more would be rounded or refused.
            errors[name] = _("an amount can be at most %(max)s", max="999.999.999.999,99")
    _validate_counts(merged, errors)
    _validate_people(merged, errors)
    if merged.get("cpv_code") and not CPV_RE.match(merged["cpv_code"]):
        errors["cpv_code"] = _("a CPV code looks like 72000000-5")
    if merged.get("supplier_kvk") and not KVK_RE.match(merged["supplier_kvk"]):
        errors["supplier_kvk"] = _("a KvK number has 8 digits")
    for tag in merged.get("tags") or []:
        if not TAG_RE.match(tag):
            errors["tags"] = _(
                "tag %(tag)s: use at most 64 letters, digits, spaces or . & / + -", tag=repr(tag)
            )
    if errors:
        raise ValidationError(errors)


def _validate_counts(merged: dict[str, Any], errors: dict[str, str]) -> None:
    notice_value, notice_unit = merged.get("notice_value"), merged.get("notice_unit")
    if notice_value is not None and (notice_value < 0 or notice_value > 3660):
        errors["notice_value"] = _("a notice period is a number of days or months from 0")
    elif notice_value is not None and notice_unit is None:
        errors["notice_unit"] = _("say whether the notice period is in days or months")
    if not 0 <= (merged.get("option_count") or 0) <= MAX_OPTIONS:
        errors["option_count"] = _("the number of options is 0 to %(most)d", most=MAX_OPTIONS)
    elif merged.get("option_count") and not 0 < (merged.get("option_months") or 0) <= 120:
        errors["option_months"] = _("give the length of each option in months (1 to 120)")
    for name in ("option_lead_months", "tender_lead_months"):
        lead = merged.get(name)
        if lead is not None and not 0 <= lead <= MAX_LEAD_MONTHS:
            errors[name] = _(
                "give 0 to %(most)d months, or leave it empty for the default", most=MAX_LEAD_MONTHS
            )
    review = merged.get("review_months")
    if review is not None and not 1 <= review <= 120:
        errors["review_months"] = _("review the execution plan every 1 to 120 months")
    retention = merged.get("retention_years")
    if retention is not None and not 0 <= retention <= 100:
        errors["retention_years"] = _("a retention period is 0 to 100 years")


def emails(value: str | list[str] | None) -> list[str]:
    """A people field as lower-case e-mail addresses: from a list, or a comma-separated text."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    found: list[str] = []
    for item in items:
        email = item.strip().lower()
        if email and email not in found:
            found.append(email)
    return found


def _validate_people(merged: dict[str, Any], errors: dict[str, str]) -> None:
    """One person holds one role per dossier (a membership is unique per person): naming
    someone in two role fields is refused, never resolved by silently dropping one."""
    seen: dict[str, str] = {}
    for name in _PEOPLE:
        for email in emails(merged.get(name)):
            if email in seen and name not in errors:
                errors[name] = _(
                    "a person holds one role per dossier: %(email)s cannot be both %(first)s "
                    "and %(second)s; choose one of the two",
                    email=email,
                    first=_ROLE_NAMES[seen[email]],
                    second=_ROLE_NAMES[name],
                )
            seen.setdefault(email, name)


def people(dossier: Dossier, role: MemberRole) -> list[User]:
    """The users holding `role` on `dossier`, by e-mail address (groups are not people)."""
    if dossier.id is None:
        return []
    query = (
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.dossier_id == dossier.id, Membership.role == role)
        .order_by(User.email)
    )
    return list(db.session.scalars(query))


def people_of(dossier_ids: Iterable[int]) -> dict[int, dict[MemberRole, list[str]]]:
    """The users' e-mail addresses per role for many dossiers, in one query (for exports)."""
    ids = list(dossier_ids)
    found: dict[int, dict[MemberRole, list[str]]] = {i: {} for i in ids}
    for start in range(0, len(ids), 500):
        rows = db.session.execute(
            sa.select(Membership.dossier_id, Membership.role, User.email)
            .join(User, Membership.user_id == User.id)
            .where(Membership.dossier_id.in_(ids[start : start + 500]))
            .order_by(User.email)
        )
        for dossier_id, role, email in rows:
            found[dossier_id].setdefault(role, []).append(email)
    return found


def role_holders(dossier: Dossier) -> dict[MemberRole, list[str]]:
    """Who holds each role on `dossier`, by name (groups too), as the dossier page shows it."""

    found: dict[MemberRole, list[str]] = {role: [] for role in MemberRole}
    for membership in memberships.members_of(dossier):
        if membership.user is not None:
            found[membership.role].append(membership.user.name or membership.user.email)
        else:
            found[membership.role].append(_("%(name)s (group)", name=membership.group.name))
    return found


def _reference_taken(reference: str, dossier: Dossier | None) -> bool:
    query = sa.select(Dossier.id).where(sa.func.lower(Dossier.reference) == reference.lower())
    if dossier is not None:
        query = query.where(Dossier.id != dossier.id)
    return db.session.scalar(query) is not None


def create_dossier(actor: User, values: dict[str, Any]) -> Dossier:
    """Register a new dossier; `actor` becomes its beheerder unless another is named."""
    if not emails(values.get("beheerder")):
        values = {**values, "beheerder": [actor.email]}
    validate(values)
    dossier = Dossier(reference=values["reference"], title=values["title"])
    db.session.add(dossier)
    _apply(dossier, values)
    db.session.flush()
    _set_people(actor, dossier, values)
    audit.record(
        actor,
        AuditAction.DOSSIER_CREATE,
        "dossier",
        dossier.id,
        dossier_id=dossier.id,
        after=snapshot(dossier),
    )
    webhooks.dossier_changed(dossier, "created")
    return dossier


def update_dossier(
    actor: User, dossier: Dossier, values: dict[str, Any], row_version: int | None = None
) -> dict[str, tuple[Any, Any]]:
    """Change register fields; returns what changed (old, new). Stale forms are refused."""
    if row_version is not None and row_version != dossier.row_version:
        raise StaleEdit(
            _("Someone else changed this dossier in the meantime; reload the page and try again.")
        )
    validate(values, dossier)
    before = snapshot(dossier)
    # A change of the term is never a silent overwrite: the history keeps the original term
    # (from the fields as they were) and gets a correction event (dossier/terms.py).
    from dossier import terms

    term_before = {name: getattr(dossier, name) for name in terms.TERM_FIELDS}
    if any(name in values and values[name] != term_before[name] for name in term_before):
        terms.ensure_original(actor, dossier)
    _apply(dossier, values)
    db.session.flush()
    terms.note_correction(actor, dossier, term_before)
    _set_people(actor, dossier, values)
    after = snapshot(dossier)
    changes = {k: (before[k], after[k]) for k in FIELDS if before[k] != after[k]}
    if changes:
        if changes.keys() & INDEXED_FIELDS:
            db.session.add(OutboxItem(topic=OutboxTopic.DOSSIER_INDEX, object_id=dossier.id))
        audit.record(
            actor,
            AuditAction.DOSSIER_UPDATE,
            "dossier",
            dossier.id,
            dossier_id=dossier.id,
            before={k: v[0] for k, v in changes.items()},
            after={k: v[1] for k, v in changes.items()},
        )
        webhooks.dossier_changed(dossier, "updated", changes)
    return changes


def _apply(dossier: Dossier, values: dict[str, Any]) -> None:
    with db.session.no_autoflush:
        for name, value in values.items():
            _apply_one(dossier, name, value, values)


def _apply_one(dossier: Dossier, name: str, value: Any, values: dict[str, Any]) -> None:
    if name == "supplier":
        dossier.supplier = find_or_create_party(value, values.get("supplier_kvk"))
    elif name in _PEOPLE:
        pass  # memberships, set by `_set_people` once the dossier has an id
    elif name == "tags":
        _set_tags(dossier, value or [])
    elif name != "supplier_kvk":
        setattr(dossier, name, value)


def _set_tags(dossier: Dossier, names: list[str]) -> None:
    wanted = sorted({n.strip() for n in names if n.strip()})
    if wanted != dossier.tag_names:
        dossier.tags = [DossierTag(name=n) for n in wanted]


def find_user(email: str) -> User:
    """The user with this e-mail address, or a ValidationError naming it."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise ValidationError({"user": _("no user with e-mail address %(email)s", email=email)})
    return user


def find_or_create_party(name: str | None, kvk_number: str | None = None) -> Party | None:
    """The party with this name (case-insensitive), created as a supplier when new."""
    name = (name or "").strip()
    if not name:
        return None
    party = db.session.scalar(sa.select(Party).where(sa.func.lower(Party.name) == name.lower()))
    if party is None:
        party = Party(name=name, kind=PartyKind.SUPPLIER)
        db.session.add(party)
    if kvk_number:
        party.kvk_number = kvk_number
    return party


def _set_people(actor: User, dossier: Dossier, values: dict[str, Any]) -> None:
    """Make the memberships match the people fields in `values`: everyone named holds that
    role; someone who held it and is named in no field any more stays on as a reader (a
    beheerder removes them on the members page). Each change is a membership audit event."""

    fields = [name for name in _PEOPLE_ROLES if name in values]
    named = {name: _find_users(name, values[name]) for name in fields}
    everyone = {user.id for users in named.values() for user in users}
    try:
        for name in fields:
            for user in named[name]:
                memberships.set_role(actor, dossier, user, _PEOPLE_ROLES[name])
        for name in fields:
            for user in people(dossier, _PEOPLE_ROLES[name]):
                if user.id not in everyone:
                    memberships.set_role(actor, dossier, user, MemberRole.READER)
    except ValidationError:
        raise
    except DomainError as error:
        raise ValidationError({"beheerder": str(error)}) from error


def _find_users(name: str, value: str | list[str] | None) -> list[User]:
    try:
        return [find_user(email) for email in emails(value)]
    except ValidationError as error:
        raise ValidationError({name: error.errors["user"]}) from error


def grant(actor: User, dossier: Dossier, user: User, role: MemberRole) -> Membership:
    """Give `user` `role` on `dossier` (replacing a weaker role); audited."""
    membership = db.session.scalar(
        sa.select(Membership).where(
            Membership.dossier_id == dossier.id, Membership.user_id == user.id
        )
    )
    if membership is not None and membership.role == role:
        return membership
    before = {"role": membership.role} if membership else None
    if membership is None:
        membership = Membership(dossier_id=dossier.id, user_id=user.id, role=role)
        db.session.add(membership)
    else:
        if _rank(membership.role) > _rank(role):
            return membership
        membership.role = role
    db.session.flush()
    audit.record(
        actor,
        AuditAction.MEMBERSHIP_GRANT,
        "membership",
        membership.id,
        dossier_id=dossier.id,
        before=before,
        after={"user": user.email, "role": role},
    )
    return membership


def _rank(role: MemberRole) -> int:
    order = [MemberRole.READER, MemberRole.OWNER, MemberRole.MANAGER, MemberRole.BEHEERDER]
    return order.index(role)


# Only dots between groups of three digits: "50.000" and "1.234.567" are thousands (Dutch).
_DOT_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")


# One comma before exactly three digits, and no point: "2,500" is 2.5 in Dutch and 2500 in English.
_AMBIGUOUS_COMMA = re.compile(r"-?\d{1,3},\d{3}")


class AmbiguousAmount(ValueError):
    """An amount that reads as two different numbers ("2,500"): asked again, never guessed."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        whole, part = text.strip().replace("€", "").strip().split(",")
        self.thousands = f"{whole}.{part}"  # the Dutch way of writing 2500
        self.decimal = f"{whole},{part[:2]}"  # and of 2.50


def coerce_decimal(text: str) -> Decimal:
    """Parse an amount written the Dutch way (1.234,56; 50.000) or the English way (1,234.56).

    "2,500" alone is refused (AmbiguousAmount): Dutch reads 2.50, English 2500, and an amount
    stored a thousand times too small is worse than a question.
    """
    cleaned = text.strip().replace("€", "").replace(" ", "").replace("\u00a0", "")
    if _AMBIGUOUS_COMMA.fullmatch(cleaned):
        raise AmbiguousAmount(cleaned)
    if _DOT_THOUSANDS.fullmatch(cleaned):
        return Decimal(cleaned.replace(".", ""))
    if "," in cleaned and (cleaned.rfind(",") > cleaned.rfind(".")):
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    amount = Decimal(cleaned)
    if not amount.is_finite():  # "NaN" and "Infinity" parse, but are no amounts
        raise InvalidOperation(text)
    return amount
