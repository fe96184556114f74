"""Translatable display names for the domain's enumerations."""

from __future__ import annotations

from pathlib import Path

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from dossier import extraction_notes
from dossier.models import (
    ActionStatus,
    AmendmentStatus,
    AuditAction,
    Category,
    Confidentiality,
    ContactRole,
    DeadlineKind,
    DeadlineStatus,
    DeviationArea,
    Direction,
    DisposalItemState,
    DisposalStatus,
    Document,
    DocumentKind,
    DossierStatus,
    EndDecisionKind,
    EndDecisionStatus,
    ExtractionStatus,
    GlobalRole,
    IntakeSource,
    IntakeStatus,
    KpiDirection,
    KpiPeriod,
    LegalGround,
    MandateKind,
    MemberRole,
    NoticeKind,
    NoticeUnit,
    ObligationParty,
    PlanQuestion,
    Procedure,
    RagStatus,
    Recurrence,
    RelationKind,
    RetentionTrigger,
    ReviewOutcome,
    SpendAttribution,
    SpendImportStatus,
    SupplierKey,
    TermEventKind,
    Valuation,
)
from search.clause_types import find_type

STATUS = {
    DossierStatus.DRAFT: _l("Draft"),
    DossierStatus.ACTIVE: _l("Active"),
    DossierStatus.ENDED: _l("Ended"),
    DossierStatus.TERMINATED: _l("Terminated"),
    DossierStatus.ARCHIVED: _l("Archived"),
}
NOTICE_UNIT = {NoticeUnit.DAYS: _l("days"), NoticeUnit.MONTHS: _l("months")}
PROCEDURE = {
    Procedure.EU_OPEN: _l("European open"),
    Procedure.EU_RESTRICTED: _l("European restricted"),
    Procedure.EU_COMPETITIVE_DIALOGUE: _l("European competitive dialogue"),
    Procedure.EU_NEGOTIATED: _l("European negotiated"),
    Procedure.NATIONAL: _l("National"),
    Procedure.MULTIPLE_PRIVATE: _l("Multiple private"),
    Procedure.SINGLE_PRIVATE: _l("Single private"),
    Procedure.EXEMPT: _l("Exempt"),
}
CATEGORY = {
    Category.SUPPLIES: _l("Supplies"),
    Category.SERVICES: _l("Services"),
    Category.WORKS: _l("Works"),
    Category.SOCIAL_SERVICES: _l("Social and other specific services"),
}
CONFIDENTIALITY = {
    Confidentiality.NORMAL: _l("Normal"),
    Confidentiality.CONFIDENTIAL: _l("Confidential"),
}
DOCUMENT_KIND = {
    DocumentKind.CONTRACT: _l("Contract"),
    DocumentKind.ANNEX: _l("Annex"),
    DocumentKind.AMENDMENT: _l("Amendment"),
    DocumentKind.SLA: _l("Service level agreement"),
    DocumentKind.PROCESSING_AGREEMENT: _l("Processing agreement"),
    DocumentKind.CORRESPONDENCE: _l("Correspondence"),
    DocumentKind.MINUTES: _l("Minutes"),
    DocumentKind.REPORT: _l("Report"),
    DocumentKind.INVOICE: _l("Invoice"),
    DocumentKind.EXECUTION_PLAN: _l("Execution plan"),
    DocumentKind.OTHER: _l("Other"),
}
DIRECTION = {
    Direction.INCOMING: _l("Incoming"),
    Direction.OUTGOING: _l("Outgoing"),
    Direction.INTERNAL: _l("Internal"),
}
EXTRACTION_STATUS = {
    ExtractionStatus.PENDING: _l("Waiting for text extraction"),
    ExtractionStatus.OK: _l("Text extracted"),
    ExtractionStatus.PARTIAL: _l("Text partly extracted"),
    ExtractionStatus.NO_TEXT_LAYER: _l("No text layer (scan)"),
    ExtractionStatus.ENCRYPTED: _l("Encrypted"),
    ExtractionStatus.TIMED_OUT: _l("Extraction timed out"),
    ExtractionStatus.TOO_LARGE: _l("Too large to extract"),
    ExtractionStatus.UNREADABLE: _l("Unreadable"),
    ExtractionStatus.OCR_UNAVAILABLE: _l("Scan; OCR not available"),
}
MEMBER_ROLE = {
    MemberRole.BEHEERDER: _l("Contract administrator"),
    MemberRole.MANAGER: _l("Contract manager"),
    MemberRole.OWNER: _l("Contract owner"),
    MemberRole.READER: _l("Reader"),
}
DEADLINE_KIND = {
    DeadlineKind.END: _l("End of term"),
    DeadlineKind.NOTICE: _l("Notice deadline"),
    DeadlineKind.OPTION: _l("Option decision"),
    DeadlineKind.REVIEW: _l("Execution plan review"),
    DeadlineKind.TENDER: _l("Start of new tender"),
    DeadlineKind.DECISION: _l("End-of-contract decision needed"),
}
DEADLINE_STATUS = {
    DeadlineStatus.OPEN: _l("Open"),
    DeadlineStatus.ACTED_ON: _l("Acted on"),
    DeadlineStatus.MISSED: _l("Missed"),
    DeadlineStatus.ELAPSED: _l("Elapsed"),
    DeadlineStatus.BEFORE_REGISTRATION: _l("Before registration"),
}
ACTION_STATUS = {
    ActionStatus.OPEN: _l("Open"),
    ActionStatus.DONE: _l("Done"),
    ActionStatus.DROPPED: _l("Dropped"),
}
OBLIGATION_PARTY = {
    ObligationParty.CLIENT: _l("Client (we)"),
    ObligationParty.SUPPLIER: _l("Supplier"),
}
RECURRENCE = {
    Recurrence.ONCE: _l("Once"),
    Recurrence.MONTHLY: _l("Monthly"),
    Recurrence.QUARTERLY: _l("Quarterly"),
    Recurrence.YEARLY: _l("Yearly"),
}
# What an occurrence of an obligation is, as of today (dossier.obligations).
OCCURRENCE_STATUS = {
    "open": _l("Open"),
    "fulfilled": _l("Fulfilled"),
    "missed": _l("Missed"),
}
# The lists of deadlines also hold agreed actions and obligations (deadlines.Task).
TASK_KIND = {"action": _l("Agreed action"), "obligation": _l("Obligation")}
# The document requirements of the default configuration; others show their key.
REQUIREMENT = {
    "signed_contract": _l("Signed contract"),
    "execution_plan": _l("Execution plan"),
    "sla": _l("Service level agreement"),
    "processing_agreement": _l("Processing agreement"),
    "execution_plan_review": _l("Execution plan review (overdue)"),
}
GLOBAL_ROLE = {
    GlobalRole.ADMIN: _l("Administrator"),
    GlobalRole.AUDITOR: _l("Auditor"),
    GlobalRole.BEHEERDER: _l("Contract administrator (registers dossiers)"),
    GlobalRole.PORTFOLIO: _l("Contract management (reads every dossier, changes nothing)"),
    GlobalRole.ARCHIVIST: _l("Archivist (selection list, destruction, legal holds)"),
    GlobalRole.WOO: _l("Woo handler (public-access requests; reads only what memberships allow)"),
}
KPI_DIRECTION = {
    KpiDirection.HIGHER: _l("Higher is better"),
    KpiDirection.LOWER: _l("Lower is better"),
}
KPI_PERIOD = {
    KpiPeriod.MONTH: _l("Month"),
    KpiPeriod.QUARTER: _l("Quarter"),
    KpiPeriod.YEAR: _l("Year"),
}
RAG_STATUS = {
    RagStatus.GREEN: _l("Green (norm met)"),
    RagStatus.AMBER: _l("Amber (within tolerance)"),
    RagStatus.RED: _l("Red (norm not met)"),
    RagStatus.NONE: _l("Not measured"),
}
# Every member of AuditAction, by what happened (tests/dossier/web/test_audit_view.py walks it).
AUDIT_ACTION = {
    AuditAction.DOSSIER_CREATE: _l("Dossier registered"),
    AuditAction.DOSSIER_UPDATE: _l("Dossier details changed"),
    AuditAction.MEMBERSHIP_GRANT: _l("Member added"),
    AuditAction.MEMBERSHIP_CHANGE: _l("Member's role changed"),
    AuditAction.MEMBERSHIP_REVOKE: _l("Member removed"),
    AuditAction.DOCUMENT_CREATE: _l("Document filed"),
    AuditAction.DOCUMENT_UPDATE: _l("Document details changed"),
    AuditAction.DOCUMENT_WITHDRAW: _l("Document withdrawn"),
    AuditAction.VERSION_CREATE: _l("New version filed"),
    AuditAction.VERSION_READ: _l("Confidential document read"),
    AuditAction.ATTACHMENT_REFUSED: _l("E-mail attachment refused"),
    AuditAction.DEADLINE_STATUS: _l("Deadline status set"),
    AuditAction.KPI_CREATE: _l("KPI agreed"),
    AuditAction.KPI_UPDATE: _l("KPI changed"),
    AuditAction.KPI_MEASURE: _l("KPI measurement recorded"),
    AuditAction.USER_CREATE: _l("User created"),
    AuditAction.USER_ENABLE: _l("User enabled"),
    AuditAction.USER_DISABLE: _l("User disabled"),
    AuditAction.USER_PASSWORD_CHANGE: _l("Own password changed"),
    AuditAction.USER_PASSWORD_RESET: _l("Password reset by administrator"),
    AuditAction.USER_ROLE_CHANGE: _l("Global role changed"),
    AuditAction.LOGIN_FAILED: _l("Failed log-in"),
    AuditAction.LOGIN_LOCKED: _l("Log-ins blocked after failed attempts"),
    AuditAction.LOGIN_REFUSED: _l("Single sign-on refused"),
    AuditAction.USER_UPDATE: _l("User details updated from the identity provider"),
    AuditAction.USER_SSO_LINK: _l("Account linked to single sign-on"),
    AuditAction.SECOND_FACTOR_ENABLE: _l("Two-step verification switched on"),
    AuditAction.SECOND_FACTOR_DISABLE: _l("Two-step verification switched off"),
    AuditAction.SECOND_FACTOR_RESET: _l("Two-step verification reset by administrator"),
    AuditAction.SECOND_FACTOR_FAILED: _l("Wrong verification code at log-in"),
    AuditAction.RECOVERY_CODE_USED: _l("Recovery code used to log in"),
    AuditAction.RECOVERY_CODES_RENEW: _l("New recovery codes made"),
    AuditAction.GROUP_CREATE: _l("Group created"),
    AuditAction.GROUP_MEMBER_ADD: _l("Group member added"),
    AuditAction.GROUP_MEMBER_REMOVE: _l("Group member removed"),
    AuditAction.CALENDAR_CREATE: _l("Calendar address created"),
    AuditAction.CALENDAR_REVOKE: _l("Calendar address revoked"),
    AuditAction.API_TOKEN_CREATE: _l("API token created"),
    AuditAction.API_TOKEN_REVOKE: _l("API token revoked"),
    AuditAction.STORAGE_MIGRATE: _l("Blobs copied to another store"),
    AuditAction.DATABASE_MIGRATE: _l("Database copied into this one"),
    AuditAction.PLAN_CREATE: _l("Execution plan started"),
    AuditAction.PLAN_ANSWER: _l("Execution plan answer changed"),
    AuditAction.PLAN_DOCUMENT_LINK: _l("Document linked to the execution plan"),
    AuditAction.PLAN_DOCUMENT_UNLINK: _l("Document unlinked from the execution plan"),
    AuditAction.PLAN_REVIEW: _l("Execution plan review recorded"),
    AuditAction.ACTION_CREATE: _l("Action recorded"),
    AuditAction.ACTION_UPDATE: _l("Action changed"),
    AuditAction.OBLIGATION_CREATE: _l("Obligation registered"),
    AuditAction.OBLIGATION_UPDATE: _l("Obligation changed"),
    AuditAction.OBLIGATION_FULFIL: _l("Obligation fulfilment recorded"),
    AuditAction.PROPOSAL_DISMISS: _l("Proposed obligation dismissed"),
    AuditAction.PROPOSAL_RESTORE: _l("Dismissed proposal restored"),
    AuditAction.CONTACT_CREATE: _l("Supplier contact added"),
    AuditAction.CONTACT_UPDATE: _l("Supplier contact changed"),
    AuditAction.CONTACT_DELETE: _l("Supplier contact removed"),
    AuditAction.MANDATE_ADD: _l("Mandate recorded"),
    AuditAction.MANDATE_REMOVE: _l("Mandate removed"),
    AuditAction.NOTICE_SEND: _l("Notice sent"),
    AuditAction.DOSSIER_FOLLOW: _l("Dossier followed"),
    AuditAction.DOSSIER_UNFOLLOW: _l("Dossier no longer followed"),
    AuditAction.AMENDMENT_PROPOSE: _l("Amendment proposed"),
    AuditAction.AMENDMENT_DECIDE: _l("Amendment approved or rejected"),
    AuditAction.TERM_EVENT: _l("Term history event recorded"),
    AuditAction.TERM_LEADS: _l("Lead times changed"),
    AuditAction.DECISION_PROPOSE: _l("End-of-contract decision proposed"),
    AuditAction.DECISION_APPROVE: _l("End-of-contract decision approved"),
    AuditAction.DECISION_REJECT: _l("End-of-contract decision rejected"),
    AuditAction.RELATION_ADD: _l("Related dossier linked"),
    AuditAction.RELATION_REMOVE: _l("Related dossier unlinked"),
    AuditAction.FRAMEWORK_UPDATE: _l("Framework agreement data changed"),
    AuditAction.SPEND_IMPORT: _l("Spend imported"),
    AuditAction.SPEND_SUPPLIER_MAP: _l("Supplier of the financial system mapped"),
    AuditAction.INTAKE_FILE: _l("Filed from the intake"),
    AuditAction.INTAKE_QUEUE: _l("Placed in the intake queue"),
    AuditAction.INTAKE_REFUSE: _l("Refused by the intake"),
    AuditAction.INTAKE_ASSIGN: _l("Intake item assigned to a dossier"),
    AuditAction.INTAKE_DISCARD: _l("Intake item discarded"),
    AuditAction.WEBHOOK_CREATE: _l("Webhook registered"),
    AuditAction.WEBHOOK_UPDATE: _l("Webhook changed"),
    AuditAction.WEBHOOK_DELETE: _l("Webhook removed"),
    AuditAction.WEBHOOK_SECRET: _l("Webhook given a new secret"),
    AuditAction.WEBHOOK_REDELIVER: _l("Webhook delivery sent again"),
    AuditAction.WEBHOOK_TEST: _l("Webhook test event sent"),
    AuditAction.WOO_REQUEST_CREATE: _l("Woo request registered"),
    AuditAction.WOO_REQUEST_EXTEND: _l("Woo decision postponed"),
    AuditAction.WOO_REQUEST_SUSPEND: _l("Woo period suspended"),
    AuditAction.WOO_REQUEST_UPDATE: _l("Woo decision letter changed"),
    AuditAction.WOO_REQUEST_DECIDE: _l("Woo request decided"),
    AuditAction.WOO_DOCUMENT_ADD: _l("Document collected for a Woo request"),
    AuditAction.WOO_DOCUMENT_REMOVE: _l("Document removed from a Woo request"),
    AuditAction.WOO_ASSESS: _l("Woo document assessed"),
    AuditAction.WOO_PASSAGE_ADD: _l("Passage marked for redaction"),
    AuditAction.WOO_PASSAGE_REMOVE: _l("Redaction mark removed"),
    AuditAction.WOO_REDACT: _l("Redacted PDF made"),
    AuditAction.WOO_EXPORT: _l("Woo publication package exported"),
    AuditAction.SELECTION_LIST_IMPORT: _l("Selection list imported"),
    AuditAction.RETENTION_CATEGORY_SET: _l("Selection-list category changed"),
    AuditAction.DISPOSAL_PROPOSE: _l("Destruction list proposed"),
    AuditAction.DISPOSAL_EXCLUDE: _l("Dossier excluded from a destruction list"),
    AuditAction.DISPOSAL_APPROVE: _l("Destruction list approved"),
    AuditAction.DISPOSAL_CANCEL: _l("Destruction cancelled"),
    AuditAction.DISPOSAL_DESTROY: _l("Dossier content destroyed"),
    AuditAction.HOLD_PLACE: _l("Legal hold placed"),
    AuditAction.HOLD_LIFT: _l("Legal hold lifted"),
    AuditAction.TRANSFER_EXPORT: _l("Transfer package (MDTO) exported"),
}
VALUATION = {Valuation.KEEP: _l("keep permanently"), Valuation.DESTROY: _l("destroy")}
RETENTION_TRIGGER = {
    RetentionTrigger.CONTRACT_END: _l("end of the contract"),
    RetentionTrigger.DOSSIER_CLOSED: _l("closing of the dossier"),
    RetentionTrigger.DOCUMENT_DATE: _l("document date"),
}
DISPOSAL_STATUS = {
    DisposalStatus.PROPOSED: _l("proposed"),
    DisposalStatus.APPROVED: _l("approved, in the grace period"),
    DisposalStatus.CANCELLED: _l("cancelled"),
    DisposalStatus.DESTROYED: _l("destroyed"),
}
DISPOSAL_ITEM_STATE = {
    DisposalItemState.PROPOSED: _l("proposed"),
    DisposalItemState.EXCLUDED: _l("excluded"),
    DisposalItemState.QUARANTINED: _l("awaiting destruction"),
    DisposalItemState.SKIPPED: _l("skipped (legal hold)"),
    DisposalItemState.RESTORED: _l("restored"),
    DisposalItemState.DESTROYED: _l("destroyed"),
}
# The seven questions of an execution plan, as the plan page asks them.
PLAN_QUESTION = {
    PlanQuestion.WHY: _l("Why are we doing this?"),
    PlanQuestion.SCOPE: _l("What exactly do we do, and what not?"),
    PlanQuestion.APPROACH: _l("How do we do it?"),
    PlanQuestion.RESPONSIBILITIES: _l("Who does what (client or supplier)?"),
    PlanQuestion.COST: _l("What does it cost?"),
    PlanQuestion.RISKS: _l("What are the risks?"),
    PlanQuestion.RESULT: _l(
        "What is the concrete, measurable result, when is it expected, and how is progress "
        "reported in between?"
    ),
}
REVIEW_OUTCOME = {
    ReviewOutcome.ON_TRACK: _l("On track"),
    ReviewOutcome.DEVIATIONS: _l("Deviations"),
    ReviewOutcome.CHANGE_PLAN: _l("Plan to be changed"),
}
DEVIATION_AREA = {
    DeviationArea.RESULT: _l("Result"),
    DeviationArea.APPROACH: _l("Approach"),
    DeviationArea.BUDGET: _l("Budget"),
}
# Why a running contract's execution plan needs attention (dashboard, `dossier report plans`).
PLAN_ATTENTION = {
    "no_plan": _l("No execution plan"),
    "review_overdue": _l("Review overdue"),
}
CONTACT_ROLE = {
    ContactRole.ACCOUNT_MANAGER: _l("Account manager"),
    ContactRole.CONTRACT_CONTACT: _l("Contract contact"),
    ContactRole.SERVICE_MANAGER: _l("Service manager"),
    ContactRole.OTHER: _l("Other contact"),
}
MANDATE_KIND = {
    MandateKind.SIGN_AMENDMENTS: _l("May sign amendments"),
    MandateKind.ACCEPT_DELIVERIES: _l("May accept deliveries"),
    MandateKind.APPROVE_INVOICES: _l("May approve invoices"),
    MandateKind.GIVE_NOTICE: _l("May give notice"),
    MandateKind.OTHER: _l("Other mandate"),
}
NOTICE_KIND = {
    NoticeKind.NEW_VERSION: _l("New version"),
    NoticeKind.DECISION: _l("Decision"),
    NoticeKind.CONTACT_CHANGE: _l("Changed contact"),
    NoticeKind.OTHER: _l("Notice"),
}
SPEND_ATTRIBUTION = {
    SpendAttribution.REFERENCE: _l("contract reference in the financial system"),
    SpendAttribution.ONLY_CONTRACT: _l("the supplier's only running contract"),
    SpendAttribution.NONE: _l("without contract"),
}
SPEND_IMPORT_STATUS = {
    SpendImportStatus.PENDING: _l("Preview, not committed"),
    SpendImportStatus.COMMITTED: _l("Committed"),
    SpendImportStatus.DISCARDED: _l("Discarded"),
}
INTAKE_STATUS = {
    IntakeStatus.FILED: _l("Filed"),
    IntakeStatus.QUEUED: _l("Waiting in the queue"),
    IntakeStatus.DISCARDED: _l("Discarded"),
    IntakeStatus.REFUSED: _l("Refused"),
}
INTAKE_SOURCE = {IntakeSource.MAIL: _l("E-mail"), IntakeSource.FOLDER: _l("Watched folder")}
SUPPLIER_KEY = {
    SupplierKey.CREDITOR: _l("creditor number"),
    SupplierKey.KVK: _l("KvK number"),
    SupplierKey.NAME: _l("name"),
}

