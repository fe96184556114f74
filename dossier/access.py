"""The access policy: every page, search, report and export asks this module, and only this one.

Predicates `can_*` answer yes or no; `visible_dossier_ids` is the one query that decides which
dossiers a user may know about; the enforcers turn a "no" into 404 (invisible) or 403 (visible
but not allowed), with the same body for a hidden object as for a missing one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, g
from werkzeug.exceptions import Forbidden

from dossier.extensions import db
from dossier.models import (
    REFERENCE_RE,
    Action,
    Amendment,
    AmendmentStatus,
    Clause,
    DestroyedVersion,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    EndDecision,
    GlobalRole,
    GroupMember,
    LegalHold,
    MemberRole,
    Membership,
    Notice,
    NoticeRecipient,
    Obligation,
    ObligationOccurrence,
    User,
)

# Roles that read confidential documents of their dossier.
CONFIDENTIAL_ROLES = frozenset({MemberRole.BEHEERDER, MemberRole.MANAGER, MemberRole.OWNER})
# What a manager may file; a beheerder files every kind.
MANAGER_KINDS = frozenset({DocumentKind.CORRESPONDENCE, DocumentKind.MINUTES})


# Global roles that know every dossier without a membership. Of them only the auditor reads
# confidential documents; the portfolio role (contractmanagement) reads register data, reports
# and normal documents, and changes nothing through that role (its memberships, if any, still
# give what they give).
# The archivist reads like the portfolio role, to review destruction lists and place holds.
SEES_ALL_ROLES = frozenset(
    {GlobalRole.ADMIN, GlobalRole.AUDITOR, GlobalRole.PORTFOLIO, GlobalRole.ARCHIVIST}
)


def _sees_all_dossiers(user: User) -> bool:
    return user.global_role in SEES_ALL_ROLES


def _membership_filter(user: User) -> sa.ColumnElement[bool]:
    group_ids = sa.select(GroupMember.group_id).where(GroupMember.user_id == user.id)
    return sa.or_(Membership.user_id == user.id, Membership.group_id.in_(group_ids))


def visible_dossier_ids(user: User) -> sa.Select[Any]:
    """The ids of every dossier `user` may know exists: the filter behind every list."""
    if _sees_all_dossiers(user):
        return sa.select(Dossier.id)
    return sa.select(Membership.dossier_id).where(_membership_filter(user))


def member_dossier_ids(user: User, roles: frozenset[MemberRole] | None = None) -> sa.Select[Any]:
    """The ids of the dossiers `user` holds a role on (one of `roles`), directly or by group."""
    query = sa.select(Membership.dossier_id).where(_membership_filter(user))
    if roles is not None:
        query = query.where(Membership.role.in_(list(roles)))
    return query


def visible_dossiers(user: User) -> sa.Select[Any]:
    """A query of the dossiers `user` may see, for pages, reports and exports to refine."""
    return sa.select(Dossier).where(Dossier.id.in_(visible_dossier_ids(user)))


def visible_documents(user: User) -> sa.Select[Any]:
    """A query of the documents `user` may read, confidential ones only for the right roles."""
    query = sa.select(Document).where(
        Document.dossier_id.in_(visible_dossier_ids(user)), Document.withdrawn_at.is_(None)
    )
    if user.is_auditor:
        return query
    confidential_ok = (
        sa.select(Membership.dossier_id)
        .where(_membership_filter(user))
        .where(Membership.role.in_(list(CONFIDENTIAL_ROLES)))
    )
    return query.where(
        sa.or_(Document.confidentiality == "normal", Document.dossier_id.in_(confidential_ok))
    )


def roles_in(user: User, dossier: Dossier) -> frozenset[MemberRole]:
    """The roles `user` holds on `dossier`, directly or through a group (cached per request)."""
    cache: dict[tuple[int, int], frozenset[MemberRole]] = g.setdefault("_dossier_roles", {})
    key = (user.id, dossier.id)
    if key not in cache:
        query = sa.select(Membership.role).where(
            Membership.dossier_id == dossier.id, _membership_filter(user)
        )
        cache[key] = frozenset(db.session.scalars(query))
    return cache[key]


def forget_roles() -> None:
    """Drop the per-request role cache after memberships or groups change."""
    g.pop("_dossier_roles", None)


def can_view_dossier(user: User, dossier: Dossier) -> bool:
    return _sees_all_dossiers(user) or bool(roles_in(user, dossier))


def can_create_dossier(user: User) -> bool:
    return user.global_role in (GlobalRole.ADMIN, GlobalRole.BEHEERDER)


def can_edit_dossier(user: User, dossier: Dossier) -> bool:
    return not user.is_auditor and MemberRole.BEHEERDER in roles_in(user, dossier)


def can_manage_members(user: User, dossier: Dossier) -> bool:
    if user.is_auditor:
        return False
    return user.is_admin or MemberRole.BEHEERDER in roles_in(user, dossier)


def can_file(user: User, dossier: Dossier, kind: DocumentKind | None = None) -> bool:
    """Whether `user` may file documents (of `kind`, when given) into `dossier`."""
    if user.is_auditor:  # an auditor changes nothing, whatever role a dossier gives them
        return False
    roles = roles_in(user, dossier)
    if MemberRole.BEHEERDER in roles:
        return True
    return MemberRole.MANAGER in roles and (kind is None or kind in MANAGER_KINDS)


def can_view_document(user: User, document: Document) -> bool:
    if document.withdrawn_at is not None and not _held_and_kept(user, document):
        return False
    if not can_view_dossier(user, document.dossier):
        return False
    if not document.is_confidential or user.is_auditor:
        return True
    return bool(roles_in(user, document.dossier) & CONFIDENTIAL_ROLES)


RECORDS_ROLES = frozenset({GlobalRole.ARCHIVIST, GlobalRole.ADMIN, GlobalRole.AUDITOR})


def _held_and_kept(user: User, document: Document) -> bool:
    """A withdrawn document of a dossier under legal hold stays retrievable for archivists,
    administrators and auditors, unless its content was destroyed before the hold."""
    if user.global_role not in RECORDS_ROLES:
        return False
    held = db.session.scalar(
        sa.select(LegalHold.id).where(
            LegalHold.dossier_id == document.dossier_id, LegalHold.lifted_at.is_(None)
        )
    )
    if held is None:
        return False
    destroyed = sa.select(DestroyedVersion.version_id).join(
        DocumentVersion, DocumentVersion.id == DestroyedVersion.version_id
    )
    return not db.session.scalar(
        sa.select(sa.exists(destroyed.where(DocumentVersion.document_id == document.id)))
    )


def can_view_records(user: User) -> bool:
    """Destruction lists, holds and the selection list: archivists, administrators, auditors."""
    return user.global_role in RECORDS_ROLES


def can_manage_holds(user: User) -> bool:
    """Placing and lifting legal holds: archivists and administrators."""
    return user.global_role in (GlobalRole.ARCHIVIST, GlobalRole.ADMIN)


def can_propose_disposal(user: User) -> bool:
    return user.global_role in (GlobalRole.ARCHIVIST, GlobalRole.ADMIN)


def can_export_transfer(user: User) -> bool:
    """Making an MDTO transfer package of a whole dossier (confidential documents included):
    archivists and administrators."""
    return user.global_role in (GlobalRole.ARCHIVIST, GlobalRole.ADMIN)


def can_review_disposal(user: User) -> bool:
    """Excluding, approving and cancelling destruction: the archivist only."""
    return user.is_archivist


def can_set_retention_category(user: User, dossier: Dossier) -> bool:
    """The dossier's beheerder (with a reason) or an archivist."""
    return user.is_archivist or can_edit_dossier(user, dossier)


