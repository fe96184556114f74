"""One search as one SQL statement: candidates from the GIN index inside the permitted set,
then per unit each item held or not, the coordination and a BM25 score, then the page, the
total and the facets over the same matches.

Scores are Whoosh's BM25F (K1 1.2, B 0.75, idf log(N / (df + 1)) + 1, the item's weight and
the field's boost), computed from each term's frequency in the unit. PostgreSQL gives no term
frequency directly; ``ts_rank`` with every weight 1 and no normalisation gives, for a one-term
query, sum(1 / j**2 for j in 1..tf) / (pi**2 / 6), which rises strictly with tf, and
tf = round(1 / ((1 - rank) * pi**2 / 6) - 1/2) recovers it exactly (tests check 1 to 256), so
the frequency comes from the tsvector itself without a second copy of the postings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from search.planning import DEFINITION_WEIGHT, TIE_BREAKER
from search.postgres._plan import Alternative, Lexicon, Plan, PlanItem, Sequence
from search.postgres._rows import dossier_lexeme, lexeme
from search.types import FACETS, SearchRequest

__all__ = [
    "Statement",
    "bag",
    "browse_statement",
    "date_bounds",
    "filters",
    "permitted_dossiers",
    "sequence_query",
    "statement",
    "tsquery",
]

# The permitted dossiers go into the GIN query (see _rows.dossier_lexeme), this many to a
# tsquery: GIN then skips the postings outside them. Past a few dozen in one tsquery, checking
# every candidate against that many lexemes costs more than it saves (365 ms instead of 10 for
# 200 dossiers of 2,000 documents), so more dossiers are split over several tsqueries, ORed
# (PostgreSQL ORs their bitmaps), up to DOSSIER_CHUNKS of them. Past that the reader sees a
# large share of the index, skipping saves little (at 10,000 documents: 100 dossiers of 1,000,
# 140 -> 72 ms to find the candidates of a broad query; 200 dossiers, no gain; 1,000, a
# planner that gives up), and the rows are narrowed by the dossier column's own index instead.
MAX_DOSSIER_TERMS = 32
DOSSIER_CHUNKS = 4
K1 = 1.2
B = 0.75
ZETA2 = 1.6449340668482264
LENGTH = {
    "body": "body_length",
    "meta": "meta_length",
    "heading": "heading_length",
    "ident": "ident_length",
}


def tsquery(name: str) -> str:
    """One lexeme as tsquery text."""
    return "'" + name.replace("\\", "\\\\").replace("'", "''") + "'"


def _any(names: tuple[str, ...] | list[str]) -> str:
    return "(" + " | ".join(tsquery(n) for n in names) + ")"


def _alternative(alternative: Alternative) -> str:
    return "(" + " & ".join(_any(word) for word in alternative.words) + ")"


def bag(item: PlanItem) -> str:
    """The units holding an item's words (in any order) in some field."""
    return "(" + " | ".join(_alternative(a) for a in item.alternatives) + ")"


def sequence_query(sequence: Sequence) -> str:
    """The units holding a multi-word item's words in sequence in its fields, or its
    identifier, or its words written as one (positions must be exact: see _rows)."""
    parts = [
        "(" + " <-> ".join(_any([lexeme(f, s) for s in stems]) for stems in sequence.words) + ")"
        for f in sequence.fields
    ]
    parts += [tsquery(lexeme("ident", ident)) for ident in sequence.idents]
    parts += [tsquery(lexeme(f, stem)) for f in sequence.fields for stem in sequence.joined]
    return " | ".join(parts)


def date_bounds(request: SearchRequest) -> tuple[date | None, date | None]:
    """Inclusive bounds from the year and the date range of a request."""
    lows = [d for d in (request.date_from,) if d is not None]
    highs = [d for d in (request.date_to,) if d is not None]
    if request.year is not None:
        lows.append(date(request.year, 1, 1))
        highs.append(date(request.year, 12, 31))
    return (max(lows) if lows else None), (min(highs) if highs else None)


