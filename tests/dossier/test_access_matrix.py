"""R6: every role × every endpoint × (own object, object in a forbidden dossier, missing id,
malformed id) gives the status the policy promises.

The cases are generated from `app.url_map`: an endpoint (or an HTTP method of one) that has no
entry in SPEC fails `test_every_route_has_a_matrix_entry`, so a new route cannot slip in
untested. GET endpoints run all roles in one test (they change nothing that matters); POST
endpoints get a fresh world per role, so one role's successful change cannot mask another's.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymupdf
import pytest
import sqlalchemy as sa
from flask import Flask, url_for

from dossier import (
    actions,
    amendments,
    calendar_feed,
    contacts,
    decisions,
    documents,
    dossiers,
    groups,
    intake,
    memberships,
    notices,
    obligation_proposals,
    obligations,
    performance,
    plans,
    records,
    relations,
    reports,
    spend_import,
    tokens,
    webhooks,
    woo,
    woo_marks,
)
from dossier.extensions import db
from dossier.models import (
    Assessment,
    Base,
    Clause,
    DisposalItem,
    DisposalList,
    DocumentKind,
    Dossier,
    EndDecisionKind,
    GlobalRole,
    MemberRole,
    TokenScope,
    User,
)
from tests.conftest import _PASSWORD_HASH, PASSWORD, empty_tables

LOGGED_IN = [
    "plain",
    "reader",
    "owner",
    "manager",
    "beheerder",
    "admin",
    "auditor",
    "portfolio",
    "archivist",
    "woo",
]
ROLES = ["anonymous", *LOGGED_IN, "disabled"]
# Know every dossier exists, without being members of it (portfolio: contractmanagement).
SEES_ALL = {"admin", "auditor", "portfolio", "archivist"}
MISSING_ID = 999_999
SENTINEL = 987_654_321  # built into URLs, then replaced by a malformed value
MALFORMED = {"reference": "bad ref!", "int": "abc"}
END_ON = {  # each dossier has a deadline
    "2025-001": "2026-12-31",
    "2025-002": "2027-06-30",
    "2025-003": "2027-06-30",
    "2025-004": "2027-06-30",
    "2025-005": "2027-06-30",
}


def _upload(name: str = "brief.txt") -> tuple[io.BytesIO, str]:
    return io.BytesIO(b"Geachte heer,\nmet vriendelijke groet\n"), name


@dataclass(frozen=True)
class Case:
    """What one endpoint promises: the status per role for its own object, and how it behaves
    when the object is missing (most 404; views that check the dossier right first keep 403)."""

    own: dict[str, int]
    data: Callable[[], dict[str, Any]] | None = None
    data_for: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # from the variant's ids
    missing_keeps_403: bool = False
    public: bool = False
    extra: dict[str, int] = field(default_factory=dict)
    json: Callable[[], dict[str, Any]] | None = None  # an API request's JSON body


def dossier_scoped(ok: int, allowed: set[str], refused: int = 403) -> dict[str, int]:
    """Members and global viewers see the dossier; of them `allowed` may act; plain users
    are not members, so for them the dossier does not exist."""
    return {r: ok if r in allowed else (404 if r == "plain" else refused) for r in LOGGED_IN}


def global_only(ok: int, allowed: set[str]) -> dict[str, int]:
    return {r: ok if r in allowed else 403 for r in LOGGED_IN}


# The Woo handler reads 2025-001 as a reader (the role itself reads no dossier).
VIEWERS = {"reader", "owner", "manager", "beheerder", "admin", "auditor", "portfolio", "archivist"}
VIEWERS |= {"woo"}
RECORDS = {"admin", "auditor", "archivist"}  # read destruction lists, holds, the selection list
HOLDERS = {"admin", "archivist"}  # place and lift legal holds, propose destruction


def _selection_csv() -> dict[str, Any]:
    csv = b"code;description;valuation;retention_years\nM-1;Matrix;vernietigen;3\n"
    return {"file": (io.BytesIO(csv), "lijst.csv")}


FILERS = {"beheerder", "manager"}  # the own document is correspondence: a manager may file it
DOSSIER_EDIT = {
    "title": "Schoonmaak kantoren",
    "status": "active",
    "confidentiality": "normal",
}

SPEND_IMPORTERS = {"admin", "beheerder"}
# Never delivered here: nothing drains the outbox in these tests.
WEBHOOK = {
    "name": "Matrix",
    "url": "https://example.invalid/hook",
    "events": ["document.filed"],
    "is_active": "y",
}
INTAKE_USERS = {"admin", "beheerder"}
WOO_READERS = {"woo", "auditor"}  # Woo requests: handled by the Woo role, read by auditors
WOO_HANDLERS = {"woo"}
SPEND_CSV = b"Leverancier;Factuurnummer;Factuurdatum;Bedrag\nOnbekend BV;F-1;01-02-2026;100,00\n"


def api_case(own: dict[str, int], **kwargs: Any) -> Case:
    """An API route: without a token (anonymous) or with a disabled user's, 401."""
    return Case(own=own, extra={"anonymous": 401, "disabled": 401}, **kwargs)