TERM_EVENT_KIND = {
    TermEventKind.ORIGINAL: _l("Original term"),
    TermEventKind.OPTION: _l("Option exercised"),
    TermEventKind.RENEWAL: _l("Tacit renewal"),
    TermEventKind.EXTENSION: _l("Extension"),
    TermEventKind.TERMINATION: _l("Early termination"),
    TermEventKind.CORRECTION: _l("Correction of the contract data"),
}
END_DECISION_KIND = {
    EndDecisionKind.EXTEND: _l("Extend within the options"),
    EndDecisionKind.RETENDER: _l("Re-tender"),
    EndDecisionKind.END: _l("End the contract"),
    EndDecisionKind.INSOURCE: _l("Continue in-house"),
}
END_DECISION_STATUS = {
    EndDecisionStatus.PROPOSED: _l("Proposed, awaiting approval"),
    EndDecisionStatus.APPROVED: _l("Approved"),
    EndDecisionStatus.REJECTED: _l("Rejected"),
}
# How a relation reads from each side: (from the parent, from the child).
RELATION_KIND = {
    RelationKind.CALL_OFF: _l("Framework agreement and call-off"),
    RelationKind.SUCCESSOR: _l("Predecessor and successor"),
    RelationKind.PROCESSING: _l("Main contract and processing agreement"),
    RelationKind.SLA: _l("Main contract and service level agreement"),
}
RELATION_CHILD = {  # what the child is to the parent
    RelationKind.CALL_OFF: _l("Call-off contract"),
    RelationKind.SUCCESSOR: _l("Successor"),
    RelationKind.PROCESSING: _l("Processing agreement"),
    RelationKind.SLA: _l("Service level agreement"),
}
RELATION_PARENT = {  # what the parent is to the child
    RelationKind.CALL_OFF: _l("Framework agreement"),
    RelationKind.SUCCESSOR: _l("Predecessor"),
    RelationKind.PROCESSING: _l("Main contract of this processing agreement"),
    RelationKind.SLA: _l("Main contract of this service level agreement"),
}
# The Aanbestedingswet 2012 grounds for modifying a contract without a new procedure.
LEGAL_GROUND = {
    LegalGround.DE_MINIMIS: _l("Art. 2.163b: small change (below the threshold and 10 %/15 %)"),
    LegalGround.REVIEW_CLAUSE: _l("Art. 2.163c: review clause or option in the contract"),
    LegalGround.ADDITIONAL: _l("Art. 2.163d: additional work only this contractor can do"),
    LegalGround.UNFORESEEN: _l("Art. 2.163e: unforeseeable circumstances"),
    LegalGround.NEW_CONTRACTOR: _l("Art. 2.163f: new contractor replaces the original"),
    LegalGround.NOT_SUBSTANTIAL: _l("Art. 2.163g: not a substantial change"),
    LegalGround.OTHER: _l("Other ground (see the reason)"),
}
AMENDMENT_STATUS = {
    AmendmentStatus.PROPOSED: _l("Awaiting approval"),
    AmendmentStatus.APPROVED: _l("Approved"),
    AmendmentStatus.REJECTED: _l("Rejected"),
}
# The rules of dossier/checks.py (a test walks the registry).
CHECK_RULE = {
    "de_minimis": _l("Modifications past the de-minimis limit (art. 2.163b)"),
    "modification_limit": _l("Modification above half the initial value (art. 2.163d/e)"),
    "cumulative_threshold": _l("Value with renewals and options reaches the European threshold"),
    "no_end_date": _l("Contract without an end date"),
    "splitting": _l("Possible splitting: one supplier, one CPV group"),
    "framework_without_maximum": _l("Framework agreement without a maximum value"),
    "framework_exceeded": _l("Call-offs exceed the framework agreement's maximum"),
}
# The procedure a re-tender needs (deadlines.procedure_needed).
PROCEDURE_NEEDED = {
    "european": _l("European procedure"),
    "national": _l("National procedure"),
    "multiple_private": _l("Multiple private procedure"),
    "single_private": _l("Single private procedure"),
}
ALL = {
    "status": STATUS,
    "notice_unit": NOTICE_UNIT,
    "procedure": PROCEDURE,
    "category": CATEGORY,
    "confidentiality": CONFIDENTIALITY,
    "document_kind": DOCUMENT_KIND,
    "direction": DIRECTION,
    "extraction_status": EXTRACTION_STATUS,
    "member_role": MEMBER_ROLE,
    "deadline_kind": DEADLINE_KIND,
    "deadline_status": DEADLINE_STATUS,
    "requirement": REQUIREMENT,
    "global_role": GLOBAL_ROLE,
    "plan_question": PLAN_QUESTION,
    "review_outcome": REVIEW_OUTCOME,
    "deviation_area": DEVIATION_AREA,
    "plan_attention": PLAN_ATTENTION,
    "action_status": ACTION_STATUS,
    "obligation_party": OBLIGATION_PARTY,
    "recurrence": RECURRENCE,
    "occurrence_status": OCCURRENCE_STATUS,
    "task_kind": TASK_KIND,
    "kpi_direction": KPI_DIRECTION,
    "kpi_period": KPI_PERIOD,
    "rag_status": RAG_STATUS,
    "contact_role": CONTACT_ROLE,
    "mandate_kind": MANDATE_KIND,
    "notice_kind": NOTICE_KIND,
    "spend_attribution": SPEND_ATTRIBUTION,
    "spend_import_status": SPEND_IMPORT_STATUS,
    "supplier_key": SUPPLIER_KEY,
    "valuation": VALUATION,
    "retention_trigger": RETENTION_TRIGGER,
    "disposal_status": DISPOSAL_STATUS,
    "disposal_item_state": DISPOSAL_ITEM_STATE,
    "term_event_kind": TERM_EVENT_KIND,
    "end_decision_kind": END_DECISION_KIND,
    "end_decision_status": END_DECISION_STATUS,
    "relation_kind": RELATION_KIND,
    "relation_child": RELATION_CHILD,
    "relation_parent": RELATION_PARENT,
    "legal_ground": LEGAL_GROUND,
    "amendment_status": AMENDMENT_STATUS,
    "check_rule": CHECK_RULE,
    "procedure_needed": PROCEDURE_NEEDED,
    "intake_status": INTAKE_STATUS,
    "intake_source": INTAKE_SOURCE,
}

