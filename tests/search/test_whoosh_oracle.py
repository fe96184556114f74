"""Oracle: the search engine finds, counts, scores and ranks as stock Whoosh's BM25F does.

The engine (search/whoosh/) is built inside Whoosh's internals and evaluates queries with its
own numpy code; its docstrings promise "the same BM25F sums Whoosh would compute for the
equivalent OR/AND query". This test holds it to that. One generated corpus (deterministic: Dutch,
English and mixed clause and document units drawn from a Zipf-like vocabulary, identifiers,
accents, headings, clause numbers, several dossiers, kinds, suppliers, statuses and years,
current and old versions) is indexed twice: by SearchIndex (rebuild, then three apply() batches
that add versions, replace and delete documents) and by stock Whoosh through its public API only
(RamStorage, a schema with the same scored fields, analyzers and boosts, the default writer,
codec and merge policy, the same batches of delete_by_term and add_document). Generated searches
(single words, several words, phrases, identifiers, -exclusions, wildcards, stop words, filters,
both modes, both sort orders, several pages) then run on both, some of them with expansion
items added as a thesaurus adds them (a lower weight, with or without a concept shared with a
word of the user's). Shared with the engine by design: the analysis (WordTokenizer,
IdentTokenizer, stems, stop words) and the parsing of the query text into items
(search.query.parse_query, ParsedQuery.coordination): what is compared is indexing, matching,
scoring and the coordination order.

Compared, per search: the total; every hit of every page fetched (unit, document, score within
rel 1e-4) at its rank, where hits whose scores are equal within the tolerance (or whose dates
are equal, in date order) may come in any order among themselves; the facet counts.

The engine's query, in stock Whoosh terms (the meaning the engine's docstrings give it):
- a word is the Or of the Terms of its stems (a wildcard word: the stems of the prefix with each
  of the engine's ENDINGS, plus every indexed term that starts with the prefix, each term once;
  stock Whoosh's Prefix query scores a constant by default and knows no endings);
- an item of one (content) word that is a Dutch compound is the Or of that word and the And of
  its parts (each the Or of its stems, boost 0.5 of the field's), as
  search.analysis.alternatives gives them;
- an item (word, phrase, "7:408") is the Or of: the And of its content words in ``body``
  (boost 1.0), the same in ``meta`` (boost 0.5, only for the user's words when there are several
  of them, never for an expansion), Term ``ident`` for each identifier (boost 2.0), Term
  ``number`` (boost 2.0, see below), and (a plain word or phrase of the user's own) the
  And of its content words in ``heading`` (boost 0.5), with the item's weight
  as the boost of that Or; a hyphenated compound (``non-compete``) also holds its words
  written as one word (the Or of that word's stems in ``body``, and in ``meta`` as above); an
  optional multi-word item is that query Require'd by its exact sequence or that one word
  (see below), so where neither is found it neither matches nor scores;
- the query is ranked OR: the Or of the items when none is required, else AndMaybe(And of the
  required items, Or of the optional ones) (``+word`` and phrases are required; ``-word`` and
  ``-"phrase"`` exclude). Boosts are those of Whoosh queries (score times boost);
- the added terms of one concept are blended, not summed: the best in full, the others at
  planning.TIE_BREAKER (`Stock.blending`, applied to each added term's own stock score);
- a unit among the definitions (Unit.definition) scores at planning.DEFINITION_WEIGHT, applied
  here to its stock score;
- the order (relevance): the number of coordination groups a unit holds (each item counts
  under its ParsedQuery.coordination key; an item is held when its own stock query matches
  the unit), most first, then the stock score. Stock Whoosh has no such order (its Or
  ``scale`` is a factor, not tiers), so it is applied here to the stock hits.

Where the engine deliberately differs from plain Whoosh, the part meant to be equal is compared:
- permissions and interface filters (dossiers, denied documents, current versions only, kind,
  supplier, status, year, date range) are a Whoosh ``filter`` set computed here from stored
  fields; they narrow the hits and never change a score (the engine reads only permitted
  postings, but takes idf and average lengths from the whole index, as Whoosh does);
- a phrase or other multi-word item is scored as the And of its content words, not by phrase
  frequency; its exact adjacency (stop words included) is a condition only: here a Phrase
  query per combination of the words' stems in ``body`` (and ``meta`` as above) (or the
  identifier Term), in the filter (taken out of it when excluded) for required and excluded
  items. A unit must match at least one item outside ``meta`` (metadata only narrows): the Or
  of those parts, in the filter;
- documents mode groups units per document, which Whoosh does not: the expected documents are
  grouped here from stock Whoosh's unit hits (a document ranks by its best unit, most groups
  held then highest score; the hit shown is one of its best units; facets count each document
  once, by its first matching unit in index order). Date order (newest first; documents by
  their newest matching unit, then by document id) is also applied here to the stock hits;
- snippets are the engine's own highlighter, not Whoosh scoring: not compared (snippets=False).

Not compared: snippets; the order among tied hits (the engine keeps index order, deliberately);
the order of facet values (presentation); the refusals of the query language (tested in
tests/test_index.py); queries the engine refuses (too broad wildcards: skipped and counted); the
time limit.

Known difference (reported, not papered over): the ``number`` field (a unit's own clause number,
schema v3) is an ID field. Stock BM25F scores a field that is not scorable with WeightScorer,
that is its weight (1 x boost 2.0); the engine scores it with the BM25 formula at field length
0 and average length 1 (idf x 2.2 / 1.3 x 2.0). The main oracle skips (and counts) generated
queries that ask for an indexed clause number; with its seeds none are generated.
test_clause_number_scores_as_stock_whoosh records the difference as a strict xfail until it is
decided which one is meant.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from whoosh import scoring
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.index import Index
from whoosh.query import And, AndMaybe, Or, Phrase, Query, Require, Term
from whoosh.searching import Searcher

from search.analysis import IdentTokenizer, WordTokenizer, alternatives, fold, is_stop_word, stems
from search.planning import DEFINITION_WEIGHT, ENDINGS, TIE_BREAKER, concept_blocks
from search.query import Item, ParsedQuery, QueryRefused, parse_query
from search.types import SearchRequest, Unit
from search.whoosh import WhooshBackend as SearchIndex
from search.whoosh import _eval, _match, _search
from search.whoosh._eval import Found
from search.whoosh._plan import Plan
from search.whoosh._search import execute

# The engine's BM25F parameters (Whoosh's defaults) and field boosts, spelled out here on
# purpose: a change in the engine must show up as a difference, not be copied into the oracle.
B = 0.75
K1 = 1.2
BODY_BOOST = 1.0
META_BOOST = 0.5
HEADING_BOOST = 0.5  # the user's own plain words again in the unit's heading
IDENT_BOOST = 2.0
NUMBER_BOOST = 2.0
PART_BOOST = 0.5  # a compound matched by its parts
REL = 1e-4

# Corpus material ----------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


ENGLISH = _words("""
agreement agreements terminate termination terminated supplier suppliers deliver delivery
delivered deliveries liability liable limitation limited damages damage indemnify
indemnification warranty warranties confidential confidentiality payment payments invoice
invoices price prices pricing notice notices period periods renewal renew renewed breach
breaches party parties obligation obligations service services license licensed software
maintenance support insurance insured dispute disputes arbitration court law governing
jurisdiction assignment assign subcontract subcontractor audit audits data processing processor
privacy security intellectual property rights term terms effective convenience majeure penalty
penalties interest late acceptance accepted testing milestone milestones schedule report
reports reporting compliance comply change changes amendment amendments escrow source code
transfer employees personnel consent written writing reasonable material exclusive
""")
DUTCH = _words("""
overeenkomst overeenkomsten opzeggen opzegging opgezegd leverancier leveranciers levering
leveringen geleverd aansprakelijkheid aansprakelijk beperking schade schadevergoeding vrijwaring
garantie garanties geheimhouding vertrouwelijk betaling betalingen factuur facturen prijs
prijzen termijn termijnen verlenging verlengen verlengd tekortkoming ingebrekestelling partij
partijen verplichting verplichtingen dienst diensten licentie programmatuur onderhoud
ondersteuning verzekering geschil geschillen rechter recht toepasselijk overdracht
onderaanneming onderaannemer controle gegevens verwerking verwerker beveiliging intellectuele
eigendom looptijd ingangsdatum ontbinding ontbinden boete boetes rente aanvaarding acceptatie
mijlpaal planning rapportage wijziging wijzigingen meerwerk beëindiging coöperatie reëel
aanbesteding inschrijving gunning perceel opdrachtgever opdrachtnemer schriftelijk redelijk
toestemming Straße Müller naïef
""")
ENGLISH_STOP = _words("the of and to shall be by for with any this such a or not all")
DUTCH_STOP = _words("de het van een en te voor met door dat niet op bij aan is")
IDENTIFIERS = ["7:408", "2025-017", "6:248", "13.4", "e-mail", "ISO-27001", "art. 7:400"]
DOSSIERS = {
    1: ("2023-011", "Acme B.V.", "active"),
    2: ("2024-002", "Globex Ltd", "active"),
    3: ("2024-017", "Initech", "closed"),
    4: ("2025-003", "Müller GmbH", "active"),
    5: ("2025-008", "Stichting Coöperatie Noord", "draft"),
    6: ("2022-040", "", "closed"),
}
KINDS = ("contract", "correspondence", "tender", "invoice")


def _zipf(words: list[str], rng: random.Random) -> tuple[list[str], list[float]]:
    """The words in a random rank order with Zipf-like weights (1 / rank ** 1.1)."""
    ranked = list(words)
    rng.shuffle(ranked)
    return ranked, [1 / (rank + 1) ** 1.1 for rank in range(len(ranked))]


@dataclass
class Corpus:
    """Units to rebuild from, then batches for apply(); the live units after all batches."""

    initial: list[Unit]
    batches: list[list[tuple[int, list[Unit] | None]]]
    live: dict[int, list[Unit]]
    vocabulary: dict[str, tuple[list[str], list[float]]]


class CorpusMaker:
    """Deterministic random documents with versions and units as dossier/indexing.py makes them."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocabulary = {"en": _zipf(ENGLISH, self.rng), "nl": _zipf(DUTCH, self.rng)}
        self.next_document = 1

    def word(self, language: str) -> str:
        words, weights = self.vocabulary[language]
        return self.rng.choices(words, weights)[0]

    def text(self, language: str, length: int) -> str:
        rng = self.rng
        out: list[str] = []
        for i in range(length):
            lang = language if language != "mixed" else rng.choice(("en", "nl"))
            roll = rng.random()
            if roll < 0.04:
                token = rng.choice(IDENTIFIERS)
            elif roll < 0.38:
                token = rng.choice(ENGLISH_STOP if lang == "en" else DUTCH_STOP)
            else:
                token = self.word(lang)
            if i == 0 or out[-1].endswith("."):
                token = token[:1].upper() + token[1:]
            if rng.random() < 0.08:
                token += rng.choice((".", ",", ";"))
            out.append(token)
        return " ".join(out) + "."

    def document(self) -> tuple[int, dict[str, object], list[list[dict[str, object]]]]:
        """A document's metadata and the unit values of each of its versions."""
        rng = self.rng
        document_id = self.next_document
        self.next_document += 1
        language = rng.choices(("en", "nl", "mixed"), (45, 45, 10))[0]
        title_lang = "nl" if language == "mixed" else language
        title = " ".join(self.word(title_lang) for _ in range(rng.randint(1, 4))).capitalize()
        dated = rng.random()
        document_date = (
            date(rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28))
            if dated < 0.75
            else None
        )
        meta = {
            "dossier_id": rng.randint(1, len(DOSSIERS)),
            "kind": rng.choice(KINDS),
            "title": title,
            "language": language,
            "dated": dated,
            "document_date": document_date,
        }
        versions = [self.version_units(meta)]
        for _ in range(rng.choices((0, 1, 2), (65, 25, 10))[0]):
            versions.append(self.next_version(meta, versions[-1]))
        return document_id, meta, versions

    def version_date(self, meta: dict[str, object]) -> date | None:
        """The document's date or, without one, the upload date of a version (few have none)."""
        if meta["document_date"] is not None:
            return meta["document_date"]  # type: ignore[return-value]
        if meta["dated"] > 0.95:  # type: ignore[operator]
            return None
        rng = self.rng
        return date(rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28))

    def version_units(self, meta: dict[str, object]) -> list[dict[str, object]]:
        rng = self.rng
        language = str(meta["language"])
        when = self.version_date(meta)
        if rng.random() < 0.18:  # no clauses: one unit of title, file name and correspondent
            filename = f"{str(meta['title']).split()[0].lower()}_{rng.randint(2019, 2025)}.pdf"
            text = f"{meta['title']} {filename} {self.word('nl').capitalize()} B.V."
            return [
                {"text": text, "clause_number": "", "heading": "", "is_clause": False, "date": when}
            ]
        style = rng.choice(("plain", "nested", "headings", "none"))
        units = []
        for position in range(rng.randint(2, 7)):
            number = {
                "plain": str(position + 1),
                "nested": f"{position // 3 + 1}.{position % 3 + 1}",
                "headings": "",
                "none": "",
            }[style]
            if style == "plain" and rng.random() < 0.3:
                number += "."
            heading = ""
            if style == "headings" or rng.random() < 0.3:
                lang = "nl" if language == "mixed" else language
                heading = " ".join(self.word(lang) for _ in range(rng.randint(1, 3))).capitalize()
            text = self.text(language, rng.randint(4, 60))
            if heading and rng.random() < 0.3:
                text = f"{heading} {text}"  # the text repeats its heading: indexed once
            units.append(
                {
                    "text": text,
                    "clause_number": number,
                    "heading": heading,
                    "is_clause": bool(number or heading),
                    "date": when,
                }
            )
        return units

    def next_version(
        self, meta: dict[str, object], previous: list[dict[str, object]]
    ) -> list[dict[str, object]]:
        """A new version: the previous one with some words changed, sometimes a clause more."""
        rng = self.rng
        language = str(meta["language"])
        when = self.version_date(meta)
        units = []
        for values in previous:
            words = str(values["text"]).split()
            for i in range(len(words)):
                if rng.random() < 0.1:
                    words[i] = self.word("nl" if language == "nl" else "en")
            units.append({**values, "text": " ".join(words), "date": when})
        if rng.random() < 0.3 and units[-1]["is_clause"]:
            units.append({**units[-1], "text": self.text(language, rng.randint(4, 30))})
        return units


