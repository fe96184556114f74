"""Mail and files that arrive through the intake (an IMAP mailbox, a watched folder): what was
filed where, what waits in the queue for a beheerder, and what was discarded or refused."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk, sha256_hex, str255
from dossier.models.document import Document
from dossier.models.dossier import Dossier
from dossier.models.user import User


class IntakeSource(enum.StrEnum):
    MAIL = "mail"
    FOLDER = "folder"


class IntakeStatus(enum.StrEnum):
    FILED = "filed"  # filed into its dossier, by the intake or by a beheerder from the queue
    QUEUED = "queued"  # waits in the intake queue for a beheerder
    DISCARDED = "discarded"  # a beheerder took it out of the queue, with a reason
    REFUSED = "refused"  # the type checks refused it (the mail or file itself)


class IntakeItem(Base):
    """One mail or file the intake handled; a mail seen again (same Message-ID or same bytes)
    is recognised by it and never filed twice."""

    __tablename__ = "intake_item"

    id: Mapped[intpk]
    source: Mapped[IntakeSource] = enum_column(IntakeSource)
    status: Mapped[IntakeStatus] = enum_column(IntakeStatus)
    message_id: Mapped[str] = mapped_column(sa.String(255), default="", index=True)  # mail only
    content_sha256: Mapped[sha256_hex] = mapped_column(index=True)
    filename: Mapped[str255]  # the name it is filed under (a mail: from its subject, .eml)
    subject: Mapped[str] = mapped_column(sa.String(255), default="")
    sender: Mapped[str] = mapped_column(sa.String(255), default="")
    sent_at: Mapped[datetime | None]  # the mail's Date header
    # Why it was queued, refused or discarded, in the installation's language.
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    # The bytes, while it waits in the queue (emptied once it is filed or discarded).
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    dossier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dossier.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document.id"))
    created_at: Mapped[created_at]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]

    dossier: Mapped[Dossier | None] = relationship()
    document: Mapped[Document | None] = relationship()
    decided_by: Mapped[User | None] = relationship()
