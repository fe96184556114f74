"""Candidate obligations proposed from the clauses of a dossier's current contract versions.

A clause is a candidate when its clause types (search.clause_types) are of a duty (reporting,
insurance, price indexation, review meetings, delivery, ...), or its wording states a duty with a
rhythm ("Opdrachtnemer levert maandelijks ..."). Only clauses of documents the user may read are
proposed, and a confidential document's clause shows where it is, not what it says (as search
does). Nothing is registered until a person confirms a proposal (obligations.create_obligation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _

from dossier import access, obligations
from dossier.extensions import db
from dossier.models import (
    Clause,
    Document,
    DocumentKind,
    Dossier,
    ObligationParty,
    Recurrence,
    User,
)
from search.clause_types import find_type

# Clause types that mostly state something a party must do, and when.
DUTY_TYPES = (
    "reporting",
    "insurance",
    "price_adjustment",
    "governance",
    "delivery",
    "service_levels",
    "audit",
    "invoicing",
    "security_guarantee",
    "maintenance_support",
)
# Kinds of document whose clauses bind the parties.
CONTRACT_KINDS = (DocumentKind.CONTRACT, DocumentKind.AMENDMENT, DocumentKind.ANNEX)
_DUTY_WORDS = re.compile(
    r"\b(verplicht\w*|dient|dienen|zal|zullen|moet|moeten|uiterlijk|levert|verstrekt|overlegt|"
    r"rapporteert|shall|must|is required|will provide|no later than)\b",
    re.IGNORECASE,
)
_RECURRENCE_WORDS = (
    (Recurrence.MONTHLY, r"maandelijks\w*|per maand|elke maand|iedere maand|monthly|each month"),
    (
        Recurrence.QUARTERLY,
        r"per kwartaal|elk kwartaal|ieder kwartaal|driemaandelijks\w*|kwartaal\w*|quarterly"
        r"|each quarter",
    ),
    (
        Recurrence.YEARLY,
        r"jaarlijks\w*|per jaar|elk jaar|ieder jaar|eenmaal per jaar|annual\w*|yearly|each year"
        r"|every year",
    ),
)
_SUPPLIER_WORDS = re.compile(
    r"\b(opdrachtnemer|leverancier|dienstverlener|supplier|contractor|vendor|service provider)\b",
    re.IGNORECASE,
)
_CLIENT_WORDS = re.compile(
    r"\b(opdrachtgever|afnemer|aanbestedende dienst|client|customer|buyer)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Proposal:
    """A clause that looks like it sets an obligation, and what it suggests.

    `withheld`: the clause is in a confidential document; like a search result, the proposal
    shows where it is, not its text, and suggests nothing from it.
    """

    clause: Clause
    document: Document
    types: tuple[str, ...]
    party: ObligationParty
    recurrence: Recurrence
    title: str
    withheld: bool


def suggest_recurrence(text: str) -> Recurrence:
    for recurrence, pattern in _RECURRENCE_WORDS:
        if re.search(rf"\b({pattern})\b", text, re.IGNORECASE):
            return recurrence
    return Recurrence.ONCE


def suggest_party(text: str) -> ObligationParty:
    """The party named first as the one who acts; the supplier when neither is named."""
    supplier, client = _SUPPLIER_WORDS.search(text), _CLIENT_WORDS.search(text)
    if client and (not supplier or client.start() < supplier.start()):
        return ObligationParty.CLIENT
    return ObligationParty.SUPPLIER


def is_candidate(clause: Clause) -> tuple[str, ...] | None:
    """The duty types of a clause that looks like an obligation, or None.

    A clause is one when it is of a duty type, or its wording states a duty with a rhythm
    ("Opdrachtnemer levert maandelijks ...").
    """
    duty = tuple(t for t in clause.types if t in DUTY_TYPES)
    if duty:
        return duty
    text = f"{clause.heading}\n{clause.text}"
    if _DUTY_WORDS.search(text) and suggest_recurrence(text) != Recurrence.ONCE:
        return ()
    return None


def proposals(user: User, dossier: Dossier) -> list[Proposal]:
    """Candidate obligations from the clauses of the dossier's current contract versions that
    `user` may read, leaving out clauses an obligation already comes from."""
    taken = {
        (o.clause_version_id, o.clause_number)
        for o in obligations.of_dossier(dossier)
        if o.clause_version_id
    }
    query = (
        access.visible_clauses(user)
        .where(Document.dossier_id == dossier.id, Document.kind.in_(CONTRACT_KINDS))
        .order_by(Document.id, Clause.position)
    )
    found = []
    for clause in db.session.scalars(query):
        if (clause.version_id, clause.number) in taken:
            continue
        types = is_candidate(clause)
        if types is None:
            continue
        found.append(_proposal(clause, types))
    return found


def _proposal(clause: Clause, types: tuple[str, ...]) -> Proposal:
    document = clause.version.document
    if document.is_confidential:
        title = _("Obligation from article %(number)s", number=clause.number or "?")
        return Proposal(
            clause, document, (), ObligationParty.SUPPLIER, Recurrence.ONCE, title, True
        )
    text = f"{clause.heading}\n{clause.text}"
    if clause.heading:
        title = clause.heading
    elif types and find_type(types[0]) is not None:
        title = str(find_type(types[0]).label(_language()))  # type: ignore[union-attr]
    else:
        title = clause.text.strip().split("\n")[0][:80]
    title = title[:255]
    return Proposal(
        clause, document, types, suggest_party(text), suggest_recurrence(text), title, False
    )


def _language() -> str:
    from flask_babel import get_locale

    return getattr(get_locale(), "language", "nl")


def get_proposal_clause(user: User, dossier: Dossier, clause_id: int) -> Clause | None:
    """A clause `user` may read of a current contract version in `dossier`, or None."""
    query = access.visible_clauses(user).where(
        Clause.id == clause_id,
        Document.dossier_id == dossier.id,
        Document.kind.in_(CONTRACT_KINDS),
    )
    return db.session.scalar(query)