def make_units(
    document_id: int, meta: dict[str, object], versions: list[list[dict[str, object]]]
) -> list[Unit]:
    """The index units of a document, as dossier/indexing.py makes them."""
    reference, supplier, status = DOSSIERS[int(meta["dossier_id"])]  # type: ignore[call-overload]
    units = []
    for number, values in enumerate(versions, 1):
        version_id = document_id * 10 + number
        for position, unit in enumerate(values):
            units.append(
                Unit(
                    unit_id=f"{version_id}:{position}",
                    document_id=document_id,
                    version_id=version_id,
                    version_number=number,
                    is_current=number == len(versions),
                    dossier_id=int(meta["dossier_id"]),  # type: ignore[call-overload]
                    dossier_reference=reference,
                    supplier=supplier,
                    dossier_status=status,
                    kind=str(meta["kind"]),
                    title=str(meta["title"]),
                    document_date=unit["date"],  # type: ignore[arg-type]
                    clause_number=str(unit["clause_number"]),
                    heading=str(unit["heading"]),
                    page=position // 2 + 1 if number % 2 else None,
                    position=position,
                    is_clause=bool(unit["is_clause"]),
                    text=str(unit["text"]),
                    # Some clauses sit among the definitions (indexing.py asks
                    # ingest.clauses.in_definitions; these random headings name none).
                    definition=bool(unit["is_clause"]) and position % 4 == 3,
                )
            )
    return units


