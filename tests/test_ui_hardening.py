"""Findings of the UI hardening round that a test client can see: the site icon, the members
page (names, messages), the activity report's document links, the dossier's own deadline table
and the cumulative deadline counts. What needs a browser (page widths, the folding menu, chart
labels, the upload form's script) is in tests/e2e/test_layout.py."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date

import sqlalchemy as sa
from flask import Flask

from dossier import documents
from dossier.extensions import db
from dossier.models import (
    DocumentKind,
    Dossier,
    DossierStatus,
    ExtractionStatus,
    GlobalRole,
    MemberRole,
    Membership,
    User,
)


def _section(page: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by `heading_id`."""
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</section>", start)]


def test_favicon_is_served_to_everyone(app: Flask, make_user: Callable[..., User]) -> None:
    for client in (app.test_client(), app.test_client(user=make_user())):
        response = client.get("/favicon.ico")
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
        response.close()
    page = app.test_client(user=make_user()).get("/").text
    assert '<link rel="icon" href="/favicon.ico"' in page


def test_a_member_is_found_by_name_and_the_message_names_address_and_role(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    lies = make_user("lies.lezer@example.org", name="Lies Lezer")
    make_dossier("2026-010")
    client = app.test_client(user=admin)
    response = client.post(
        "/dossiers/2026-010/members",
        data={"principal": "  lies lezer ", "role": "reader"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == lies.id))
    assert membership is not None and membership.role == MemberRole.READER
    assert "De rol van lies.lezer@example.org is nu Lezer." in response.text
    assert "Lies.lezer@" not in response.text  # the address is never capitalised

    again = client.post(
        "/dossiers/2026-010/members",
        data={"principal": "lies.lezer@example.org", "role": "reader"},
        follow_redirects=True,
    )
    assert "De rol van lies.lezer@example.org was al Lezer; er is niets veranderd." in again.text
    changed = client.post(
        f"/dossiers/2026-010/members/{membership.id}",
        data={"role": "owner"},
        follow_redirects=True,
    )
    assert "De rol van lies.lezer@example.org is nu Contracteigenaar." in changed.text
    removed = client.post(
        f"/dossiers/2026-010/members/{membership.id}/remove", follow_redirects=True
    )
    assert "Uit dit dossier verwijderd: lies.lezer@example.org." in removed.text
    assert "Lies.lezer@" not in changed.text + removed.text


def test_a_name_two_users_share_is_refused_not_guessed(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    jans = [make_user(f"jan.{n}@example.org", name="Jan de Vries") for n in (1, 2)]
    make_dossier("2026-011")
    client = app.test_client(user=admin)
    response = client.post(
        "/dossiers/2026-011/members", data={"principal": "Jan de Vries", "role": "reader"}
    )
    assert response.status_code == 400
    assert "meerdere gebruikers met de naam Jan de Vries" in response.text
    granted = sa.select(Membership).where(Membership.user_id.in_([j.id for j in jans]))
    assert db.session.scalars(granted).all() == []
    nobody = client.post(
        "/dossiers/2026-011/members", data={"principal": "Piet Puk", "role": "reader"}
    )
    assert "geen gebruiker of groep met de naam Piet Puk" in nobody.text


def test_the_activity_report_links_documents_by_title_not_by_id(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier("2026-020")
    with documents.receive(io.BytesIO(b"Gescande brief\n"), "scan.txt") as upload:
        document = documents.file_document(
            admin, dossier, upload, kind=DocumentKind.OTHER, title="Gescande brief"
        )
    document.current_version.extraction_status = ExtractionStatus.NO_TEXT_LAYER
    db.session.commit()
    page = app.test_client(user=admin).get("/reports/activity").text
    section = _section(page, "h-extraction")
    link = f'<a href="/dossiers/2026-020/documents/{document.id}">Gescande brief</a>'
    assert link in section
    headings = re.findall(r"<th scope=\"col\"[^>]*>([^<]*)</th>", section)
    assert headings == ["Kenmerk", "Titel", "Bestand", "Tekst", "Toelichting"]
    assert f"<td>{document.id}</td>" not in section


def test_a_dossiers_own_deadline_table_does_not_repeat_the_dossier(
    app: Flask, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    app.config["REPORT_DATE"] = "2026-01-15"
    manager = make_user("manager@example.org", GlobalRole.BEHEERDER)
    make_dossier(
        "2026-030",
        {manager: MemberRole.MANAGER},
        title="Catering hoofdkantoor",
        status=DossierStatus.ACTIVE,
        start_on=date(2025, 1, 1),
        end_on=date(2026, 6, 30),
    )
    client = app.test_client(user=manager)
    section = _section(client.get("/dossiers/2026-030").text, "h-deadlines")
    assert "/deadlines/2026-030/end/2026-06-30" in section  # the deadlines are there
    assert ">Dossier</th>" not in section
    assert "Catering hoofdkantoor" not in section


def test_deadline_counts_say_that_they_are_cumulative(
    app: Flask, make_user: Callable[..., User]
) -> None:
    client = app.test_client(user=make_user())
    for url in ("/overview", "/reports/deadlines"):
        page = client.get(url).text
        note = "Geteld vanaf vandaag: elk aantal omvat de kortere perioden ervoor."
        assert note in page, url
        assert 'aria-describedby="window-note"' in page, url