def can_add_version(user: User, document: Document) -> bool:
    return (
        document.withdrawn_at is None
        and can_view_document(user, document)
        and can_file(user, document.dossier, document.kind)
    )


def can_edit_document(user: User, document: Document, kind: DocumentKind | None = None) -> bool:
    """Whether `user` may correct a document's details (and make it of `kind`, when given):
    who may file its kind into the dossier; a manager only for the kinds a manager files."""
    if not can_add_version(user, document):
        return False
    return kind is None or can_file(user, document.dossier, kind)


def can_set_confidentiality(user: User, dossier: Dossier) -> bool:
    """Marking a filed document confidential or normal: the dossier's beheerder only."""
    return not user.is_auditor and MemberRole.BEHEERDER in roles_in(user, dossier)


def can_withdraw(user: User, document: Document) -> bool:
    """Taking a filed document out of lists and search (its versions stay stored): the
    dossier's beheerder only."""
    return (
        document.withdrawn_at is None
        and can_view_document(user, document)
        and can_edit_dossier(user, document.dossier)
    )


# Roles that act on deadlines: they set a deadline's status and receive the daily digest.
DEADLINE_ROLES = frozenset({MemberRole.BEHEERDER, MemberRole.MANAGER})


def can_manage_deadlines(user: User, dossier: Dossier) -> bool:
    if user.is_auditor:  # an auditor changes nothing, whatever role a dossier gives them
        return False
    return bool(roles_in(user, dossier) & DEADLINE_ROLES)