SPEC: dict[tuple[str, str], Case] = {
    ("static", "GET"): Case(
        own={r: 200 for r in LOGGED_IN}, public=True, extra={"anonymous": 200, "disabled": 200}
    ),
    ("favicon", "GET"): Case(
        own={r: 200 for r in LOGGED_IN}, public=True, extra={"anonymous": 200, "disabled": 200}
    ),
    ("auth.login", "GET"): Case(
        own={r: 302 for r in LOGGED_IN}, public=True, extra={"anonymous": 200, "disabled": 200}
    ),
    ("auth.login_submit", "POST"): Case(
        own={r: 400 for r in LOGGED_IN},
        data=lambda: {"email": "nobody@example.org", "password": "x" * 12},
        public=True,
        extra={"anonymous": 400, "disabled": 400},
    ),
    ("auth.language", "POST"): Case(
        own={r: 302 for r in LOGGED_IN},
        data=lambda: {"lang": "en"},
        public=True,
        extra={"anonymous": 302, "disabled": 302},
    ),
    # Single sign-on is not configured in this world: its routes do not exist (404) for
    # anybody (tests/dossier/test_oidc.py covers them against a real provider).
    ("sso.login", "GET"): Case(
        own={r: 404 for r in LOGGED_IN}, public=True, extra={"anonymous": 404, "disabled": 404}
    ),
    ("sso.callback", "GET"): Case(
        own={r: 404 for r in LOGGED_IN}, public=True, extra={"anonymous": 404, "disabled": 404}
    ),
    ("sso.break_glass", "GET"): Case(
        own={r: 302 for r in LOGGED_IN}, public=True, extra={"anonymous": 200, "disabled": 200}
    ),
    ("auth.logout", "POST"): Case(own={r: 302 for r in LOGGED_IN}),
    ("auth.password", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("auth.password_submit", "POST"): Case(
        own={r: 302 for r in LOGGED_IN},
        data=lambda: {
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    ),
    ("register.index", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("register.export", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("search.index", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("dossiers.new", "GET"): Case(own=global_only(200, {"admin", "beheerder"})),
    ("dossiers.create", "POST"): Case(
        own=global_only(302, {"admin", "beheerder"}),
        data=lambda: {**DOSSIER_EDIT, "reference": "2025-777"},
    ),
    ("dossiers.show", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("dossiers.summary", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("dossiers.summary_pdf", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("dossiers.edit", "GET"): Case(own=dossier_scoped(200, {"beheerder"})),
    ("dossiers.update", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}),
        # The people as the form shows them: the dossier's memberships.
        data=lambda: {
            **DOSSIER_EDIT,
            "reference": "2025-001",
            "owner": ["owner@example.org"],
            "manager": ["manager@example.org"],
            "beheerder": ["beheerder@example.org", "gone@example.org", "auditor@example.org"],
        },
    ),
    ("documents.new", "GET"): Case(own=dossier_scoped(200, FILERS)),
    ("documents.create", "POST"): Case(
        own=dossier_scoped(302, FILERS),
        data=lambda: {
            "file": _upload(),
            "kind": "correspondence",
            "confidentiality": "normal",
        },
    ),
    ("documents.show", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("documents.new_version", "GET"): Case(own=dossier_scoped(200, FILERS)),
    ("documents.create_version", "POST"): Case(
        own=dossier_scoped(302, FILERS),
        data=lambda: {"file": _upload("brief-v2.txt"), "comment": "ondertekend"},
    ),
    ("documents.edit", "GET"): Case(own=dossier_scoped(200, FILERS)),
    ("documents.update", "POST"): Case(
        own=dossier_scoped(302, FILERS),
        data=lambda: {
            "kind": "minutes",
            "title": "Brief (gecorrigeerd)",
            "confidentiality": "normal",
        },
    ),
    ("documents.withdraw", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}), data=lambda: {"reason": "dubbel ingediend"}
    ),
    ("documents.download", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("documents.status", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("documents.compare_versions", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    # The own document is plain text, which is never shown inline: 404 for everyone.
    ("documents.view", "GET"): Case(own=dossier_scoped(404, VIEWERS, refused=404)),
    ("documents.download_selected", "POST"): Case(
        own=dossier_scoped(200, VIEWERS), data_for=lambda ids: {"ids": [ids["document_id"]]}
    ),
    ("members.index", "GET"): Case(
        own=dossier_scoped(200, {"beheerder", "admin"}), missing_keeps_403=True
    ),
    ("members.add", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "admin"}),
        data=lambda: {"principal": "plain@example.org", "role": "reader"},
    ),
    ("members.update", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "admin"}),
        data=lambda: {"role": "owner"},
        missing_keeps_403=True,
    ),
    ("members.remove", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "admin"}), data=dict, missing_keeps_403=True
    ),
    # The execution plan: readers of the dossier read it, its beheerder edits it, beheerder
    # and manager record reviews (can_view_plan, can_edit_plan, can_review_plan).
    ("plans.show", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("plans.history", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("plans.edit", "GET"): Case(own=dossier_scoped(200, {"beheerder"})),
    ("plans.update", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}), data=lambda: {"why": "Schone kantoren"}
    ),
    ("plans.link_document", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}),
        data_for=lambda ids: {"document_id": str(ids["document_id"])},
    ),
    ("plans.unlink_document", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}), data=dict, missing_keeps_403=True
    ),
    ("plans.new_review", "GET"): Case(own=dossier_scoped(200, {"beheerder", "manager"})),
    ("plans.create_review", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "manager"}),
        data=lambda: {"held_on": "2025-06-01", "outcome": "on_track"},
    ),
    ("audit.index", "GET"): Case(own=global_only(200, {"auditor"})),
    ("audit.export", "GET"): Case(own=global_only(200, {"auditor"})),
    ("audit.dossier", "GET"): Case(own=dossier_scoped(200, {"beheerder", "auditor"})),
    ("audit.dossier_export", "GET"): Case(own=dossier_scoped(200, {"beheerder", "auditor"})),
    ("admin.users", "GET"): Case(own=global_only(200, {"admin"})),
    ("admin.create_user", "POST"): Case(
        own=global_only(302, {"admin"}),
        data=lambda: {"email": "new@example.org", "password": "a long enough password"},
    ),
    ("admin.user", "GET"): Case(own=global_only(200, {"admin"}), missing_keeps_403=True),
    ("admin.set_enabled", "POST"): Case(
        own=global_only(302, {"admin"}), data=lambda: {"enabled": "0"}, missing_keeps_403=True
    ),
    ("admin.reset_password", "POST"): Case(
        own=global_only(302, {"admin"}),
        data=lambda: {"password": "a long enough password"},
        missing_keeps_403=True,
    ),
    ("admin.set_role", "POST"): Case(
        own=global_only(302, {"admin"}), data=lambda: {"role": "auditor"}, missing_keeps_403=True
    ),
    ("admin.groups_index", "GET"): Case(own=global_only(200, {"admin"})),
    ("admin.create_group", "POST"): Case(
        own=global_only(302, {"admin"}), data=lambda: {"name": "Inkoop"}
    ),
    ("admin.group", "GET"): Case(own=global_only(200, {"admin"}), missing_keeps_403=True),
    ("admin.add_group_member", "POST"): Case(
        own=global_only(302, {"admin"}),
        data=lambda: {"email": "plain@example.org"},
        missing_keeps_403=True,
    ),
    ("admin.remove_group_member", "POST"): Case(
        own=global_only(302, {"admin"}), data=dict, missing_keeps_403=True
    ),
    # Webhooks: administrators only (can_manage_webhooks for the whole blueprint).
    ("webhooks.index", "GET"): Case(own=global_only(200, {"admin"})),
    ("webhooks.create", "POST"): Case(own=global_only(200, {"admin"}), data=lambda: WEBHOOK),
    ("webhooks.show", "GET"): Case(own=global_only(200, {"admin"}), missing_keeps_403=True),
    ("webhooks.update", "POST"): Case(
        own=global_only(302, {"admin"}), data=lambda: WEBHOOK, missing_keeps_403=True
    ),
    ("webhooks.delete", "POST"): Case(
        own=global_only(302, {"admin"}), data=dict, missing_keeps_403=True
    ),
    ("webhooks.new_secret", "POST"): Case(
        own=global_only(200, {"admin"}), data=dict, missing_keeps_403=True
    ),
    ("webhooks.send_test", "POST"): Case(
        own=global_only(302, {"admin"}), data=dict, missing_keeps_403=True
    ),
    ("webhooks.delivery", "GET"): Case(own=global_only(200, {"admin"}), missing_keeps_403=True),
    ("webhooks.redeliver", "POST"): Case(
        own=global_only(302, {"admin"}), data=dict, missing_keeps_403=True
    ),
    # Reports: every logged-in user gets them, computed over what they may see.
    ("reports.dashboard", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("reports.index", "GET"): Case(own={r: 302 for r in LOGGED_IN}),
    ("reports.deadlines", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("reports.tenders", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("reports.value", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("reports.completeness", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("reports.activity", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("reports.export", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("reports.deadline", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("reports.deadline_update", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "manager"}),  # can_manage_deadlines
        data=lambda: {"status": "acted_on", "note": "opgezegd"},
    ),
    ("reports.calendar", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    # Performance: every viewer reads; the beheerder agrees KPIs, beheerder and manager record.
    ("performance.index", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("performance.kpi", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("performance.export", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("performance.scorecard", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("performance.create_kpi", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}),
        data=lambda: {"name": "Reactietijd", "norm": "4", "direction": "lower", "period": "month"},
    ),
    ("performance.update_kpi", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}),
        data=lambda: {"name": "Beschikbaarheid", "norm": "99,9", "direction": "higher"},
    ),
    ("performance.measure", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "manager"}),
        data=lambda: {"period": "2026-01", "value": "99,7", "penalty_amount": "1.500,00"},
    ),
    ("reports.calendar_create", "POST"): Case(own={r: 200 for r in LOGGED_IN}),
    ("reports.calendar_revoke", "POST"): Case(own={r: 302 for r in LOGGED_IN}),
    # Agreements, actions and obligations: readers see; beheerder and manager record actions
    # (and the assignee its status); the beheerder registers obligations and sees proposals.
    ("management.actions", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("management.create_action", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "manager"}),
        data=lambda: {"agreement": "Plan van aanpak sturen", "status": "open"},
    ),
    ("management.action", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("management.update_action", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "manager"}),
        data=lambda: {"agreement": "Plan van aanpak sturen", "status": "done"},
    ),
    ("management.obligations", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("management.create_obligation", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}),
        data=lambda: {
            "title": "Maandrapportage",
            "party": "supplier",
            "recurrence": "monthly",
            "first_due_on": "2026-01-31",
        },
    ),
    ("management.proposals", "GET"): Case(own=dossier_scoped(200, {"beheerder"})),
    ("management.dismiss_proposal", "POST"): Case(own=dossier_scoped(302, {"beheerder"})),
    ("management.restore_proposal", "POST"): Case(own=dossier_scoped(302, {"beheerder"})),
    ("management.obligation", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("management.update_obligation", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}),
        data=lambda: {
            "title": "Maandrapportage",
            "party": "supplier",
            "recurrence": "quarterly",
            "first_due_on": "2026-01-31",
        },
    ),
    ("management.fulfil", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "manager"}),
        data_for=lambda ids: {f"o{ids['obligation_due']}-fulfilled_on": "2026-02-02"},
    ),
    ("management.mine", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("management.report", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    # The secret address answers to its token alone, logged in or not; any other token: 404.
    ("reports.calendar_feed", "GET"): Case(
        own={r: 200 for r in LOGGED_IN}, public=True, extra={"anonymous": 200, "disabled": 200}
    ),
    # Supplier contacts: seen with the dossier, kept by its beheerder (can_manage_contacts).
    ("contacts.index", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("contacts.new", "GET"): Case(own=dossier_scoped(200, {"beheerder"})),
    ("contacts.create", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}), data=lambda: {"name": "Jan", "role": "other"}
    ),
    ("contacts.edit", "GET"): Case(own=dossier_scoped(200, {"beheerder"}), missing_keeps_403=True),
    ("contacts.update", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}),
        data=lambda: {"name": "Jan Jansen", "role": "account_manager"},
        missing_keeps_403=True,
    ),
    ("contacts.remove", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}), data=dict, missing_keeps_403=True
    ),
    ("contacts.add_mandate", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}),
        data_for=lambda ids: {
            f"contact{ids['contact_id']}-kind": "accept_deliveries",
            f"contact{ids['contact_id']}-limit_amount": "10.000,00",
        },
        missing_keeps_403=True,
    ),
    ("contacts.remove_mandate", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}), data=dict, missing_keeps_403=True
    ),
    # Notices: one's own (the own notice went to the members but its sender, and not to
    # those who hold no role), sending by the beheerder, following by whoever sees the dossier.
    ("notices.index", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("notices.mark_read", "POST"): Case(
        own={
            r: 302 if r in {"reader", "owner", "manager", "auditor", "woo"} else 404
            for r in LOGGED_IN
        },
        data=dict,
    ),
    ("notices.mark_all_read", "POST"): Case(own={r: 302 for r in LOGGED_IN}),
    ("notices.dossier", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("notices.new", "GET"): Case(own=dossier_scoped(200, {"beheerder"})),
    ("notices.create", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}),
        data=lambda: {"kind": "decision", "audience": "all", "subject": "Besluit", "document": ""},
    ),
    # Amendments: readers see the register; the beheerder and manager propose; the owner (not
    # the proposer, here the beheerder) approves. The checks report is over visible dossiers.
    ("amendments.index", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("amendments.create", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "manager"}),
        data=lambda: {
            "amended_on": "2026-02-01",
            "description": "Meerwerk",
            "value_change": "-2.500,00",
            "legal_ground": "2.163b",
        },
    ),
    ("amendments.show", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("amendments.decide", "POST"): Case(
        own=dossier_scoped(302, {"owner"}), data=lambda: {"decision": "approve"}
    ),
    ("reports.checks", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("notices.follow", "POST"): Case(own=dossier_scoped(302, VIEWERS), data=dict),
    ("notices.unfollow", "POST"): Case(own=dossier_scoped(302, VIEWERS), data=dict),
    # Spend: figures for who sees the dossier; importing and mapping for the global beheerder
    # and the admin (the spend report's part without contract: tests/dossier/web/test_spend.py).
    ("spend.dossier", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("spend.report", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("spend.imports", "GET"): Case(own=global_only(200, SPEND_IMPORTERS)),
    ("spend.upload", "POST"): Case(
        own=global_only(302, SPEND_IMPORTERS),
        data=lambda: {"file": (io.BytesIO(SPEND_CSV), "uitgaven.csv"), "source": "finance"},
    ),
    ("spend.preview", "GET"): Case(own=global_only(200, SPEND_IMPORTERS), missing_keeps_403=True),
    ("spend.commit", "POST"): Case(
        own=global_only(302, SPEND_IMPORTERS), data=dict, missing_keeps_403=True
    ),
    ("spend.discard", "POST"): Case(
        own=global_only(302, SPEND_IMPORTERS), data=dict, missing_keeps_403=True
    ),
    ("spend.suppliers", "GET"): Case(own=global_only(200, SPEND_IMPORTERS)),
    ("spend.map_supplier", "POST"): Case(
        own=global_only(302, SPEND_IMPORTERS),
        data=lambda: {"supplier_name": "Onbekend BV", "party_id": "1"},
    ),
    # Records: the archivist reviews and approves destruction; archivist and administrator
    # hold dossiers; the auditor reads along.
    ("records.selection_list", "GET"): Case(own=global_only(200, RECORDS)),
    ("records.import_selection_list", "POST"): Case(
        own=global_only(302, HOLDERS), data=_selection_csv
    ),
    ("records.disposals", "GET"): Case(own=global_only(200, RECORDS)),
    ("records.propose", "POST"): Case(own=global_only(302, HOLDERS), data=dict),
    ("records.disposal", "GET"): Case(own=global_only(200, RECORDS), missing_keeps_403=True),
    ("records.exclude", "POST"): Case(
        own=global_only(302, {"archivist"}),
        data=lambda: {"reason": "nog nodig"},
        missing_keeps_403=True,
    ),
    ("records.approve", "POST"): Case(
        own=global_only(302, {"archivist"}), data=dict, missing_keeps_403=True
    ),
    ("records.cancel", "POST"): Case(
        own=global_only(302, {"archivist"}),
        data=lambda: {"reason": "verkeerd"},
        missing_keeps_403=True,
    ),
    ("records.holds", "GET"): Case(own=global_only(200, RECORDS)),
    ("records.place_holds", "POST"): Case(
        own=global_only(302, HOLDERS),
        data=lambda: {"reason": "rechtszaak", "reference_list": "2025-001 2025-002"},
    ),
    ("records.place_hold", "POST"): Case(
        own=dossier_scoped(302, HOLDERS), data=lambda: {"reason": "rechtszaak"}
    ),
    ("records.lift_hold", "POST"): Case(
        own=dossier_scoped(302, HOLDERS), data=lambda: {"reason": "afgerond"}
    ),
    ("records.set_category", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "archivist"}),
        data=lambda: {"category": "16.1.5", "reason": "een verzekering"},
    ),
    # A contract's life: readers read the term page; beheerder and manager record term events
    # and propose the end-of-contract decision; the owner (not the proposer: the manager here)
    # approves or rejects it; the beheerder sets lead times, relations and framework data.
    ("terms.index", "GET"): Case(own=dossier_scoped(200, VIEWERS)),
    ("terms.report", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("terms.exercise_option", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "manager"}),
        data=lambda: {"option-decided_on": "2026-01-10", "option-decided_by": "Directie"},
    ),
    ("terms.record_event", "POST"): Case(
        own=dossier_scoped(302, {"beheerder", "manager"}),
        data=lambda: {
            "event-kind": "extension",
            "event-decided_on": "2026-01-10",
            "event-new_end": "2028-06-30",
        },
    ),
    ("terms.update_leads", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}),
        data=lambda: {"option_lead_months": "6", "tender_lead_months": "15"},
    ),
    # The world holds a pending proposal, so a second one is refused by the rule (400) once
    # the roles allow it; the others never reach the rule.
    ("terms.propose", "POST"): Case(
        own=dossier_scoped(400, {"beheerder", "manager"}),
        data=lambda: {"propose-kind": "retender", "propose-reasons": "Markt is veranderd"},
    ),
    ("terms.approve", "POST"): Case(
        own=dossier_scoped(302, {"owner"}), data=lambda: {"settle-note": "akkoord"}
    ),
    ("terms.reject", "POST"): Case(
        own=dossier_scoped(302, {"owner"}), data=lambda: {"settle-note": "eerst marktverkenning"}
    ),
    ("terms.add_relation", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}),
        data=lambda: {"relation": "child:sla", "other": "2025-004"},
    ),
    ("terms.remove_relation", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}), data=dict, missing_keeps_403=True
    ),
    ("terms.update_framework", "POST"): Case(
        own=dossier_scoped(302, {"beheerder"}),
        data=lambda: {"is_framework": "y", "framework_max_value": "250.000,00"},
    ),
    # The intake queue: the global beheerder and the admin; assigning files as that user, so
    # the admin (no member of 2025-001) is sent back to the queue with a message.
    ("intake.index", "GET"): Case(own=global_only(200, INTAKE_USERS)),
    ("intake.assign", "POST"): Case(
        own=global_only(302, INTAKE_USERS),
        data_for=lambda ids: {f"a{ids['intake_id']}-dossier": "2025-001"},
        missing_keeps_403=True,
    ),
    # The MDTO transfer package: archivist and administrator. The matrix's application names
    # no archiefvormer, so the export is refused with a message (303 back to the dossier);
    # tests/dossier/test_transfer.py downloads a real package.
    ("transfer.package", "POST"): Case(own=dossier_scoped(303, HOLDERS), data=dict),
    ("intake.discard", "POST"): Case(
        own=global_only(302, INTAKE_USERS),
        data_for=lambda ids: {f"d{ids['intake_id']}-reason": "dubbel ontvangen"},
        missing_keeps_403=True,
    ),
    # Personal access tokens: one's own only; the own token is the reader's.
    ("tokens.index", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("tokens.create", "POST"): Case(
        own={r: 200 for r in LOGGED_IN},
        data=lambda: {"name": "script", "scope": "read", "days": "30"},
    ),
    ("tokens.revoke", "POST"): Case(
        own={r: 302 if r == "reader" else 404 for r in LOGGED_IN}, data=dict
    ),
    # The JSON API: every role with a read-write token of its own (anonymous: none; disabled:
    # one of a disabled user), the same rules as the pages above.
    ("api-docs.openapi_json", "GET"): Case(
        own={r: 200 for r in LOGGED_IN}, public=True, extra={"anonymous": 200, "disabled": 200}
    ),
    ("api_dossiers.list_dossiers", "GET"): api_case({r: 200 for r in LOGGED_IN}),
    ("api_dossiers.create_dossier", "POST"): api_case(
        global_only(201, {"admin", "beheerder"}),
        json=lambda: {"reference": "2025-777", "title": "Schoonmaak kantoren"},
    ),
    ("api_dossiers.get_dossier", "GET"): api_case(dossier_scoped(200, VIEWERS)),
    ("api_dossiers.update_dossier", "PATCH"): api_case(
        dossier_scoped(200, {"beheerder"}), json=lambda: {"title": "Schoonmaak kantoren"}
    ),
    ("api_dossiers.list_members", "GET"): api_case(dossier_scoped(200, {"beheerder", "admin"})),
    ("api_documents.list_documents", "GET"): api_case(dossier_scoped(200, VIEWERS)),
    ("api_documents.file_document", "POST"): api_case(
        dossier_scoped(201, FILERS),
        data=lambda: {"file": _upload(), "kind": "correspondence"},
    ),
    ("api_documents.get_document", "GET"): api_case(dossier_scoped(200, VIEWERS)),
    ("api_documents.add_version", "POST"): api_case(
        dossier_scoped(201, FILERS), data=lambda: {"file": _upload("brief-v2.txt")}
    ),
    ("api_documents.get_version", "GET"): api_case(dossier_scoped(200, VIEWERS)),
    ("api_documents.download", "GET"): api_case(dossier_scoped(200, VIEWERS)),
    ("api_search.search", "GET"): api_case({r: 200 for r in LOGGED_IN}),
    ("api_reports.list_deadlines", "GET"): api_case({r: 200 for r in LOGGED_IN}),
    ("api_reports.get_report", "GET"): api_case({r: 200 for r in LOGGED_IN}),
    ("api_audit.list_events", "GET"): api_case(global_only(200, {"auditor"})),
    # Two-step verification: without a pending log-in the second step sends everyone back to
    # the log-in page; the own page sets up a factor for whoever opens it ("abcdef" is never a
    # code, so confirming and renewing refuse with 400); the reset is the administrator's.
    ("second_factor.challenge", "GET"): Case(
        own={r: 302 for r in LOGGED_IN}, public=True, extra={"anonymous": 302, "disabled": 302}
    ),
    ("second_factor.challenge_submit", "POST"): Case(
        own={r: 302 for r in LOGGED_IN},
        data=lambda: {"code": "123456"},
        public=True,
        extra={"anonymous": 302, "disabled": 302},
    ),
    ("second_factor.settings", "GET"): Case(own={r: 200 for r in LOGGED_IN}),
    ("second_factor.confirm", "POST"): Case(
        own={r: 400 for r in LOGGED_IN}, data=lambda: {"code": "abcdef"}
    ),
    ("second_factor.renew", "POST"): Case(
        own={r: 400 for r in LOGGED_IN}, data=lambda: {"renew-code": "abcdef"}
    ),
    ("second_factor.disable", "POST"): Case(
        own={r: 302 for r in LOGGED_IN},
        data=lambda: {"disable-password": PASSWORD, "disable-code": "abcdef"},
    ),
    ("second_factor.reset", "POST"): Case(
        own=global_only(302, {"admin"}), data=dict, missing_keeps_403=True
    ),
    # Woo requests: the Woo role handles them, auditors read along; a request's documents
    # only for who reads them (the handler reads 2025-001); changes check the role first.
    ("woo.index", "GET"): Case(own=global_only(200, WOO_READERS)),
    ("woo.create", "POST"): Case(
        own=global_only(302, WOO_HANDLERS),
        data=lambda: {"received_on": "2026-01-05", "requester": "Krant", "subject": "Alles"},
    ),
    ("woo.show", "GET"): Case(own=global_only(200, WOO_READERS), missing_keeps_403=True),
    ("woo.extend", "POST"): Case(
        own=global_only(302, WOO_HANDLERS),
        data=lambda: {"notice_on": "2026-01-20", "reason": "omvangrijk"},
        missing_keeps_403=True,
    ),
    ("woo.suspend", "POST"): Case(
        own=global_only(302, WOO_HANDLERS),
        data=lambda: {"days": "7", "reason": "zienswijze"},
        missing_keeps_403=True,
    ),
    ("woo.decision", "POST"): Case(
        own=global_only(302, WOO_HANDLERS),
        data=lambda: {"decision_text": "Besluit"},
        missing_keeps_403=True,
    ),
    ("woo.decide", "POST"): Case(
        own=global_only(302, WOO_HANDLERS), data=dict, missing_keeps_403=True
    ),
    ("woo.collect", "POST"): Case(
        own=global_only(302, WOO_HANDLERS),
        data_for=lambda ids: {"documents": str(ids["woo_document_id"])},
        missing_keeps_403=True,
    ),
    ("woo.item", "GET"): Case(own=global_only(200, WOO_READERS), missing_keeps_403=True),
    ("woo.assess", "POST"): Case(
        own=global_only(302, WOO_HANDLERS),
        data=lambda: {"assessment": "not_public", "grounds": "5.1.2e"},
        missing_keeps_403=True,
    ),
    ("woo.remove_item", "POST"): Case(
        own=global_only(302, WOO_HANDLERS), data=dict, missing_keeps_403=True
    ),
    ("woo.mark", "POST"): Case(
        own=global_only(302, WOO_HANDLERS),
        data=lambda: {"mode": "phrase", "phrase": "woont", "ground": "5.1.2e", "scope": "all"},
        missing_keeps_403=True,
    ),
    ("woo.unmark", "POST"): Case(
        own=global_only(302, WOO_HANDLERS), data=dict, missing_keeps_403=True
    ),
    ("woo.unmark_phrase", "POST"): Case(
        own=global_only(302, WOO_HANDLERS),
        data=lambda: {"phrase": "woont", "ground": "5.1.2e"},
        missing_keeps_403=True,
    ),
    ("woo.redact", "POST"): Case(
        own=global_only(302, WOO_HANDLERS), data=dict, missing_keeps_403=True
    ),
    ("woo.page_image", "GET"): Case(own=global_only(200, WOO_READERS), missing_keeps_403=True),
    ("woo.redacted", "GET"): Case(own=global_only(200, WOO_READERS), missing_keeps_403=True),
    ("woo.inventory", "GET"): Case(own=global_only(200, WOO_READERS), missing_keeps_403=True),
    ("woo.package", "GET"): Case(own=global_only(200, WOO_HANDLERS), missing_keeps_403=True),
}


