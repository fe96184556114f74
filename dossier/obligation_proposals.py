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

import sqlalchemy as sa
from flask_babel import gettext as _

from dossier import access, audit, obligations
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    Clause,
    Document,
    DocumentKind,
    Dossier,
    ObligationParty,
    ProposalDismissal,
    Recurrence,
    User,
)
from search.clause_types import find_type

# Clause types that mostly state something a party must deliver, and when: with a sentence that
# says so (a duty or a rhythm) they are proposed. Types that name a subject rather than a duty
# (service levels, maintenance, governance) need a sentence with both a duty and a rhythm, as any
# other clause does: otherwise every SLA and process description would be proposed.
DUTY_TYPES = (
    "reporting",
    "insurance",
    "price_adjustment",
    "delivery",
    "audit",
    "invoicing",
    "security_guarantee",
)
# Kinds of document whose clauses bind the parties.
CONTRACT_KINDS = (
    DocumentKind.CONTRACT,
    DocumentKind.AMENDMENT,
    DocumentKind.ANNEX,
    DocumentKind.SLA,
    DocumentKind.PROCESSING_AGREEMENT,
)
_DUTY_WORDS = re.compile(
    r"\b(verplicht\w*|dient|dienen|zal|zullen|moet|moeten|uiterlijk|levert|leveren|verstrekt|"
    r"verstrekken|overlegt|rapporteert|rapporteren|stuurt|zendt|meldt|informeert|actualiseert|"
    r"organiseert|organiseren|wordt\s+(?:\S+\s+){0,10}?(?:geleverd|verstrekt|afgegeven|aangeleverd|"
    r"opgeleverd|overgelegd|toegezonden|opgesteld)|"
    r"shall|must|is required|are required|will provide|will deliver|no later than|submits?|"
    r"delivers?|provides?)\b",
    re.IGNORECASE,
)
# Rhythms, each with the recurrence it suggests; the first one a sentence names counts. Twice a
# year has no recurrence of its own: it suggests none rather than a wrong one.
_RHYTHMS = (
    (
        Recurrence.QUARTERLY,
        r"(?:elke|iedere|om\s+de)\s+drie\s+maanden|driemaandelijks\w*|per\s+kwartaal|"
        r"elk\s+kwartaal|ieder\s+kwartaal|kwartaal\w*|quarterly|each\s+quarter|"
        r"every\s+(?:three|3)\s+months",
    ),
    (
        None,
        r"halfjaarlijks\w*|(?:tweemaal|twee\s+keer)\s+per\s+jaar|(?:elk|ieder)\s+half\s+jaar|"
        r"(?:elke|iedere|om\s+de)\s+zes\s+maanden|semi-?annual\w*|twice\s+a\s+year|"
        r"every\s+(?:six|6)\s+months",
    ),
    (
        Recurrence.MONTHLY,
        r"maandelijks\w*|per\s+maand|elke\s+maand|iedere\s+maand|monthly|each\s+month|"
        r"every\s+month",
    ),
    (
        Recurrence.YEARLY,
        r"jaarlijks\w*|per\s+jaar|elk\s+jaar|ieder\s+jaar|eenmaal\s+per\s+jaar|annual\w*|yearly|"
        r"each\s+year|every\s+year",
    ),
)
_RHYTHM = re.compile(
    "|".join(f"(?P<r{i}>\\b(?:{pattern})\\b)" for i, (_r, pattern) in enumerate(_RHYTHMS)),
    re.IGNORECASE,
)
# A sentence ends at . ! ? before a space, or at a line break (a list item); not at ; or :,
# whose halves read as fragments ("... moet akkoord geven, en de").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# PDF text breaks every line, mid-sentence. A line goes on with the next one when the next starts
# in lower case, or when it ends with a comma or a word no sentence ends with ("..., en de" /
# "Leverancier"); a heading, a new paragraph or a list item ("a) ...") starts on its own.
_LIST_ITEM = re.compile(r"\s*(?:[-•*–]\s|\(?[a-zA-Z0-9]{1,3}[).]\s)")
_JOINING_WORDS = frozenset(
    "de het een en of van aan die dat met voor door in op te om bij tot naar als dan zijn "  # noqa: SIM905
    "wordt worden is the a an and or of to by for with on at that which are be".split()
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
    shows where it is, not its text, and suggests nothing from it (and `sentence` is empty).
    """

    clause: Clause
    document: Document
    types: tuple[str, ...]
    party: ObligationParty
    recurrence: Recurrence
    title: str
    withheld: bool
    sentence: str  # the sentence that states the duty, shown with the proposal


def _rhythm(text: str) -> tuple[bool, Recurrence]:
    """Whether `text` names a rhythm, and the recurrence the first one it names suggests."""
    found = _RHYTHM.search(text)
    if found is None:
        return False, Recurrence.ONCE
    recurrence = _RHYTHMS[int(found.lastgroup[1:])][0]  # type: ignore[index]
    return True, recurrence or Recurrence.ONCE


def suggest_recurrence(text: str) -> Recurrence:
    return _rhythm(text)[1]


def suggest_party(text: str) -> ObligationParty:
    """The party named first as the one who acts; the supplier when neither is named."""
    supplier, client = _SUPPLIER_WORDS.search(text), _CLIENT_WORDS.search(text)
    if client and (not supplier or client.start() < supplier.start()):
        return ObligationParty.CLIENT
    return ObligationParty.SUPPLIER


def _sentences(text: str) -> list[str]:
    parts: list[str] = []
    for line in text.split("\n"):
        if parts and _goes_on(parts[-1], line):
            parts[-1] += "\n" + line
        else:
            parts.append(line)
    return [s for part in parts for s in _SENTENCE_END.split(part) if s.strip()]


def _goes_on(previous: str, line: str) -> bool:
    """Whether `line` continues the sentence of `previous` (see _JOINING_WORDS)."""
    previous, line = previous.rstrip(), line.lstrip()
    if not previous or not line or previous[-1] in ".!?:;" or _LIST_ITEM.match(line):
        return False
    if line[:2].isalpha() and line[0].islower():
        return True
    return previous.endswith(",") or previous.split()[-1].lower() in _JOINING_WORDS


def duty_sentence(clause: Clause) -> tuple[str, ...] | None:
    """The sentence of a clause that states its obligation, and the clause's duty types; None
    when the clause does not look like an obligation.

    A sentence with both a duty ("Opdrachtnemer levert", "shall") and a rhythm ("maandelijks",
    "elke drie maanden") states one; a clause of a duty type (reporting, insurance, price
    indexation, ...) needs only a sentence with a duty or a rhythm. The sentence then decides
    the suggested party and recurrence, so a rhythm elsewhere in a long article does not.
    """
    duty = tuple(t for t in clause.types if t in DUTY_TYPES)
    fallback = None
    for sentence in _sentences(clause.text):
        has_duty = _DUTY_WORDS.search(sentence) is not None
        has_rhythm = _rhythm(sentence)[0]
        if has_duty and has_rhythm:
            return (sentence, *duty)
        if duty and fallback is None and (has_duty or has_rhythm):
            fallback = (sentence, *duty)
    return fallback


def proposals(user: User, dossier: Dossier) -> list[Proposal]:
    """Candidate obligations from the clauses of the dossier's current contract versions that
    `user` may read, leaving out clauses an obligation already comes from and the ones a
    person dismissed."""
    taken = {
        (o.clause_version_id, o.clause_number)
        for o in obligations.of_dossier(dossier)
        if o.clause_version_id
    }
    taken |= {(d.clause_version_id, d.clause_number) for d in dismissals(dossier)}
    query = (
        access.visible_clauses(user)
        .where(Document.dossier_id == dossier.id, Document.kind.in_(CONTRACT_KINDS))
        .order_by(Document.id, Clause.position)
    )
    found = []
    seen = set()  # the same article in two files (a .docx and its .pdf) is proposed once
    for clause in db.session.scalars(query):
        if (clause.version_id, clause.number) in taken:
            continue
        duty = duty_sentence(clause)
        if duty is None:
            continue
        key = (clause.number, clause.heading, " ".join(clause.text.split()))
        if key in seen:
            continue
        seen.add(key)
        found.append(_proposal(clause, duty[0], duty[1:]))
    return found


def _proposal(clause: Clause, sentence: str, types: tuple[str, ...]) -> Proposal:
    document = clause.version.document
    if document.is_confidential:
        title = _("Obligation from article %(number)s", number=clause.number or "?")
        return Proposal(
            clause, document, (), ObligationParty.SUPPLIER, Recurrence.ONCE, title, True, ""
        )
    party_text = (
        sentence
        if _SUPPLIER_WORDS.search(sentence) or _CLIENT_WORDS.search(sentence)
        else clause.text
    )
    if clause.heading:
        title = clause.heading
    elif types and find_type(types[0]) is not None:
        title = str(find_type(types[0]).label(_language()))  # type: ignore[union-attr]
    else:
        title = clause.text.strip().split("\n")[0][:80]
    title = title[:255]
    return Proposal(
        clause,
        document,
        types,
        suggest_party(party_text),
        suggest_recurrence(sentence),
        title,
        False,
        " ".join(sentence.split()),
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


def dismissals(dossier: Dossier) -> list[ProposalDismissal]:
    query = sa.select(ProposalDismissal).where(ProposalDismissal.dossier_id == dossier.id)
    return list(db.session.scalars(query.order_by(ProposalDismissal.id)))


def dismiss(actor: User, dossier: Dossier, clause: Clause, reason: str) -> ProposalDismissal:
    """Stop proposing `clause` (of its version) as an obligation; audited, undone by restore.
    The title is the proposal's own (a confidential clause's says only its article number)."""
    proposal = _proposal(clause, "", ())
    existing = db.session.scalar(
        sa.select(ProposalDismissal).where(
            ProposalDismissal.clause_version_id == clause.version_id,
            ProposalDismissal.clause_number == clause.number,
        )
    )
    if existing is not None:  # a second click, or two people at once: once is enough
        return existing
    item = ProposalDismissal(
        dossier_id=dossier.id,
        clause_version_id=clause.version_id,
        clause_number=clause.number,
        title=proposal.title,
        reason=reason.strip(),
        dismissed_by_id=actor.id,
    )
    db.session.add(item)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.PROPOSAL_DISMISS,
        "proposal_dismissal",
        item.id,
        dossier_id=dossier.id,
        after={
            "version_id": clause.version_id,
            "clause_number": clause.number,
            "title": item.title,
            "reason": item.reason,
        },
    )
    return item


def get_dismissal(dossier: Dossier, dismissal_id: int) -> ProposalDismissal | None:
    item = db.session.get(ProposalDismissal, dismissal_id)
    return item if item is not None and item.dossier_id == dossier.id else None


def restore(actor: User, dossier: Dossier, dismissal_id: int) -> ProposalDismissal | None:
    """Propose a dismissed clause again; None when `dismissal_id` is not one of `dossier`."""
    item = get_dismissal(dossier, dismissal_id)
    if item is None:
        return None
    audit.record(
        actor,
        AuditAction.PROPOSAL_RESTORE,
        "proposal_dismissal",
        item.id,
        dossier_id=dossier.id,
        before={
            "version_id": item.clause_version_id,
            "clause_number": item.clause_number,
            "title": item.title,
            "reason": item.reason,
        },
    )
    db.session.delete(item)
    db.session.flush()
    return item
