"""Documents and versions: list, file (the web's upload pipeline and checks), read with its
versions (ETag), add a version, a version's extraction status, download."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask_smorest import Blueprint

from dossier import access, documents, downloads
from dossier.api.common import errors, page_of, require_content_type, user
from dossier.api.problems import Problem
from dossier.api.schemas import (
    DocumentFilterSchema,
    DocumentSchema,
    FileSchema,
    UploadFormSchema,
    VersionFormSchema,
    VersionSchema,
)
from dossier.errors import UploadRefused, ValidationError
from dossier.extensions import db
from dossier.models import Confidentiality, Direction, Document, DocumentKind, DocumentVersion
from storage import StorageFull, TooLarge

blp = Blueprint("api_documents", __name__, description="Documents and their versions")
MULTIPART = "multipart/form-data"


def _document(reference: str, document_id: int) -> Document:
    dossier = access.get_dossier_or_404(user(), reference)
    return access.get_document_or_404(user(), dossier, document_id)


def _location(document: Document) -> str:
    return url_for(
        "api_documents.get_document",
        reference=document.dossier.reference,
        document_id=document.id,
    )


def _not_filed(error: Exception) -> Problem:
    """A refused upload: 413 for a file over the size limit, 422 for everything else (its type,
    its content, the dossier archived), with the reason the web page gives."""
    status = 413 if isinstance(error.__cause__, TooLarge) else 422
    return Problem(status, f"The file was not filed: {error}")


def _storage_full() -> Problem:
    return Problem(507, "The document store is full; nothing was filed.")


@blp.route("/dossiers/<reference>/documents", methods=["GET"])
@blp.arguments(DocumentFilterSchema, location="query")
@blp.response(200, DocumentSchema(many=True))
@blp.paginate()
@errors(blp, 422)
def list_documents(
    filters: dict[str, Any], reference: str, pagination_parameters: Any
) -> list[Document]:
    """The documents of a dossier the token's user may read (confidential ones only for the
    dossier's beheerder, manager and owner), newest first."""
    dossier = access.get_dossier_or_404(user(), reference)
    query = access.visible_documents(user()).where(Document.dossier_id == dossier.id)
    if "kind" in filters:
        query = query.where(Document.kind == DocumentKind(filters["kind"]))
    return page_of(query.order_by(Document.id.desc()), pagination_parameters)


@blp.route("/dossiers/<reference>/documents", methods=["POST"])
@blp.arguments(UploadFormSchema, location="form")
@blp.arguments(FileSchema, location="files")
@blp.response(201, DocumentSchema)
@errors(blp, 413, 415, 422, 507)
def file_document(form: dict[str, Any], files: dict[str, Any], reference: str) -> Any:
    """File a document: the same size limit, type checks and durable storage as an upload on
    the web page; its text and clauses are searchable once extraction is done (see the
    version's extraction_status)."""
    dossier = access.get_dossier_or_404(user(), reference)
    access.require(access.can_file(user(), dossier))
    require_content_type(MULTIPART)
    kind = DocumentKind(form["kind"])
    access.require(access.can_file(user(), dossier, kind))
    upload = files["file"]
    try:
        with documents.receive(upload.stream, upload.filename) as received:
            document = documents.file_document(
                user(),
                dossier,
                received,
                kind=kind,
                title=form.get("title", ""),
                document_date=form.get("document_date"),
                direction=Direction(form["direction"]) if form.get("direction") else None,
                correspondent=form.get("correspondent", ""),
                confidentiality=Confidentiality(form["confidentiality"]),
                comment=form.get("comment", ""),
            )
            db.session.commit()
    except (UploadRefused, ValidationError) as error:
        db.session.rollback()
        raise _not_filed(error) from error
    except StorageFull as error:
        db.session.rollback()
        raise _storage_full() from error
    return document, 201, {"Location": _location(document)}


@blp.route("/dossiers/<reference>/documents/<int:document_id>", methods=["GET"])
@blp.etag
@blp.response(200, DocumentSchema)
@errors(blp)
def get_document(reference: str, document_id: int) -> Document:
    """A document's details and every version."""
    return _document(reference, document_id)


@blp.route("/dossiers/<reference>/documents/<int:document_id>/versions", methods=["POST"])
@blp.arguments(VersionFormSchema, location="form")
@blp.arguments(FileSchema, location="files")
@blp.response(201, VersionSchema)
@errors(blp, 413, 415, 422, 507)
def add_version(
    form: dict[str, Any], files: dict[str, Any], reference: str, document_id: int
) -> Any:
    """File a new version of a document (numbers stay contiguous under concurrent uploads)."""
    document = _document(reference, document_id)
    access.require(access.can_add_version(user(), document))
    require_content_type(MULTIPART)
    upload = files["file"]
    try:
        with documents.receive(upload.stream, upload.filename) as received:
            version = documents.add_version(
                user(), document, received, comment=form.get("comment", "")
            )
            db.session.commit()
    except UploadRefused as error:
        db.session.rollback()
        raise _not_filed(error) from error
    except StorageFull as error:
        db.session.rollback()
        raise _storage_full() from error
    location = url_for(
        "api_documents.get_version",
        reference=reference,
        document_id=document.id,
        number=version.number,
    )
    return version, 201, {"Location": location}


@blp.route(
    "/dossiers/<reference>/documents/<int:document_id>/versions/<int:number>", methods=["GET"]
)
@blp.response(200, VersionSchema)
@errors(blp)
def get_version(reference: str, document_id: int, number: int) -> DocumentVersion:
    """One version, with its extraction status (pending until its text and clauses are in)."""
    return access.get_version_or_404(user(), _document(reference, document_id), number)


@blp.route(
    "/dossiers/<reference>/documents/<int:document_id>/versions/<int:number>/download",
    methods=["GET"],
)
@blp.doc(
    responses={
        "200": {
            "description": "The stored bytes, under the type detected when it was filed",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
@errors(blp)
def download(reference: str, document_id: int, number: int) -> Response:
    """The bytes of a version (a confidential document's download is audited)."""
    document = _document(reference, document_id)
    version = access.get_version_or_404(user(), document, number)
    return downloads.send_version(user(), version, as_attachment=True)
