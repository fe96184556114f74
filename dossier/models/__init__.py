"""The database models; import them from here."""

from dossier.models.amendment import (
    Amendment,
    AmendmentStatus,
    LegalGround,
    amendment_document,
)
from dossier.models.audit import AuditAction, AuditEvent, OutboxItem, OutboxTopic
from dossier.models.base import Base, utcnow
from dossier.models.contacts import Contact, ContactRole, Mandate, MandateKind
from dossier.models.document import (
    Clause,
    Direction,
    Document,
    DocumentKind,
    DocumentVersion,
    ExtractionStatus,
)
from dossier.models.dossier import (
    REFERENCE_RE,
    Category,
    Confidentiality,
    Dossier,
    DossierStatus,
    DossierTag,
    MemberRole,
    Membership,
    NoticeUnit,
    Party,
    PartyKind,
    Procedure,
)
from dossier.models.identity import UserIdentity
from dossier.models.intake import IntakeItem, IntakeSource, IntakeStatus
from dossier.models.management import (
    Action,
    ActionStatus,
    Obligation,
    ObligationOccurrence,
    ObligationParty,
    ProposalDismissal,
    Recurrence,
)
from dossier.models.notice import DossierFollow, Notice, NoticeKind, NoticeRecipient
from dossier.models.performance import Kpi, KpiDirection, KpiMeasurement, KpiPeriod, RagStatus
from dossier.models.plan import (
    DeviationArea,
    ExecutionPlan,
    PlanAnswer,
    PlanDeviation,
    PlanDocument,
    PlanQuestion,
    PlanReview,
    ReviewOutcome,
)
from dossier.models.records import (
    DestroyedVersion,
    DisposalItem,
    DisposalItemState,
    DisposalList,
    DisposalStatus,
    DocumentRetention,
    DossierRetention,
    LegalHold,
    RetentionTrigger,
    SelectionCategory,
    Valuation,
)
from dossier.models.report import (
    CalendarToken,
    DeadlineAction,
    DeadlineKind,
    DeadlineStatus,
)
from dossier.models.second_factor import RecoveryCode, SecondFactor
from dossier.models.spend import (
    SpendAttribution,
    SpendImport,
    SpendImportStatus,
    SpendLine,
    SupplierKey,
    SupplierMapping,
)
from dossier.models.term import (
    DossierRelation,
    EndDecision,
    EndDecisionKind,
    EndDecisionStatus,
    RelationKind,
    TermEvent,
    TermEventKind,
)
from dossier.models.token import ApiToken, TokenScope
from dossier.models.user import GlobalRole, Group, GroupMember, User, new_session_token
from dossier.models.webhook import (
    DeadlineSignal,
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
)
from dossier.models.woo import Assessment, WooDocument, WooPassage, WooRequest, WooStatus

__all__ = [
    "ReviewOutcome",
    "PlanReview",
    "PlanQuestion",
    "PlanDocument",
    "PlanDeviation",
    "PlanAnswer",
    "ExecutionPlan",
    "DeviationArea",
    "REFERENCE_RE",
    "Action",
    "ActionStatus",
    "Obligation",
    "ProposalDismissal",
    "ObligationOccurrence",
    "ObligationParty",
    "Recurrence",
    "AuditAction",
    "AuditEvent",
    "Base",
    "CalendarToken",
    "Category",
    "Clause",
    "Confidentiality",
    "DeadlineAction",
    "DeadlineKind",
    "DeadlineStatus",
    "Direction",
    "Document",
    "DocumentKind",
    "DocumentVersion",
    "Dossier",
    "DossierStatus",
    "DossierTag",
    "ExtractionStatus",
    "GlobalRole",
    "Group",
    "GroupMember",
    "Kpi",
    "KpiDirection",
    "KpiMeasurement",
    "KpiPeriod",
    "MemberRole",
    "Membership",
    "NoticeUnit",
    "OutboxItem",
    "OutboxTopic",
    "Party",
    "PartyKind",
    "Procedure",
    "RagStatus",
    "User",
    "new_session_token",
    "utcnow",
    # contacts and notices
    "Contact",
    "ContactRole",
    "DossierFollow",
    "Mandate",
    "MandateKind",
    "Notice",
    "NoticeKind",
    "NoticeRecipient",
    # spend
    "SpendAttribution",
    "SpendImport",
    "SpendImportStatus",
    "SpendLine",
    "SupplierKey",
    "SupplierMapping",
    # records: selection list, disposal, legal hold
    "DestroyedVersion",
    "DisposalItem",
    "DisposalItemState",
    "DisposalList",
    "DisposalStatus",
    "DocumentRetention",
    "DossierRetention",
    "LegalHold",
    "RetentionTrigger",
    "SelectionCategory",
    "Valuation",
    # a contract's life
    "DossierRelation",
    "EndDecision",
    "EndDecisionKind",
    "EndDecisionStatus",
    "RelationKind",
    "TermEvent",
    "TermEventKind",
    # amendments
    "Amendment",
    "AmendmentStatus",
    "LegalGround",
    "amendment_document",
    # intake
    "IntakeItem",
    "IntakeSource",
    "IntakeStatus",
    # webhooks
    "DeadlineSignal",
    "DeliveryStatus",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEvent",
    # personal access tokens of the API
    "ApiToken",
    "TokenScope",
    # single sign-on
    "UserIdentity",
    # second factor
    "RecoveryCode",
    "SecondFactor",
    # Woo requests
    "Assessment",
    "WooDocument",
    "WooPassage",
    "WooRequest",
    "WooStatus",
]
