"""Woo requests: the statutory deadline (computed by hand below), collecting documents through
the permission-filtered search, assessment, real redaction (the words are gone from the file,
checked with pypdf and PyMuPDF), the untouched original, the inventory and the package, and
the audit trail.

Deadlines by hand (Woo art. 4.4; Algemene termijnenwet): Easter 2026 is 5 April, so Easter
Monday is 6 April, Ascension Day 14 May, Whit Monday 25 May; King's Day 2026 is Monday 27 April.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pymupdf
import pypdf
import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import (
    documents,
    indexing,
    redaction,
    verify,
    woo,
    woo_deadlines,
    woo_marks,
    woo_package,
)
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import (
    Assessment,
    AuditAction,
    AuditEvent,
    Document,
    DocumentKind,
    Dossier,
    GlobalRole,
    MemberRole,
    User,
    WooRequest,
)
from dossier.services import blob_store

TODAY = date(2026, 6, 1)
LETTER = """<html><head><meta charset="utf-8"><title>Brief aan Jan Jansen</title>
<meta name="author" content="Piet Auteur"></head><body>
<h1>Brief over de schoonmaak</h1>
<p>De heer Jan Jansen woont aan de Kerkstraat 12 te Utrecht.</p>
<p>Zijn telefoonnummer is 06-12345678; het contract loopt tot 2027.</p>
<p>De gemeente betaalt per kwartaal.</p>
</body></html>"""
PRIVATE = ["Jan Jansen", "Kerkstraat 12", "06-12345678"]
CORPUS_PDF = (
    "dutch/vng-softwarecatalogus-aanbesteding/Bijlage 8 - Opdracht plan van aanpak versie 0.4.pdf"
)


def _letter_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string=LETTER).write_pdf()


def _file(actor: User, dossier: Dossier, data: bytes, name: str, title: str = "") -> Document:
    with documents.receive(io.BytesIO(data), name) as upload:
        document = documents.file_document(
            actor, dossier, upload, kind=DocumentKind.CORRESPONDENCE, title=title
        )
    db.session.commit()
    return document


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _texts(data: bytes) -> list[str]:
    """The text of a PDF as pypdf and as PyMuPDF extract it, whitespace folded."""
    by_pypdf = " ".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    by_mupdf = redaction.text_of(data)
    return [re.sub(r"\s+", " ", t) for t in (by_pypdf, by_mupdf)]


# The deadline


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 3, 2), date(2026, 3, 30)),  # Monday + 4 weeks: Monday
        (date(2026, 1, 3), date(2026, 2, 2)),  # Saturday + 4 weeks ends Saturday 31 Jan
        (date(2026, 3, 9), date(2026, 4, 7)),  # ends on Easter Monday 6 April
        (date(2026, 3, 30), date(2026, 4, 28)),  # ends on King's Day 27 April
        (date(2026, 4, 16), date(2026, 5, 15)),  # ends on Ascension Day 14 May
        (date(2026, 11, 27), date(2026, 12, 28)),  # ends Friday 25 Dec: 26, 27 too
    ],
)
def test_the_decision_is_due_four_weeks_after_receipt_on_a_working_day(
    handler: User, received: date, due: date
) -> None:
    found = woo.create_request(handler, received, "Krant BV", "Alles", date(2026, 12, 31))
    assert woo_deadlines.deadline(found).decision_due == due
    assert woo_deadlines.deadline(found).first_period_ends == due


def test_postponing_adds_two_weeks_once_and_only_within_the_first_period(
    handler: User, request_: WooRequest
) -> None:
    with pytest.raises(ValidationError):  # told after the first period ended (30 March)
        woo.extend(handler, request_, date(2026, 3, 31), "omvangrijk")
    with pytest.raises(ValidationError):
        woo.extend(handler, request_, date(2026, 3, 20), "  ")
    woo.extend(handler, request_, date(2026, 3, 20), "omvangrijk verzoek")
    assert woo_deadlines.deadline(request_).decision_due == date(2026, 4, 13)  # 30 March + 14 days
    assert woo_deadlines.deadline(request_).first_period_ends == date(2026, 3, 30)
    with pytest.raises(ValidationError):
        woo.extend(handler, request_, date(2026, 3, 21), "nog eens")
    woo.suspend(handler, request_, 10, "zienswijze derde gevraagd")
    # 2 March + 28 + 10 days = 9 April; + 14 days = Thursday 23 April.
    assert woo_deadlines.deadline(request_).decision_due == date(2026, 4, 23)
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "woo_request")
    ).all()
    actions = [e.action for e in events]
    assert actions == [
        AuditAction.WOO_REQUEST_CREATE,
        AuditAction.WOO_REQUEST_EXTEND,
        AuditAction.WOO_REQUEST_SUSPEND,
    ]
    assert events[1].after["decision_due"] == "2026-04-13"
    assert events[2].before == {"decision_due": "2026-04-13"}


def test_the_holidays_of_the_algemene_termijnenwet() -> None:
    holidays = [date(2026, 1, 1), date(2026, 4, 6), date(2026, 4, 27), date(2026, 5, 5)]
    holidays += [date(2026, 5, 14), date(2026, 5, 25), date(2026, 12, 25), date(2026, 12, 26)]
    assert all(woo_deadlines.is_holiday(day) for day in holidays)
    assert woo_deadlines.is_holiday(date(2025, 4, 26))  # King's Day 2025: the 27th was a Sunday
    assert not woo_deadlines.is_holiday(date(2026, 4, 3))  # Good Friday is not in the Act
    assert woo_deadlines.next_working_day(date(2026, 12, 25)) == date(2026, 12, 28)


def test_a_request_received_in_the_future_or_without_requester_is_refused(
    handler: User,
) -> None:
    with pytest.raises(ValidationError):
        woo.create_request(handler, date(2026, 6, 2), "Krant BV", "Alles", TODAY)
    with pytest.raises(ValidationError):
        woo.create_request(handler, TODAY, " ", "Alles", TODAY)


# Collecting, through the permission filter


def test_a_handler_collects_only_documents_they_may_read(
    app: Flask,
    handler: User,
    request_: WooRequest,
    make_dossier: Callable[..., Dossier],
    admin: User,
    client_for: Callable[..., object],
) -> None:
    readable = make_dossier("WOO-001", members={handler: MemberRole.READER})
    hidden = make_dossier("WOO-002")
    mine = _file(admin, readable, b"Schoonmaak kantoren canarywoord\n", "a.txt", "Brief A")
    theirs = _file(admin, hidden, b"Schoonmaak kantoren canarywoord\n", "b.txt", "Brief B")
    indexing.drain()
    page = client_for(handler).get(f"/woo/{request_.id}?q=canarywoord")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Brief A" in body and "Brief B" not in body
    # Posting the hidden id anyway adds nothing, not even the readable one with it.
    answer = client_for(handler).post(
        f"/woo/{request_.id}/documents", data={"documents": [str(mine.id), str(theirs.id)]}
    )
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(WooRequest, request_.id).items == []
    with pytest.raises(ValidationError):
        woo.collect(handler, request_, [theirs.id])
    added = woo.collect(handler, request_, [mine.id])
    db.session.commit()
    assert [(i.number, i.document_id, i.version.number) for i in added] == [(1, mine.id, 1)]
    assert woo.collect(handler, request_, [mine.id]) == []  # already collected
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.WOO_DOCUMENT_ADD)
    ).one()
    assert event.after == {"document_id": mine.id, "version": 1, "number": 1}
    assert event.dossier_id == readable.id


def test_a_document_no_longer_readable_is_hidden_and_blocks_the_exports(
    handler: User,
    request_: WooRequest,
    make_dossier: Callable[..., Dossier],
    admin: User,
    make_user: Callable[..., User],
    client_for: Callable[..., object],
) -> None:
    colleague = make_user("woo-collega@example.org", GlobalRole.WOO, "Collega")
    readable = make_dossier("WOO-003", members={handler: MemberRole.READER})
    document = _file(admin, readable, b"Geheime afspraak\n", "c.txt", "Afspraak C")
    woo.collect(handler, request_, [document.id])
    db.session.commit()
    client = client_for(colleague)
    page = client.get(f"/woo/{request_.id}").get_data(as_text=True)
    assert "Afspraak C" not in page and "1 document van dit verzoek" in page
    assert client.get(f"/woo/{request_.id}/inventory.csv").status_code == 403
    assert client.get(f"/woo/{request_.id}/package.zip").status_code == 403
    item = request_.items[0]
    assert client.get(f"/woo/{request_.id}/documents/{item.id}").status_code == 404
    assert client_for(handler).get(f"/woo/{request_.id}/documents/{item.id}").status_code == 200


# Redaction


def _partly_public(
    handler: User, request_: WooRequest, dossier: Dossier, document: Document
) -> object:
    woo.collect(handler, request_, [document.id])
    item = request_.items[-1]
    woo.assess(handler, item, Assessment.PARTLY_PUBLIC, [], "persoonsgegevens gelakt")
    return item


def test_redacted_words_are_gone_from_the_file_and_the_ground_is_printed(
    handler: User,
    request_: WooRequest,
    make_dossier: Callable[..., Dossier],
    admin: User,
) -> None:
    dossier = make_dossier("WOO-004", members={handler: MemberRole.READER})
    original = _letter_pdf()
    document = _file(admin, dossier, original, "brief.pdf", "Brief aan bewoner")
    item = _partly_public(handler, request_, dossier, document)
    for phrase in PRIVATE:
        assert woo_marks.mark_phrase(handler, item, phrase, "5.1.2e") == 1
    with pytest.raises(ValidationError):
        woo_marks.mark_phrase(handler, item, "De gemeente", "9.9.9z")  # no such ground
    assert woo_marks.mark_phrase(handler, item, "niet in de brief", "5.1.2e") == 0
    key = woo_marks.make_redacted(handler, item)
    db.session.commit()
    published = woo_marks.redacted_bytes(item)
    assert _sha(published) == key
    for text in _texts(published):
        for phrase in PRIVATE:
            for word in phrase.split():
                if word not in ("12",):  # "12" also occurs in "06-12345678", itself redacted
                    assert word not in text, (word, text)
        assert "5.1.2e" in text  # the ground is printed in the box
        assert "De gemeente betaalt per kwartaal." in text  # the rest stays
    # The original version is untouched, and the published file has no metadata.
    version = document.current_version
    with documents.open_version(version) as stream:
        assert _sha(stream.read()) == version.blob_key == _sha(original)
    info = pypdf.PdfReader(io.BytesIO(published)).metadata or {}
    assert not any(info.get(k) for k in ("/Author", "/Title", "/Producer", "/Creator"))
    assert b"Piet Auteur" not in published and b"Jan Jansen" not in published
    actions = [
        e.action
        for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.dossier_id == dossier.id)
        )
    ]
    assert actions.count(AuditAction.WOO_PASSAGE_ADD) == 3
    assert AuditAction.WOO_REDACT in actions and AuditAction.WOO_ASSESS in actions
    indexing.drain()
    # With no grace period any unreferenced blob is a problem: the derived one is referenced.
    report = verify.run(blob_store(), grace=timedelta(0))
    assert report.problems == [] and report.notes == []


def test_a_real_pdf_from_the_corpus_is_redacted_by_phrase_and_by_area(
    handler: User,
    request_: WooRequest,
    make_dossier: Callable[..., Dossier],
    admin: User,
    corpus: Path,
) -> None:
    source = (corpus / CORPUS_PDF).read_bytes()
    dossier = make_dossier("WOO-005", members={handler: MemberRole.READER})
    document = _file(admin, dossier, source, "plan.pdf", "Plan van aanpak")
    item = _partly_public(handler, request_, dossier, document)
    assert woo_marks.mark_phrase(handler, item, "VNG Realisatie", "5.1.2i") >= 19
    # The version date on page 2, as an area found on the page and marked by hand.
    (found,) = redaction.find_phrase(source, "18 oktober 2024", [2])
    area = redaction.Area(2, found.x0 - 1, found.y0 - 1, found.x1 + 1, found.y1 + 1)
    woo_marks.mark_area(handler, item, area, "5.1.2e")
    with pytest.raises(ValidationError):
        woo_marks.mark_area(handler, item, redaction.Area(2, 10, 10, 10.5, 10.5), "5.1.2e")
    woo_marks.make_redacted(handler, item)
    db.session.commit()
    published = woo_marks.redacted_bytes(item)
    for text in _texts(published):
        assert "VNG Realisatie" not in text and "vng realisatie" not in text.lower()
        assert "18 oktober 2024" not in text
        assert "Versiebeheer" in text and "5.1.2i" in text
    assert b"Jeroen de Ruig" not in published  # the author in the original's metadata
    assert pymupdf.open(stream=published, filetype="pdf").metadata["author"] == ""
    with documents.open_version(document.current_version) as stream:
        assert stream.read() == source
    assert woo.item_grounds(item) == ["5.1.2e", "5.1.2i"]


def test_a_phrase_marked_on_many_pages_is_one_line_and_one_removal(
    handler: User,
    request_: WooRequest,
    make_dossier: Callable[..., Dossier],
    admin: User,
    corpus: Path,
    client_for: Callable[..., object],
) -> None:
    """A phrase marked on every page lists as one line (with its pages), not a line per
    occurrence, and goes in one step; the page lists only its own marks."""
    dossier = make_dossier("WOO-012", members={handler: MemberRole.READER})
    source = (corpus / CORPUS_PDF).read_bytes()
    document = _file(admin, dossier, source, "plan.pdf", "Plan van aanpak")
    item = _partly_public(handler, request_, dossier, document)
    marked = woo_marks.mark_phrase(handler, item, "VNG Realisatie", "5.1.2i")
    # Marking it again finds the same places and adds no second mark on any of them.
    assert woo_marks.mark_phrase(handler, item, "VNG Realisatie", "5.1.2i") == marked
    assert len(item.passages) == marked
    (found,) = redaction.find_phrase(source, "18 oktober 2024", [2])
    woo_marks.mark_area(handler, item, found, "5.1.2e")
    db.session.commit()
    groups = woo_marks.mark_groups(item)
    assert [(g.phrase, g.ground, g.count) for g in groups] == [
        ("VNG Realisatie", "5.1.2i", marked),
        ("", "5.1.2e", 1),
    ]
    client = client_for(handler)
    base = f"/woo/{request_.id}/documents/{item.id}"
    page = client.get(f"{base}?page=2").get_data(as_text=True)
    on_page_2 = sum(p.page == 2 for p in item.passages)
    assert 0 < on_page_2 < marked
    assert page.count("Markering verwijderen") == on_page_2  # a remove button per mark here
    assert f"{marked} markeringen" in page
    removed = client.post(
        f"{base}/passages/remove-phrase?page=2",
        data={"phrase": "VNG Realisatie", "ground": "5.1.2i"},
        follow_redirects=True,
    )
    assert f"{marked} markeringen verwijderd" in removed.get_data(as_text=True)
    db.session.expire_all()
    assert [(p.phrase, p.ground) for p in item.passages] == [("", "5.1.2e")]
    removals = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.WOO_PASSAGE_REMOVE)
    ).all()
    assert len(removals) == marked  # each mark's removal is in the audit trail


def test_a_text_document_is_redacted_on_a_pdf_of_its_text(
    handler: User, request_: WooRequest, make_dossier: Callable[..., Dossier], admin: User
) -> None:
    dossier = make_dossier("WOO-006", members={handler: MemberRole.READER})
    document = _file(admin, dossier, b"Gesprek met Karel Klaassen over de prijs.\n", "g.txt")
    indexing.drain()  # the text is extracted
    item = _partly_public(handler, request_, dossier, document)
    assert woo_marks.mark_phrase(handler, item, "Karel Klaassen", "5.1.2e") == 1
    woo_marks.make_redacted(handler, item)
    for text in _texts(woo_marks.redacted_bytes(item)):
        assert "Klaassen" not in text and "over de prijs" in text


def test_a_document_without_text_or_pdf_cannot_be_redacted(
    handler: User, request_: WooRequest, make_dossier: Callable[..., Dossier], admin: User
) -> None:
    dossier = make_dossier("WOO-007", members={handler: MemberRole.READER})
    document = _file(admin, dossier, b"nog niet geextraheerd\n", "n.txt")  # no drain: no text
    item = _partly_public(handler, request_, dossier, document)
    with pytest.raises(woo_marks.NotRedactable):
        woo_marks.mark_phrase(handler, item, "nog", "5.1.2e")
    with pytest.raises(DomainError):
        woo_marks.make_redacted(handler, item)  # nothing marked


# Inventory, package, decision


def test_the_inventory_and_the_package(
    handler: User, request_: WooRequest, make_dossier: Callable[..., Dossier], admin: User
) -> None:
    dossier = make_dossier("WOO-008", members={handler: MemberRole.READER})
    letter = _file(admin, dossier, _letter_pdf(), "brief.pdf", "Brief aan bewoner")
    public = _file(admin, dossier, _letter_pdf(), "brief2.pdf", "Openbare brief")
    secret = _file(admin, dossier, b"Offerte met prijzen\n", "offerte.txt", "Offerte")
    item = _partly_public(handler, request_, dossier, letter)
    woo.collect(handler, request_, [public.id, secret.id])
    second, third = request_.items[1], request_.items[2]
    assert woo.package_problems(request_)  # unassessed, not redacted, no letter
    with pytest.raises(ValidationError):
        woo.assess(handler, third, Assessment.NOT_PUBLIC, [], "")  # a ground is required
    woo.assess(handler, third, Assessment.NOT_PUBLIC, ["5.1.2f", "5.1.1c"], "")
    woo.assess(handler, second, Assessment.PUBLIC, [], "")
    woo_marks.mark_phrase(handler, item, "Jan Jansen", "5.1.2e")
    with pytest.raises(DomainError):
        woo_package.write_package(request_, io.BytesIO(), "nl")
    woo_marks.make_redacted(handler, item)
    woo.set_decision_text(handler, request_, "Besluit: deels openbaar.")
    buffer = io.BytesIO()
    published = woo_package.write_package(request_, buffer, "nl")
    assert published == [item, second]
    woo_package.record_export(handler, request_, published)
    with zipfile.ZipFile(buffer) as archive:
        names = sorted(archive.namelist())
        assert names == [
            "besluit.txt",
            "documenten/0001-Brief aan bewoner.pdf",
            "documenten/0002-Openbare brief.pdf",
            "inventarislijst.csv",
            "inventarislijst.xlsx",
        ]
        redacted = archive.read("documenten/0001-Brief aan bewoner.pdf")
        assert all("Jansen" not in t for t in _texts(redacted))
        public_copy = archive.read("documenten/0002-Openbare brief.pdf")
        assert b"Piet Auteur" not in public_copy and "Jan Jansen" in _texts(public_copy)[1]
        inventory = archive.read("inventarislijst.csv").decode("utf-8-sig")
        assert archive.read("besluit.txt") == b"Besluit: deels openbaar."
    lines = inventory.splitlines()
    assert len(lines) == 4
    assert "5.1.2e" in lines[1] and "Brief aan bewoner" in lines[1]
    assert "5.1.1c, 5.1.2f" in lines[3] and "Offerte" in lines[3]
    woo.decide(handler, request_, TODAY)
    with pytest.raises(DomainError):
        woo.set_decision_text(handler, request_, "anders")
    actions = {e.action for e in db.session.scalars(sa.select(AuditEvent))}
    assert {AuditAction.WOO_EXPORT, AuditAction.WOO_REQUEST_DECIDE} <= actions


def test_the_report_and_the_dashboard_show_the_deadlines(
    app: Flask,
    handler: User,
    make_user: Callable[..., User],
    client_for: Callable[..., object],
) -> None:
    app.config["REPORT_DATE"] = "2026-03-25"
    soon = woo.create_request(handler, date(2026, 3, 2), "Krant BV", "Bijna te laat", TODAY)
    woo.create_request(handler, date(2026, 3, 20), "Burger", "Nog tijd", TODAY)
    db.session.commit()
    from dossier import reports

    table = reports.table(handler, "woo", date(2026, 3, 25))
    assert [row[0] for row in table.rows] == [f"Woo-{soon.id}", f"Woo-{soon.id + 1}"]
    assert table.rows[0][5] == date(2026, 3, 30) and table.rows[0][8] == 5
    assert reports.table(make_user("iemand@example.org"), "woo", TODAY).rows == []
    dashboard = client_for(handler).get("/overview").get_data(as_text=True)
    assert "Bijna te laat" in dashboard and "Nog tijd" not in dashboard
    from dossier.cli import cli

    result = app.test_cli_runner().invoke(
        cli, ["report", "woo", "--as", handler.email, "--format", "csv", "--date", "2026-03-25"]
    )
    assert result.exit_code == 0, result.output
    assert "Bijna te laat" in result.output and "2026-03-30" in result.output


def test_the_redaction_pages_work_in_the_browser_shape(
    handler: User,
    request_: WooRequest,
    make_dossier: Callable[..., Dossier],
    admin: User,
    client_for: Callable[..., object],
) -> None:
    """The pages and forms of the flow, as the browser test drives them, without a browser."""
    dossier = make_dossier("WOO-009", members={handler: MemberRole.READER})
    document = _file(admin, dossier, _letter_pdf(), "brief.pdf", "Brief aan bewoner")
    woo.collect(handler, request_, [document.id])
    db.session.commit()
    item = request_.items[0]
    client = client_for(handler)
    listing = client.get("/woo")
    assert listing.status_code == 200 and "Schoonmaakcontract" in listing.get_data(as_text=True)
    base = f"/woo/{request_.id}/documents/{item.id}"
    assert client.post(f"{base}/assess", data={"assessment": "partly_public"}).status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert 'viewBox="0 0 ' in page and "pages/1.png" in page
    image = client.get(f"{base}/pages/1.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    assert client.get(f"{base}/pages/9.png").status_code == 404
    found = redaction.find_phrase(_letter_pdf(), "Kerkstraat 12")[0]
    area = {"mode": "area", "ground": "5.1.2e", "x0": found.x0, "y0": found.y0}
    area |= {"x1": found.x1, "y1": found.y1}
    assert client.post(f"{base}/passages?page=1", data=area).status_code == 302
    bad = client.post(f"{base}/passages?page=1", data={**area, "x1": "abc"}, follow_redirects=True)
    assert bad.status_code == 200 and "x1" in bad.get_data(as_text=True)
    assert client.post(f"{base}/redact").status_code == 302
    download = client.get(f"{base}/redacted.pdf")
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    assert all("Kerkstraat" not in t for t in _texts(download.data))
    assert blob_store().exists(item.redacted_blob_key)


def test_an_encrypted_pdf_gets_a_clear_message_not_an_error(
    handler: User,
    request_: WooRequest,
    make_dossier: Callable[..., Dossier],
    admin: User,
    corpus: Path,
    client_for: Callable[..., object],
) -> None:
    data = (corpus / "pdf-malformed/derived/encrypted_user_password_openpassword.pdf").read_bytes()
    dossier = make_dossier("WOO-010", members={handler: MemberRole.READER})
    document = _file(admin, dossier, data, "versleuteld.pdf", "Versleuteld")
    item = _partly_public(handler, request_, dossier, document)
    db.session.commit()
    with pytest.raises(woo_marks.NotRedactable):
        woo_marks.mark_phrase(handler, item, "geheim", "5.1.2e")
    client = client_for(handler)
    base = f"/woo/{request_.id}/documents/{item.id}"
    page = client.get(base)
    assert page.status_code == 200 and "niet kan worden geopend" in page.get_data(as_text=True)
    answer = client.post(
        f"{base}/passages",
        data={"mode": "phrase", "phrase": "x", "ground": "5.1.2e"},
        follow_redirects=True,
    )
    assert answer.status_code == 200 and "niet kan worden geopend" in answer.get_data(as_text=True)
    assert client.get(f"{base}/pages/1.png").status_code == 404


def test_an_area_drawn_on_a_rotated_page_is_refused() -> None:
    """The picture shows a rotated page turned, while a redaction takes the page's own
    coordinates: a drawn box would black out another place. Its words can still be marked."""
    document = pymupdf.open()
    for rotation in (0, 90):
        page = document.new_page()
        page.insert_text((72, 72), "Geheime passage")
        page.set_rotation(rotation)
    data = document.tobytes()
    document.close()
    upright = redaction.check_area(data, redaction.Area(1, 60, 50, 200, 90))
    assert (upright.page, upright.x0) == (1, 60)
    with pytest.raises(redaction.RotatedPage):
        redaction.check_area(data, redaction.Area(2, 60, 50, 200, 90))