def _user(email: str, role: GlobalRole | None = None, enabled: bool = True) -> User:
    user = User(
        email=email,
        name=email.split("@")[0],
        password_hash=_PASSWORD_HASH,
        global_role=role,
        is_enabled=enabled,
    )
    db.session.add(user)
    return user


def _dossier(beheerder: User, reference: str) -> Dossier:
    return dossiers.create_dossier(
        beheerder,
        {
            "reference": reference,
            "title": f"Contract {reference}",
            "status": "active",
            "end_on": date.fromisoformat(END_ON[reference]),
            "option_count": 1,
            "option_months": 12,
        },
    )


def _document(actor: User, dossier: Dossier) -> int:
    with documents.receive(io.BytesIO(b"brief\n"), "brief.txt") as upload:
        document = documents.file_document(actor, dossier, upload, kind=DocumentKind.CORRESPONDENCE)
    return document.id


def _management(actor: User, dossier: Dossier) -> dict[str, Any]:
    """An action and a monthly obligation (due on 31 January 2026) in `dossier`."""
    action = actions.create_action(actor, dossier, {"agreement": "Overleg plannen"})
    obligation = obligations.create_obligation(
        actor,
        dossier,
        {
            "party": "supplier",
            "title": "Maandrapportage",
            "recurrence": "monthly",
            "first_due_on": date(2026, 1, 31),
            "until_on": None,
            "owner_id": None,
        },
    )
    amendment = amendments.propose(
        actor,
        dossier,
        {
            "amended_on": date(2026, 1, 10),
            "description": "Meerwerk",
            "value_change": Decimal("1000"),
            "legal_ground": "2.163b",
        },
    )
    return {
        "action_id": action.id,
        "obligation_id": obligation.id,
        "obligation_due": "2026-01-31",
        "amendment_id": amendment.id,
    }


