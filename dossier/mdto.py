"""MDTO 1.0.1 metadata: writing `informatieobject` and `bestand` sidecars, and validating them
against the Nationaal Archief's XML schema vendored in dossier/data/mdto/.

This module knows MDTO, not the database: dossier/transfer.py fills the dataclasses below from
a dossier. The mapping it follows:

- The dossier is one informatieobject with aggregatieniveau "Dossier" (Begrippenlijst
  Aggregatieniveaus MDTO): identificatie = the dossier reference with bron "<system>
  dossierreferentie"; naam = title; omschrijving = description; trefwoord = tags and the
  contract category; dekkingInTijd = the contract term (start date to the effective end date,
  type "Looptijd overeenkomst"); waardering = the selection-list category's valuation
  ("Blijvend te bewaren" B / "Tijdelijk te bewaren" V, Begrippenlijst Waarderingen MDTO);
  bewaartermijn = the category's years (ISO 8601 duration, none when kept permanently) from the
  day the retention starts, with the disposal date as termijnEinddatum; informatiecategorie =
  the category (code and description, begrippenlijst = the organisation's selection list);
  archiefvormer = the configured organisation (TRANSFER_ORGANISATION_*); betrokkene = the
  supplier (typed "Contractpartij", identified by its KvK number when known); beperkingGebruik =
  the dossier's confidentiality (and personal data, when marked); aanvullendeMetagegevens = the
  audit-trail excerpt; bevatOnderdeel = every archiefstuk.
- Every version of every document is an informatieobject of its own with aggregatieniveau
  "Archiefstuk" (identificatie "<reference>/<document id>/<version>"), isOnderdeelVan the
  dossier, related to the version before it by gerelateerdInformatieobject ("Vorige versie").
  All versions are kept because stored versions are immutable records (DESIGN rule 4): what
  the organisation once filed and acted on is transferred, not only the last state.
- Every file is a bestand: the original as uploaded and, for text documents, a PDF/A-2b
  rendition of its extracted text (the original kept beside it). checksum = SHA-256 (label
  "SHA256", Begrippenlijst ChecksumAlgoritme MDTO, as the Nationaal Archief's examples write it);
  bestandsformaat = the PRONOM format of the file's kind (see PRONOM below); omvang = bytes;
  naam = the file name in the package; URLBestand = its relative path in the package;
  isRepresentatieVan = the archiefstuk (or, for the audit trail, the dossier).

Begrippen that MDTO has no list for (relation types, confidentiality, trigger events) name this
application's own begrippenlijst, as MDTO allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

from lxml import etree

NAMESPACE = "https://www.nationaalarchief.nl/mdto"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_VERSION = "1.0.1"
SCHEMA_FILE = Path(__file__).parent / "data" / "mdto" / "MDTO-XML1.0.1.xsd"
SCHEMA_LOCATION = f"{NAMESPACE} {NAMESPACE}/MDTO-XML{SCHEMA_VERSION}.xsd"

AGGREGATION_LIST = "Begrippenlijst Aggregatieniveaus MDTO"
VALUATION_LIST = "Begrippenlijst Waarderingen MDTO"
CHECKSUM_LIST = "Begrippenlijst ChecksumAlgoritme MDTO"
PRONOM_LIST = "PRONOM-register"


@dataclass(frozen=True)
class Ref:
    """A verwijzing: a name and, when known, an identifier with its source."""

    name: str
    kenmerk: str = ""
    bron: str = ""


@dataclass(frozen=True)
class Term:
    """A begrip from a begrippenlijst."""

    label: str
    list_name: str
    code: str = ""


@dataclass(frozen=True)
class Retention:
    """bewaartermijn: the trigger, its start date, the period (years) and the end date."""

    trigger: Term | None = None
    start_on: date | None = None
    years: int | None = None
    end_on: date | None = None


@dataclass
class InformationObject:
    """The parts of an MDTO informatieobject this application fills, in schema order."""

    identification: Ref  # name = naam, kenmerk/bron = identificatie
    level: Term
    valuation: Term
    creator: Ref  # archiefvormer
    restrictions: list[tuple[Term, str]]  # beperkingGebruik: type and description
    keywords: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    coverage: tuple[Term, date, date | None] | None = None  # dekkingInTijd
    language: str = ""
    retention: Retention | None = None
    category: Term | None = None  # informatiecategorie
    part_of: list[Ref] = field(default_factory=list)
    parts: list[Ref] = field(default_factory=list)
    representations: list[Ref] = field(default_factory=list)
    additional_metadata: list[Ref] = field(default_factory=list)
    related: list[tuple[Ref, Term]] = field(default_factory=list)
    involved: list[tuple[Term, Ref]] = field(default_factory=list)  # betrokkene


@dataclass(frozen=True)
class FileObject:
    """An MDTO bestand."""

    identification: Ref
    size: int
    file_format: Term
    sha256: str
    checked_at: datetime
    url: str
    represents: Ref


# PRONOM unique identifiers of the kinds ingest/detect.py accepts, and of what the transfer
# adds. A kind whose PRONOM entry depends on a version read from the file (PNG, JPEG, ODF)
# carries the label only; PDF's version is read from its header (see pdf_format).
PRONOM: dict[str, tuple[str, str]] = {
    "docx": ("Microsoft Word for Windows 2007 onwards", "fmt/412"),
    "xlsx": ("Microsoft Excel for Windows 2007 onwards", "fmt/214"),
    "odt": ("OpenDocument Text", ""),
    "eml": ("MIME Email", "fmt/950"),
    "msg": ("Microsoft Outlook Email Message", "x-fmt/430"),
    "txt": ("Plain Text File", "x-fmt/111"),
    "md": ("Markdown", "fmt/1149"),
    "png": ("Portable Network Graphics", ""),
    "jpeg": ("JPEG File Interchange Format", ""),
    "tiff": ("Tagged Image File Format", "fmt/353"),
    "json": ("JSON Data Interchange Format", "fmt/817"),
    "pdfa-2b": ("Acrobat PDF/A - Portable Document Format 2b", "fmt/477"),
}
_PDF_VERSIONS = {
    "1.0": "fmt/14",
    "1.1": "fmt/15",
    "1.2": "fmt/16",
    "1.3": "fmt/17",
    "1.4": "fmt/18",
    "1.5": "fmt/19",
    "1.6": "fmt/20",
    "1.7": "fmt/276",
    "2.0": "fmt/1129",
}


def pdf_format(head: bytes) -> Term:
    """The PRONOM term of a PDF from its first bytes ("%PDF-1.7" is fmt/276)."""
    start = head.find(b"%PDF-")
    version = head[start + 5 : start + 8].decode("ascii", "replace") if start >= 0 else ""
    code = _PDF_VERSIONS.get(version, "")
    label = (
        f"Acrobat PDF {version} - Portable Document Format" if code else "Portable Document Format"
    )
    return Term(label, PRONOM_LIST, code)


def file_format(kind: str, head: bytes = b"") -> Term:
    """The PRONOM term of a file of `kind` (ingest's names: pdf, docx, ...)."""
    if kind == "pdf":
        return pdf_format(head)
    label, code = PRONOM.get(kind, (kind, ""))
    return Term(label, PRONOM_LIST, code)


# --- writing -------------------------------------------------------------------------------


def _el(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
    if text is not None:
        child.text = text
    return child


def _identification(parent: etree._Element, name: str, ref: Ref) -> None:
    node = _el(parent, name)
    _el(node, "identificatieKenmerk", ref.kenmerk)
    _el(node, "identificatieBron", ref.bron)


def _ref(parent: etree._Element, name: str, ref: Ref) -> None:
    node = _el(parent, name)
    _el(node, "verwijzingNaam", ref.name)
    if ref.kenmerk:
        _identification(node, "verwijzingIdentificatie", ref)


def _term(parent: etree._Element, name: str, term: Term) -> None:
    node = _el(parent, name)
    _el(node, "begripLabel", term.label)
    if term.code:
        _el(node, "begripCode", term.code)
    _ref(node, "begripBegrippenlijst", Ref(term.list_name))


def _retention(parent: etree._Element, name: str, retention: Retention) -> None:
    node = _el(parent, name)
    if retention.trigger:
        _term(node, "termijnTriggerStartLooptijd", retention.trigger)
    if retention.start_on:
        _el(node, "termijnStartdatumLooptijd", retention.start_on.isoformat())
    if retention.years is not None:
        _el(node, "termijnLooptijd", f"P{retention.years}Y")
    if retention.end_on:
        _el(node, "termijnEinddatum", retention.end_on.isoformat())


def _root() -> etree._Element:
    root = etree.Element(f"{{{NAMESPACE}}}MDTO", nsmap={None: NAMESPACE, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    return root


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)  # type: ignore[no-any-return]


def information_object_xml(obj: InformationObject) -> bytes:
    """The MDTO sidecar of an informatieobject; elements in the order the schema demands."""
    root = _root()
    node = _el(root, "informatieobject")
    _identification(node, "identificatie", obj.identification)
    _el(node, "naam", obj.identification.name)
    _term(node, "aggregatieniveau", obj.level)
    for word in obj.keywords:
        _el(node, "trefwoord", word)
    for text in obj.descriptions:
        _el(node, "omschrijving", text)
    if obj.coverage:
        kind, start, end = obj.coverage
        cover = _el(node, "dekkingInTijd")
        _term(cover, "dekkingInTijdType", kind)
        _el(cover, "dekkingInTijdBegindatum", start.isoformat())
        if end:
            _el(cover, "dekkingInTijdEinddatum", end.isoformat())
    if obj.language:
        _el(node, "taal", obj.language)
    _term(node, "waardering", obj.valuation)
    if obj.retention:
        _retention(node, "bewaartermijn", obj.retention)
    if obj.category:
        _term(node, "informatiecategorie", obj.category)
    for name, refs in (
        ("isOnderdeelVan", obj.part_of),
        ("bevatOnderdeel", obj.parts),
        ("heeftRepresentatie", obj.representations),
        ("aanvullendeMetagegevens", obj.additional_metadata),
    ):
        for ref in refs:
            _ref(node, name, ref)
    for ref, relation in obj.related:
        related = _el(node, "gerelateerdInformatieobject")
        _ref(related, "gerelateerdInformatieobjectVerwijzing", ref)
        _term(related, "gerelateerdInformatieobjectTypeRelatie", relation)
    _ref(node, "archiefvormer", obj.creator)
    for relation, actor in obj.involved:
        involved = _el(node, "betrokkene")
        _term(involved, "betrokkeneTypeRelatie", relation)
        _ref(involved, "betrokkeneActor", actor)
    for kind, text in obj.restrictions:
        restriction = _el(node, "beperkingGebruik")
        _term(restriction, "beperkingGebruikType", kind)
        if text:
            _el(restriction, "beperkingGebruikNadereBeschrijving", text)
    return _serialise(root)


def file_object_xml(obj: FileObject) -> bytes:
    """The MDTO sidecar of a bestand."""
    root = _root()
    node = _el(root, "bestand")
    _identification(node, "identificatie", obj.identification)
    _el(node, "naam", obj.identification.name)
    _el(node, "omvang", str(obj.size))
    _term(node, "bestandsformaat", obj.file_format)
    checksum = _el(node, "checksum")
    _term(checksum, "checksumAlgoritme", Term("SHA256", CHECKSUM_LIST))
    _el(checksum, "checksumWaarde", obj.sha256)
    _el(checksum, "checksumDatum", obj.checked_at.replace(microsecond=0).isoformat())
    _el(node, "URLBestand", obj.url)
    _ref(node, "isRepresentatieVan", obj.represents)
    return _serialise(root)


# --- reading and validating ----------------------------------------------------------------


@cache
def schema() -> etree.XMLSchema:
    """The vendored MDTO schema, parsed once."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_FILE)))


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def parse(data: bytes) -> etree._ElementTree:
    """Parse a sidecar without entities or network access; XMLSyntaxError on bad XML."""
    return etree.ElementTree(etree.fromstring(data, parser=_PARSER))


def validate(data: bytes) -> list[str]:
    """The schema errors of a sidecar (`line N: message`), empty when it is valid MDTO."""
    try:
        tree = parse(data)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    checker = schema()
    if checker.validate(tree):
        return []
    return [f"line {error.line}: {error.message}" for error in checker.error_log]


@dataclass(frozen=True)
class FileFacts:
    """What a bestand sidecar states about its file, for the verifier."""

    name: str
    size: int
    algorithm: str
    checksum: str
    url: str


def file_facts(data: bytes) -> FileFacts | None:
    """The facts of a (valid) bestand sidecar; None for an informatieobject."""
    tree = parse(data)
    ns = {"m": NAMESPACE}
    node = tree.find("m:bestand", ns)
    if node is None:
        return None
    return FileFacts(
        name=node.findtext("m:naam", "", ns),
        size=int(node.findtext("m:omvang", "0", ns)),
        algorithm=node.findtext("m:checksum/m:checksumAlgoritme/m:begripLabel", "", ns),
        checksum=node.findtext("m:checksum/m:checksumWaarde", "", ns),
        url=node.findtext("m:URLBestand", "", ns),
    )
