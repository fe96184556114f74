"""Deadlines and the management reports as JSON, computed over the dossiers the user may see."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import Any

from flask_smorest import Blueprint

from dossier import audit, deadlines, reports
from dossier.api.common import errors, user
from dossier.api.problems import Problem
from dossier.api.schemas import DeadlineArgsSchema, DeadlineSchema, ReportSchema

blp = Blueprint("api_reports", __name__, description="Deadlines and reports")


@blp.route("/deadlines", methods=["GET"])
@blp.arguments(DeadlineArgsSchema, location="query")
@blp.response(200, DeadlineSchema(many=True))
@errors(blp, 422)
def list_deadlines(args: dict[str, Any]) -> list[dict[str, Any]]:
    """Missed deadlines, then open ones due within `days` days (end of term, notice, option
    decisions, new tender, reviews), by date."""
    found = deadlines.visible(user(), deadlines.local_today())
    chosen = deadlines.missed(found) + deadlines.upcoming(found, args["days"])
    return [
        {
            "dossier": d.dossier.reference,
            "title": d.dossier.title,
            "kind": d.kind.value,
            "due_on": d.due_on,
            "status": d.status.value,
            "missed": d.days_left < 0,
        }
        for d in sorted(chosen, key=lambda d: (d.due_on, d.dossier.reference))
    ]


@blp.route("/reports/<name>", methods=["GET"])
@blp.response(200, ReportSchema)
@errors(blp)
def get_report(name: str) -> dict[str, Any]:
    """One report table by name, as the web page exports it (deadlines, past_end, tenders,
    value, value_supplier, completeness, plans, activity_month, obligations, actions, kpis,
    spend, disposal, holds, terms, checks, ...)."""
    table = (
        reports.table(user(), name, deadlines.local_today())
        if name in reports.TABLE_NAMES
        else None
    )
    if table is None:
        raise Problem(404, "No report with this name.")
    return {
        "name": table.name,
        "title": str(table.title),
        "columns": table.keys,
        "rows": [audit.jsonable({k: _plain(v) for k, v in row.items()}) for row in table.records()],
    }


def _plain(value: Any) -> Any:
    """Lazily translated text as text; dates, amounts and enums as audit.jsonable makes them."""
    if isinstance(value, str | int | float | bool | Decimal | date | enum.Enum) or value is None:
        return value
    return str(value)