def _proposal_ids(actor: User, dossier: Dossier) -> dict[str, int]:
    """A contract with two clauses (written straight to the table: segmenting through the
    indexing pipeline costs this world a third of a second); the second one dismissed."""
    with documents.receive(io.BytesIO(b"overeenkomst\n"), "overeenkomst.txt") as upload:
        document = documents.file_document(actor, dossier, upload, kind=DocumentKind.CONTRACT)
    version = document.current_version
    texts = ("Opdrachtnemer levert maandelijks een rapportage.", "Opdrachtnemer verzekert zich.")
    clauses = [
        Clause(version_id=version.id, number=str(n), text=text, position=n)
        for n, text in enumerate(texts, start=1)
    ]
    db.session.add_all(clauses)
    db.session.flush()
    dismissal = obligation_proposals.dismiss(actor, dossier, clauses[1], "geen verplichting")
    return {"clause_id": clauses[0].id, "dismissal_id": dismissal.id}


def _kpi(actor: User, dossier: Dossier) -> int:
    values = {"name": "Beschikbaarheid", "norm": Decimal("99.5"), "direction": "higher"}
    return performance.create_kpi(actor, dossier, {**values, "period": "month"}).id


def _disposal_list(dossier: Dossier) -> DisposalList:
    """A destruction list proposed by the periodic run, holding the own dossier."""
    records.ensure_shipped_list()
    listing = DisposalList(as_of=date(2026, 1, 1))
    listing.items.append(
        DisposalItem(
            dossier_id=dossier.id,
            reference=dossier.reference,
            title=dossier.title,
            category_code="16.1",
            disposal_on=date(2025, 12, 31),
        )
    )
    db.session.add(listing)
    db.session.flush()
    return listing


