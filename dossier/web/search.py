"""The search page: documents and clauses, filters, highlighted snippets, links to the version."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from dossier import searching
from dossier.models import DocumentKind, DossierStatus
from search.index import QueryRefused

bp = Blueprint("search", __name__, url_prefix="/search")
PER_PAGE = 20


def _int(name: str, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(request.args.get(name, default)), low), high)
    except ValueError:
        return default


def _options() -> dict[str, object]:
    """Filters from the query string, each checked against an allowlist."""
    kinds = {k for k in request.args.getlist("kind") if k in DocumentKind.__members__.values()}
    statuses = {
        s for s in request.args.getlist("status") if s in DossierStatus.__members__.values()
    }
    year = request.args.get("year", "")
    return {
        "mode": "clauses" if request.args.get("mode") == "clauses" else "documents",
        "kinds": frozenset(kinds),
        "statuses": frozenset(statuses),
        "suppliers": frozenset(s[:255] for s in request.args.getlist("supplier")[:20]),
        "year": int(year) if year.isdigit() and 1900 < int(year) < 2200 else None,
        "include_old_versions": request.args.get("old") == "1",
        "sort": "date" if request.args.get("sort") == "date" else "relevance",
        "page": _int("page", 1, 1, 500),
        "per_page": PER_PAGE,
    }


@bp.get("")
@login_required
def index() -> str | tuple[str, int]:
    text = request.args.get("q", "")
    options = _options()
    reference = request.args.get("dossier", "")
    if reference:
        options["dossier_id"] = searching.dossier_id_for(current_user, reference)
        if options["dossier_id"] is None:
            reference = ""
            del options["dossier_id"]
    context = {
        "q": text,
        "options": options,
        "dossier_ref": reference,
        "outcome": None,
        "refusal": None,
        "today": date.today(),
    }
    if text.strip():
        try:
            context["outcome"] = searching.search(current_user, text, **options)
        except QueryRefused as refusal:
            context["refusal"] = refusal
            return render_template("search/index.html", **context), 400
    return render_template("search/index.html", **context)
