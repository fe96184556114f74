"""Audit events as a person reads them: translated actions, named objects with links where the
viewer may follow them, and before/after values through the label tables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dossier import access, audit, labels
from dossier.extensions import db
from dossier.i18n import format_money
from dossier.models import (
    Action,
    AuditAction,
    AuditEvent,
    Document,
    DocumentVersion,
    Dossier,
    Group,
    Obligation,
    User,
)

# Names of the values events carry that are not dossier fields (those use the form's labels).
_VALUE_NAMES: dict[str, Any] = {
    "user": _l("User"),
    "group": _l("Group"),
    "role": _l("Role"),
    "email": _l("E-mail address"),
    "enabled": _l("Enabled"),
    "generated": _l("Password generated"),
    "name": _l("Name"),
    "members": _l("Members"),
    "kind": _l("Kind"),
    "due_on": _l("Date"),
    "note": _l("Note"),
    "reason": _l("Reason"),
    "filename": _l("File"),
    "number": _l("Version"),
    "document_id": _l("Document"),
    "confidentiality": _l("Confidentiality"),
    "comment": _l("Comment"),
    "sha256": _l("Checksum (SHA-256)"),
    "size": _l("Size"),
    "original_filename": _l("File"),
    "mime_type": _l("File type"),
    # The file a folder import read, or the intake channel (dossier.documents.add_version).
    "imported_from": _l("Imported from"),
    "address": _l("Network address"),
    "scope": _l("Blocked"),
    # A document's details, as its edit form names them (extraction fills the blank ones).
    "title": _l("Title"),
    "document_date": _l("Document date"),
    "direction": _l("Direction"),
    "correspondent": _l("Correspondent"),
    # Agreements, actions and obligations (dossier/actions.py, dossier/obligations.py).
    "agreement": _l("What was agreed"),
    "meeting_on": _l("Meeting date"),
    "minutes_id": _l("Minutes"),
    "assignee_id": _l("Who acts"),
    "assignee_text": _l("Who acts"),
    "status_note": _l("Note"),
    "party": _l("Who owes it"),
    "recurrence": _l("Recurrence"),
    "first_due_on": _l("First due date"),
    "until_on": _l("Last date"),
    "owner_id": _l("Owner"),
    "fulfilled_on": _l("Fulfilled on"),
    "obligation_id": _l("Obligation"),
    "clause_number": _l("Clause"),
    # Supplier contacts and their mandates, notices (dossier/contacts.py, dossier/notices.py).
    "function": _l("Function"),
    "phone": _l("Phone"),
    "contact": _l("Contact"),
    "limit_amount": _l("Up to (euro, excl. VAT)"),
    "mandates": _l("Mandates"),
    "subject": _l("Subject"),
    "recipients": _l("Recipients"),
    # The execution plan and its reviews (dossier/plans.py).
    "question": _l("Question"),
    "text": _l("Answer"),
    "plan_version": _l("Plan version"),
    "held_on": _l("Held on"),
    "outcome": _l("Outcome"),
    "participants": _l("Participants"),
    "deviations": _l("Deviations"),
    "minutes_document_id": _l("Minutes"),
    "new_plan_version": _l("New plan version"),
    # KPIs and measurements (dossier/performance.py).
    "kpi": _l("KPI"),
    "description": _l("Description"),
    "norm": _l("Norm"),
    "unit": _l("Unit"),
    "period": _l("Period"),
    "tolerance": _l("Tolerance (amber)"),
    "penalty_amount": _l("Penalty or malus (euro)"),
    "penalty_note": _l("Penalty note"),
    "clause_version_id": _l("Clause"),
}
# What an object of each kind is called in the trail, where it has no page of its own to link;
# the value named beside it (a contact's name, a KPI's name) follows when the event holds it.
_OBJECT_NAMES: dict[str, tuple[Any, str]] = {
    "execution_plan": (_l("Execution plan"), ""),
    "plan_answer": (_l("Execution plan"), ""),
    "plan_review": (_l("Execution plan review"), "held_on"),
    "contact": (_l("Contact"), "name"),
    "contact_mandate": (_l("Mandate"), "contact"),
    "kpi": (_l("KPI"), "name"),
    "notice": (_l("Notice"), "subject"),
    "webhook": (_l("Webhook"), "name"),
}
# What a lock-out closed (dossier/throttling.py).
_LOCK_SCOPE: dict[str, Any] = {
    "address": _l("log-ins from this network address"),
    "account": _l("log-ins to this account from addresses that failed"),
    "password": _l("the current-password check"),
}
# Values whose labels depend on the kind of object (contacts, mandates, notices).
_OWN_MAPPINGS: dict[tuple[str, str], dict[Any, Any]] = {
    ("contact", "role"): labels.CONTACT_ROLE,
    ("contact_mandate", "kind"): labels.MANDATE_KIND,
    ("notice", "kind"): labels.NOTICE_KIND,
    ("notice", "role"): labels.MEMBER_ROLE,
}
# "value" is money on a dossier; a KPI's measured value is not (see _value).
_MONEY_KEYS = frozenset({"value", "annual_value", "limit_amount", "penalty_amount"})
_DATE_KEYS = frozenset(
    {
        "signed_on",
        "start_on",
        "end_on",
        "due_on",
        "document_date",
        "meeting_on",
        "first_due_on",
        "until_on",
        "fulfilled_on",
        "held_on",
    }
)


def action_label(action: str) -> str:
    """An action's label; a code from outside AuditAction (an old trail) shows as it is."""
    label = labels.AUDIT_ACTION.get(action)  # type: ignore[call-overload]
    return str(label) if label is not None else action