def _woo(people: dict[str, User], own: Dossier) -> dict[str, Any]:
    """A Woo request of the handler with one PDF of 2025-001, redacted and ready to publish,
    and a second document of 2025-001 to collect."""
    pdf = pymupdf.open()
    pdf.new_page().insert_text((72, 72), "Jan Jansen woont aan de Dorpsstraat.")
    with documents.receive(io.BytesIO(pdf.tobytes()), "brief.pdf") as upload:
        letter = documents.file_document(
            people["beheerder"], own, upload, kind=DocumentKind.CORRESPONDENCE
        )
    handler = people["woo"]
    found = woo.create_request(handler, date(2026, 1, 5), "Krant", "Alles", date(2026, 1, 5))
    (item,) = woo.collect(handler, found, [letter.id])
    woo.assess(handler, item, Assessment.PARTLY_PUBLIC, [], "")
    woo_marks.mark_phrase(handler, item, "Jan Jansen", "5.1.2e")
    woo_marks.make_redacted(handler, item)
    woo.set_decision_text(handler, found, "Besluit: deels openbaar.")
    return {
        "request_id": found.id,
        "entry_id": item.id,
        "passage_id": item.passages[0].id,
        "page": 1,
        "woo_document_id": _document(people["beheerder"], own),
    }