def can_view_plan(user: User, dossier: Dossier) -> bool:
    """The execution plan and its reviews: whoever may see the dossier (linked documents
    stay filtered by `can_view_document`)."""
    return can_view_dossier(user, dossier)


def can_edit_plan(user: User, dossier: Dossier) -> bool:
    """Answering the plan's questions and linking its documents: who edits the dossier."""
    return can_edit_dossier(user, dossier)


def can_review_plan(user: User, dossier: Dossier) -> bool:
    """Recording a review of the plan: who acts on the dossier's deadlines (a review is one)."""
    return can_manage_deadlines(user, dossier)


# Agreements, actions and obligations (dossier/actions.py, dossier/obligations.py): whoever
# reads the dossier sees them; the roles that act on deadlines record and change them.


def can_manage_actions(user: User, dossier: Dossier) -> bool:
    """Recording agreements and actions and changing them: the beheerder and the manager."""
    return can_manage_deadlines(user, dossier)


def can_update_action(user: User, action: Action) -> bool:
    """Setting an action's status: who manages the dossier's actions, or the user it is
    assigned to (who may still read the dossier)."""
    if user.is_auditor or not can_view_dossier(user, action.dossier):
        return False
    return can_manage_actions(user, action.dossier) or action.assignee_id == user.id


def can_manage_obligations(user: User, dossier: Dossier) -> bool:
    """Registering obligations (and confirming proposals from clauses): the beheerder."""
    return can_edit_dossier(user, dossier)


def can_fulfil(user: User, obligation: Obligation) -> bool:
    """Recording that an occurrence was fulfilled: the beheerder, the manager, or the owner."""
    if user.is_auditor or not can_view_dossier(user, obligation.dossier):
        return False
    return can_manage_deadlines(user, obligation.dossier) or obligation.owner_id == user.id


def can_view_clause(user: User, clause: Clause) -> bool:
    """A clause is as readable as the document it is part of (confidentiality included)."""
    return can_view_document(user, clause.version.document)


# Roles that record measured performance (values, reports, penalties) on a dossier's KPIs.
PERFORMANCE_ROLES = frozenset({MemberRole.BEHEERDER, MemberRole.MANAGER})


def can_define_kpis(user: User, dossier: Dossier) -> bool:
    """Agreeing and correcting a dossier's KPIs: its beheerder, as for its other contract data."""
    return can_edit_dossier(user, dossier)


def can_record_performance(user: User, dossier: Dossier) -> bool:
    if user.is_auditor:  # an auditor changes nothing, whatever role a dossier gives them
        return False
    return bool(roles_in(user, dossier) & PERFORMANCE_ROLES)


def can_view_audit(user: User, dossier: Dossier | None = None) -> bool:
    """Auditors read the whole trail; a dossier's beheerder reads that dossier's events."""
    if user.is_auditor:
        return True
    return dossier is not None and MemberRole.BEHEERDER in roles_in(user, dossier)


def can_manage_contacts(user: User, dossier: Dossier) -> bool:
    """The supplier's contacts and their mandates: kept by the dossier's beheerder."""
    return can_edit_dossier(user, dossier)


def can_send_notice(user: User, dossier: Dossier) -> bool:
    """Notices about a dossier to its members: sent by its beheerder."""
    return can_edit_dossier(user, dossier)


def can_follow(user: User, dossier: Dossier) -> bool:
    """Anyone who sees a dossier may follow it; what reaches them stays filtered per event."""
    return can_view_dossier(user, dossier)


def dossier_notices(user: User, dossier: Dossier) -> sa.Select[Any]:
    """The notices of `dossier` that `user` may read (the caller checked they see it): every
    one for its beheerder, who keeps the record, and auditors; else those sent to them."""
    query = sa.select(Notice).where(Notice.dossier_id == dossier.id)
    if can_send_notice(user, dossier) or user.is_auditor:
        return query
    sent_to = sa.select(NoticeRecipient.notice_id).where(NoticeRecipient.user_id == user.id)
    return query.where(Notice.id.in_(sent_to))


def received_notices(user: User) -> sa.Select[Any]:
    """The notices sent to `user` in dossiers they still see: a recipient who lost access no
    longer finds them (in the list, the unread count or the digest)."""
    return (
        sa.select(Notice)
        .join(NoticeRecipient, NoticeRecipient.notice_id == Notice.id)
        .where(NoticeRecipient.user_id == user.id)
        .where(Notice.dossier_id.in_(visible_dossier_ids(user)))
    )


