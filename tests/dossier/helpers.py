"""Helpers shared by several test modules of tests/dossier and tests/dossier/web: reading a
section of a page, uploading through the filing form, switching a client to English, text that
holds control and bidi-override characters, audit events and rows of the audit viewer."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import sqlalchemy as sa
from flask.testing import FlaskClient

from dossier.extensions import db
from dossier.models import AuditEvent

# Pages


def _section(page: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by `heading_id`."""
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</section>", start)]


# Uploads through the filing form

VNG = "dutch/vng-softwarecatalogus-aanbesteding"


def _upload(client: FlaskClient, url: str, path: Path, **fields: str) -> str:
    with path.open("rb") as handle:
        response = client.post(
            url,
            data={"file": (handle, path.name), "confidentiality": "normal", **fields},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def _file(client: FlaskClient, reference: str, data: bytes, filename: str):
    return client.post(
        f"/dossiers/{reference}/documents/new",
        data={
            "file": (io.BytesIO(data), filename),
            "kind": "contract",
            "confidentiality": "normal",
        },
        content_type="multipart/form-data",
    )


# Responses, and the interface in English


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _english(client: FlaskClient) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 302


# Text as it may come in: a vertical tab, a right-to-left override, a NEL

DIRTY = "Acme\x0bB.V.\u202e\x85"
LINE = "Acme B.V."


# The audit trail


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _rows(text: str) -> int:
    return len(re.findall(r"<td class=\"audit-values\"", text)) // 2
