"""The database models; import them from here."""

from dossier.models.audit import AuditAction, AuditEvent, OutboxItem, OutboxTopic
from dossier.models.base import Base, utcnow
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
from dossier.models.performance import Kpi, KpiDirection, KpiMeasurement, KpiPeriod, RagStatus
from dossier.models.report import (
    CalendarToken,
    DeadlineAction,
    DeadlineKind,
    DeadlineStatus,
)
from dossier.models.user import GlobalRole, Group, GroupMember, User, new_session_token

__all__ = [
    "REFERENCE_RE",
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
]