# Spend from the financial system (dossier/spend_import.py, dossier/spend.py). Importing it and
# mapping its suppliers to our parties is bookkeeping for the whole organisation: the global
# beheerder (contractbeheer) and the functioneel beheerder. A dossier's spend figures are read by
# whoever reads the dossier. Spend that counts against no contract belongs to no dossier, so only
# the roles that oversee the whole portfolio see it: admin, auditor, portfolio, and the global
# beheerder, who imports and maps it.
SPEND_IMPORT_ROLES = frozenset({GlobalRole.ADMIN, GlobalRole.BEHEERDER})
UNATTRIBUTED_SPEND_ROLES = frozenset(
    {GlobalRole.ADMIN, GlobalRole.AUDITOR, GlobalRole.PORTFOLIO, GlobalRole.BEHEERDER}
)


def can_import_spend(user: User) -> bool:
    """Importing spend files and mapping unknown suppliers to our parties."""
    return user.global_role in SPEND_IMPORT_ROLES


def can_view_spend(user: User, dossier: Dossier) -> bool:
    """A dossier's spend figures: whoever may see the dossier."""
    return can_view_dossier(user, dossier)


def can_view_unattributed_spend(user: User) -> bool:
    """Spend without any contract (by supplier): the roles that see the whole portfolio."""
    return user.global_role in UNATTRIBUTED_SPEND_ROLES


# A contract's life (dossier/terms.py, dossier/decisions.py, dossier/relations.py): whoever
# reads the dossier reads its term history, decisions and (visible) related dossiers.


def can_manage_term(user: User, dossier: Dossier) -> bool:
    """Recording an option exercised, a renewal, extension or early termination: the
    beheerder and the manager (they act on the option deadline the exercise closes)."""
    return can_manage_deadlines(user, dossier)


def can_set_leads(user: User, dossier: Dossier) -> bool:
    """The dossier's own option-decision and tender lead times: contract data, its beheerder."""
    return can_edit_dossier(user, dossier)


def can_propose_decision(user: User, dossier: Dossier) -> bool:
    """Proposing the end-of-contract decision: the beheerder and the manager."""
    return can_manage_deadlines(user, dossier)


def can_approve_decision(user: User, decision: EndDecision) -> bool:
    """Approving or rejecting it: the contract owner, and never the one who proposed it (four
    eyes), whatever other role they hold."""
    if user.is_auditor or decision.proposed_by_id == user.id:
        return False
    return MemberRole.OWNER in roles_in(user, decision.dossier)


def can_manage_relations(user: User, dossier: Dossier) -> bool:
    """Linking related dossiers and the framework data: the beheerder (of this dossier; the
    other one only has to be visible to them)."""
    return can_edit_dossier(user, dossier)


def can_see_framework_total(user: User, framework: Dossier) -> bool:
    """The sum of every call-off of a framework, also those `user` cannot open (as a figure
    and a count, never their titles): who answers for the framework's maximum (its beheerder,
    manager, owner) and the global roles that see every dossier anyway. Others see the sum
    of the call-offs they can see."""
    return _sees_all_dossiers(user) or bool(roles_in(user, framework) & CONFIDENTIAL_ROLES)


# Amendments (dossier/amendments.py): whoever reads the dossier sees its register and its
# current value; the beheerder and the manager propose, the owner approves (four eyes: never the
# person who proposed it). Checks (dossier/checks.py) are computed over visible dossiers only.
AMENDMENT_PROPOSERS = frozenset({MemberRole.BEHEERDER, MemberRole.MANAGER})


def can_propose_amendment(user: User, dossier: Dossier) -> bool:
    if user.is_auditor:  # an auditor changes nothing, whatever role a dossier gives them
        return False
    return bool(roles_in(user, dossier) & AMENDMENT_PROPOSERS)


def can_decide_amendment(user: User, amendment: Amendment) -> bool:
    """Approving or rejecting a proposed amendment: the dossier's owner, not its proposer."""
    if user.is_auditor or amendment.status != AmendmentStatus.PROPOSED:
        return False
    if amendment.proposed_by_id == user.id:
        return False
    return MemberRole.OWNER in roles_in(user, amendment.dossier)


# The intake queue (dossier/intake.py): mail and files the intake could not file itself. Sorting
# them into dossiers is contract administration for the whole organisation: the global beheerder
# (contractbeheer) and the functioneel beheerder. Assigning an item files it as that user, so
# only into dossiers where they may file (can_file); discarding needs a reason and is audited.
INTAKE_ROLES = frozenset({GlobalRole.ADMIN, GlobalRole.BEHEERDER})


