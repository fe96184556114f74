"""Unit tests for the folder importer: kinds guessed from file names, references from folders."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from dossier import dossiers, importer
from dossier.cli import cli
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import Document, DocumentKind, DocumentVersion, Dossier, MemberRole, User

VNG = "dutch/vng-softwarecatalogus-aanbesteding"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        # Real names from the VNG tender folder.
        # An annex of a tender is an annex even when it is the draft contract; an SLA and a
        # processing agreement are of their own kinds, annexed or not.
        (
            "Bijlage 3.01 - Overeenkomst ten behoeve van ICT Prestatie GIBIT 2023.docx",
            DocumentKind.ANNEX,
        ),
        ("Bijlage 3.02 - Concept overeenkomst toelichting per artikel.pdf", DocumentKind.ANNEX),
        ("Bijlage 3.1 - Service Level Agreement_Softwarecatalogus.docx", DocumentKind.SLA),
        (
            "Bijlage 7 - Standaard-Verwerkersovereenkomst-v-2.51.docx",
            DocumentKind.PROCESSING_AGREEMENT,
        ),
        ("Bijlage 8 - Opdracht plan van aanpak versie 0.4.pdf", DocumentKind.ANNEX),
        ("Verwerkersovereenkomst getekend.pdf", DocumentKind.PROCESSING_AGREEMENT),
        ("Annex B - Amendment procedure.pdf", DocumentKind.ANNEX),
        ("Bijlage 6 - Prijzenblad SWC.xlsx", DocumentKind.ANNEX),
        ("Bijlage 1.2 - Programma van eisen.xlsx", DocumentKind.ANNEX),
        ("Bijlage 2 - Hosting eisen Softwarecatalogus.docx", DocumentKind.ANNEX),
        ("20250128_kennismaking.pdf", DocumentKind.MINUTES),
        ("Nieuwe planning.docx", DocumentKind.OTHER),
        ("Beschrijvend document.docx", DocumentKind.OTHER),
        # Dutch names a contract administrator files.
        ("Wijzigingsovereenkomst 2 raamcontract.pdf", DocumentKind.AMENDMENT),
        ("Contractwijziging 1.pdf", DocumentKind.AMENDMENT),
        ("Raamovereenkomst schoonmaak.pdf", DocumentKind.CONTRACT),
        ("Notulen kwartaaloverleg Q3.docx", DocumentKind.MINUTES),
        ("Verslag overleg 12-03-2025.docx", DocumentKind.MINUTES),
        ("Factuur 2025-0042.pdf", DocumentKind.INVOICE),
        ("Maandrapportage SLA maart.pdf", DocumentKind.REPORT),
        ("SLA hosting 2026.pdf", DocumentKind.SLA),
        ("Bijlage 2 - Service Level Agreement.docx", DocumentKind.SLA),
        ("Verwerkersovereenkomst gemeente.pdf", DocumentKind.PROCESSING_AGREEMENT),
        ("Data Processing Agreement.pdf", DocumentKind.PROCESSING_AGREEMENT),
        ("Jaarverslag 2024 leverancier.pdf", DocumentKind.REPORT),
        ("Kwartaalverslag Q1 2025.pdf", DocumentKind.REPORT),
        ("Uitvoeringsplan 2026.docx", DocumentKind.EXECUTION_PLAN),
        ("Plan van aanpak schoonmaak.pdf", DocumentKind.EXECUTION_PLAN),
        ("Execution plan v2.pdf", DocumentKind.EXECUTION_PLAN),
        # A tender's annex stays an annex whatever it is about.
        ("Bijlage 4 - Plan van aanpak.pdf", DocumentKind.ANNEX),
        # English names.
        ("Master Services Agreement.pdf", DocumentKind.CONTRACT),
        ("Amendment No 2 to the Agreement.pdf", DocumentKind.AMENDMENT),
        ("Exhibit A - Pricing.pdf", DocumentKind.ANNEX),
        ("Schedule 3 Service Levels.docx", DocumentKind.ANNEX),
        ("Meeting minutes 2025-01-28.docx", DocumentKind.MINUTES),
        ("Invoice 123.pdf", DocumentKind.INVOICE),
        ("Quarterly report.pdf", DocumentKind.REPORT),
        ("random.txt", DocumentKind.OTHER),
        # Mail is correspondence whatever its subject says.
        ("RE Contract verlenging.eml", DocumentKind.CORRESPONDENCE),
        ("Factuur januari.EML", DocumentKind.CORRESPONDENCE),
        ("Overeenkomst getekend.msg", DocumentKind.CORRESPONDENCE),
    ],
)
def test_guess_kind(name: str, kind: DocumentKind) -> None:
    assert importer.guess_kind(Path(name)) == kind


def test_guess_kind_on_the_whole_vng_folder(corpus: Path) -> None:
    files = sorted(p for p in (corpus / VNG).iterdir() if p.is_file())
    assert len(files) == 18
    kinds = {p.name: importer.guess_kind(p) for p in files}
    # Every "Bijlage" of the tender is an annex, also the draft contract; the SLA and the
    # processing agreement are of their own kinds, annexed or not.
    annexes = {name for name in kinds if name.startswith("Bijlage")}
    assert len(annexes) == 14
    assert kinds["Bijlage 3.1 - Service Level Agreement_Softwarecatalogus.docx"] == (
        DocumentKind.SLA
    )
    assert kinds["Bijlage 7 - Standaard-Verwerkersovereenkomst-v-2.51.docx"] == (
        DocumentKind.PROCESSING_AGREEMENT
    )
    others = annexes - {
        "Bijlage 3.1 - Service Level Agreement_Softwarecatalogus.docx",
        "Bijlage 7 - Standaard-Verwerkersovereenkomst-v-2.51.docx",
    }
    assert {kinds[name] for name in others} == {DocumentKind.ANNEX}
    assert kinds["20250128_kennismaking.pdf"] == DocumentKind.MINUTES


def test_eml_files_from_the_corpus_are_correspondence(corpus: Path) -> None:
    mails = sorted((corpus / "eml").glob("*.eml"))
    assert mails
    assert {importer.guess_kind(p) for p in mails} == {DocumentKind.CORRESPONDENCE}


@pytest.mark.parametrize(
    ("folder", "reference"),
    [
        ("2025-017", "2025-017"),
        ("Contract 2024 Schoonmaak", "Contract-2024-Schoonmaak"),
        ("vng-softwarecatalogus-aanbesteding", "vng-softwarecatalogus-aanbesteding"),
        # Longer than 64: cut after the last whole word that fits, not mid-word.
        (
            "raamovereenkomst-schoonmaak-gemeentelijke-gebouwen-en-sportaccommodaties-2025",
            "raamovereenkomst-schoonmaak-gemeentelijke-gebouwen-en",
        ),
        ("  ..verborgen map  ", "verborgen-map"),
        ("Coöperatie Zorg & Welzijn", "Cooperatie-Zorg-Welzijn"),
        ("Één contract", "Een-contract"),
        ("€€€", "import"),
        ("", "import"),
        ("___", "import"),
        ("a" * 63 + " b", "a" * 63),  # no dangling separator after cutting to 64
        ("a" * 70, "a" * 64),  # one long word: cut at the limit
    ],
)
def test_reference_for(folder: str, reference: str) -> None:
    assert importer.reference_for(Path("/data") / folder if folder else Path("")) == reference


@pytest.mark.parametrize(
    "folder",
    [
        "vng-softwarecatalogus-aanbesteding",
        "-leading dash",
        ".hidden",
        "Ærø ÿ ß",
        "x" * 200,
        "a" * 63 + "-" + "b" * 10,
        "2025/017",
        "日本語の契約",
    ],
)
def test_reference_for_is_always_a_valid_reference(folder: str) -> None:
    reference = importer.reference_for(Path(folder))
    assert dossiers.REFERENCE_RE.match(reference), reference
    assert len(reference) <= 64


@pytest.mark.parametrize(
    ("folder", "title"),
    [
        ("vng-softwarecatalogus-aanbesteding", "Vng softwarecatalogus aanbesteding"),
        ("Contract_2024__Schoonmaak", "Contract 2024 Schoonmaak"),
        ("2025-017", "2025 017"),
        ("---", "import"),
    ],
)
def test_title_for(folder: str, title: str) -> None:
    assert importer.title_for(Path("/data") / folder) == title


def test_reference_shortened_says_when_the_name_was_cut() -> None:
    assert not importer.reference_shortened(Path("vng-softwarecatalogus-aanbesteding"))
    assert importer.reference_shortened(Path("x" * 65))


def test_plan_a_folder_of_files_is_one_dossier(corpus: Path) -> None:
    plan = importer.plan(corpus / VNG)
    assert len(plan) == 1
    folder, files = plan[0]
    assert folder == corpus / VNG
    assert len(files) == 18


def test_plan_a_folder_of_folders_is_one_dossier_each(tmp_path: Path) -> None:
    for name in ("b-contract", "a-contract", ".git"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "brief.txt").write_text("tekst\n")
    (tmp_path / "a-contract" / ".DS_Store").write_bytes(b"\x00")
    plan = importer.plan(tmp_path)
    assert [(folder.name, [f.name for f in files]) for folder, files in plan] == [
        ("a-contract", ["brief.txt"]),
        ("b-contract", ["brief.txt"]),
    ]


def test_plan_refuses_a_file(tmp_path: Path) -> None:
    path = tmp_path / "los.txt"
    path.write_text("x")
    with pytest.raises(DomainError):
        importer.plan(path)


def test_plan_a_folder_with_files_and_folders_keeps_both(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("b")
    (tmp_path / "a.txt").write_text("a")
    groups = importer.plan(tmp_path)
    assert [(folder.name, [p.name for p in files]) for folder, files in groups] == [
        (tmp_path.name, ["a.txt"]),
        ("sub", ["b.txt"]),
    ]


def test_import_refuses_a_user_who_may_not_file(
    app: Flask,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
    tmp_path: Path,
) -> None:
    reader = make_user("reader@example.org")
    make_dossier("ABC-1", members={reader: MemberRole.READER})
    with pytest.raises(DomainError, match="may not file"):
        importer.find_or_create_dossier(reader, tmp_path, "ABC-1")
    with pytest.raises(DomainError, match="may not register"):
        importer.find_or_create_dossier(reader, tmp_path, "NEW-1")


# The import command on hostile folders: links, special files, names that are not UTF-8, and
# files the dossier already holds.


def _import(app: Flask, *args: str) -> Result:
    result = app.test_cli_runner().invoke(cli, ["import", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _filed_names() -> list[str]:
    return sorted(db.session.scalars(sa.select(DocumentVersion.original_filename)))


def test_import_never_follows_a_symbolic_link(app: Flask, admin: User, tmp_path: Path) -> None:
    secret = tmp_path / "root-only.txt"
    secret.write_text("geheimwachtwoord van root\n")
    outside = tmp_path / "elders"
    outside.mkdir()
    (outside / "buiten.txt").write_text("buiten de map\n")
    root = tmp_path / "archief"
    (root / "2025-001").mkdir(parents=True)
    (root / "brief.txt").write_text("Geachte leverancier,\n")
    (root / "2025-001" / "notitie.txt").write_text("een notitie\n")
    (root / "link.txt").symlink_to(secret)
    (root / "2025-001" / "ook-link.txt").symlink_to(secret)
    (root / "map-link").symlink_to(outside, target_is_directory=True)
    (root / "kapot.txt").symlink_to(tmp_path / "bestaat-niet")
    os.mkfifo(root / "pijp.txt")

    result = _import(app, str(root), "--json")

    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    refused = {name: reason for outcome in report.values() for name, reason in outcome["refused"]}
    assert refused == {
        "link.txt": importer.LINK_REFUSAL,
        "ook-link.txt": importer.LINK_REFUSAL,
        "map-link": importer.LINK_REFUSAL,
        "kapot.txt": importer.LINK_REFUSAL,
        "pijp.txt": importer.SPECIAL_REFUSAL,
    }
    assert _filed_names() == ["brief.txt", "notitie.txt"]
    secret_hash = hashlib.sha256(secret.read_bytes()).hexdigest()
    assert (
        db.session.scalar(sa.select(DocumentVersion).where(DocumentVersion.blob_key == secret_hash))
        is None
    )


def test_a_file_swapped_for_a_link_after_listing_is_not_read(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], tmp_path: Path
) -> None:
    dossier = make_dossier("2025-050")
    secret = tmp_path / "root-only.txt"
    secret.write_text("geheim\n")
    root = tmp_path / "archief"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "brief.txt").write_text("brief\n")
    [(_folder, [listed])] = importer.plan(root / "sub")
    listed.unlink()
    listed.symlink_to(secret)  # swapped between the listing and the reading
    with pytest.raises(DomainError, match="symbolic link"):
        importer.import_file(admin, dossier, listed, None, root=root)
    # A folder swapped for a link to another folder is not followed either.
    elsewhere = tmp_path / "elders"
    elsewhere.mkdir()
    (elsewhere / "brief.txt").write_text("van elders\n")
    shutil.rmtree(root / "sub")
    (root / "sub").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(DomainError, match="symbolic link"):
        importer.import_file(admin, dossier, root / "sub" / "brief.txt", None, root=root)
    db.session.rollback()
    assert _filed_names() == []


def test_a_folder_name_that_is_not_utf8_is_imported_readably(
    app: Flask, admin: User, tmp_path: Path
) -> None:
    root = os.fsencode(tmp_path / "archief")
    os.mkdir(root)
    folder = root + b"/Caf\xe9 contract"  # Windows-1252, as an old file share writes it
    os.mkdir(folder)
    with open(folder + b"/brief \xe9\xe9n.txt", "wb") as file:
        file.write(b"Geachte leverancier,\n")

    result = _import(app, os.fsdecode(root))

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "Cafe-contract: 1 filed" in result.stdout
    dossier = db.session.scalar(sa.select(Dossier))
    assert dossier is not None
    assert (dossier.reference, dossier.title) == ("Cafe-contract", "Café contract")
    assert _filed_names() == ["brief één.txt"]


def test_import_skips_a_file_the_dossier_holds_as_an_older_version(
    app: Flask, admin: User, tmp_path: Path
) -> None:
    folder = tmp_path / "brieven"
    folder.mkdir()
    (folder / "brief.txt").write_text("eerste versie\n")
    assert _import(app, str(folder)).exit_code == 0
    (folder / "brief.txt").write_text("tweede versie\n")
    assert _import(app, str(folder)).exit_code == 0  # version 2 of the same document
    (folder / "kopie van brief.txt").write_text("eerste versie\n")  # the bytes of version 1
    (folder / "nog een kopie.txt").write_text("tweede versie\n")  # the bytes of version 2

    result = _import(app, str(folder), "--json")

    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)["brieven"]
    assert outcome["unchanged"] == ["brief.txt"]
    assert outcome["filed"] == outcome["new_versions"] == outcome["refused"] == []
    document = db.session.scalar(sa.select(Document))
    assert document is not None
    assert dict(outcome["duplicates"]) == {
        "kopie van brief.txt": f"already in the dossier as 'brief' (document {document.id}), "
        "version 1",
        "nog een kopie.txt": f"already in the dossier as 'brief' (document {document.id}), "
        "version 2",
    }
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 1
    text = _import(app, str(folder))
    assert "0 refused, 2 duplicates" in text.stdout
    assert "  duplicate kopie van brief.txt: already in the dossier as 'brief'" in text.stdout


def test_two_copies_in_one_folder_are_filed_once(app: Flask, admin: User, tmp_path: Path) -> None:
    folder = tmp_path / "brieven"
    folder.mkdir()
    (folder / "a.txt").write_text("dezelfde brief\n")
    (folder / "b.txt").write_text("dezelfde brief\n")
    result = _import(app, str(folder), "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)["brieven"]
    assert outcome["filed"] == ["a.txt"]
    assert [name for name, _where in outcome["duplicates"]] == ["b.txt"]
    assert _filed_names() == ["a.txt"]


def test_import_of_a_folder_files_into_a_new_dossier(
    app: Flask, admin: User, corpus: Path, **_: Any
) -> None:
    from dossier import importer

    folder = corpus / "dutch/vng-softwarecatalogus-aanbesteding"
    dossier = importer.find_or_create_dossier(admin, folder, None)
    [(_folder, files)] = importer.plan(folder)
    results = [importer.import_file(admin, dossier, p, None) for p in files]
    db.session.commit()
    assert results == ["filed"] * 18
    kinds = db.session.scalars(sa.select(Document.kind).where(Document.dossier_id == dossier.id))
    # A tender folder: its "Bijlage" files (draft contract, SLA, DPA) are annexes.
    assert set(kinds) == {
        DocumentKind.ANNEX,
        DocumentKind.SLA,
        DocumentKind.PROCESSING_AGREEMENT,
        DocumentKind.MINUTES,
        DocumentKind.OTHER,
    }
    assert dossiers.derived_dates(dossier).max_end_on is None


def test_import_extracts_while_it_files_and_reports_as_before(
    app: Flask, admin: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers start on the first filed files before the drain; the output is unchanged."""
    from dossier import indexing

    root = tmp_path / "2025-031"
    root.mkdir()
    for number in range(6):
        (root / f"brief-{number}.txt").write_text(f"Artikel 1 Brief {number}\n")
    began_before_drain: list[int] = []
    real_extract = indexing.extract
    real_drain = indexing.drain
    extracted = [0]

    def counting_extract(*args: object, **kwargs: object) -> object:
        extracted[0] += 1
        return real_extract(*args, **kwargs)  # type: ignore[arg-type]

    def recording_drain(*args: object, **kwargs: object) -> int:
        began_before_drain.append(extracted[0])
        return real_drain(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(indexing, "extract", counting_extract)
    monkeypatch.setattr(indexing, "drain", recording_drain)
    result = _import(app, str(root))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "2025-031: 6 filed, 0 new versions, 0 unchanged, 0 refused, 0 duplicates"
    )
    assert began_before_drain[0] >= 1  # extraction began while the files were filed
    assert extracted[0] == 6  # and no file was extracted twice
    texts = db.session.scalars(sa.select(DocumentVersion.text)).all()
    assert sorted(texts) == [f"Artikel 1 Brief {number}" for number in range(6)]


def test_import_files_markdown_as_text_with_clauses(
    app: Flask, admin: User, corpus: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "rijksvoorwaarden"
    folder.mkdir()
    names = [
        "ARBIT-2010_BWBR0027935.md",
        "AlgExterneVoorwaarden-Rijksgebouwendienst-2011_BWBR0029013.md",
    ]
    for name in names:
        shutil.copyfile(corpus / "dutch" / name, folder / name)
    (folder / "notitie.txt").write_text("Artikel 1 Notitie\n")
    result = _import(app, str(folder), "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)["rijksvoorwaarden"]
    assert sorted(outcome["filed"]) == sorted([*names, "notitie.txt"])
    assert outcome["refused"] == []
    versions = db.session.scalars(
        sa.select(DocumentVersion).where(DocumentVersion.file_kind == "md")
    ).all()
    assert sorted(v.original_filename for v in versions) == sorted(names)
    for version in versions:  # the import extracted them before it ended
        assert version.text and len(version.clauses) > 10, version.original_filename
        assert (corpus / "dutch" / version.original_filename).stat().st_size == version.size