QUERY_REFUSAL = {
    "too_long": _l("the search text is longer than 256 characters."),
    "leading_wildcard": _l("a word may not start with * or ?; put the wildcard at the end."),
    "range": _l("ranges such as [a TO z] are not supported."),
    "syntax": _l("the brackets or quotes do not match."),
    "characters": _l("the characters ^, ~ and \\ cannot be used in a search."),
    "operator": _l(
        "OR and NOT are not needed: every word counts, results with all of them come first; "
        "+word must be in it, -word must not."
    ),
    "only_operators": _l(
        "the search holds only operators such as AND, OR and NOT; type the words to look for."
    ),
    "wildcard": _l("only a * at the end of a word can be used as a wildcard."),
    "short_prefix": _l("put at least 3 letters before a * wildcard."),
    "field": _l("searching in named fields is not supported; use the filters."),
    "empty": _l("type at least one word."),
    "too_many_wildcards": _l("use a * wildcard in at most 4 words."),
    "too_broad": _l(
        "a * wildcard matches too many words; type more letters before the * or use fewer."
    ),
    "too_slow": _l("this search takes too long; make it more specific."),
    "unknown_type": _l(
        "there is no clause type by that name; choose one under Filters, or type its name as "
        "the filter lists it, in quotes when it has several words "
        '(soort:aansprakelijkheid, soort:"toepasselijk recht", type:liability).'
    ),
    "type_missing": _l("name a clause type after soort: (for example soort:aansprakelijkheid)."),
    "type_only_exclusions": _l(
        "a clause type (soort:...) with only words to leave out is not supported; "
        "add a word to search for."
    ),
    "type_operator": _l("a clause type (soort:...) is a filter; it cannot take + or -."),
}
FACET = {
    "kind": _l("Kind of document"),
    "dossier": _l("Dossier"),
    "supplier": _l("Supplier"),
    "year": _l("Year"),
    "status": _l("Dossier status"),
    "clause_type": _l("Kind of clause"),
}


