"""The audit trail for auditors, newest first, filterable by dossier and action."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_smorest import Blueprint

from dossier import access, audit
from dossier.api.common import errors, page_of, user
from dossier.api.schemas import AuditArgsSchema, AuditEventSchema
from dossier.extensions import db
from dossier.models import AuditEvent, Dossier

blp = Blueprint("api_audit", __name__, description="The audit trail (auditors)")


@blp.route("/audit", methods=["GET"])
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200, AuditEventSchema(many=True))
@blp.paginate()
@errors(blp, 422)
def list_events(args: dict[str, Any], pagination_parameters: Any) -> list[AuditEvent]:
    """Every event of the hash-chained trail (auditors only); a dossier reference that does
    not exist gives an empty page."""
    access.require(access.can_view_audit(user()), access.NEEDS_AUDITOR)
    dossier_id = None
    if reference := args.get("dossier"):
        dossier_id = db.session.scalar(sa.select(Dossier.id).where(Dossier.reference == reference))
        if dossier_id is None:
            pagination_parameters.item_count = 0
            return []
    selection = audit.EventFilter(dossier_id=dossier_id, action=args.get("action", "").strip())
    return page_of(audit.events(selection), pagination_parameters)
