"""Single sign-on with OpenID Connect: who the person of a verified ID token is here, and what
their groups at the identity provider give them.

The tokens themselves are checked in dossier/web/sso.py (Authlib, against the provider's keys);
these functions get claims that passed those checks. They flush; the view commits.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import generate_password_hash

from dossier import accounts, audit, groups
from dossier.extensions import db
from dossier.models import AuditAction, GlobalRole, Group, User, UserIdentity, utcnow
from dossier.text import clean_line

log = logging.getLogger(__name__)

# Of several global roles the provider's groups give, the first of these wins.
ROLE_PRECEDENCE = (
    GlobalRole.ADMIN,
    GlobalRole.AUDITOR,
    GlobalRole.ARCHIVIST,
    GlobalRole.PORTFOLIO,
    GlobalRole.BEHEERDER,
)
MAX_GROUPS = 1000  # more group names than this in one token are not read (nobody has that many)


class Refusal(Exception):
    """A verified identity that this installation does not let in; `reason` is recorded."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Grants:
    """What a person's provider groups give: Dossier group names and a global role."""

    groups: frozenset[str]
    role: GlobalRole | None

    @property
    def nothing(self) -> bool:
        return not self.groups and self.role is None


def check_settings(config: Mapping[str, Any]) -> None:
    """Refuse to start with a mapping that names no real role or a client that is half set."""
    for name in ("OIDC_ROLE_MAPPING", "OIDC_GROUP_MAPPING"):
        if not isinstance(config[name], dict):
            raise ValueError(f'{name} must be a JSON object: {{"provider group": ...}}')
    for group, role in _role_mapping(config).items():
        if role not in {r.value for r in GlobalRole}:
            raise ValueError(f"OIDC_ROLE_MAPPING: {group!r} maps to unknown global role {role!r}")
    for group, names in config["OIDC_GROUP_MAPPING"].items():
        if not all(isinstance(n, str) and n.strip() for n in _as_list(names)):
            raise ValueError(f"OIDC_GROUP_MAPPING: {group!r} must map to group names")
    if config["OIDC_ISSUER"] and not config["OIDC_CLIENT_ID"]:
        raise ValueError("OIDC_ISSUER is set without OIDC_CLIENT_ID")
    if config["OIDC_ISSUER"] and "openid" not in str(config["OIDC_SCOPES"]).split():
        raise ValueError("OIDC_SCOPES must hold 'openid'")


def enabled(config: Mapping[str, Any]) -> bool:
    return bool(config["OIDC_ISSUER"])


def local_login_allowed(config: Mapping[str, Any], email: str) -> bool:
    """Whether `email` may log in with a password: everyone, unless local accounts are off;
    then only the break-glass account."""
    if config["LOCAL_LOGIN"]:
        return True
    return bool(email) and email == accounts.normalised_email(config["BREAK_GLASS_ACCOUNT"] or "")


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _role_mapping(config: Mapping[str, Any]) -> dict[str, str]:
    return dict(config["OIDC_ROLE_MAPPING"])


def provider_groups(claims: Mapping[str, Any], claim: str) -> list[str]:
    """The group names in `claim` (a list, or one name); anything else counts as none."""
    value = claims.get(claim)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [g for g in value[:MAX_GROUPS] if isinstance(g, str) and 0 < len(g) <= 255]


def grants_for(config: Mapping[str, Any], names: Iterable[str]) -> Grants:
    """What the provider groups `names` give under the configured mappings."""
    names = set(names)
    mapped: set[str] = set()
    for group, targets in config["OIDC_GROUP_MAPPING"].items():
        if group in names:
            mapped |= {clean_line(t) for t in _as_list(targets)}
    roles = {GlobalRole(r) for g, r in _role_mapping(config).items() if g in names}
    role = next((r for r in ROLE_PRECEDENCE if r in roles), None)
    return Grants(frozenset(mapped), role)


def managed_groups(config: Mapping[str, Any]) -> set[str]:
    """The Dossier groups whose membership follows the provider (all that a mapping names)."""
    return {clean_line(t) for ts in config["OIDC_GROUP_MAPPING"].values() for t in _as_list(ts)}


def managed_roles(config: Mapping[str, Any]) -> set[GlobalRole]:
    return {GlobalRole(r) for r in _role_mapping(config).values()}


def sign_in(config: Mapping[str, Any], claims: Mapping[str, Any]) -> User:
    """The user a verified ID token names (created or linked at the first log-in), with their
    details and mapped groups and role brought up to date; Refusal when not let in."""
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    grants = grants_for(config, provider_groups(claims, config["OIDC_GROUPS_CLAIM"]))
    refuse_nothing = config["OIDC_REQUIRE_MAPPED_GROUP"] and grants.nothing
    identity = db.session.scalar(
        sa.select(UserIdentity).where(
            UserIdentity.issuer == issuer, UserIdentity.subject == subject
        )
    )
    if identity is None:
        if refuse_nothing:
            raise _no_access()
        identity = _link_or_create(config, issuer, subject, claims)
    user = identity.user
    if not user.is_enabled:
        raise Refusal("disabled", _("Your account in Dossier is disabled."))
    _update_details(user, claims)
    apply_grants(config, user, grants)
    if refuse_nothing:
        raise _no_access()  # after taking away what the provider no longer gives
    identity.last_login_at = user.last_login_at = utcnow()
    return user


