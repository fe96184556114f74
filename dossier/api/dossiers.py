"""Dossiers: list, register, read (register data, term, members; ETag) and update (If-Match)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_smorest import Blueprint

from dossier import access, dossiers, memberships
from dossier.api.common import errors, page_of, require_content_type, user
from dossier.api.problems import Problem
from dossier.api.schemas import (
    DossierCreateSchema,
    DossierFilterSchema,
    DossierInputSchema,
    DossierSchema,
    DossierSummarySchema,
    MemberSchema,
)
from dossier.errors import StaleEdit, ValidationError
from dossier.extensions import db
from dossier.models import (
    Category,
    Confidentiality,
    Dossier,
    DossierStatus,
    NoticeUnit,
    Procedure,
)

blp = Blueprint(
    "api_dossiers", __name__, description="Contract dossiers: register data, term, members"
)

_ENUMS = {
    "status": DossierStatus,
    "notice_unit": NoticeUnit,
    "procedure": Procedure,
    "category": Category,
    "confidentiality": Confidentiality,
}


def members(dossier: Dossier) -> list[dict[str, Any]]:
    return [
        {
            "role": m.role.value,
            "email": m.user.email if m.user else None,
            "name": (m.user.name or m.user.email) if m.user else m.group.name,
            "group": m.user is None,
        }
        for m in memberships.members_of(dossier)
    ]


def representation(dossier: Dossier) -> dict[str, Any]:
    """What GET returns (and what its ETag is computed from)."""
    values = dossiers.snapshot(dossier)
    derived = dossiers.derived_dates(dossier)
    values["term"] = {"notice_deadline": derived.notice_deadline, "max_end_on": derived.max_end_on}
    return values


def domain_values(data: dict[str, Any]) -> dict[str, Any]:
    """Validated JSON as the domain functions take it (enums, empty text as none)."""
    values = dict(data)
    for name, kind in _ENUMS.items():
        if values.get(name) is not None:
            values[name] = kind(values[name])
    if "supplier" in values:
        values["supplier"] = values["supplier"] or None
    if "supplier_kvk" in values:
        values["supplier_kvk"] = values["supplier_kvk"] or ""
    return values


def _refused(error: ValidationError) -> Problem:
    return Problem(422, "The values break the register's rules; see errors.", errors=error.errors)


@blp.route("/dossiers", methods=["GET"])
@blp.arguments(DossierFilterSchema, location="query")
@blp.response(200, DossierSummarySchema(many=True))
@blp.paginate()
@errors(blp, 422)
def list_dossiers(filters: dict[str, Any], pagination_parameters: Any) -> list[dict[str, Any]]:
    """The dossiers the token's user may see, by reference."""
    query = access.visible_dossiers(user()).order_by(Dossier.reference)
    if "status" in filters:
        query = query.where(Dossier.status == DossierStatus(filters["status"]))
    if text := filters.get("q", "").strip():
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            sa.or_(
                Dossier.reference.ilike(pattern, escape="\\"),
                Dossier.title.ilike(pattern, escape="\\"),
            )
        )
    return [
        {
            "reference": d.reference,
            "title": d.title,
            "status": d.status.value,
            "supplier": d.supplier.name if d.supplier else "",
            "end_on": d.end_on,
        }
        for d in page_of(query, pagination_parameters)
    ]


@blp.route("/dossiers", methods=["POST"])
@blp.arguments(DossierCreateSchema)
@blp.response(201, DossierSchema)
@errors(blp, *(413, 415, 422))
def create_dossier(data: dict[str, Any]) -> dict[str, Any]:
    """Register a dossier (the global beheerder and administrators), as on the web page."""
    access.require(access.can_create_dossier(user()))
    try:
        dossier = dossiers.create_dossier(user(), domain_values(data))
    except ValidationError as error:
        db.session.rollback()
        raise _refused(error) from error
    db.session.commit()
    return representation(dossier)


@blp.route("/dossiers/<reference>", methods=["GET"])
@blp.etag
@blp.response(200, DossierSchema)
@errors(blp)
def get_dossier(reference: str) -> dict[str, Any]:
    """Register data, derived term dates and members of one dossier."""
    return representation(access.get_dossier_or_404(user(), reference))


@blp.route("/dossiers/<reference>", methods=["PATCH"])
@blp.etag
@blp.arguments(DossierInputSchema)
@blp.response(200, DossierSchema)
@errors(blp, 409, 412, 413, 415, 422, 428)
def update_dossier(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Change register fields; send the ETag of the dossier you read as If-Match."""
    dossier = access.get_dossier_or_404(user(), reference)
    access.require(access.can_edit_dossier(user(), dossier))
    require_content_type("application/json")
    blp.check_etag(representation(dossier), DossierSchema)
    try:
        dossiers.update_dossier(user(), dossier, domain_values(data), dossier.row_version)
    except ValidationError as error:
        db.session.rollback()
        raise _refused(error) from error
    except StaleEdit as error:
        db.session.rollback()
        raise Problem(409, str(error)) from error
    db.session.commit()
    return representation(dossier)


@blp.route("/dossiers/<reference>/members", methods=["GET"])
@blp.response(200, MemberSchema(many=True))
@errors(blp)
def list_members(reference: str) -> list[dict[str, Any]]:
    """Every membership of the dossier, users and groups, readers too: for who manages its
    members (its beheerder, administrators), as the members page."""
    dossier = access.get_dossier_or_404(user(), reference)
    access.require(access.can_manage_members(user(), dossier))
    return members(dossier)