def can_use_intake(user: User) -> bool:
    """Seeing the intake queue, assigning its items to dossiers and discarding them."""
    return user.global_role in INTAKE_ROLES


# Woo requests (dossier/woo.py): handled by the global Woo role, read by auditors. The role
# gives no reading of documents: a handler collects, sees and redacts only documents that
# visible_documents lets them read (memberships or another role), and the inventory and
# package of a request are exported only by someone who reads every document in it.
WOO_READERS = frozenset({GlobalRole.WOO, GlobalRole.AUDITOR})


def can_view_woo(user: User) -> bool:
    return user.global_role in WOO_READERS


def can_handle_woo(user: User) -> bool:
    return user.global_role == GlobalRole.WOO


def can_administer(user: User) -> bool:
    """Users, groups and global roles: the functioneel beheerder only."""
    return user.is_admin


def can_manage_webhooks(user: User) -> bool:
    """Registering webhooks and reading their delivery log: the functioneel beheerder only
    (an address outside the organisation hears of every dossier)."""
    return user.is_admin


# Every endpoint, and who may reach it at all. A request to an endpoint missing here is refused
# (deny by default); the object-level checks stay in the views, through the enforcers below.
PUBLIC = "public"  # reachable without logging in
LOGGED_IN = "logged_in"  # any enabled user; object rules apply inside
TOKEN = "token"  # the API: a personal access token's enabled user (dossier/api/auth.py)
ENDPOINTS: dict[str, str] = {
    "static": PUBLIC,
    "favicon": PUBLIC,
    "auth.login": PUBLIC,
    "auth.login_submit": PUBLIC,
    "auth.language": PUBLIC,
    # Single sign-on: starting it, the provider's answer, the break-glass password form.
    "sso.login": PUBLIC,
    "sso.callback": PUBLIC,
    "sso.break_glass": PUBLIC,
    "auth.logout": LOGGED_IN,
    "auth.password": LOGGED_IN,
    "auth.password_submit": LOGGED_IN,
    "register.index": LOGGED_IN,
    "register.export": LOGGED_IN,
    "dossiers.new": LOGGED_IN,
    "dossiers.create": LOGGED_IN,
    "dossiers.show": LOGGED_IN,
    "dossiers.summary": LOGGED_IN,
    "dossiers.summary_pdf": LOGGED_IN,
    "dossiers.edit": LOGGED_IN,
    "dossiers.update": LOGGED_IN,
    "documents.new": LOGGED_IN,
    "documents.create": LOGGED_IN,
    "documents.show": LOGGED_IN,
    "documents.new_version": LOGGED_IN,
    "documents.create_version": LOGGED_IN,
    "documents.edit": LOGGED_IN,
    "documents.update": LOGGED_IN,
    "documents.withdraw": LOGGED_IN,
    "documents.download": LOGGED_IN,
    "documents.download_selected": LOGGED_IN,  # all requested ids readable, or nothing
    "documents.view": LOGGED_IN,
    "documents.status": LOGGED_IN,
    "documents.compare_versions": LOGGED_IN,
    "search.index": LOGGED_IN,
    "reports.dashboard": LOGGED_IN,
    "reports.index": LOGGED_IN,
    "reports.deadlines": LOGGED_IN,
    "reports.tenders": LOGGED_IN,
    "reports.value": LOGGED_IN,
    "reports.completeness": LOGGED_IN,
    "reports.activity": LOGGED_IN,
    "reports.export": LOGGED_IN,
    "reports.deadline": LOGGED_IN,
    "reports.deadline_update": LOGGED_IN,
    "reports.calendar": LOGGED_IN,
    "reports.calendar_create": LOGGED_IN,
    "reports.calendar_revoke": LOGGED_IN,
    # Public, but it answers only to a valid, unrevoked secret token (else 404).
    "reports.calendar_feed": PUBLIC,
    # The execution plan: readers of the dossier read it; can_edit_plan and can_review_plan
    # inside for the rest.
    "plans.show": LOGGED_IN,
    "plans.edit": LOGGED_IN,
    "plans.update": LOGGED_IN,
    "plans.history": LOGGED_IN,
    "plans.link_document": LOGGED_IN,
    "plans.unlink_document": LOGGED_IN,
    "plans.new_review": LOGGED_IN,
    "plans.create_review": LOGGED_IN,
    # Members of a dossier: its beheerder and administrators (can_manage_members inside).
    "members.index": LOGGED_IN,
    "members.add": LOGGED_IN,
    "members.update": LOGGED_IN,
    "members.remove": LOGGED_IN,
    # Performance: KPIs of a visible dossier; can_define_kpis / can_record_performance inside.
    "performance.index": LOGGED_IN,
    "performance.create_kpi": LOGGED_IN,
    "performance.kpi": LOGGED_IN,
    "performance.update_kpi": LOGGED_IN,
    "performance.measure": LOGGED_IN,
    "performance.export": LOGGED_IN,
    "performance.scorecard": LOGGED_IN,  # over the dossiers the user may see
    # Administration: can_administer, checked for the whole blueprint.
    "admin.users": LOGGED_IN,
    "admin.create_user": LOGGED_IN,
    "admin.user": LOGGED_IN,
    "admin.set_enabled": LOGGED_IN,
    "admin.reset_password": LOGGED_IN,
    "admin.set_role": LOGGED_IN,
    "admin.groups_index": LOGGED_IN,
    "admin.create_group": LOGGED_IN,
    "admin.group": LOGGED_IN,
    "admin.add_group_member": LOGGED_IN,
    "admin.remove_group_member": LOGGED_IN,
    # The audit trail: can_view_audit (auditors everything, a beheerder their dossier).
    "audit.index": LOGGED_IN,
    "audit.export": LOGGED_IN,
    "audit.dossier": LOGGED_IN,
    "audit.dossier_export": LOGGED_IN,
    # Agreements, actions and obligations: readers of the dossier see them, changes are checked
    # with can_manage_actions, can_update_action, can_manage_obligations and can_fulfil inside.
    "management.actions": LOGGED_IN,
    "management.create_action": LOGGED_IN,
    "management.action": LOGGED_IN,
    "management.update_action": LOGGED_IN,
    "management.obligations": LOGGED_IN,
    "management.create_obligation": LOGGED_IN,
    "management.proposals": LOGGED_IN,
    "management.dismiss_proposal": LOGGED_IN,
    "management.restore_proposal": LOGGED_IN,
    "management.obligation": LOGGED_IN,
    "management.update_obligation": LOGGED_IN,
    "management.fulfil": LOGGED_IN,
    "management.mine": LOGGED_IN,
    "management.report": LOGGED_IN,
    # Supplier contacts: shown to who sees the dossier, kept by its beheerder
    # (can_manage_contacts inside).
    "contacts.index": LOGGED_IN,
    "contacts.new": LOGGED_IN,
    "contacts.create": LOGGED_IN,
    "contacts.edit": LOGGED_IN,
    "contacts.update": LOGGED_IN,
    "contacts.remove": LOGGED_IN,
    "contacts.add_mandate": LOGGED_IN,
    "contacts.remove_mandate": LOGGED_IN,
    # Notices: one's own list (received_notices), sending by the beheerder (can_send_notice),
    # following by anyone who sees the dossier (can_follow).
    "notices.index": LOGGED_IN,
    "notices.mark_read": LOGGED_IN,
    "notices.mark_all_read": LOGGED_IN,
    "notices.dossier": LOGGED_IN,
    "notices.new": LOGGED_IN,
    "notices.create": LOGGED_IN,
    "notices.follow": LOGGED_IN,
    "notices.unfollow": LOGGED_IN,
    # Spend: a dossier's figures for who sees it (can_view_spend); the report over the visible
    # dossiers, its part without contract by can_view_unattributed_spend; importing and mapping
    # suppliers by can_import_spend, checked inside.
    "spend.dossier": LOGGED_IN,
    "spend.report": LOGGED_IN,
    "spend.imports": LOGGED_IN,
    "spend.upload": LOGGED_IN,
    "spend.preview": LOGGED_IN,
    "spend.commit": LOGGED_IN,
    "spend.discard": LOGGED_IN,
    "spend.suppliers": LOGGED_IN,
    "spend.map_supplier": LOGGED_IN,
    # Records: can_view_records, can_manage_holds, can_propose_disposal, can_review_disposal
    # and can_set_retention_category inside.
    "records.selection_list": LOGGED_IN,
    "records.import_selection_list": LOGGED_IN,
    "records.disposals": LOGGED_IN,
    "records.propose": LOGGED_IN,
    "records.disposal": LOGGED_IN,
    "records.exclude": LOGGED_IN,
    "records.approve": LOGGED_IN,
    "records.cancel": LOGGED_IN,
    "records.holds": LOGGED_IN,
    "records.place_holds": LOGGED_IN,
    "records.place_hold": LOGGED_IN,
    "records.lift_hold": LOGGED_IN,
    "records.set_category": LOGGED_IN,
    # A contract's life: readers of the dossier read its term page; can_manage_term,
    # can_set_leads, can_propose_decision, can_approve_decision and can_manage_relations inside.
    "terms.index": LOGGED_IN,
    "terms.exercise_option": LOGGED_IN,
    "terms.record_event": LOGGED_IN,
    "terms.update_leads": LOGGED_IN,
    "terms.propose": LOGGED_IN,
    "terms.approve": LOGGED_IN,
    "terms.reject": LOGGED_IN,
    "terms.add_relation": LOGGED_IN,
    "terms.remove_relation": LOGGED_IN,
    "terms.update_framework": LOGGED_IN,
    "terms.report": LOGGED_IN,  # over the dossiers the user may see
    # Amendments: readers of the dossier see them; can_propose_amendment and
    # can_decide_amendment inside. The checks report is over the visible dossiers.
    "amendments.index": LOGGED_IN,
    "amendments.create": LOGGED_IN,
    "amendments.show": LOGGED_IN,
    "amendments.decide": LOGGED_IN,
    "reports.checks": LOGGED_IN,
    # The intake queue: can_use_intake for the pages; assigning also can_file on the dossier.
    "intake.index": LOGGED_IN,
    "intake.assign": LOGGED_IN,
    "intake.discard": LOGGED_IN,
    # The MDTO transfer package of a visible dossier: can_export_transfer inside.
    "transfer.package": LOGGED_IN,
    # Webhooks: can_manage_webhooks, checked for the whole blueprint.
    "webhooks.index": LOGGED_IN,
    "webhooks.create": LOGGED_IN,
    "webhooks.show": LOGGED_IN,
    "webhooks.update": LOGGED_IN,
    "webhooks.delete": LOGGED_IN,
    "webhooks.new_secret": LOGGED_IN,
    "webhooks.send_test": LOGGED_IN,
    "webhooks.delivery": LOGGED_IN,
    "webhooks.redeliver": LOGGED_IN,
    # The JSON API (dossier/api): a bearer token, never a session; the same checks inside as
    # on the pages above. Its OpenAPI document is public.
    "api-docs.openapi_json": PUBLIC,
    "api_dossiers.list_dossiers": TOKEN,
    "api_dossiers.create_dossier": TOKEN,
    "api_dossiers.get_dossier": TOKEN,
    "api_dossiers.update_dossier": TOKEN,
    "api_dossiers.list_members": TOKEN,
    "api_documents.list_documents": TOKEN,
    "api_documents.file_document": TOKEN,
    "api_documents.get_document": TOKEN,
    "api_documents.add_version": TOKEN,
    "api_documents.get_version": TOKEN,
    "api_documents.download": TOKEN,
    "api_search.search": TOKEN,
    "api_reports.list_deadlines": TOKEN,
    "api_reports.get_report": TOKEN,
    "api_audit.list_events": TOKEN,
    # Personal access tokens: one's own only (dossier/tokens.py token_of).
    "tokens.index": LOGGED_IN,
    "tokens.create": LOGGED_IN,
    "tokens.revoke": LOGGED_IN,
    # Two-step verification: the second step of a log-in answers to a pending log-in in the
    # session (a right password) and logs nobody in without a right code; the own page is the
    # user's own; the reset checks can_administer inside.
    "second_factor.challenge": PUBLIC,
    "second_factor.challenge_submit": PUBLIC,
    "second_factor.settings": LOGGED_IN,
    "second_factor.confirm": LOGGED_IN,
    "second_factor.renew": LOGGED_IN,
    "second_factor.disable": LOGGED_IN,
    "second_factor.reset": LOGGED_IN,
    # Woo requests: can_view_woo for the pages, can_handle_woo for every change; documents
    # through can_view_document (404), exports all or nothing.
    "woo.index": LOGGED_IN,
    "woo.create": LOGGED_IN,
    "woo.show": LOGGED_IN,
    "woo.extend": LOGGED_IN,
    "woo.suspend": LOGGED_IN,
    "woo.decision": LOGGED_IN,
    "woo.decide": LOGGED_IN,
    "woo.collect": LOGGED_IN,
    "woo.item": LOGGED_IN,
    "woo.assess": LOGGED_IN,
    "woo.remove_item": LOGGED_IN,
    "woo.mark": LOGGED_IN,
    "woo.unmark": LOGGED_IN,
    "woo.unmark_phrase": LOGGED_IN,
    "woo.redact": LOGGED_IN,
    "woo.page_image": LOGGED_IN,
    "woo.redacted": LOGGED_IN,
    "woo.inventory": LOGGED_IN,
    "woo.package": LOGGED_IN,
}