def action_choices() -> list[tuple[str, str]]:
    """The action filter's options: every known action by its label, all actions first."""
    options = sorted(
        ((str(code), str(label)) for code, label in labels.AUDIT_ACTION.items()),
        key=lambda o: o[1],
    )
    return [("", _("All actions")), *options]


def _dossier_field_names() -> dict[str, Any]:
    from dossier.web.forms import DossierForm

    names = {}
    for name in dir(DossierForm):
        unbound = getattr(DossierForm, name, None)
        args = getattr(unbound, "args", None)
        if args and hasattr(unbound, "field_class"):
            names[name] = args[0]
    return names


@dataclass
class Change:
    name: str
    before: str
    after: str


@dataclass
class Shown:
    """One event ready for the page."""

    event: AuditEvent
    action: str
    object_text: str
    object_url: str | None
    dossier_reference: str | None
    dossier_url: str | None
    changes: list[Change] = field(default_factory=list)
    actor: str = ""  # who, as the page names them (the stored label is an e-mail or a code)


# Stored actor labels that are no e-mail address (see dossier.audit.record).
_ACTORS = {"system": _l("the system"), audit.ANONYMOUS: _l("not logged in")}


def actor_name(label: str) -> str:
    """The actor of an event as the page shows it: an e-mail address, or who else acted."""
    return str(_ACTORS.get(label, label))