def _no_access() -> Refusal:
    return Refusal(
        "no_access",
        _("Your groups at the identity provider give no access to Dossier. Ask the administrator."),
    )


def _link_or_create(
    config: Mapping[str, Any], issuer: str, subject: str, claims: Mapping[str, Any]
) -> UserIdentity:
    """A new identity: for the local account with the token's address when linking is allowed
    and the provider vouches for the address, else for a new user."""
    email = _email(claims)
    if email is None:
        raise Refusal("no_email", _("The identity provider did not give an e-mail address."))
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is not None:
        # The break-glass account works without the provider: nobody at the provider takes it.
        break_glass = accounts.normalised_email(config["BREAK_GLASS_ACCOUNT"] or "")
        linkable = config["OIDC_LINK_BY_EMAIL"] and claims.get("email_verified") is True
        if not linkable or user.email == break_glass:
            raise Refusal(
                "email_taken",
                _("An account with this e-mail address already exists. Ask the administrator."),
            )
        identity = _add_identity(user, issuer, subject)
        audit.record(
            None,
            AuditAction.USER_SSO_LINK,
            "user",
            user.id,
            after={"email": email, "issuer": issuer, "subject": subject},
        )
        return identity
    user = User(
        email=email,
        name=clean_line(str(claims.get("name") or "")) or email,
        # Nobody knows this password: the account logs in through the provider.
        password_hash=generate_password_hash(secrets.token_urlsafe(32)),
    )
    db.session.add(user)
    db.session.flush()
    identity = _add_identity(user, issuer, subject)
    audit.record(
        None,
        AuditAction.USER_CREATE,
        "user",
        user.id,
        after={"email": email, "role": None, "via": "oidc", "issuer": issuer, "subject": subject},
    )
    return identity


def _add_identity(user: User, issuer: str, subject: str) -> UserIdentity:
    identity = UserIdentity(user=user, issuer=issuer, subject=subject)
    db.session.add(identity)
    db.session.flush()
    return identity


def _email(claims: Mapping[str, Any]) -> str | None:
    email = accounts.normalised_email(str(claims.get("email") or ""))
    return email if "@" in email else None


def _update_details(user: User, claims: Mapping[str, Any]) -> None:
    """Take over a changed name and address from the provider (audited); an address another
    account holds stays where it is (logged), the person still logs in."""
    before = {"email": user.email, "name": user.name}
    name = clean_line(str(claims.get("name") or ""))
    if name:
        user.name = name
    email = _email(claims)
    if email and email != user.email:
        if db.session.scalar(sa.select(User.id).where(User.email == email)) is None:
            user.email = email
        else:
            log.warning(
                "oidc: user %s keeps %s: %s belongs to another account", user.id, user.email, email
            )
    after = {"email": user.email, "name": user.name}
    if after != before:
        db.session.flush()
        audit.record(None, AuditAction.USER_UPDATE, "user", user.id, before=before, after=after)


def apply_grants(config: Mapping[str, Any], user: User, grants: Grants) -> None:
    """Make the mapped groups and role follow `grants` (each change audited); groups and roles
    no mapping names stay as an administrator set them, and so does the break-glass account's
    role."""
    for name in sorted(managed_groups(config)):
        group = db.session.scalar(sa.select(Group).where(Group.name == name))
        if name in grants.groups:
            group = group or groups.create_group(None, name)
            groups.add_member(None, group, user)
        elif group is not None:
            groups.remove_member(None, group, user)
    if user.email == accounts.normalised_email(config["BREAK_GLASS_ACCOUNT"] or ""):
        return
    if grants.role is not None:
        accounts.set_global_role(None, user, grants.role)
    elif user.global_role in managed_roles(config):
        accounts.set_global_role(None, user, None)


def record_refusal(issuer: str, subject: str, email: str | None, reason: str) -> None:
    """Audit a verified identity that was not let in, and why."""
    user_id = db.session.scalar(
        sa.select(UserIdentity.user_id).where(
            UserIdentity.issuer == issuer, UserIdentity.subject == subject
        )
    )
    audit.record(
        None,
        AuditAction.LOGIN_REFUSED,
        "user",
        user_id,
        after={"issuer": issuer, "subject": subject, "email": email, "reason": reason},
        anonymous=True,
    )


def record_failure(reason: str, detail: str) -> None:
    """Audit an answer of the provider that failed the checks (signature, audience, expiry,
    nonce, an error it returned): someone tried to log in and was not let in."""
    audit.record(
        None,
        AuditAction.LOGIN_FAILED,
        "user",
        None,
        after={"via": "oidc", "reason": reason, "detail": clean_line(detail)[:300]},
        anonymous=True,
    )
