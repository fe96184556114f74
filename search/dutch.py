"""Dutch lemmas and compound splitting, both from simplemma's Dutch dictionary (shipped with it).

The Snowball stemmer leaves word forms apart that a reader takes for one word (garantie and
garanties, intellectueel and intellectuele, verlengd and verlenging): `lemma` gives the
dictionary form that joins them. Dutch writes compounds as one word (opzegtermijn,
aansprakelijkheidsverzekering), so a search for "termijn" or "opzegging" did not find them:
`parts` splits a compound into dictionary words, with the linking ``s`` removed
(betaling|s|termijn -> betaling, termijn).

Both work on folded words (see search.analysis.fold): the dictionary's few accented forms are
also looked up folded, so beeindigd finds its lemma like beëindigd does. The dictionary (about
370,000 forms) is loaded on first use, in about half a second.

Splitting by dictionary words alone over-splits derived words (aanvaar|ding, voor|waarden), so
particles, suffix-like endings, verbs and linking-s look-alikes are ruled out. Judged by hand on
a random 120 of the long words of the Dutch corpus that it splits, 113 splits were right (94%);
the n-gram splitter of the compound-split package got 43% at its best split, 85% when keeping
only its confident ones, and keeps the linking s on the first part.

The dictionary also holds odd forms whose lemma is another word (pers|oon, vers|taan,
mini|s|ter), so a part's lemma must be the part itself, a word it inflects or a verb it is the
stem of. Of the 610 words of the Markdown texts of the Dutch corpus that were split without
that rule, 71 no longer are, nearly all split wrongly before (personen, europese, minister,
verstaan, software, diefstal).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from functools import cache, lru_cache

from simplemma import Lemmatizer
from simplemma.strategies import DefaultStrategy
from simplemma.strategies.dictionaries import DefaultDictionaryFactory
from whoosh.lang.stopwords import stoplists

__all__ = ["dictionary_form", "known", "lemma", "load", "parts"]


def _words(text: str) -> frozenset[str]:
    """The words of a whitespace-separated list."""
    return frozenset(text.split())


# Parts shorter than this are too often prefixes or suffixes (ver|zekering, eigen|dom).
MIN_PART = 4
# Words shorter than this cannot be two parts; longer ones are not split (speed, garbage).
MIN_COMPOUND = 2 * MIN_PART
MAX_COMPOUND = 40
# Particles and prepositions start derived words rather than compounds: voor|waarden,
# over|eenkomst, door|looptijd, onder|aannemer are read as one word, not two.
PARTICLES = _words("""
    aan achter binnen boven buiten door mede onder over rond samen tegen terug tussen voor
    vooruit weder weer vast vrij goed neer open thuis toe waar dien dient
""")
# Dictionary words that end derived words as suffixes (vennoot|schap, betaal|baar, rede|lijk),
# and nouns of verbs (contracte|ring, aanvaar|ding, vastleg|ging) and verbs in -eren.
SUFFIXES = _words("""
    schap schappen baar bare baarheid lijk lijke lijken lijkheid loos loze matig matige achtig
    achtige ling lingen ster sters heid heden tuur chap kundig kundige ratuur sten ring ringen
    ding dingen ging gingen king kingen sing singen eren rijk rijke keurig keurige ment tig
""")
# Starts of suffixes that make adjectives and nouns (vergelijk|baar, maat|schappelijk).
SUFFIX_STARTS = ("lijk", "schap", "baar", "heid")
_STOP_WORDS = frozenset(stoplists["nl"])


@cache
def _dictionary() -> tuple[Mapping[str, str], dict[str, str], Lemmatizer]:
    """simplemma's Dutch form -> lemma dictionary, its accented forms folded, and a lemmatizer
    that reads the same loaded dictionary."""
    factory = DefaultDictionaryFactory()
    forms = factory.get_dictionary("nl")
    folded = {}
    for form in forms:
        if not form.isascii():
            key = _fold(form)
            if key not in folded and form.lower() == form:
                folded[key] = form
    lemmatizer = Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=factory))
    return forms, {k: v for k, v in folded.items() if k not in forms}, lemmatizer


def load() -> None:
    """Load the dictionary now (it is otherwise loaded by the first Dutch word analysed)."""
    _dictionary()


def _fold(word: str) -> str:
    """Strip accents (the dictionary is not folded; search.analysis folds everything else)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def known(folded: str) -> bool:
    """Whether a folded word is a Dutch dictionary form."""
    forms, accented, _ = _dictionary()
    return forms.get(folded) is not None or folded in accented