def facet_value(facet: str, value: str) -> object:
    """The display name of a facet value: translated for kinds and statuses."""
    try:
        if facet == "kind":
            return DOCUMENT_KIND[DocumentKind(value)]
        if facet == "status":
            return STATUS[DossierStatus(value)]
        if facet == "clause_type":
            return clause_type_label(value)
    except ValueError:
        pass
    return value


def document_kind_value(value: str) -> object:
    return facet_value("kind", value)


def clause_type_label(concept: str) -> str:
    """A clause type's name in the active language ("Aansprakelijkheid" / "Liability")."""
    found = find_type(concept)
    if found is None:
        return concept
    return found.label(getattr(get_locale(), "language", "nl"))


ALL.update(
    query_refusal=QUERY_REFUSAL,
    facet=FACET,
    facet_value=facet_value,
    document_kind_value=document_kind_value,
    clause_type=clause_type_label,
    extraction_note=extraction_notes.note_text,
    version_comment=extraction_notes.comment_text,
)


# Report cells: which label table translates the codes of a column.
WOO_STATUS = {"open": _l("open"), "decided": _l("decided")}
REPORT_COLUMN = {
    "woo_status": WOO_STATUS,
    "kind": {**DEADLINE_KIND, **TASK_KIND},
    "party": OBLIGATION_PARTY,
    "recurrence": RECURRENCE,
    "action_status": ACTION_STATUS,
    "status": DEADLINE_STATUS,
    "category": CATEGORY,
    "procedure": PROCEDURE,
    "extraction_status": EXTRACTION_STATUS,
    "attention": PLAN_ATTENTION,
    "kpi_direction": KPI_DIRECTION,
    "kpi_period": KPI_PERIOD,
    "rag_status": RAG_STATUS,
    "valuation": VALUATION,
    "trigger": RETENTION_TRIGGER,
    "rule": CHECK_RULE,
    "procedure_needed": PROCEDURE_NEEDED,
}
# The "key" column of a grouped money table holds codes of the table's dimension.
REPORT_KEY = {
    "value_category": CATEGORY,
    "value_procedure": PROCEDURE,
    "category": CATEGORY,
    "procedure": PROCEDURE,
}
REPORT_DIMENSION = {
    "supplier": _l("Supplier"),
    "category": _l("Category"),
    "procedure": _l("Procurement procedure"),
    "quarter": _l("Quarter"),
    "year": _l("Year"),
}


