"""The search page: documents and clauses, filters, highlighted snippets, links to the version."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user, login_required
from limits import parse_many

from dossier import searching
from dossier.extensions import limiter
from dossier.models import DocumentKind, DossierStatus
from search.clause_types import find_type
from search.query import QueryRefused

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
    types = {t for t in request.args.getlist("clause_type")[:20] if find_type(t)}
    return {
        "mode": "clauses" if request.args.get("mode") == "clauses" else "documents",
        "kinds": frozenset(kinds),
        "statuses": frozenset(statuses),
        "clause_types": frozenset(find_type(t).id for t in types),  # type: ignore[union-attr]
        "suppliers": frozenset(s[:255] for s in request.args.getlist("supplier")[:20]),
        "year": int(year) if year.isdigit() and 1900 < int(year) < 2200 else None,
        "include_old_versions": request.args.get("old") == "1",
        "sort": "date" if request.args.get("sort") == "date" else "relevance",
        "expand": request.args.get("expand") != "0",
        "page": _int("page", 1, 1, 500),
        "per_page": PER_PAGE,
    }


@bp.get("")
@login_required
def index() -> str | tuple[str, int]:
    text = request.args.get("q", "")
    options = _options()
    reference = request.args.get("dossier", "")
    unknown_dossier = False
    if reference:
        options["dossier_id"] = searching.dossier_id_for(current_user, reference)
        if options["dossier_id"] is None:
            # Missing or not readable: the same answer, and the search covers every dossier.
            # The reference is not echoed: the page never names a dossier the user cannot read.
            unknown_dossier, reference = True, ""
            del options["dossier_id"]
    context = {
        "q": text,
        "options": options,
        "dossier_ref": reference,
        "unknown_dossier": unknown_dossier,
        "outcome": None,
        "refusal": None,
        "throttled": False,
        "facet_links": {},
        "today": date.today(),
        "expand_links": _expand_links(),
        "also_searched": [],
        "type_choices": searching.clause_type_choices(),
        "compare": None,
        "unknown_clause": False,
    }
    other_than = None
    like = request.args.get("like", "")
    if like:
        # Compare a clause: its types, in the other dossiers the reader may see.
        source = searching.clause_source(current_user, like[:40])
        if source is None:  # missing or not readable: one answer, nothing echoed
            context["unknown_clause"] = True
        else:
            context["compare"] = source
            options["clause_types"] = options["clause_types"] or frozenset(source.types)
            other_than = source.dossier_id
    if text.strip() or options["clause_types"]:
        try:
            if text.strip() and searching.is_expensive(text) and not _wildcard_search_allowed():
                context["throttled"] = True
                return render_template("search/index.html", **context), 429
            context["outcome"] = outcome = searching.search(
                current_user, text, other_than=other_than, **options
            )
        except QueryRefused as refusal:
            context["refusal"] = refusal
            return render_template("search/index.html", **context), 400
        context["also_searched"] = [
            (searching.expansion_label(e), e.terms) for e in outcome.result.expansions
        ]
        context["facet_links"] = {
            name: [_facet_link(name, value, count, options, reference) for value, count in values]
            for name, values in outcome.facets.items()
        }
    return render_template("search/index.html", **context)


def _expand_links() -> dict[str, str]:
    """The same search without the thesaurus's synonyms ("off") and with them ("on")."""
    args = request.args.to_dict(flat=False)
    args.pop("page", None)
    args.pop("expand", None)
    return {
        "off": url_for("search.index", **args, expand="0"),
        "on": url_for("search.index", **args),
    }


def _wildcard_search_allowed() -> bool:
    """Count one wildcard search of the current user; False once over SEARCH_WILDCARD_LIMITS.

    The count lives in the limiter's storage, as the log-in throttle's does, so with Redis
    configured it holds across web processes.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    keys = [*([prefix] if prefix else []), "search-wildcards", f"user:{current_user.id}"]
    return all(
        limiter.limiter.hit(limit, *keys)
        for limit in parse_many(current_app.config["SEARCH_WILDCARD_LIMITS"])
    )


# Facet -> the query-string parameter that filters on it.
FACET_PARAMETERS = {
    "kind": "kind",
    "status": "status",
    "supplier": "supplier",
    "year": "year",
    "dossier": "dossier",
    "clause_type": "clause_type",
}


def _facet_link(
    name: str, value: str, count: int, options: dict[str, object], reference: str
) -> dict[str, object]:
    """A facet value with the address that adds it as a filter, or removes it when it is on."""
    parameter = FACET_PARAMETERS[name]
    args = request.args.to_dict(flat=False)
    args.pop("page", None)
    chosen = {
        "kind": options["kinds"],
        "status": options["statuses"],
        "supplier": options["suppliers"],
        "year": {str(options["year"])} if options["year"] else set(),
        "dossier": {reference} if reference else set(),
        "clause_type": options["clause_types"],
    }[name]
    active = value in chosen  # type: ignore[operator]
    if name == "clause_type":
        # The types in force (a compared clause's, unless chosen), plus or minus this one.
        args[parameter] = sorted(set(chosen) ^ {value})  # type: ignore[arg-type]
    elif active:
        args[parameter] = [v for v in args.get(parameter, []) if v != value]
    elif parameter in ("year", "dossier"):
        args[parameter] = [value]
    else:
        args[parameter] = [*args.get(parameter, []), value]
    return {
        "value": value,
        "count": count,
        "active": active,
        "url": url_for("search.index", **args),
    }
