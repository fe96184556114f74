"""The append-only audit trail and the outbox of pending index work."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, validates

from dossier.models.base import Base, created_at, intpk, sha256_hex, str32, utcnow


class AuditAction(enum.StrEnum):
    """Every action the audit trail records.

    A StrEnum, so stored values and comparisons with plain strings keep working. Adding one is
    one line here plus its label in dossier/web/labels.py (a test walks every member).
    """

    DOSSIER_CREATE = "dossier.create"
    DOSSIER_UPDATE = "dossier.update"
    MEMBERSHIP_GRANT = "membership.grant"
    MEMBERSHIP_CHANGE = "membership.change"
    MEMBERSHIP_REVOKE = "membership.revoke"
    DOCUMENT_CREATE = "document.create"
    DOCUMENT_UPDATE = "document.update"
    DOCUMENT_WITHDRAW = "document.withdraw"
    VERSION_CREATE = "version.create"
    VERSION_READ = "version.read"
    ATTACHMENT_REFUSED = "attachment.refused"
    DEADLINE_STATUS = "deadline.status"
    KPI_CREATE = "kpi.create"
    KPI_UPDATE = "kpi.update"
    KPI_MEASURE = "kpi.measure"
    USER_CREATE = "user.create"
    USER_ENABLE = "user.enable"
    USER_DISABLE = "user.disable"
    USER_PASSWORD_CHANGE = "user.password_change"
    USER_PASSWORD_RESET = "user.password_reset"
    USER_ROLE_CHANGE = "user.role_change"
    LOGIN_FAILED = "login.failed"
    LOGIN_LOCKED = "login.locked"
    LOGIN_REFUSED = "login.refused"  # single sign-on: a valid identity this installation refuses
    USER_UPDATE = "user.update"  # name or e-mail address taken over from the identity provider
    USER_SSO_LINK = "user.sso_link"  # a local account linked to an identity at the provider
    SECOND_FACTOR_ENABLE = "second_factor.enable"
    SECOND_FACTOR_DISABLE = "second_factor.disable"
    SECOND_FACTOR_RESET = "second_factor.reset"
    SECOND_FACTOR_FAILED = "second_factor.failed"
    RECOVERY_CODE_USED = "second_factor.recovery_used"
    RECOVERY_CODES_RENEW = "second_factor.recovery_renew"
    GROUP_CREATE = "group.create"
    GROUP_MEMBER_ADD = "group.member_add"
    GROUP_MEMBER_REMOVE = "group.member_remove"
    CALENDAR_CREATE = "calendar.create"
    CALENDAR_REVOKE = "calendar.revoke"
    STORAGE_MIGRATE = "storage.migrate"
    DATABASE_MIGRATE = "database.migrate"
    PLAN_CREATE = "plan.create"
    PLAN_ANSWER = "plan.answer"
    PLAN_DOCUMENT_LINK = "plan.document_link"
    PLAN_DOCUMENT_UNLINK = "plan.document_unlink"
    PLAN_REVIEW = "plan.review"
    ACTION_CREATE = "action.create"
    ACTION_UPDATE = "action.update"
    OBLIGATION_CREATE = "obligation.create"
    OBLIGATION_UPDATE = "obligation.update"
    OBLIGATION_FULFIL = "obligation.fulfil"
    PROPOSAL_DISMISS = "proposal.dismiss"
    PROPOSAL_RESTORE = "proposal.restore"
    CONTACT_CREATE = "contact.create"
    CONTACT_UPDATE = "contact.update"
    CONTACT_DELETE = "contact.delete"
    MANDATE_ADD = "mandate.add"
    MANDATE_REMOVE = "mandate.remove"
    SELECTION_LIST_IMPORT = "selection_list.import"
    RETENTION_CATEGORY_SET = "retention.category_set"
    DISPOSAL_PROPOSE = "disposal.propose"
    DISPOSAL_EXCLUDE = "disposal.exclude"
    DISPOSAL_APPROVE = "disposal.approve"
    DISPOSAL_CANCEL = "disposal.cancel"
    DISPOSAL_DESTROY = "disposal.destroy"
    HOLD_PLACE = "hold.place"
    HOLD_LIFT = "hold.lift"
    TRANSFER_EXPORT = "transfer.export"
    NOTICE_SEND = "notice.send"
    DOSSIER_FOLLOW = "dossier.follow"
    DOSSIER_UNFOLLOW = "dossier.unfollow"
    SPEND_IMPORT = "spend.import"
    SPEND_SUPPLIER_MAP = "spend.supplier_map"
    TERM_EVENT = "term.event"
    TERM_LEADS = "term.leads"
    DECISION_PROPOSE = "decision.propose"
    DECISION_APPROVE = "decision.approve"
    DECISION_REJECT = "decision.reject"
    RELATION_ADD = "relation.add"
    RELATION_REMOVE = "relation.remove"
    FRAMEWORK_UPDATE = "framework.update"
    AMENDMENT_PROPOSE = "amendment.propose"
    AMENDMENT_DECIDE = "amendment.decide"
    INTAKE_FILE = "intake.file"
    INTAKE_QUEUE = "intake.queue"
    INTAKE_REFUSE = "intake.refuse"
    INTAKE_ASSIGN = "intake.assign"
    INTAKE_DISCARD = "intake.discard"
    WEBHOOK_CREATE = "webhook.create"
    WEBHOOK_UPDATE = "webhook.update"
    WEBHOOK_DELETE = "webhook.delete"
    WEBHOOK_SECRET = "webhook.secret"
    WEBHOOK_REDELIVER = "webhook.redeliver"
    WEBHOOK_TEST = "webhook.test"
    API_TOKEN_CREATE = "api_token.create"
    API_TOKEN_REVOKE = "api_token.revoke"
    WOO_REQUEST_CREATE = "woo.request_create"
    WOO_REQUEST_EXTEND = "woo.request_extend"
    WOO_REQUEST_SUSPEND = "woo.request_suspend"
    WOO_REQUEST_UPDATE = "woo.request_update"
    WOO_REQUEST_DECIDE = "woo.request_decide"
    WOO_DOCUMENT_ADD = "woo.document_add"
    WOO_DOCUMENT_REMOVE = "woo.document_remove"
    WOO_ASSESS = "woo.assess"
    WOO_PASSAGE_ADD = "woo.passage_add"
    WOO_PASSAGE_REMOVE = "woo.passage_remove"
    WOO_REDACT = "woo.redact"
    WOO_EXPORT = "woo.export"


class OutboxTopic(enum.StrEnum):
    """The kinds of work the outbox holds; dossier/indexing.py has a handler for each."""

    VERSION_EXTRACT = "version.extract"  # extract text and clauses, then queue DOCUMENT_INDEX
    DOCUMENT_INDEX = "document.index"  # (re)write one document's units in the index
    DOCUMENT_REMOVE = "document.remove"  # take a withdrawn document out of the index
    DOSSIER_INDEX = "dossier.index"  # a dossier's indexed fields changed: its documents
    WEBHOOK_DELIVER = "webhook.deliver"  # send one webhook delivery (dossier/webhooks.py)


class AuditEvent(Base):
    """One thing that happened; each event's hash covers its content and the previous hash."""

    __tablename__ = "audit_event"

    id: Mapped[intpk]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    actor_label: Mapped[str] = mapped_column(sa.String(255))  # e-mail at the time, or "system"
    action: Mapped[str] = mapped_column(sa.String(64))  # an AuditAction value
    object_type: Mapped[str32]
    object_id: Mapped[int | None]
    dossier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dossier.id"), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    prev_hash: Mapped[sha256_hex] = mapped_column(unique=True)
    hash: Mapped[sha256_hex] = mapped_column(unique=True)


class OutboxItem(Base):
    """Index work written in the same transaction as the change it reflects."""

    __tablename__ = "outbox"

    id: Mapped[intpk]
    topic: Mapped[str32]  # an OutboxTopic value
    object_id: Mapped[int]
    created_at: Mapped[created_at]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    # A worker's claim (dossier.outbox): who holds the item and until when; after a failure the
    # item waits until `not_before` (back-off). An item whose claim ran out is free again.
    claimed_by: Mapped[str] = mapped_column(sa.String(128), default="")
    claimed_until: Mapped[datetime | None]
    not_before: Mapped[datetime | None]

    @validates("topic")
    def _known_topic(self, _key: str, topic: str) -> str:
        """Refuse a topic no worker handles: such work would wait in the outbox forever."""
        return OutboxTopic(topic).value