def check_details(rule: str, row: dict[str, object]) -> str:
    """What a check's figures say, in a sentence ("figures" of a checks report row)."""
    from flask_babel import format_decimal, gettext

    from dossier.i18n import format_money

    figures: dict = row.get("figures") or {}  # type: ignore[assignment]

    def money(value: object) -> str:
        return format_money(value) if value is not None else "—"  # type: ignore[arg-type]

    def number(value: object) -> str:
        return format_decimal(value) if value is not None else "—"

    amount, limit = money(row.get("amount")), money(row.get("limit"))
    if rule == "de_minimis":
        return gettext(
            "Net change of all modifications %(amount)s = %(percent)s %% of the initial value "
            "%(initial)s; the limit is %(limit_percent)s %% and below the European threshold "
            "%(threshold)s (here %(limit)s).",
            amount=amount,
            percent=number(row.get("percent")),
            initial=money(figures.get("initial")),
            limit_percent=number(figures.get("limit_percent")),
            threshold=money(figures.get("threshold")),
            limit=limit,
        )
    if rule == "modification_limit":
        return gettext(
            "This modification of %(amount)s is %(percent)s %% of the initial value %(initial)s; "
            "at most %(limit_percent)s %% (%(limit)s).",
            amount=amount,
            percent=number(row.get("percent")),
            initial=money(figures.get("initial")),
            limit_percent=number(figures.get("limit_percent")),
            limit=limit,
        )
    if rule == "cumulative_threshold":
        if not figures.get("period"):
            return gettext(
                "The initial term alone is worth %(amount)s; the European threshold is %(limit)s.",
                amount=amount,
                limit=limit,
            )
        return gettext(
            "With renewal or option %(num)s the cumulative value reaches %(amount)s; the "
            "European threshold is %(limit)s.",
            num=figures.get("period"),
            amount=amount,
            limit=limit,
        )
    if rule == "splitting":
        return gettext(
            "Contracts %(references)s (CPV group %(group)s, started within %(months)s months) "
            "are together worth %(amount)s; the European threshold is %(limit)s.",
            references=", ".join(figures.get("references") or []),
            group=figures.get("cpv_group"),
            months=figures.get("months"),
            amount=amount,
            limit=limit,
        )
    if rule == "no_end_date":
        return gettext("No end date is recorded; a public contract runs for a fixed term.")
    if rule == "framework_without_maximum":
        return gettext(
            "No maximum value is recorded; a framework agreement must state the maximum it "
            "may be called off for."
        )
    if rule == "framework_exceeded":
        return gettext(
            "The call-offs %(references)s are together worth %(amount)s; the framework's "
            "maximum is %(limit)s.",
            references=", ".join(figures.get("references") or []),
            amount=amount,
            limit=limit,
        )
    return ""


