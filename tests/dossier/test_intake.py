"""The rule that reads a dossier reference from a mail (plus-address or subject), and that it
never misfires on dates or bare numbers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from dossier import intake
from dossier.models import Dossier


@pytest.fixture
def known(app: Flask, make_dossier: Callable[..., Dossier]) -> None:
    make_dossier("2023-014")
    make_dossier("2023-01-14")  # a reference that looks like a date
    make_dossier("ICT-7")


def _headers(subject: str = "", to: str = "contracten@gemeente.example", **more: str) -> dict:
    return {"subject": subject, "to": to, **more}


@pytest.mark.any_database
@pytest.mark.parametrize(
    ("headers", "reference"),
    [
        (_headers(to="contracten+2023-014@gemeente.example"), "2023-014"),
        (_headers(to="Contractbeheer <contracten+ict-7@gemeente.example>"), "ICT-7"),
        (_headers(cc="a@b.example, contracten+2023-014@gemeente.example"), "2023-014"),
        (_headers(**{"delivered-to": "contracten+2023-014@gemeente.example"}), "2023-014"),
        (_headers("Re: [2023-014] planning"), "2023-014"),
        (_headers("Fwd: vraag over dossier 2023-014."), "2023-014"),
        (_headers("Dossier: 2023-014 - offerte"), "2023-014"),
        (_headers("dossiernummer 2023-014"), "2023-014"),
        (_headers("[2023-01-14]"), "2023-01-14"),
        # The plus-address and the subject agree.
        (_headers("[2023-014]", to="contracten+2023-014@gemeente.example"), "2023-014"),
    ],
)
def test_a_named_reference_is_matched(known: None, headers: dict, reference: str) -> None:
    found = intake.match_mail(headers)
    assert found.dossier is not None and found.dossier.reference == reference


@pytest.mark.any_database
@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        # Dates and bare references in running text are never read as a reference.
        (_headers("Overleg 2023-01-14 over 2023-014"), "no dossier reference"),
        (_headers("Factuur 2023-014 van 14-01-2023"), "no dossier reference"),
        (_headers("Vergadering op 2023-01-14"), "no dossier reference"),
        (_headers("[2099-999] onbekend"), "no dossier with reference 2099-999"),
        (_headers(to="contracten+2099-999@gemeente.example"), "no dossier with reference 2099"),
        # An unknown plus-address wins over a subject that names a dossier: it is a mistake.
        (
            _headers("[2023-014]", to="contracten+2099-999@gemeente.example"),
            "no dossier with reference 2099-999",
        ),
        (_headers("[2023-014] en dossier ICT-7"), "several dossiers: 2023-014, ICT-7"),
        (_headers(""), "no dossier reference"),
    ],
)
def test_no_or_several_references_queue_the_mail(
    app: Flask, known: None, headers: dict, reason: str
) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = "en"  # the reason is stored in this language
    found = intake.match_mail(headers)
    assert found.dossier is None and reason in found.reason


@pytest.mark.any_database
def test_headers_are_read_within_the_limits_of_an_uploaded_mail() -> None:
    raw = b"Subject: =?utf-8?q?Offerte_=E2=82=AC_10?=\r\nTo: x+2023-014@y.example\r\n\r\nbody"
    assert intake.read_headers(raw)["subject"] == "Offerte € 10"
    assert intake.read_headers(b"Subject: x\r\n" + b"X: " + b"a" * 70_000 + b"\r\n\r\n") == {}
    many = b"".join(b"X-%d: 1\r\n" % i for i in range(600)) + b"\r\n"
    assert intake.read_headers(many) == {}


@pytest.mark.parametrize(
    ("subject", "filename"),
    [
        ("Re: [2023-014] planning", "Re 2023-014 planning.eml"),
        ("../../etc/passwd", "etc passwd.eml"),
        ("Offerte\u202e fase 2 <script>", "Offerte fase 2 script.eml"),
        ("", "mail.eml"),
    ],
)
def test_a_mail_is_filed_under_a_safe_name_from_its_subject(subject: str, filename: str) -> None:
    assert intake.mail_filename(subject) == filename
