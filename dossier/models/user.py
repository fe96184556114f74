"""People who log in, and the groups (departments) they belong to."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk, str255


class GlobalRole(enum.StrEnum):
    ADMIN = "admin"  # functioneel beheerder: users, roles, settings
    AUDITOR = "auditor"  # reads everything including the audit trail, changes nothing
    BEHEERDER = "beheerder"  # contractbeheerder: registers new dossiers and becomes their beheerder
    # contractmanagement: reads every dossier's register data, reports and non-confidential
    # documents without a membership; changes nothing through this role
    PORTFOLIO = "portfolio"
    # keeps the selection list, approves destruction lists, places and lifts legal holds; reads
    # every dossier's register data and normal documents
    ARCHIVIST = "archivist"
    # Woo handler: registers Woo requests, collects, assesses and redacts their documents. The
    # role reads nothing by itself: only the documents the user's memberships (or another
    # global role) let them read can be collected.
    WOO = "woo"


def new_session_token() -> str:
    """A fresh random token; replacing it ends every session and remember-me cookie."""
    return secrets.token_urlsafe(24)


class User(UserMixin, Base):
    __tablename__ = "user"

    id: Mapped[intpk]
    email: Mapped[str255] = mapped_column(unique=True)  # stored lower-case
    name: Mapped[str255]
    password_hash: Mapped[str255]
    is_enabled: Mapped[bool] = mapped_column(default=True)
    global_role: Mapped[GlobalRole | None] = enum_column(GlobalRole, nullable=True)
    # Part of the login cookie; rotated on logout, disable and password change.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    # Set for generated or administrator-given one-time passwords; until the user chooses
    # their own password every page leads to the change-password page.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[created_at]
    last_login_at: Mapped[datetime | None]

    groups: Mapped[list[Group]] = relationship(
        secondary="group_member", back_populates="members", lazy="selectin"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_enabled

    @property
    def is_admin(self) -> bool:
        return self.global_role == GlobalRole.ADMIN

    @property
    def is_auditor(self) -> bool:
        return self.global_role == GlobalRole.AUDITOR

    @property
    def is_portfolio(self) -> bool:
        return self.global_role == GlobalRole.PORTFOLIO

    @property
    def is_archivist(self) -> bool:
        return self.global_role == GlobalRole.ARCHIVIST

    @property
    def is_woo_handler(self) -> bool:
        return self.global_role == GlobalRole.WOO

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Group(Base):
    """A department or team that can be granted a role on dossiers as a whole."""

    __tablename__ = "group"

    id: Mapped[intpk]
    name: Mapped[str255] = mapped_column(unique=True)
    created_at: Mapped[created_at]

    members: Mapped[list[User]] = relationship(
        secondary="group_member", back_populates="groups", lazy="selectin"
    )


class GroupMember(Base):
    __tablename__ = "group_member"

    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("group.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