def lemma(folded: str) -> str | None:
    """The folded dictionary form of a folded Dutch word when it differs from the word and
    plausibly belongs to it, else None.

    A lemma that does not start like the word (after a participle's ``ge``) is dropped: those
    are irregular verbs (gedaan -> doen) and the dictionary's odd readings (noot -> niet, ware
    -> zijn), which would join words a reader keeps apart.
    """
    found = _lemma(folded)
    return found if found != folded and found.isalpha() and _related(folded, found) else None


@lru_cache(maxsize=200_000)
def dictionary_form(folded: str) -> str:
    """simplemma's lemma of a folded word, folded, related to the word or not: `parts` cuts a
    compound's lemma when it starts like the word, else the word itself. Cached: highlighting
    asks again for the words it need not analyse (search.analysis.term_matcher)."""
    return _lemma(folded)


def _lemma(folded: str) -> str:
    """simplemma's lemma of a folded word, folded (separable verbs without their ``_``)."""
    _, accented, lemmatizer = _dictionary()
    return _fold(lemmatizer.lemmatize(accented.get(folded, folded), "nl")).replace("_", "")


def _related(word: str, found: str) -> bool:
    """Whether a lemma starts like its word (after a participle's ``ge``, also the ``ge`` after
    a separable verb's prefix: op|ge|lost -> oplossen, in|ge|diend -> indienen; an irregular
    participle such as op|ge|nomen -> opnemen stays apart, as gedaan -> doen does)."""
    stem = word[2:] if word.startswith("ge") and not found.startswith("ge") else word
    if stem[:3] == found[:3]:
        return True
    infix = word.find("ge", 2, 6)
    return (
        infix > 0
        and found.startswith(word[:infix])
        and not found.startswith("ge", infix)
        and word[infix + 2 : infix + 5] == found[infix : infix + 3]
    )


@lru_cache(maxsize=200_000)
def parts(folded: str) -> tuple[str, ...]:
    """The dictionary words a folded compound is made of, linking ``s`` removed; () when the
    word is not split.

    Of all ways to cut the word into dictionary words of at least MIN_PART letters (each but
    the last optionally followed by a linking ``s``), the one with the fewest parts wins, then
    the one with the longest last part (the head of a Dutch compound is its last word).
    """
    if not MIN_COMPOUND <= len(folded) <= MAX_COMPOUND or not folded.isalpha():
        return ()
    base = _lemma(folded)
    if _verb_form(folded, base):
        return ()  # a verb or its participle (verrekenen, strekkende): its parts mislead
    found = _segment(base if _related(folded, base) else folded, 0, {})
    # A part is a dictionary word and is not split further: splitting those found more false
    # parts (stand|aard, hoofd|stuk) than real ones.
    return found if found is not None and len(found) > 1 else ()


def _verb_form(folded: str, base: str) -> bool:
    """Whether a word (with its lemma) is an infinitive or a present participle."""
    if base.endswith("en") and known(folded):
        return True
    participle = folded[:-1] if folded.endswith("ende") else folded
    return participle.endswith("end") and known(participle[:-1])


def _segment(
    word: str, start: int, memo: dict[int, tuple[str, ...] | None]
) -> tuple[str, ...] | None:
    """The best segmentation of word[start:] into dictionary words, or None."""
    if start in memo:
        return memo[start]
    rest = word[start:]
    best: tuple[str, ...] | None = None
    # A head of three letters only after a linking s (aanbesteding|s|wet, werk|dag is missed).
    shortest = MIN_PART - 1 if start and word[start - 1] == "s" else MIN_PART
    if start and len(rest) >= shortest and _may_end(rest):
        best = (rest,) if _real(rest, final=True) else _plural_only(rest)
    for end in range(start + MIN_PART, len(word) - MIN_PART + 2):
        candidate = _part(word[start:end], start == 0)
        if candidate is None or (start and candidate in SUFFIXES):
            continue  # after a part, a suffix-like word ends a derived one (index|ering|s)
        tail = _segment(word, end, memo)
        if tail is not None and (best is None or _better((candidate, *tail), best)):
            best = (candidate, *tail)
    memo[start] = best
    return best