def build_world() -> dict[str, Any]:
    """Two dossiers: 2025-001 where each role holds its role, 2025-002 where none does. The
    auditor is beheerder of 2025-001 as well (and changes nothing there all the same); both
    dossiers end on a fixed date, so each has an end-of-term deadline."""
    people = {
        "plain": _user("plain@example.org"),
        "reader": _user("reader@example.org"),
        "owner": _user("owner@example.org"),
        "manager": _user("manager@example.org"),
        "beheerder": _user("beheerder@example.org", GlobalRole.BEHEERDER),
        "admin": _user("root@example.org", GlobalRole.ADMIN),
        "auditor": _user("auditor@example.org", GlobalRole.AUDITOR),
        "portfolio": _user("portfolio@example.org", GlobalRole.PORTFOLIO),
        "archivist": _user("archivist@example.org", GlobalRole.ARCHIVIST),
        "woo": _user("woo@example.org", GlobalRole.WOO),
        "disabled": _user("gone@example.org", enabled=False),
        "other": _user("other@example.org", GlobalRole.BEHEERDER),
    }
    db.session.flush()
    own = _dossier(people["beheerder"], "2025-001")
    for role in ("reader", "owner", "manager"):
        memberships.set_role(None, own, people[role], MemberRole(role))
    memberships.set_role(None, own, people["woo"], MemberRole.READER)
    memberships.set_role(None, own, people["disabled"], MemberRole.BEHEERDER)
    memberships.set_role(None, own, people["auditor"], MemberRole.BEHEERDER)
    forbidden = _dossier(people["other"], "2025-002")
    plans.create_plan(people["beheerder"], own)
    plans.create_plan(people["other"], forbidden)
    own_contact = contacts.add_contact(people["beheerder"], own, {"name": "Els Eigen"})
    own_mandate = contacts.add_mandate(people["beheerder"], own_contact, "give_notice")
    other_contact = contacts.add_contact(people["other"], forbidden, {"name": "Vera Vreemd"})
    other_mandate = contacts.add_mandate(people["other"], other_contact, "give_notice")
    notice = notices.send_notice(people["beheerder"], own, "Nieuwe contactpersoon")
    revoked = calendar_feed.create_token(people["plain"])
    calendar_feed.revoke_tokens(people["plain"])
    group = groups.create_group(None, "ICT", [people["other"]])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "uitgaven.csv"
        path.write_bytes(SPEND_CSV)
        pending = spend_import.preview(people["admin"], path, "finance")
    disposal = _disposal_list(own)
    webhook, _secret = webhooks.create_webhook(people["admin"], WEBHOOK)
    test_delivery = webhooks.send_test(people["admin"], webhook)
    # Related dossiers of the beheerder's, and a pending end-of-contract decision in each.
    _dossier(people["beheerder"], "2025-003")
    _dossier(people["beheerder"], "2025-004")
    _dossier(people["other"], "2025-005")
    own_relation = relations.add(people["beheerder"], own, "2025-003", "child:call_off")
    other_relation = relations.add(people["other"], forbidden, "2025-005", "child:successor")
    reason = "Looptijd loopt af"
    own_decision = decisions.propose(people["manager"], own, EndDecisionKind.RETENDER, reason)
    other_decision = decisions.propose(people["other"], forbidden, EndDecisionKind.END, reason)
    values = {
        "own": {
            "reference": own.reference,
            "document_id": _document(people["beheerder"], own),
            "number": 1,
            "membership_id": memberships.membership_of(own, people["reader"]).id,
            "kpi_id": _kpi(people["beheerder"], own),
            "user_id": people["other"].id,
            "group_id": group.id,
            "due": END_ON[own.reference],
            # The reader's feed; the tokens below find nothing (revoked, of a disabled user).
            "token": calendar_feed.create_token(people["reader"]),
            "gone_tokens": [revoked, calendar_feed.create_token(people["disabled"])],
            **_management(people["beheerder"], own),
            "contact_id": own_contact.id,
            "mandate_id": own_mandate.id,
            "notice_id": notice.id,
            "import_id": pending.spend_import.id,
            "list_id": disposal.id,
            "item_id": disposal.items[0].id,
            "decision_id": own_decision.id,
            "relation_id": own_relation.id,
            "webhook_id": webhook.id,
            "delivery_id": test_delivery.id,
            "intake_id": intake.take_file(
                people["admin"], io.BytesIO(b"Scan zonder dossier\n"), "scan.txt", None
            ).id,
            **_woo(people, own),
        },
        "forbidden": {
            "reference": forbidden.reference,
            "document_id": _document(people["other"], forbidden),
            "number": 1,
            "membership_id": memberships.membership_of(forbidden, people["other"]).id,
            "kpi_id": _kpi(people["other"], forbidden),
            "due": END_ON[forbidden.reference],
            **_management(people["other"], forbidden),
            "contact_id": other_contact.id,
            "mandate_id": other_mandate.id,
            "decision_id": other_decision.id,
            "relation_id": other_relation.id,
        },
    }
    values["own"].update(_proposal_ids(people["beheerder"], own))
    values["forbidden"].update(_proposal_ids(people["other"], forbidden))
    api_tokens = {
        role: tokens.create_token(person, "matrix", TokenScope.READ_WRITE, 30)
        for role, person in people.items()
    }
    values["own"]["token_id"] = api_tokens["reader"].token.id
    db.session.commit()
    return {"people": people, "api_tokens": {r: t.secret for r, t in api_tokens.items()}, **values}


