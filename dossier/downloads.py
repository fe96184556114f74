"""A stored version sent to the one who asked, the same from the pages and the API."""

from __future__ import annotations

from flask import Response, send_file

from dossier import database, documents
from dossier.models import DocumentVersion, User


def send_version(reader: User, version: DocumentVersion, as_attachment: bool) -> Response:
    """The bytes of `version` under our own type, never cached; a read of a confidential
    version is audited first, in a short write transaction of its own."""
    stream = documents.open_version(version)
    if version.document.is_confidential:
        try:
            with database.writing():
                documents.record_read(reader, version)
        except BaseException:
            stream.close()
            raise
    response = send_file(
        stream,
        mimetype=version.mime_type,
        as_attachment=as_attachment,
        download_name=version.original_filename,
        etag=version.blob_key,
        max_age=0,
    )
    if "charset=" in version.mime_type.lower():
        # The stored type names the charset detection found; werkzeug would append a second
        # "; charset=utf-8" to any text type, which for cp1252 text contradicts the first.
        response.content_type = version.mime_type
    response.headers["Cache-Control"] = "no-store"
    return response