def endpoint_rule(endpoint: str | None) -> str | None:
    """The rule for an endpoint, or None when the policy does not name it (then: refuse)."""
    return ENDPOINTS.get(endpoint or "")


# Enforcers: look up with permission, in one place.


def get_dossier_or_404(user: User, reference: str) -> Dossier:
    """The dossier with `reference` if `user` may see it; 404 when missing or hidden."""
    if not REFERENCE_RE.match(reference):
        abort(404)  # malformed (NUL, spaces, ...) never reaches the database
    dossier = db.session.scalar(sa.select(Dossier).where(Dossier.reference == reference))
    if dossier is None or not can_view_dossier(user, dossier):
        abort(404)
    return dossier


# Why a 403 was given, when it is not the generic "visible but not allowed": the error page
# shows a message of its own for each (see templates/errors/error.html).
NEEDS_AUDITOR = "needs_auditor"
NEEDS_ADMIN = "needs_admin"
NEEDS_SPEND_IMPORT = "needs_spend_import"
NEEDS_INTAKE = "needs_intake"
NEEDS_DOSSIER_AUDIT = "needs_dossier_audit"


class Refused(Forbidden):
    """A 403 with the reason the error page explains."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def require(allowed: bool, reason: str | None = None) -> None:
    """Refuse with 403 an action on an object the user may see but not change.

    `reason` names the message of the error page, e.g. NEEDS_AUDITOR for a global page that
    only a role opens.
    """
    if not allowed:
        if reason is not None:
            raise Refused(reason)
        abort(403)


def get_document_or_404(user: User, dossier: Dossier, document_id: int) -> Document:
    """A document looked up through its dossier, never by its global id alone."""
    document = db.session.scalar(
        sa.select(Document).where(Document.id == document_id, Document.dossier_id == dossier.id)
    )
    if document is None or not can_view_document(user, document):
        abort(404)
    return document


def readable_documents(user: User, dossier: Dossier, ids: set[int]) -> list[Document]:
    """Those of `ids` that are documents of `dossier` that `user` may read, for bulk actions:
    the caller compares the count and acts only when every requested id is in it."""
    if not ids:
        return []
    query = visible_documents(user).where(Document.dossier_id == dossier.id, Document.id.in_(ids))
    return list(db.session.scalars(query.order_by(Document.id)))


def get_version_or_404(user: User, document: Document, number: int) -> DocumentVersion:
    """A version looked up through its document (already permission-checked by the caller)."""
    version = db.session.scalar(
        sa.select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.number == number
        )
    )
    if version is None:
        abort(404)
    return version


def get_action_or_404(user: User, dossier: Dossier, action_id: int) -> Action:
    """An action looked up through its (already visible) dossier."""
    action = db.session.scalar(
        sa.select(Action).where(Action.id == action_id, Action.dossier_id == dossier.id)
    )
    if action is None:
        abort(404)
    return action


def get_amendment_or_404(user: User, dossier: Dossier, amendment_id: int) -> Amendment:
    """An amendment looked up through its (already visible) dossier."""
    amendment = db.session.scalar(
        sa.select(Amendment).where(Amendment.id == amendment_id, Amendment.dossier_id == dossier.id)
    )
    if amendment is None:
        abort(404)
    return amendment


def get_obligation_or_404(user: User, dossier: Dossier, obligation_id: int) -> Obligation:
    """An obligation looked up through its (already visible) dossier."""
    obligation = db.session.scalar(
        sa.select(Obligation).where(
            Obligation.id == obligation_id, Obligation.dossier_id == dossier.id
        )
    )
    if obligation is None:
        abort(404)
    return obligation


def get_occurrence_or_404(obligation: Obligation, occurrence_id: int) -> ObligationOccurrence:
    """An occurrence looked up through its obligation."""
    occurrence = db.session.scalar(
        sa.select(ObligationOccurrence).where(
            ObligationOccurrence.id == occurrence_id,
            ObligationOccurrence.obligation_id == obligation.id,
        )
    )
    if occurrence is None:
        abort(404)
    return occurrence


def visible_clauses(user: User) -> sa.Select[Any]:
    """A query of the clauses of current versions of documents `user` may read."""
    return (
        sa.select(Clause)
        .join(DocumentVersion, Clause.version_id == DocumentVersion.id)
        .join(Document, DocumentVersion.document_id == Document.id)
        .where(
            DocumentVersion.number == Document.current_version_number,
            Document.id.in_(visible_documents(user).with_only_columns(Document.id)),
        )
    )