def _rules(app: Flask, endpoint: str) -> list[Any]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]


Variant = tuple[str, str, str, dict[str, Any]]


def _report_variants(endpoint: str, world: dict[str, Any]) -> list[Variant] | None:
    """Variants of the report endpoints whose arguments are not ids (call in a request
    context); None for the other endpoints."""
    own = world["own"]
    if endpoint == "register.export":
        urls = [url_for(endpoint, kind=kind, status="active") for kind in ("csv", "xlsx")]
        missing = url_for(endpoint, kind="pdf")
        return [*(("own", url, "", own) for url in urls), ("missing", missing, "kind", own)]
    if endpoint == "reports.export":
        urls = [
            url_for(endpoint, name=name, kind=kind)
            for name in reports.TABLE_NAMES
            for kind in ("csv", "xlsx")
            # Only the portfolio roles see it (tests/dossier/web/test_spend.py checks them).
            if name != "spend_without_contract"
        ]
        variants: list[Variant] = [("own", url, "", own) for url in urls]
        for name, kind in (("nothing", "csv"), ("deadlines", "pdf"), ("deadlines", "csv.csv")):
            variants.append(("missing", url_for(endpoint, name=name, kind=kind), "name", own))
        malformed = url_for(endpoint, name="dead lines!", kind="csv")
        return [*variants, ("malformed", malformed, "name", own)]
    if endpoint in ("reports.deadline", "reports.deadline_update"):
        variants = []
        for variant in ("own", "forbidden"):
            ids = world[variant]
            url = url_for(endpoint, reference=ids["reference"], kind="end", due=ids["due"])
            variants.append((variant, url, "", ids))
        wrong = {
            "missing": [("2099-999", "end", own["due"]), (own["reference"], "end", "2031-01-01")],
            "malformed": [
                ("bad ref!", "end", own["due"]),
                (own["reference"], "ending", own["due"]),
                (own["reference"], "end", "2026-02-30"),
                (own["reference"], "end", "morgen"),
            ],
        }
        for variant, triples in wrong.items():
            for reference, kind, due in triples:
                url = url_for(endpoint, reference=reference, kind=kind, due=due)
                variants.append((variant, url, "deadline", own))
        return variants
    if endpoint == "management.fulfil":
        variants = []
        for variant in ("own", "forbidden"):
            ids = world[variant]
            url = url_for(
                endpoint,
                reference=ids["reference"],
                obligation_id=ids["obligation_id"],
                due=ids["obligation_due"],
            )
            variants.append((variant, url, "", ids))
        oid, due = own["obligation_id"], own["obligation_due"]
        wrong = {
            "missing": [
                ("2099-999", oid, due, "deadline"),
                (own["reference"], MISSING_ID, due, "int"),
                (own["reference"], oid, "2026-01-30", "deadline"),
            ],
            "malformed": [
                ("bad ref!", oid, due, "deadline"),
                (own["reference"], oid, "morgen", "deadline"),
                (own["reference"], oid, "2026-02-30", "deadline"),
            ],
        }
        for variant, quads in wrong.items():
            for reference, obligation_id, day, leaf in quads:
                url = url_for(endpoint, reference=reference, obligation_id=obligation_id, due=day)
                variants.append((variant, url, leaf, own))
        return variants
    if endpoint == "performance.export":
        variants = []
        for variant in ("own", "forbidden"):
            ids = world[variant]
            for kind in ("csv", "xlsx"):
                url = url_for(endpoint, reference=ids["reference"], kind=kind)
                variants.append((variant, url, "", ids))
        missing = url_for(endpoint, reference="2099-999", kind="csv")
        wrong_kind = url_for(endpoint, reference=own["reference"], kind="pdf")
        malformed = url_for(endpoint, reference="bad ref!", kind="csv")
        return [
            *variants,
            ("missing", missing, "reference", own),
            ("missing", wrong_kind, "name", own),
            ("malformed", malformed, "reference", own),
        ]
    if endpoint == "api_reports.get_report":
        return [
            ("own", url_for(endpoint, name="deadlines"), "", own),
            ("missing", url_for(endpoint, name="nothing"), "name", own),
        ]
    if endpoint == "api_search.search":
        return [("own", url_for(endpoint, q="brief"), "", own)]
    if endpoint == "woo.inventory":
        urls = [url_for(endpoint, request_id=own["request_id"], fmt=f) for f in ("csv", "xlsx")]
        missing = url_for(endpoint, request_id=MISSING_ID, fmt="csv")
        malformed = url_for(endpoint, request_id=SENTINEL, fmt="csv").replace(
            str(SENTINEL), MALFORMED["int"]
        )
        return [
            *(("own", url, "", own) for url in urls),
            ("missing", missing, "int", own),
            ("malformed", malformed, "int", own),
        ]
    if endpoint == "reports.calendar_feed":
        tokens = ["A" * 43, "short", "not a token!", *own["gone_tokens"]]
        return [
            ("own", url_for(endpoint, token=own["token"]), "", own),
            *(("gone", url_for(endpoint, token=t), "token", own) for t in tokens),
        ]
    return None


def _variants(app: Flask, endpoint: str, world: dict[str, Any]) -> list[Variant]:
    """(variant, url, leaf kind, ids) for the endpoint: own, forbidden, missing, malformed."""
    with app.test_request_context():
        special = _report_variants(endpoint, world)
    if special is not None:
        return special
    (rule,) = _rules(app, endpoint)
    ids = ("reference", "document_id", "number", "membership_id", "action_id", "obligation_id")
    ids += (
        "kpi_id",
        "contact_id",
        "mandate_id",
        "notice_id",
        "import_id",
        "list_id",
        "item_id",
        "decision_id",
        "relation_id",
        "amendment_id",
        "intake_id",
        "clause_id",
        "dismissal_id",
        "webhook_id",
        "delivery_id",
        "token_id",
        "request_id",
        "entry_id",
        "passage_id",
        "page",
    )
    args = [a for a in ids if a in rule.arguments]
    args += [a for a in ("group_id", "user_id") if a in rule.arguments]
    with app.test_request_context():
        if endpoint == "static":
            return [("own", url_for("static", filename="css/app.css"), "", {})]
        if not args:
            return [("own", url_for(endpoint), "", world["own"])]
        own = {a: world["own"][a] for a in args}
        variants = [("own", url_for(endpoint, **own), "", world["own"])]
        if "reference" in args:
            forbidden = {a: world["forbidden"][a] for a in args}
            variants.append(("forbidden", url_for(endpoint, **forbidden), "", world["forbidden"]))
        leaf = args[-1]
        kind = "reference" if leaf == "reference" else "int"
        missing = {**own, leaf: "2099-999" if kind == "reference" else MISSING_ID}
        variants.append(("missing", url_for(endpoint, **missing), kind, world["own"]))
        if kind == "reference":
            malformed_url = url_for(endpoint, **{**own, leaf: MALFORMED["reference"]})
        else:
            sentinel_url = url_for(endpoint, **{**own, leaf: SENTINEL})
            malformed_url = sentinel_url.replace(str(SENTINEL), MALFORMED["int"])
        variants.append(("malformed", malformed_url, kind, world["own"]))
    return variants