def make_corpus(seed: int, documents: int) -> Corpus:
    """A rebuild of `documents` documents, then three batches: new versions and new
    documents, deletions and replacements with changed metadata, more new versions."""
    maker = CorpusMaker(seed)
    rng = maker.rng
    state: dict[int, tuple[dict[str, object], list[list[dict[str, object]]]]] = {}
    for _ in range(documents):
        document_id, meta, versions = maker.document()
        state[document_id] = (meta, versions)
    initial = [u for d, (m, v) in state.items() for u in make_units(d, m, v)]
    batches: list[list[tuple[int, list[Unit] | None]]] = []
    for step in range(3):
        batch: list[tuple[int, list[Unit] | None]] = []
        chosen = rng.sample(sorted(state), max(2, documents // 10))
        for document_id in chosen:
            meta, versions = state[document_id]
            if step == 1 and rng.random() < 0.4:
                del state[document_id]
                batch.append((document_id, None))
                continue
            if step == 1:
                meta = {**meta, "kind": rng.choice(KINDS), "title": f"{meta['title']} herzien"}
            else:
                versions = [*versions, maker.next_version(meta, versions[-1])]
            state[document_id] = (meta, versions)
            batch.append((document_id, make_units(document_id, meta, versions)))
        for _ in range(max(1, documents // 20)):
            document_id, meta, versions = maker.document()
            state[document_id] = (meta, versions)
            batch.append((document_id, make_units(document_id, meta, versions)))
        batches.append(batch)
    live = {d: make_units(d, m, v) for d, (m, v) in state.items()}
    return Corpus(initial, batches, live, maker.vocabulary)


# Stock Whoosh ---------------------------------------------------------------------------------


def stock_schema() -> Schema:
    """The engine's scored fields with its analyzers (Whoosh's default formats and codec), plus
    plain stored and ID fields for what the engine keeps in columns (never scored)."""
    return Schema(
        body=TEXT(analyzer=WordTokenizer(detect=True), phrase=True, stored=True),
        meta=TEXT(analyzer=WordTokenizer(), phrase=True),
        heading=TEXT(analyzer=WordTokenizer(), phrase=False),
        ident=TEXT(analyzer=IdentTokenizer(), phrase=False),
        number=ID(),
        document=ID(stored=True),
        unit_id=STORED(),
        dossier=STORED(),
        reference=STORED(),
        supplier=STORED(),
        status=STORED(),
        kind=STORED(),
        current=STORED(),
        date=STORED(),
        definition=STORED(),
    )


def stock_document(unit: Unit) -> dict[str, object]:
    """A unit as the engine indexes it (see search/whoosh/_schema.py), spelled out again."""
    heading = unit.heading.strip()
    repeated = not heading or unit.text.lstrip().startswith(heading)
    body = unit.text if repeated else f"{heading}\n{unit.text}"
    meta = " \n".join(filter(None, (unit.title, unit.supplier, unit.dossier_reference)))
    values: dict[str, object] = {
        "body": body,
        "meta": meta,
        "heading": unit.heading,
        "ident": f"{body}\n{meta}",
        "document": str(unit.document_id),
        "unit_id": unit.unit_id,
        "dossier": unit.dossier_id,
        "reference": unit.dossier_reference,
        "supplier": unit.supplier,
        "status": unit.dossier_status,
        "kind": unit.kind,
        "current": unit.is_current,
        "date": unit.document_date.toordinal() if unit.document_date else 0,
        "definition": unit.definition,
    }
    if unit.clause_number:
        values["number"] = fold(unit.clause_number.strip().rstrip("."))
    return values


class _PrivateRamStorage(RamStorage):
    """RamStorage whose writers' scratch folder is this process's own: stock Whoosh names it
    after the index ("MAIN.tmp" in the temp folder), which parallel test workers share and
    remove under each other."""

    def temp_storage(self, name: str | None = None) -> object:
        return super().temp_storage(f"{name or 'oracle'}-{uuid.uuid4().hex}")


def build_stock(corpus: Corpus) -> Index:
    """The corpus in a stock Whoosh index: one commit of all units, then each batch as one
    commit of delete_by_term and add_document (Whoosh's default MERGE_SMALL), as the engine."""
    ix = _PrivateRamStorage().create_index(stock_schema())
    writer = ix.writer()
    for unit in corpus.initial:
        writer.add_document(**stock_document(unit))
    writer.commit()
    for batch in corpus.batches:
        latest: dict[int, list[Unit] | None] = {}
        for document_id, units in batch:
            latest.pop(document_id, None)
            latest[document_id] = units
        writer = ix.writer()
        for document_id, units in latest.items():
            writer.delete_by_term("document", str(document_id))
            for unit in units or ():
                writer.add_document(**stock_document(unit))
        writer.commit()
    return ix


def build_engine(corpus: Corpus, directory: Path) -> SearchIndex:
    engine = SearchIndex(directory)
    engine.rebuild(corpus.initial)
    for batch in corpus.batches:
        engine.apply(batch)
    return engine


@dataclass
class StockHit:
    docnum: int
    unit_id: str
    document: int
    score: float
    date: int
    facets: dict[str, str]
    groups: int = 0  # coordination groups held


class Stock:
    """Stock Whoosh's answer to the engine's query, as whoosh.query objects."""

    def __init__(self, ix: Index) -> None:
        self.searcher: Searcher = ix.searcher(weighting=scoring.BM25F(B=B, K1=K1))
        self.reader = self.searcher.reader()
        self.stored = dict(self.reader.iter_docs())

    def close(self) -> None:
        self.searcher.close()

    def word(self, field: str, word: str, prefix: bool, boost: float) -> Query:
        """A word in one field: the Or of its stems (and, for a wildcard, its expansions)."""
        terms = list(stems(word))
        if prefix:
            terms += [s for ending in ENDINGS for s in stems(word + ending)]
            terms += [
                t.decode("utf-8") if isinstance(t, bytes) else t
                for t in self.reader.expand_prefix(field, word)
            ]
        return Or([Term(field, t, boost=boost) for t in dict.fromkeys(terms)])

    def words(self, field: str, words: list[str], prefix: bool, boost: float) -> Query:
        """An item's content words in one field; a lone compound also by all of its parts."""
        whole = And([self.word(field, w, prefix, boost) for w in words])
        if len(words) != 1 or prefix:
            return whole
        parts = [
            And([Or([Term(field, t, boost=boost * PART_BOOST) for t in part]) for part in way])
            for way in alternatives(words[0])[1:]
        ]
        return Or([whole, *parts]) if parts else whole

    def item(self, item: Item, with_meta: bool) -> tuple[Query, Query]:
        """An item's query (boosted by its weight), and the part of it outside ``meta``; an
        optional multi-word item only where its words are in sequence."""
        words = [w for w in item.words if not is_stop_word(w)] or list(item.words)
        body = [self.words("body", words, item.prefix, BODY_BOOST)]
        meta = [self.words("meta", words, item.prefix, META_BOOST)]
        if item.joined:
            # A hyphenated compound's words written as one word: another way to hold it.
            body.append(self.word("body", item.joined, False, BODY_BOOST))
            meta.append(self.word("meta", item.joined, False, META_BOOST))
        if not (item.expansion or item.prefix):
            # The user's own plain words also score in the heading (no positions there).
            body.append(self.words("heading", words, False, HEADING_BOOST))
            if item.joined:
                body.append(self.word("heading", item.joined, False, HEADING_BOOST))
        idents = [Term("ident", ident, boost=IDENT_BOOST) for ident in item.idents]
        clause = [Term("number", n, boost=NUMBER_BOOST) for n in numbers(item)]
        alternatives = [*body, *(meta if with_meta else []), *idents, *clause]
        whole: Query = Or(alternatives, boost=item.weight)
        if len(alternatives) == 1 and item.weight != 1.0:
            # Whoosh's matcher of a compound query with one subquery drops the compound's
            # boost; normalizing hands the boost down to that subquery (only then: it also
            # drops repeated words, which count twice in "delivery delivery").
            whole = whole.normalize()
        text: Query = Or([*body, *idents, *clause])
        if len(item.words) > 1 and not item.required:
            sequence = self.sequence(item, with_meta)
            whole, text = Require(whole, sequence), Require(text, sequence)
        return whole, text

    def sequence(self, item: Item, with_meta: bool = True) -> Query:
        """A multi-word item's words in sequence in body (or meta) (any stem of each, stop
        words included), one of its identifiers, or (a hyphenated compound) its words as one
        word."""
        options: list[Query] = [Term("ident", ident) for ident in item.idents]
        for field_name in ("body", "meta") if with_meta else ("body",):
            options += [Term(field_name, s) for s in stems(item.joined)] if item.joined else []
            # Only stems the field holds: a Phrase with any other term matches nothing.
            held = [[s for s in stems(w) if (field_name, s) in self.reader] for w in item.words]
            for combination in product(*held):
                options.append(Phrase(field_name, list(combination)))
        return Or(options)

    def holding(self, item: Item, with_meta: bool = True) -> set[int]:
        """Units holding a multi-word item's words in sequence (see `sequence`)."""
        return set(self.searcher.docs_for_query(self.sequence(item, with_meta)))

    def search(self, parsed: ParsedQuery, request: SearchRequest) -> list[StockHit]:
        """Every matching unit with its stock BM25F score and coordination, best first (most
        groups held, then score, ties by docnum)."""
        allowed = {d for d, stored in self.stored.items() if passes(stored, request)}
        positives = parsed.positive
        # Metadata counts for the user's own words when they typed several; never for an
        # expansion (a thesaurus word must be in the text).
        several = sum(not item.expansion for item in positives) > 1
        with_meta = {id(item): several and not item.expansion for item in positives}
        parts = [self.item(item, with_meta[id(item)]) for item in positives]
        required = [whole for (whole, _), i in zip(parts, positives, strict=True) if i.required]
        optional = [whole for (whole, _), i in zip(parts, positives, strict=True) if not i.required]
        if required and optional:
            query: Query = AndMaybe(And(required), Or(optional))
        else:
            query = And(required) if required else Or(optional)
        allowed &= set(self.searcher.docs_for_query(Or([t for _, t in parts])))
        keys = parsed.coordination()
        groups: dict[object, set[int]] = defaultdict(set)
        for (whole, _), item_keys in zip(parts, keys, strict=True):
            for key in item_keys:
                groups[key] |= set(self.searcher.docs_for_query(whole))
        counted = list(groups.values())
        masked: set[int] = set()
        for item in parsed.negative:
            if len(item.words) == 1:
                whole, _ = self.item(item, with_meta=True)
                masked |= set(self.searcher.docs_for_query(whole))
        for item in parsed.items:
            if len(item.words) > 1 and (item.negated or item.required):
                held = self.holding(item, item.negated or with_meta[id(item)])
                if item.negated:
                    masked |= held
                else:
                    allowed &= held
        allowed -= masked
        if not allowed:
            return []
        results = self.searcher.search(query, filter=allowed, limit=None)
        blend = self.blending(parsed, [whole for whole, _ in parts], allowed)
        hits = []
        for hit in results:
            stored = self.stored[hit.docnum]
            hits.append(
                StockHit(
                    hit.docnum,
                    stored["unit_id"],
                    int(stored["document"]),
                    (hit.score - blend.get(hit.docnum, 0.0))
                    * (DEFINITION_WEIGHT if stored["definition"] else 1.0),
                    stored["date"],
                    {
                        "kind": stored["kind"],
                        "dossier": stored["reference"],
                        "supplier": stored["supplier"],
                        "status": stored["status"],
                        "year": str(date.fromordinal(stored["date"]).year)
                        if stored["date"]
                        else "",
                    },
                    sum(hit.docnum in held for held in counted),
                )
            )
        hits.sort(key=lambda h: (-h.groups, -h.score, h.docnum))
        return hits

    def blending(self, parsed: ParsedQuery, wholes: list[Query], allowed: set[int]) -> dict:
        """Per unit, what blending takes off the stock sum: of the added terms of one concept
        (planning.concept_blocks) the best counts in full and the others at TIE_BREAKER, so
        (1 - TIE_BREAKER) x (their sum - the best) of each concept's block. Stock Whoosh has
        no such blend (its DisjunctionMax scores the maximum only), so it is applied here to
        stock Whoosh's score of each added term's own query."""
        blocks: dict[int, list[Query]] = defaultdict(list)
        for whole, block in zip(wholes, concept_blocks(parsed), strict=True):
            if block >= 0:
                blocks[block].append(whole)
        taken: dict[int, float] = defaultdict(float)
        for queries in blocks.values():
            found: dict[int, list[float]] = defaultdict(list)
            for query in queries:
                for hit in self.searcher.search(query, filter=allowed, limit=None):
                    found[hit.docnum].append(hit.score)
            for docnum, scores in found.items():
                taken[docnum] += (1 - TIE_BREAKER) * (sum(scores) - max(scores))
        return taken


def numbers(item: Item) -> tuple[str, ...]:
    """The clause numbers an item asks for: its identifiers, or its one word if all digits."""
    if item.idents:
        return item.idents
    return item.words if len(item.words) == 1 and item.words[0].isdigit() else ()


def passes(stored: dict[str, object], request: SearchRequest) -> bool:
    """Whether a unit passes the request's permissions and filters (the request's meaning)."""
    dossiers = request.allowed_dossiers
    if request.dossier_id is not None:
        dossiers = dossiers & {request.dossier_id}
    ordinal = int(stored["date"])  # type: ignore[call-overload]
    lows = [d.toordinal() for d in (request.date_from,) if d is not None]
    highs = [d.toordinal() for d in (request.date_to,) if d is not None]
    if request.year is not None:
        lows.append(date(request.year, 1, 1).toordinal())
        highs.append(date(request.year, 12, 31).toordinal())
    # With any date bound, a unit without a date is left out.
    low = max(lows) if lows else 1
    high = min(highs) if highs else date.max.toordinal()
    return (
        stored["dossier"] in dossiers
        and (request.include_old_versions or bool(stored["current"]))
        and int(stored["document"]) not in request.denied_documents  # type: ignore[call-overload]
        and (not request.kinds or stored["kind"] in request.kinds)
        and (not request.suppliers or stored["supplier"] in request.suppliers)
        and (not request.statuses or stored["status"] in request.statuses)
        and (not (lows or highs) or low <= ordinal <= high)
    )


# Expected results from stock hits --------------------------------------------------------------


@dataclass
class Expected:
    """One expected hit: its identity, score, the sort key its ties share, acceptable units."""

    key: tuple[float, ...]
    identity: object
    score: float
    units: frozenset[str]
    ties: list[Expected] = field(default_factory=list, repr=False)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-9)


def _same_key(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(_close(x, y) for x, y in zip(a, b, strict=True))


def _with_ties(entries: list[Expected]) -> list[Expected]:
    """Link each entry of a sorted list to the entries whose keys equal its own (within the
    tolerance); those are its neighbours."""
    for i, entry in enumerate(entries):
        low = i
        while low > 0 and _same_key(entries[low - 1].key, entry.key):
            low -= 1
        high = i + 1
        while high < len(entries) and _same_key(entries[high].key, entry.key):
            high += 1
        entry.ties = entries[low:high]
    return entries


def expected_clauses(hits: list[StockHit], by_date: bool) -> list[Expected]:
    order = sorted(hits, key=lambda h: (-h.date, h.docnum)) if by_date else hits
    return _with_ties(
        [
            Expected(
                (-h.date,) if by_date else (-h.groups, -h.score),
                h.unit_id,
                h.score,
                frozenset([h.unit_id]),
            )
            for h in order
        ]
    )


def expected_documents(hits: list[StockHit], by_date: bool) -> list[Expected]:
    grouped: dict[int, list[StockHit]] = defaultdict(list)
    for hit in hits:
        grouped[hit.document].append(hit)
    entries = []
    for document, units in grouped.items():
        most = max(h.groups for h in units)
        best = max(h.score for h in units if h.groups == most)
        newest = max(h.date for h in units)
        chosen = frozenset(h.unit_id for h in units if h.groups == most and _close(h.score, best))
        key = (-newest, -document) if by_date else (-most, -best)
        entries.append(Expected(key, document, best, chosen))
    entries.sort(key=lambda e: e.key)
    return _with_ties(entries)


def expected_facets(hits: list[StockHit], documents: bool) -> dict[str, dict[str, int]]:
    """Facet counts over the hits, or over each document's first hit in index order."""
    if documents:
        first: dict[int, StockHit] = {}
        for hit in sorted(hits, key=lambda h: h.docnum):
            first.setdefault(hit.document, hit)
        hits = list(first.values())
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for hit in hits:
        for name, value in hit.facets.items():
            if value:
                counts[name][value] += 1
    found = {name: dict(counts[name]) for name in ("kind", "dossier", "supplier", "year", "status")}
    # The generated units have no clause types (their filter and facet are in test_index.py).
    return {**found, "clause_type": {}}


# Generated searches ---------------------------------------------------------------------------


QUERY_KINDS = (
    *("one", "several", "meta", "phrase", "exclude", "wildcard", "ident", "stop", "plus"),
    *("compound", "expansion"),
)


class QueryMaker:
    """Deterministic random query texts of every kind the query language supports."""

    def __init__(self, seed: int, corpus: Corpus) -> None:
        self.rng = random.Random(seed)
        self.vocabulary = corpus.vocabulary
        self.units = [u for units in corpus.live.values() for u in units]
        self.current = [u for u in self.units if u.is_current]

    def word(self) -> str:
        rng = self.rng
        words, weights = self.vocabulary[rng.choice(("en", "nl"))]
        word = rng.choices(words, weights)[0]
        roll = rng.random()
        if roll < 0.08:
            return fold(word)
        if roll < 0.14:
            return word.upper()
        return word

    def stop(self) -> str:
        return self.rng.choice(ENGLISH_STOP + DUTCH_STOP)

    def phrase(self) -> str:
        rng = self.rng
        unit = rng.choice(self.current if rng.random() < 0.8 else self.units)
        source = unit.text if rng.random() < 0.85 else f"{unit.title} {unit.supplier}"
        words = source.split()
        size = rng.randint(2, 4)
        start = rng.randrange(max(1, len(words) - size + 1))
        chosen = [w.strip(".,;") for w in words[start : start + size]]
        if rng.random() < 0.15:
            chosen[rng.randrange(len(chosen))] = self.word()  # likely nowhere in sequence
        return '"' + " ".join(chosen) + '"'

    def wildcard(self) -> str:
        rng = self.rng
        for _ in range(20):
            word = fold(self.word())
            if len(word) >= 5:
                return word[: rng.randint(3, min(6, len(word) - 1))] + "*"
        return "lever*"

    def text(self) -> tuple[str, str]:
        """A kind of query and a query of that kind."""
        kind = self.rng.choices(QUERY_KINDS, (20, 20, 8, 16, 12, 11, 8, 5, 10, 6, 12))[0]
        return kind, self._text(kind)

    def expand(self, parsed: ParsedQuery) -> ParsedQuery:
        """The parsed query with one or two expansion items as a thesaurus adds them: a lower
        weight, and a concept shared with one of the user's items, one of its own, or none."""
        rng = self.rng
        items = list(parsed.items)
        for number in range(rng.randint(1, 2)):
            how = rng.choice(("shared", "own", "none"))
            concept = None if how == "none" else f"concept{number}"
            if how == "shared":
                users = [i for i, item in enumerate(items) if not item.negated]
                chosen = rng.choice(users)
                items[chosen] = replace(items[chosen], concept=concept)
            words = (fold(self.word()),)
            weight = rng.choice((0.3, 0.5, 0.8))
            items.append(Item(words, weight=weight, concept=concept))
        return ParsedQuery(tuple(items))

    def _text(self, kind: str) -> str:
        rng = self.rng
        if kind == "one":
            return self.word()
        if kind == "several":
            return " ".join(self.word() for _ in range(rng.randint(2, 3)))
        if kind == "meta":
            unit = rng.choice(self.units)
            meta_words = f"{unit.title} {unit.supplier} {unit.dossier_reference}".split()
            return f"{rng.choice(meta_words).strip('.,')} {self.word()}"
        if kind == "phrase":
            extra = f" {self.word()}" if rng.random() < 0.3 else ""
            return self.phrase() + extra
        if kind == "exclude":
            negative = f"-{self.word()}" if rng.random() < 0.6 else f"-{self.phrase()}"
            first = self.word() if rng.random() < 0.8 else self.phrase()
            return f"{first} {negative}"
        if kind == "wildcard":
            extra = f" {self.word()}" if rng.random() < 0.4 else ""
            return self.wildcard() + extra
        if kind == "ident":
            extra = f" {self.word()}" if rng.random() < 0.4 else ""
            return rng.choice(IDENTIFIERS[:6]) + extra
        if kind == "plus":
            words = [self.word() for _ in range(rng.randint(2, 3))]
            chosen = rng.randrange(len(words))
            words[chosen] = "+" + words[chosen]
            return " ".join(words)
        if kind == "compound":
            # An optional multi-word item: held only where its words are in sequence, or (a
            # word of the corpus cut in two by a hyphen) where they are written as one word.
            compound = self.phrase().strip('"').replace(" ", "-")
            whole = self.word()
            if rng.random() < 0.4 and len(whole) >= 6 and whole.isalpha():
                cut = rng.randint(2, len(whole) - 2)
                compound = f"{whole[:cut]}-{whole[cut:]}"
            return f"{compound} {self.word()}"
        if kind == "expansion":
            return " ".join(self.word() for _ in range(rng.randint(1, 3)))
        return f"{self.stop()} {self.word()}" if rng.random() < 0.7 else self.stop()

    def request(self, text: str, documents: list[int]) -> SearchRequest:
        rng = self.rng
        everything = frozenset(DOSSIERS)
        allowed = everything
        if rng.random() < 0.6:
            allowed = frozenset(rng.sample(sorted(everything), rng.randint(1, len(everything))))
        options: dict[str, object] = {}
        if rng.random() < 0.2:
            options["denied_documents"] = frozenset(rng.sample(documents, 5))
        if rng.random() < 0.1:
            options["dossier_id"] = rng.choice(sorted(everything))
        if rng.random() < 0.15:
            options["kinds"] = frozenset(rng.sample(KINDS, rng.randint(1, 2)))
        if rng.random() < 0.1:
            options["suppliers"] = frozenset([rng.choice([v[1] for v in DOSSIERS.values()][:5])])
        if rng.random() < 0.1:
            options["statuses"] = frozenset([rng.choice(("active", "closed", "draft"))])
        if rng.random() < 0.1:
            options["year"] = rng.randint(2019, 2025)
        if rng.random() < 0.1:
            low = date(rng.randint(2019, 2023), rng.randint(1, 12), 1)
            options["date_from"] = low
            if rng.random() < 0.5:
                options["date_to"] = date(low.year + rng.randint(0, 2), 12, 31)
        options["include_old_versions"] = rng.random() < 0.3
        options["sort"] = "date" if rng.random() < 0.2 else "relevance"
        options["per_page"] = rng.choice((3, 5, 10, 20))
        # Thesaurus expansion adds items above the engine (search.expansion): compared here is
        # the engine on the user's own items; tests/search/test_expansion.py covers the rest.
        return SearchRequest(
            text,
            allowed,
            snippets=False,
            expand=False,
            time_limit=None,
            **options,  # type: ignore[arg-type]
        )


@dataclass
class Tally:
    searches: int = 0
    hits: int = 0
    refused: int = 0
    number_queries: int = 0
    nonempty: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


def engine_search(engine: SearchIndex, request: SearchRequest, parsed: ParsedQuery | None):
    """The engine's result for a request, or for a parsed query given instead of its text
    (expansion items cannot be typed; a thesaurus adds them after parsing)."""
    if parsed is None:
        return engine.search(request)
    with engine._searcher() as searcher:
        return execute(searcher, engine._table, request, parsed)


def compare(
    engine: SearchIndex,
    stock: Stock,
    request: SearchRequest,
    tally: Tally,
    parsed: ParsedQuery | None = None,
) -> int:
    """Run one request (or a parsed query under its options) in both modes on both sides and
    compare totals, pages and facets; return the number of matching units."""
    given = parsed
    parsed = parsed or parse_query(request.text)
    hits = stock.search(parsed, request)
    by_date = request.sort == "date"
    tally.nonempty += bool(hits)
    for mode in ("clauses", "documents"):
        documents = mode == "documents"
        expected = (
            expected_documents(hits, by_date) if documents else expected_clauses(hits, by_date)
        )
        facets = expected_facets(hits, documents)
        seen: set[object] = set()
        page = 1
        while True:
            asked = replace(request, mode=mode, page=page)
            result = engine_search(engine, asked, given)
            tally.searches += 1
            where = repr(asked)
            assert result.total == len(expected), where
            assert {k: dict(v) for k, v in result.facets.items()} == facets, where
            first = (page - 1) * request.per_page
            assert len(result.hits) == max(0, min(request.per_page, len(expected) - first)), where
            for rank, hit in enumerate(result.hits, first):
                identity = hit.document_id if documents else hit.unit_id
                assert identity not in seen, f"{where}: {identity} twice"
                seen.add(identity)
                _check_hit(expected[rank], identity, hit.unit_id, hit.score, f"{where} #{rank}")
                tally.hits += 1
            if first + request.per_page >= len(expected) or page == 4:
                break
            page += 1
        if seen and len(seen) == len(expected):
            assert seen == {e.identity for e in expected}, request
        if page < 4 and len(expected):  # the page after the last
            past = engine_search(engine, replace(request, mode=mode, page=page + 1), given)
            assert past.hits == [] and past.total == len(expected), request
    return len(hits)


def _check_hit(at: Expected, identity: object, unit_id: str, score: float, where: str) -> None:
    """The hit is the expected one at its rank, or one that ties with it."""
    match = next((e for e in at.ties if e.identity == identity), None)
    assert match is not None, (
        f"{where}: {identity} (score {score}) ranks where stock Whoosh has "
        f"{[(e.identity, e.score) for e in at.ties]}"
    )
    assert math.isclose(score, match.score, rel_tol=REL), (
        f"{where}: {identity} scores {score}, stock Whoosh {match.score}"
    )
    assert unit_id in match.units, f"{where}: unit {unit_id} is not among {set(match.units)}"


def run_oracle(tmp_path: Path, seed: int, documents: int, queries: int) -> Tally:
    """Index a generated corpus in the engine and in stock Whoosh, compare `queries` searches."""
    corpus = make_corpus(seed, documents)
    engine = build_engine(corpus, tmp_path / "engine")
    stock = Stock(build_stock(corpus))
    # Segments the batches added, and deleted units still inside them, are part of the test.
    searcher = stock.searcher
    assert searcher.doc_count_all() > searcher.doc_count() and len(searcher.leaf_searchers()) > 1
    indexed = [
        *corpus.initial,
        *(u for batch in corpus.batches for _, us in batch for u in us or ()),
    ]
    clause_numbers = {stock_document(u).get("number") for u in indexed} - {None}
    maker = QueryMaker(seed + 1, corpus)
    all_documents = sorted(corpus.live)
    tally = Tally()
    try:
        done = 0
        while done < queries:
            kind, text = maker.text()
            try:
                parsed = parse_query(text)
            except QueryRefused:
                tally.refused += 1
                continue
            if any(set(numbers(item)) & clause_numbers for item in parsed.positive):
                # The clause-number field scores unlike stock Whoosh: see the module docstring.
                tally.number_queries += 1
                continue
            request = maker.request(text, all_documents)
            expanded = maker.expand(parsed) if kind == "expansion" else None
            try:
                found = compare(engine, stock, request, tally, expanded)
            except QueryRefused:
                tally.refused += 1
                continue
            tally.kinds[kind] += bool(found)
            done += 1
    finally:
        stock.close()
        engine.close()
    return tally


def test_engine_equals_stock_whoosh_bm25f(tmp_path: Path) -> None:
    tally = run_oracle(tmp_path, seed=20261124, documents=70, queries=300)
    # The generated searches must mean something: most find hits, pages are compared.
    assert tally.nonempty >= 150, tally
    assert tally.hits >= 3000, tally
    assert tally.refused + tally.number_queries <= 30, tally
    assert min(tally.kinds[kind] for kind in QUERY_KINDS) >= 5, tally


def _without_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    evaluate = _match.evaluate

    def unweighted(plan: Plan, *args: object) -> object:
        items = tuple(replace(item, weight=1.0) for item in plan.items)
        return evaluate(replace(plan, items=items), *args)

    monkeypatch.setattr(_match, "evaluate", unweighted)


def _without_coordination(monkeypatch: pytest.MonkeyPatch) -> None:
    totals = Found.totals

    def uncoordinated(self: Found, plan: Plan) -> tuple[object, np.ndarray]:
        scores, groups = totals(self, plan)
        return scores, np.zeros_like(groups)

    monkeypatch.setattr(Found, "totals", uncoordinated)


def _without_sequence_check(monkeypatch: pytest.MonkeyPatch) -> None:
    match_leaf = _search.match_leaf

    def unchecked(plan: Plan, *args: object) -> None:
        items = tuple(replace(item, check=-1) for item in plan.items)
        match_leaf(replace(plan, items=items), *args)

    monkeypatch.setattr(_search, "match_leaf", unchecked)


@pytest.mark.parametrize(
    "perturb",
    [
        lambda monkeypatch: monkeypatch.setattr(_eval, "K1", 1.25),
        _without_weights,
        _without_coordination,
        _without_sequence_check,
    ],
    ids=["bm25-k1", "weights-ignored", "coordination-ignored", "optional-sequence-unchecked"],
)
def test_the_oracle_notices_a_perturbed_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, perturb: object
) -> None:
    """The comparison is not vacuous: each of these small changes to the engine fails it."""
    perturb(monkeypatch)  # type: ignore[operator]
    with pytest.raises(AssertionError):
        run_oracle(tmp_path, seed=20261124, documents=70, queries=300)


@pytest.mark.slow
def test_engine_equals_stock_whoosh_bm25f_larger(tmp_path: Path) -> None:
    tally = run_oracle(tmp_path, seed=7, documents=600, queries=1000)
    assert tally.nonempty >= 500, tally
    assert tally.refused + tally.number_queries <= 100, tally


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason=(
        "Known, reported difference: the engine scores the clause-number field (an ID field) "
        "with BM25 at length 0; stock Whoosh scores a non-scorable field by its weight."
    ),
)
def test_clause_number_scores_as_stock_whoosh(tmp_path: Path) -> None:
    def clause(document_id: int, number: str, text: str) -> Unit:
        return Unit(
            unit_id=f"{document_id}0:0",
            document_id=document_id,
            version_id=document_id * 10,
            version_number=1,
            is_current=True,
            dossier_id=1,
            dossier_reference="2023-011",
            supplier="Acme B.V.",
            dossier_status="active",
            kind="contract",
            title=f"Overeenkomst {document_id}",
            document_date=date(2024, 3, 1),
            clause_number=number,
            heading="Looptijd",
            page=1,
            position=0,
            is_clause=True,
            text=text,
        )

    units = [
        clause(1, "4.4", "4.4 De overeenkomst wordt aangegaan voor vier jaar."),
        clause(2, "9.1", "Zie artikel 4.4 over de looptijd."),
        clause(3, "2", "De prijs is vast."),
    ]
    corpus = Corpus(units, [], {u.document_id: [u] for u in units}, {})
    engine = build_engine(corpus, tmp_path / "engine")
    stock = Stock(build_stock(corpus))
    try:
        for text in ("4.4", "looptijd 4.4", "2"):
            request = SearchRequest(
                text, frozenset(DOSSIERS), snippets=False, expand=False, time_limit=None
            )
            compare(engine, stock, request, Tally())
    finally:
        stock.close()
        engine.close()
