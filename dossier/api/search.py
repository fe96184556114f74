"""Search: documents or clauses, with the same permission filter as the search page."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from dossier import searching, throttling
from dossier.api.common import errors, user
from dossier.api.problems import Problem
from dossier.api.schemas import SearchArgsSchema, SearchResultSchema
from dossier.models import DocumentKind
from search.query import QueryRefused

blp = Blueprint("api_search", __name__, description="Search documents and clauses")


@blp.route("/search", methods=["GET"])
@blp.arguments(SearchArgsSchema, location="query")
@blp.response(200, SearchResultSchema)
@errors(blp, 400, 422)
def search(args: dict[str, Any]) -> dict[str, Any]:
    """Plain words, "phrases", +required and -excluded; `mode=clauses` finds clauses (article
    number, heading, page, clause types). Only what the token's user may read is searched;
    a dossier they cannot see is searched as if not named."""
    text = args["q"]
    options: dict[str, Any] = {
        "mode": args["mode"],
        "kinds": frozenset(DocumentKind(k) for k in args.get("kind", [])),
        "page": args["page"],
        "per_page": args["per_page"],
    }
    if reference := args.get("dossier"):
        dossier_id = searching.dossier_id_for(user(), reference)
        if dossier_id is None:
            raise Problem(404, "No dossier with this reference that you may see.")
        options["dossier_id"] = dossier_id
    try:
        if searching.is_expensive(text) and (
            wait := throttling.spend("SEARCH_WILDCARD_LIMITS", "api-search", str(user().id))
        ):
            raise Problem(
                429, "Too many wildcard searches; try again later.", {"Retry-After": str(wait)}
            )
        outcome = searching.search(user(), text, **options)
    except QueryRefused as refusal:
        raise Problem(400, f"The query is refused: {refusal}") from refusal
    clauses = args["mode"] == "clauses"
    result = outcome.result
    return {
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "degraded": outcome.degraded,
        "hits": [
            searching.hit_as_dict(hit, clauses, hit.document_id in outcome.withheld)
            for hit in result.hits
        ],
    }