@dataclass
class Statement:
    """SQL text with its parameters."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"


def permitted_dossiers(request: SearchRequest) -> set[int]:
    """The dossiers searched: those allowed, narrowed to the chosen one."""
    dossiers = set(request.allowed_dossiers)
    if request.dossier_id is not None:
        dossiers &= {request.dossier_id}
    return dossiers


def filters(request: SearchRequest, statement: Statement) -> list[str]:
    """The permission sets and the interface filters as conditions on the unit table."""
    where = [f"dossier_id = ANY({statement.param(sorted(permitted_dossiers(request)))})"]
    if request.denied_documents:
        where.append(f"NOT document_id = ANY({statement.param(sorted(request.denied_documents))})")
    if not request.include_old_versions:
        where.append("is_current")
    for column, chosen in (
        ("kind", request.kinds),
        ("supplier", request.suppliers),
        ("dossier_status", request.statuses),
    ):
        if chosen:
            where.append(f"{column} = ANY({statement.param(sorted(chosen))})")
    if request.clause_types:
        where.append(f"clause_types && {statement.param(sorted(request.clause_types))}::text[]")
    low, high = date_bounds(request)
    if low is not None:
        where.append(f"document_date >= {statement.param(low)}")
    if high is not None:
        where.append(f"document_date <= {statement.param(high)}")
    return where


def statement(
    schema: str,
    plan: Plan,
    lexicon: Lexicon,
    request: SearchRequest,
    long_holding: list[list[int]],
) -> Statement:
    """The search: total, page (seq and score per hit, in order) and facets in one row.

    `long_holding[j]`: the units, among those whose positions are not exact, in which
    sequence j (positive items' sequences, then excluded ones) holds.
    """
    st = Statement("")
    names = sorted(
        {n for item in plan.items for a in item.alternatives for word in a.words for n in word}
    )
    column = {name: f"f{index}" for index, name in enumerate(names)}
    sequences = [item.sequence for item in plan.items if item.sequence is not None]
    sequences += list(plan.excluded_sequences)
    checks = [
        f"CASE WHEN exact THEN terms @@ {st.param(sequence_query(s))}::tsquery "
        f"ELSE seq = ANY({st.param(long_holding[j])}) END"
        for j, s in enumerate(sequences)
    ]
    required = [item for item in plan.items if item.required]
    candidates = " & ".join(bag(i) for i in required) or " | ".join(bag(i) for i in plan.items)
    where = [_candidates(candidates, sorted(permitted_dossiers(request)), st)]
    where += filters(request, st)
    if plan.excluded:
        excluded = " | ".join(bag(item) for item in plan.excluded)
        where.append(f"NOT terms @@ {st.param(excluded)}::tsquery")
    positive_checks = len(sequences) - len(plan.excluded_sequences)
    where += [f"NOT ({check})" for check in checks[positive_checks:]]
    weights = st.param([1.0, 1.0, 1.0, 1.0])
    frequencies = [
        f"round(1.0 / ((1.0 - ts_rank({weights}::float4[], terms, "
        f"{st.param(tsquery(name))}::tsquery, 0)::float8) * {ZETA2}) - 0.5) AS {column[name]}"
        for name in names
    ]
    held_checks = [f"({check}) AS q{j}" for j, check in enumerate(checks[:positive_checks])]
    cand = (
        "SELECT seq, document_id, document_date, kind, dossier_reference, supplier, "
        "dossier_status, clause_types, definition, "
        + ", ".join([*_norms(lexicon), *frequencies, *held_checks])
        + f" FROM {schema}.unit WHERE "
        + " AND ".join(where)
    )
    score, coordination, ok = _expressions(plan, lexicon, column)
    matched = (
        "SELECT seq, document_id, document_date, kind, dossier_reference, supplier, "
        f"dossier_status, clause_types, {score} AS score, {coordination} AS coordination "
        f"FROM cand WHERE {ok}"
    )
    st.sql = _assemble(cand, matched, request, st)
    return st


def _candidates(query: str, dossiers: list[int], st: Statement) -> str:
    """The condition that finds the candidates with the GIN index: the query's tsquery, and
    the permitted dossiers' lexemes in it while there are not too many of them."""
    if len(dossiers) > MAX_DOSSIER_TERMS * DOSSIER_CHUNKS:
        return f"terms @@ {st.param(query)}::tsquery"
    chunks = [
        dossiers[i : i + MAX_DOSSIER_TERMS] for i in range(0, len(dossiers), MAX_DOSSIER_TERMS)
    ]
    found = [
        f"terms @@ {st.param(f'({query}) & ({_any([dossier_lexeme(d) for d in chunk])})')}::tsquery"
        for chunk in chunks
    ]
    return "(" + " OR ".join(found) + ")"


def browse_statement(schema: str, request: SearchRequest) -> Statement:
    """A query without words (a listing by clause type): every permitted unit that passes the
    filters, unscored, those with most of the chosen clause types first."""
    st = Statement("")
    chosen = st.param(sorted(request.clause_types))
    cand = (
        "SELECT seq, document_id, document_date, kind, dossier_reference, supplier, "
        f"dossier_status, clause_types FROM {schema}.unit WHERE "
        + " AND ".join(filters(request, st))
    )
    matched = (
        "SELECT *, 0.0::float8 AS score, cardinality(ARRAY(SELECT unnest(clause_types) "
        f"INTERSECT SELECT unnest({chosen}::text[]))) AS coordination FROM cand"
    )
    st.sql = _assemble(cand, matched, request, st)
    return st


def _norms(lexicon: Lexicon) -> list[str]:
    """Each field's BM25 length norm of a unit, K1 * (1 - B + B * length / average), computed
    once a unit in float8 (SQL's decimal literals would make it numeric arithmetic, a term at a
    time)."""
    norms = []
    for name, length in LENGTH.items():
        average = lexicon.average[name] or 1.0
        norms.append(
            f"{K1!r}::float8 * ({1 - B!r}::float8 + {B!r}::float8 * {length} / "
            f"{average!r}::float8) AS norm_{name}"
        )
    return norms


def _term_score(name: str, column: str, lexicon: Lexicon) -> str:
    """BM25 of one term in a unit (0 where absent), Whoosh's formula and defaults."""
    field = {"b": "body", "m": "meta", "h": "heading", "i": "ident", "n": "number"}[name[0]]
    idf = lexicon.idf(name)
    # No length for a number: Whoosh scores an ID field with length 0.
    norm = f"{K1 * (1 - B)!r}::float8" if field == "number" else f"norm_{field}"
    top = idf * (K1 + 1)
    return (
        f"(CASE WHEN {column} > 0 THEN {top!r}::float8 * {column} / ({column} + {norm}) ELSE 0 END)"
    )


def _expressions(plan: Plan, lexicon: Lexicon, column: dict[str, str]) -> tuple[str, str, str]:
    """SQL for a unit's score, its coordination and whether it matches."""
    scores = {name: _term_score(name, col, lexicon) for name, col in column.items()}
    held, in_text, item_scores = [], [], []
    check = 0
    for item in plan.items:
        present = [
            "("
            + " AND ".join(
                "(" + " OR ".join(f"{column[n]} > 0" for n in word) + ")" for word in a.words
            )
            + ")"
            for a in item.alternatives
        ]
        sums = [
            f"{a.boost!r} * (" + " + ".join(scores[n] for word in a.words for n in word) + ")"
            for a in item.alternatives
        ]
        holds = "(" + " OR ".join(present) + ")"
        text = [p for p, a in zip(present, item.alternatives, strict=True) if a.field != "meta"]
        texts = "(" + " OR ".join(text) + ")" if text else "FALSE"
        if item.sequence is not None:
            holds = f"({holds} AND q{check})"
            texts = f"({texts} AND q{check})"
            check += 1
        held.append(holds)
        in_text.append(texts)
        total = " + ".join(
            f"CASE WHEN {p} THEN {s} ELSE 0 END" for p, s in zip(present, sums, strict=True)
        )
        item_scores.append(f"CASE WHEN {holds} THEN {item.weight!r} * ({total}) ELSE 0 END")
    own = [s for s, item in zip(item_scores, plan.items, strict=True) if item.block < 0]
    blocks: dict[int, list[str]] = {}
    for item_score, item in zip(item_scores, plan.items, strict=True):
        if item.block >= 0:
            blocks.setdefault(item.block, []).append(item_score)
    # A concept's added terms: the best in full, the others at TIE_BREAKER, as
    # (1 - TIE_BREAKER) x best + TIE_BREAKER x sum. Arithmetic on the candidates' columns,
    # written twice: cheaper than a subquery per row that evaluates it once (an unnest of the
    # scores made "payment terms" 215 -> 250 ms at 10,000 documents).
    blended = [
        f"({1 - TIE_BREAKER!r} * GREATEST({', '.join(scores_)}) "
        f"+ {TIE_BREAKER!r} * ({' + '.join(scores_)}))"
        for scores_ in blocks.values()
    ]
    weight = f"CASE WHEN definition THEN {DEFINITION_WEIGHT!r} ELSE 1.0 END"
    score = f"{weight} * (" + " + ".join([*own, *blended]) + ")"
    coordination = (
        " + ".join(
            "CASE WHEN "
            + " OR ".join(h for h, item in zip(held, plan.items, strict=True) if g in item.groups)
            + " THEN 1 ELSE 0 END"
            for g in range(plan.groups)
            if any(g in item.groups for item in plan.items)
        )
        or "0"
    )
    required = [h for h, item in zip(held, plan.items, strict=True) if item.required]
    ok = " AND ".join([*required, "(" + " OR ".join(in_text) + ")"])
    return score, coordination, ok


# Per facet of search.types.FACETS, the counts of its values over the hits (GROUP BY v). A
# year is counted per date first and summed per year after (a hash of the date a hit instead of
# a date_part and a text conversion each). A unit counts once for each of its clause types
# (clauses mode only); units without one are skipped before the unnest.
_FACETS = {
    "kind": "SELECT kind AS v, count(*) AS n FROM hits GROUP BY 1",
    "dossier": "SELECT dossier_reference AS v, count(*) AS n FROM hits GROUP BY 1",
    "supplier": "SELECT supplier AS v, count(*) AS n FROM hits GROUP BY 1",
    "status": "SELECT dossier_status AS v, count(*) AS n FROM hits GROUP BY 1",
    "year": "SELECT date_part('year', d)::int::text AS v, sum(n)::bigint AS n "
    "FROM (SELECT document_date AS d, count(*) AS n FROM hits GROUP BY 1) dates GROUP BY 1",
    "clause_type": "SELECT v, count(*) AS n FROM (SELECT unnest(clause_types) AS v FROM hits "
    "WHERE cardinality(clause_types) > 0) types GROUP BY 1",
}


def _assemble(cand: str, matched: str, request: SearchRequest, st: Statement) -> str:
    """The whole statement around the candidates and the matches."""
    if request.mode == "documents":
        # In date order a document sorts by its newest matching unit (a window only then: it
        # sorts every match).
        newest = (
            "max(document_date) OVER (PARTITION BY document_id)"
            if request.sort == "date"
            else "NULL::date"
        )
        hits = (
            f"SELECT DISTINCT ON (document_id) *, {newest} AS newest "
            "FROM matched ORDER BY document_id, coordination DESC, score DESC, seq"
        )
        order = (
            "newest DESC NULLS LAST, document_id DESC"
            if request.sort == "date"
            else "coordination DESC, score DESC, seq"
        )
    else:
        hits = "SELECT * FROM matched"
        order = (
            "document_date DESC NULLS LAST, seq"
            if request.sort == "date"
            else "coordination DESC, score DESC, seq"
        )
    limit = st.param(request.per_page)
    offset = st.param((request.page - 1) * request.per_page)
    facets = ", ".join(
        f"(SELECT array_agg(ARRAY[v, n::text]) FROM ({_FACETS[name]}) f WHERE v <> '') AS {name}"
        if name != "clause_type" or request.mode == "clauses"
        else f"NULL::text[] AS {name}"
        for name in FACETS
    )
    # The page is a plain ORDER BY ... LIMIT, a top-N sort (a row_number() window over it
    # sorted every hit: 9 of 139 ms for "audit rights" at 10,000 documents), its order
    # restored in the aggregates.
    return (
        f"WITH cand AS MATERIALIZED ({cand}), matched AS ({matched}), "
        f"hits AS MATERIALIZED ({hits}), "
        f"page AS (SELECT * FROM hits ORDER BY {order} LIMIT {limit} OFFSET {offset}) "
        "SELECT (SELECT count(*) FROM hits) AS total, "
        f"(SELECT array_agg(seq ORDER BY {order}) FROM page) AS seqs, "
        f"(SELECT array_agg(score ORDER BY {order}) FROM page) AS scores, "
        f"{facets}"
    )
