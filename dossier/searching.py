"""Search on behalf of a user: the permission sets come from the database at query time.

The index holds no permissions (rule 2 and R5): for every query we pass the dossiers the user
may see and the documents inside them the user may not read, and the index applies both to
hits, totals, facets and snippets alike. When the index is missing or damaged, search falls
back to a slower database search over the same permitted documents while it is rebuilt: the
scanning backend of `search.scan` over the clauses this module selects with SQL.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale

from dossier import access, indexing
from dossier.extensions import db
from dossier.models import Clause, Confidentiality, Document, DocumentVersion, Dossier, User
from search.query import parse_query, validate_query
from search.scan import ScanBackend
from search.types import Expansion, Hit, IndexUnavailable, SearchRequest, SearchResult, Unit

FALLBACK_LIMIT = 200


@dataclass(frozen=True)
class Outcome:
    result: SearchResult
    degraded: bool = False  # the index was unavailable: database fallback, no facets
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    withheld: frozenset[int] = frozenset()  # confidential documents whose text is not shown


def permission_sets(user: User) -> tuple[frozenset[int], frozenset[int]]:
    """The dossiers `user` may see, and the documents inside them `user` may not read."""
    allowed = frozenset(db.session.scalars(access.visible_dossier_ids(user)))
    if user.is_auditor or not allowed:
        return allowed, frozenset()
    readable = access.visible_documents(user).with_only_columns(Document.id)
    denied = db.session.scalars(
        sa.select(Document.id).where(
            Document.dossier_id.in_(allowed), Document.id.not_in(readable.scalar_subquery())
        )
    )
    return allowed, frozenset(denied)


def search(user: User, text: str, **options: Any) -> Outcome:
    """Run a permission-filtered search; raises search.query.QueryRefused for bad queries."""
    validate_query(text)
    allowed, denied = permission_sets(user)
    options.setdefault("time_limit", current_app.config["SEARCH_TIME_LIMIT"])
    request = SearchRequest(text=text, allowed_dossiers=allowed, denied_documents=denied, **options)
    try:
        result = indexing.search_index().search(request)
    except IndexUnavailable:
        indexing.kick(current_app._get_current_object())
        shown, withheld = _withhold_confidential_text(_FALLBACK.search(request))
        return Outcome(shown, degraded=True, withheld=withheld)
    shown, withheld = _withhold_confidential_text(result)
    return Outcome(shown, facets=result.facets, withheld=withheld)


def is_expensive(text: str) -> bool:
    """Whether a query expands wildcards (rate-limited per user); raises QueryRefused."""
    return parse_query(text).expensive


def expansion_label(expansion: Expansion) -> str:
    """A thesaurus concept's name in the active language ("Aansprakelijkheid" / "Liability")."""
    english = getattr(get_locale(), "language", "") == "en"
    return expansion.label_en if english else expansion.label_nl


def expansion_as_dict(expansion: Expansion) -> dict[str, Any]:
    """A concept the search expanded, for `dossier search --json`."""
    return {
        "concept": expansion.concept,
        "label": {"nl": expansion.label_nl, "en": expansion.label_en},
        "matched": list(expansion.matched),
        "also_searched": list(expansion.terms),
    }


def _withhold_confidential_text(result: SearchResult) -> tuple[SearchResult, frozenset[int]]:
    """The result without the text of confidential documents, and those documents' ids.

    Showing their text is a read, and reads of confidential documents are audited one by one
    when a document is opened; a result list shows where they match (title, clause number,
    page), and opening one shows the text and records the read.
    """
    found = {hit.document_id for hit in result.hits}
    withheld = frozenset(
        db.session.scalars(
            sa.select(Document.id).where(
                Document.id.in_(found), Document.confidentiality == Confidentiality.CONFIDENTIAL
            )
        )
        if found
        else ()
    )
    if not withheld:
        return result, withheld
    hits = [
        replace(hit, heading="", snippet="", text="") if hit.document_id in withheld else hit
        for hit in result.hits
    ]
    return replace(result, hits=hits), withheld


def hit_as_dict(hit: Hit, clause: bool, withheld: bool = False) -> dict[str, Any]:
    """A hit for `dossier search --json`: ids, where it is, and the text of a clause hit
    (`text_withheld`: a confidential document, whose text shows only when it is opened)."""
    return {
        "document_id": hit.document_id,
        "dossier": hit.dossier_reference,
        "title": hit.title,
        "version": hit.version_number,
        "clause_number": hit.clause_number if clause else None,
        "heading": hit.heading if clause else None,
        "text": hit.text if clause else None,
        "page": hit.page,
        "score": round(hit.score, 4),
        "snippet": plain_snippet(hit.snippet),
        "text_withheld": withheld,
    }


def plain_snippet(snippet: str) -> str:
    """A highlighted HTML snippet as plain text, for terminals and JSON."""
    return html.unescape(re.sub(r"</?mark>", "", snippet))


def dossier_id_for(user: User, reference: str) -> int | None:
    """The id of a dossier the user may see, for "search within this dossier"."""
    dossier = db.session.scalar(sa.select(Dossier).where(Dossier.reference == reference))
    if dossier is None or not access.can_view_dossier(user, dossier):
        return None
    return dossier.id


def _permitted_units(request: SearchRequest, words: Sequence[str]) -> Iterator[Unit]:
    """The clauses of permitted current versions that contain every word: the database
    fallback's source (search.scan), with the permission filter in its SQL."""
    query = (
        sa.select(Clause, DocumentVersion, Document, Dossier)
        .join(DocumentVersion, Clause.version_id == DocumentVersion.id)
        .join(Document, DocumentVersion.document_id == Document.id)
        .join(Dossier, Document.dossier_id == Dossier.id)
        .where(
            Document.dossier_id.in_(request.allowed_dossiers),
            Document.id.not_in(request.denied_documents),
            Document.withdrawn_at.is_(None),
            DocumentVersion.number == Document.current_version_number,
        )
    )
    if request.dossier_id is not None:
        query = query.where(Document.dossier_id == request.dossier_id)
    for word in words:
        query = query.where(sa.func.lower(Clause.text).contains(word, autoescape=True))
    rows = db.session.execute(query.order_by(Document.id, Clause.position).limit(FALLBACK_LIMIT))
    for clause, version, document, dossier in rows:
        yield Unit(
            unit_id=f"{version.id}:{clause.position}",
            document_id=document.id,
            version_id=version.id,
            version_number=version.number,
            is_current=True,
            dossier_id=dossier.id,
            dossier_reference=dossier.reference,
            supplier=dossier.supplier.name if dossier.supplier else "",
            dossier_status=dossier.status.value,
            kind=document.kind.value,
            title=document.title,
            document_date=document.document_date,
            clause_number=clause.number,
            heading=clause.heading,
            page=clause.page,
            position=clause.position,
            is_clause=True,
            text=clause.text,
        )


_FALLBACK = ScanBackend(_permitted_units, limit=FALLBACK_LIMIT)