ALL["check_details"] = check_details


def document_choice(document: Document) -> str:
    """A document as a choice in a list: title, kind and file type, so the PDF and the Word
    file of one annex (same title) can be told apart ("Bijlage 8 (Bijlage, PDF)")."""
    version = document.current_version
    suffix = Path(version.original_filename).suffix.lstrip(".").upper() if version else ""
    kind = DOCUMENT_KIND[document.kind]
    return f"{document.title} ({kind}, {suffix})" if suffix else f"{document.title} ({kind})"


def report_value(table_name: str, key: str, value: object, row: dict[str, object]) -> object:
    """A report cell as a person reads it: codes become labels, booleans yes/no.

    Amounts, dates and numbers are returned as they are, for the page or file to format.
    """
    from flask_babel import gettext

    if value is None or value == "":
        return value
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if key == "missing" and isinstance(value, list | tuple):
        return ", ".join(str(REQUIREMENT.get(k, k)) for k in value)
    if table_name == "checks" and key == "figures":
        return check_details(str(row.get("rule")), row)
    mapping: dict | None = REPORT_COLUMN.get(key)
    if key == "key":
        mapping = REPORT_KEY.get(table_name) or REPORT_KEY.get(str(row.get("dimension")))
    if key == "dimension":
        mapping = REPORT_DIMENSION
    if mapping is not None and isinstance(value, str):
        return str(mapping.get(value, value))  # type: ignore[call-overload]
    if table_name == "extraction" and key == "detail" and isinstance(value, str):
        return extraction_notes.note_text(value)
    return value


def report_rows(table: object) -> list[list[object]]:
    """The rows of a `reports.Table` with every code replaced by its translated label."""
    keys = table.keys  # type: ignore[attr-defined]
    shown = []
    for row in table.rows:  # type: ignore[attr-defined]
        record = dict(zip(keys, row, strict=True))
        shown.append([report_value(table.name, k, v, record) for k, v in record.items()])  # type: ignore[attr-defined]
    return shown
