"""Identities at an OpenID provider that log in as a Dossier user (single sign-on)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, intpk, str255
from dossier.models.user import User


class UserIdentity(Base):
    """The provider's `iss` and `sub` of one person: what an ID token is matched on, never
    the e-mail address, which the provider may hand to somebody else later."""

    __tablename__ = "user_identity"
    __table_args__ = (sa.UniqueConstraint("issuer", "subject"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str255]
    subject: Mapped[str255]
    created_at: Mapped[created_at]
    last_login_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