def _plural_only(rest: str) -> tuple[str, ...] | None:
    """A head known by its plural only (reputatie|schade), as that plural, or None; never an
    inflected past participle (ge...te, ge...de: openbaar|gemaakte)."""
    participle = rest.startswith("ge") and rest.endswith(("te", "de"))
    if rest.endswith("e") and len(rest) > MIN_PART and not participle and _real(rest + "n", True):
        return (rest + "n",)
    return None


def _may_end(rest: str) -> bool:
    """Whether a word may be the last part of a compound."""
    return not (rest in SUFFIXES or rest in _STOP_WORDS or rest.startswith(SUFFIX_STARTS))


def _part(head: str, first: bool) -> str | None:
    """A non-final part as a dictionary word (its linking s removed), or None."""
    if head in _STOP_WORDS or (first and head in PARTICLES):
        return None
    # A linking s (betaling|s|termijn), never after an s (proces|stap) nor where the s is the
    # word's own (prijs|vraag, toets|groep).
    if (
        head.endswith("s")
        and len(head) > MIN_PART
        and head[-2] != "s"
        and _real(head[:-1])
        and (not known(head) or _lemma(head) == head[:-1])
    ):
        return None if first and head[:-1] in PARTICLES else head[:-1]
    if _real(head):
        return head
    if head.endswith("e") and len(head) > MIN_PART + 1 and known(head + "n"):
        return head + "n"  # a noun known by its plural only (schade|vergoeding)
    return _verb(head)


# Endings of a word form after its lemma: plurals (recht|en, procedure|s, stuk|ken), inflected
# adjectives and participles (gevend, houdende); after a verb stem, its infinitive (reken|en,
# opzeg|gen); after an agent noun's stem (houd|er), its verb (houd|en).
_INFLECTIONS = ("s", "en", "n", "e", "'s", "d", "de")
_INFINITIVES = ("en", "n")


def _real(form: str, final: bool = False) -> bool:
    """Whether a dictionary form can be a part of a compound: its lemma is the form itself, a
    lemma it inflects, or a verb it is the stem or agent noun of; a long-vowel verb stem (loop
    of lopen: loop|tijd, huur|overeenkomst) only before the last part, the compound's head.

    The dictionary also holds odd forms whose lemma is another word (oon -> onen, taan ->
    tanen, pees -> pezen, vers -> verversen, ter -> te); as parts they split personen,
    verstaan, europese, verstrekking and minister into false parts.
    """
    if not known(form):
        return False
    base = _lemma(form)
    if base == form:
        return True
    if base in _STOP_WORDS or len(base) < 3:
        return False
    if form.startswith(base):
        return form[len(base) :] in (*_INFLECTIONS, base[-1] + "en")
    if base.startswith(form):
        return base[len(form) :] in (*_INFINITIVES, form[-1] + "en")
    if base.endswith("en") and form == base[:-2] + "er":
        return True
    return _spelling_changed(form, base) or (not final and _spelling_changed(base, form))


def _spelling_changed(form: str, base: str) -> bool:
    """Whether a form adds an ending to its lemma with a Dutch spelling change: a long vowel
    written single (zaak|zaken, systeem|systemen, centraal|centrale, loop|lopen), s or f voiced
    (prijs|prijzen, neef|neven), or a Latin plural (criterium|criteria)."""
    if base.endswith("um") and form == base[:-2] + "a":
        return True
    if len(base) < 3:
        return False
    voiced = {"s": "z", "f": "v"}.get(base[-1], base[-1])
    stem = base[:-2] if base[-2] == base[-3] and base[-2] in "aeou" else base[:-1]
    return any(form == stem + voiced + ending for ending in ("en", "e", "er"))


def _verb(head: str) -> str | None:
    """The infinitive of a verb stem that starts a compound (opzeg -> opzeggen, betaal ->
    betalen, bestel -> bestellen), or None."""
    if len(head) <= MIN_PART or head[-1] in "aeiouy":
        return None
    vowel = head[-3:-1]
    for infinitive in (head + "en", head + head[-1] + "en"):
        if known(infinitive):
            return infinitive
    if len(vowel) == 2 and vowel[0] == vowel[1] and vowel[0] in "aeou":
        infinitive = head[:-2] + head[-1] + "en"
        if known(infinitive):
            return infinitive
    return None


def _better(one: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """Fewer parts first, then a longer last part (totaal|score, not totaal|s|core)."""
    return (len(one), -len(one[-1])) < (len(other), -len(other[-1]))