def expected(case: Case, role: str, variant: str, leaf_kind: str) -> int:
    if variant == "malformed" and leaf_kind == "int":
        return 404  # no route matches: nothing is revealed, not even to whom
    if variant == "gone":
        return 404  # a public address whose secret does not (or no longer) open anything
    if role in ("anonymous", "disabled"):
        return case.extra.get(role, 302)
    own = case.own[role]
    if variant == "own":
        return own
    if variant == "forbidden":
        return own if role in SEES_ALL else 404
    if leaf_kind in ("reference", "name", "deadline"):
        return 404
    return 403 if case.missing_keeps_403 and own == 403 else 404


def _request(
    app: Flask,
    user: User | None,
    method: str,
    url: str,
    case: Case,
    ids: dict[str, Any],
    token: str | None = None,
) -> Any:
    if url.startswith("/api/v1/") and not url.endswith("/openapi.json"):
        return _api_request(app, method, url, case, token)
    client = app.test_client(user=user) if user is not None else app.test_client()
    if method == "GET":
        return client.get(url)
    data = case.data_for(ids) if case.data_for else case.data() if case.data else {}
    return client.post(url, data=data)


def _api_request(app: Flask, method: str, url: str, case: Case, token: str | None) -> Any:
    """An API call with the role's own token, and no session at all."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "PATCH":
        headers["If-Match"] = "*"
    body: dict[str, Any] = {"json": case.json()} if case.json else {}
    if case.data:
        body = {"data": case.data(), "content_type": "multipart/form-data"}
    return app.test_client().open(url, method=method, headers=headers, **body)


def _check(app: Flask, world: dict[str, Any], endpoint: str, method: str, role: str) -> list[str]:
    case = SPEC[(endpoint, method)]
    user = world["people"].get(role)
    wrong = []
    # The own object last: a successful change must not alter what the other variants meet.
    for variant, url, leaf_kind, ids in sorted(
        _variants(app, endpoint, world), key=lambda v: v[0] == "own"
    ):
        token = world["api_tokens"].get(role)
        response = _request(app, user, method, url, case, ids, token)
        want = expected(case, role, variant, leaf_kind)
        if response.status_code != want:
            wrong.append(f"{role} {method} {url} ({variant}): {response.status_code}, want {want}")
        elif (
            want == 302
            and role in ("anonymous", "disabled")
            and not case.public
            and "/login" not in response.headers["Location"]
        ):
            wrong.append(f"{role} {method} {url}: redirected elsewhere than the log-in")
        assert b"Traceback" not in response.get_data()
        response.close()  # downloads and static files hold an open file until closed
    return wrong


def test_every_route_has_a_matrix_entry(app: Flask) -> None:
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert sorted(routes - SPEC.keys()) == [], "routes without a row in the access matrix"
    assert sorted(SPEC.keys() - routes) == [], "matrix rows for routes that do not exist"
    for endpoint, _method in SPEC:
        assert len(_rules(app, endpoint)) == 1, f"{endpoint}: one rule per endpoint expected"


GETS = sorted(key for key in SPEC if key[1] == "GET")
POSTS = sorted(key for key in SPEC if key[1] != "GET")  # PATCH too


# The world of build_world, once per database and worker while this module's tests run: the
# rows (a copy of the SQLite file; PostgreSQL's tables copied into a schema of their own) and
# the instance's files (blobs). Building it took about half of each of these 2,700 tests, more
# than the checks themselves.
SNAPSHOT_SCHEMA = "matrix_world"


@pytest.fixture(scope="module")
def snapshots() -> Iterator[dict[str, dict[str, Any]]]:
    """The snapshots taken, by database; the PostgreSQL one is dropped when the module's tests
    are done, so that no other test (a backup's pg_dump) meets it."""
    taken: dict[str, dict[str, Any]] = {}
    yield taken
    if "postgresql" in taken:
        engine = sa.create_engine(taken["postgresql"]["url"])
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SNAPSHOT_SCHEMA} CASCADE")
        engine.dispose()


@pytest.fixture
def world(
    app: Flask, snapshots: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """build_world()'s world in this test's empty instance: built the first time, and every
    time (the first too) restored from the snapshot."""
    backend = db.engine.dialect.name
    if backend not in snapshots:
        folder = tmp_path_factory.mktemp(f"world-{backend}")
        snapshots[backend] = _take(app, build_world(), folder)
    return _restore(app, snapshots[backend])


def _take(app: Flask, world: dict[str, Any], folder: Path) -> dict[str, Any]:
    values = {key: value for key, value in world.items() if key != "people"}
    people = {role: user.id for role, user in world["people"].items()}
    sequences: list[tuple[str, int, bool]] = []
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SNAPSHOT_SCHEMA} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}")
            for table in Base.metadata.sorted_tables:
                conn.exec_driver_sql(
                    f'CREATE TABLE {SNAPSHOT_SCHEMA}."{table.name}" AS '
                    f'SELECT * FROM public."{table.name}"'
                )
            sequences = [
                tuple(row)
                for row in conn.exec_driver_sql(
                    "SELECT sequencename, last_value, last_value IS NOT NULL FROM pg_sequences "
                    "WHERE schemaname = 'public'"
                )
            ]
    db.session.remove()
    db.engine.dispose()  # SQLite: every change in the main file before it is copied
    shutil.copytree(app.config["INSTANCE_PATH"], folder / "instance", dirs_exist_ok=True)
    return {
        "url": app.config["SQLALCHEMY_DATABASE_URI"],
        "folder": folder / "instance",
        "values": json.dumps(values),
        "people": people,
        "sequences": sequences,
    }


def _restore(app: Flask, snapshot: dict[str, Any]) -> dict[str, Any]:
    db.session.remove()
    db.engine.dispose()
    instance = Path(app.config["INSTANCE_PATH"])
    shutil.copytree(snapshot["folder"], instance, dirs_exist_ok=True)
    if db.engine.dialect.name == "postgresql":
        empty_tables(app.config["SQLALCHEMY_DATABASE_URI"])
        with db.engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                conn.exec_driver_sql(
                    f'INSERT INTO public."{table.name}" '
                    f'SELECT * FROM {SNAPSHOT_SCHEMA}."{table.name}"'
                )
            for name, value, called in snapshot["sequences"]:
                if called:
                    conn.exec_driver_sql(f"SELECT setval('public.\"{name}\"', {int(value)})")
    people = {role: db.session.get(User, user_id) for role, user_id in snapshot["people"].items()}
    return {"people": people, **json.loads(snapshot["values"])}


@pytest.mark.parametrize(("endpoint", "method"), GETS, ids=[e for e, _ in GETS])
def test_get_matrix(app: Flask, world: dict[str, Any], endpoint: str, method: str) -> None:
    wrong = [line for role in ROLES for line in _check(app, world, endpoint, method, role)]
    assert wrong == []


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("endpoint", "method"), POSTS, ids=[e for e, _ in POSTS])
def test_post_matrix(
    app: Flask, world: dict[str, Any], endpoint: str, method: str, role: str
) -> None:
    assert _check(app, world, endpoint, method, role) == []