class Presenter:
    """Shows a page of events to `viewer`: objects are looked up once per page."""

    def __init__(self, viewer: User, events: list[AuditEvent]) -> None:
        self.viewer = viewer
        self.events = events
        self.field_names = _dossier_field_names()
        self.dossiers = self._load(Dossier, {e.dossier_id for e in events if e.dossier_id})
        document_ids = {e.object_id for e in events if e.object_type == "document"}
        version_ids = {e.object_id for e in events if e.object_type == "version"}
        self.versions = self._load(DocumentVersion, version_ids)
        document_ids |= {v.document_id for v in self.versions.values()}
        self.documents = self._load(Document, document_ids)
        self.users = self._load(User, {e.object_id for e in events if e.object_type == "user"})
        self.groups = self._load(Group, {e.object_id for e in events if e.object_type == "group"})

    @staticmethod
    def _load(model: Any, ids: set[int | None]) -> dict[int, Any]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        return {
            row.id: row for row in db.session.scalars(sa.select(model).where(model.id.in_(wanted)))
        }

    def shown(self) -> list[Shown]:
        return [self.show(e) for e in self.events]

    def show(self, event: AuditEvent) -> Shown:
        dossier = self.dossiers.get(event.dossier_id or 0)
        dossier_url = None
        if dossier is not None and access.can_view_dossier(self.viewer, dossier):
            dossier_url = url_for("dossiers.show", reference=dossier.reference)
        text, url = self._object(event, dossier)
        return Shown(
            event=event,
            action=action_label(event.action),
            object_text=text,
            object_url=url,
            dossier_reference=dossier.reference if dossier else None,
            dossier_url=dossier_url,
            changes=self.changes(event),
            actor=actor_name(event.actor_label),
        )

    # Objects

    def _object(self, event: AuditEvent, dossier: Dossier | None) -> tuple[str, str | None]:
        kind, object_id = event.object_type, event.object_id or 0
        values = {**(event.before or {}), **(event.after or {})}
        if kind == "dossier" and dossier is not None:
            return dossier.reference, self._dossier_url(dossier)
        if kind == "document":
            return self._document(self.documents.get(object_id), dossier)
        if kind == "version":
            version = self.versions.get(object_id)
            if version is None:
                return _("a version that no longer exists"), None
            text, url = self._document(self.documents.get(version.document_id), dossier)
            return _("%(title)s, version %(number)s", title=text, number=version.number), url
        if kind == "membership":
            who = values.get("user") or values.get("group") or ""
            role = values.get("role")
            role_text = self._value("role", role, event) if role else ""
            return (f"{who} ({role_text})" if role_text else str(who)), None
        if kind == "user":
            user = self.users.get(object_id)
            email = user.email if user else values.get("email", "")
            url = None
            if user is not None and access.can_administer(self.viewer):
                url = url_for("admin.user", user_id=user.id)
            return str(email or _("a removed user")), url
        if kind == "group":
            group = self.groups.get(object_id)
            name = group.name if group else values.get("name", "")
            url = None
            if group is not None and access.can_administer(self.viewer):
                url = url_for("admin.group", group_id=group.id)
            return str(name), url
        if kind == "deadline_action":
            kind_value = values.get("kind")
            due = values.get("due_on")
            parts = [self._value("kind", kind_value, event) if kind_value else ""]
            if due:
                parts.append(self._value("due_on", due, event))
            return " ".join(p for p in parts if p), self._dossier_url(dossier)
        if kind in ("action", "obligation", "obligation_occurrence"):
            return self._management_object(kind, object_id, values, dossier)
        if kind == "calendar_token":
            return _("Calendar address"), None
        if kind in _OBJECT_NAMES:
            label, key = _OBJECT_NAMES[kind]
            named = values.get(key) or values.get("kpi") if key else None
            if named and key in _DATE_KEYS:
                named = self._value(key, named, event)
            return (f"{label}: {named}" if named else str(label)), self._dossier_url(dossier)
        if kind == "disposal_list":
            url = None
            if access.can_view_records(self.viewer):
                url = url_for("records.disposal", list_id=object_id)
            return _("Destruction list %(n)d", n=object_id), url
        if kind == "legal_hold":
            return _("Legal hold on %(ref)s", ref=dossier.reference if dossier else ""), (
                self._dossier_url(dossier)
            )
        if kind == "selection_list":
            return _("Selection list"), None
        return f"{kind} {event.object_id or ''}".strip(), None

    def _management_object(
        self, kind: str, object_id: int, values: dict[str, Any], dossier: Dossier | None
    ) -> tuple[str, str | None]:
        """An action or obligation by what it says, linked while the viewer may see it."""
        visible = dossier is not None and access.can_view_dossier(self.viewer, dossier)
        if kind == "action":
            item = db.session.get(Action, object_id)
            text = str(item.agreement if item else values.get("agreement", ""))[:80]
            if item is None or not visible:
                return text or _("an action"), None
            return text, url_for(
                "management.action", reference=dossier.reference, action_id=item.id
            )
        if kind == "obligation_occurrence":
            object_id = int(values.get("obligation_id") or 0)
        obligation = db.session.get(Obligation, object_id) if object_id else None
        text = str(obligation.title if obligation else values.get("title", ""))
        if obligation is None or not visible:
            return text or _("an obligation"), None
        return text, url_for(
            "management.obligation", reference=dossier.reference, obligation_id=obligation.id
        )

    def _dossier_url(self, dossier: Dossier | None) -> str | None:
        if dossier is None or not access.can_view_dossier(self.viewer, dossier):
            return None
        return url_for("dossiers.show", reference=dossier.reference)

    def _document(
        self, document: Document | None, dossier: Dossier | None
    ) -> tuple[str, str | None]:
        if document is None:
            return _("a document that no longer exists"), None
        if dossier is None or not access.can_view_document(self.viewer, document):
            return _("document %(id)s", id=document.id), None
        url = url_for("documents.show", reference=dossier.reference, document_id=document.id)
        return document.title, url

    # Values

    def changes(self, event: AuditEvent) -> list[Change]:
        """Before → after per value; for an update only the values that changed."""
        before, after = event.before or {}, event.after or {}
        keys = [k for k in after if k in before] if before and after else []
        keys += [k for k in (after or before) if k not in keys]
        keys += [k for k in before if k not in keys]
        rows = []
        for key in keys:
            old, new = before.get(key), after.get(key)
            if before and after and old == new:
                continue  # unchanged: an update shows only what changed
            if (
                not before
                and new in (None, "", [], False)
                and event.action == AuditAction.DOSSIER_CREATE
            ):
                continue  # an empty field of a new dossier says nothing
            rows.append(
                Change(
                    str(self.field_names.get(key) or _VALUE_NAMES.get(key) or key),
                    self._value(key, old, event) if key in before else "",
                    self._value(key, new, event) if key in after else "",
                )
            )
        return rows

    def _value(self, key: str, value: Any, event: AuditEvent) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if key == "deviations" and isinstance(value, list):
            # [area, description] pairs: "Resultaat: ...; Budget: ..."
            return (
                "; ".join(
                    f"{labels.DEVIATION_AREA.get(d[0], d[0])}: {d[1]}"
                    if isinstance(d, list) and len(d) == 2
                    else str(d)
                    for d in value
                )
                or "—"
            )
        if isinstance(value, list):
            return ", ".join(self._value(key, v, event) for v in value) or "—"
        if isinstance(value, dict):
            return "; ".join(f"{k}: {self._value(k, v, event)}" for k, v in value.items())
        mapping = self._mapping(key, event)
        if mapping is not None:
            return str(mapping.get(value, value))
        if key in _MONEY_KEYS and not (key == "value" and event.object_type == "kpi"):
            try:
                return format_money(Decimal(str(value)))
            except InvalidOperation:
                return str(value)
        if key in _DATE_KEYS:
            try:
                from flask import current_app

                return current_app.jinja_env.filters["date_nl"](dt.date.fromisoformat(str(value)))
            except ValueError:
                return str(value)
        if key in ("assignee_id", "owner_id") and isinstance(value, int):
            user = db.session.get(User, value)
            return user.name or user.email if user is not None else str(value)
        if key in ("document_id", "minutes_id"):
            document = (
                self.documents.get(value) or db.session.get(Document, value)
                if isinstance(value, int)
                else None
            )
            return (
                document.title
                if document is not None and access.can_view_document(self.viewer, document)
                else str(value)
            )
        return str(value)

    @staticmethod
    def _mapping(key: str, event: AuditEvent) -> dict[Any, Any] | None:
        deadline = event.object_type == "deadline_action"
        own = _OWN_MAPPINGS.get((event.object_type, key))
        if own is not None:
            return own
        if key == "kind":
            return labels.DEADLINE_KIND if deadline else labels.DOCUMENT_KIND
        if key == "status":
            if event.object_type == "action":
                return labels.ACTION_STATUS
            if event.object_type == "kpi":
                return labels.RAG_STATUS
            return labels.DEADLINE_STATUS if deadline else labels.STATUS
        if key == "role":
            return labels.GLOBAL_ROLE if event.object_type == "user" else labels.MEMBER_ROLE
        return {
            "scope": _LOCK_SCOPE,
            "procedure": labels.PROCEDURE,
            "category": labels.CATEGORY,
            "confidentiality": labels.CONFIDENTIALITY,
            "notice_unit": labels.NOTICE_UNIT,
            "extraction_status": labels.EXTRACTION_STATUS,
            "party": labels.OBLIGATION_PARTY,
            "recurrence": labels.RECURRENCE,
            "question": labels.PLAN_QUESTION,
            "outcome": labels.REVIEW_OUTCOME,
            "direction": labels.KPI_DIRECTION if event.object_type == "kpi" else labels.DIRECTION,
            "period": labels.KPI_PERIOD,
        }.get(key)
