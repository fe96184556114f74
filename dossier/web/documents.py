"""Filing documents, adding versions, showing history and downloading any version."""

from __future__ import annotations

import tempfile

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from dossier import access, crash, documents
from dossier.errors import UploadRefused
from dossier.extensions import db
from dossier.models import Confidentiality, Direction, DocumentKind
from dossier.web.forms import UploadForm, VersionForm
from storage import StorageFull


class InsufficientStorage(HTTPException):
    """507: the blob store is full; nothing was filed."""

    code = 507
    description = "Insufficient storage"


bp = Blueprint("documents", __name__, url_prefix="/dossiers/<reference>/documents")


@bp.get("/new")
@login_required
def new(reference: str) -> str:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_file(current_user, dossier))
    return render_template("documents/new.html", dossier=dossier, form=UploadForm())


@bp.post("/new")
@login_required
def create(reference: str) -> str | Response | tuple[str, int]:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_file(current_user, dossier))  # before looking at the input
    form = UploadForm()
    if form.validate_on_submit():
        kind = DocumentKind(form.kind.data)
        access.require(access.can_file(current_user, dossier, kind))
        try:
            with documents.receive(form.file.data.stream, form.file.data.filename) as upload:
                document = documents.file_document(
                    current_user,
                    dossier,
                    upload,
                    kind=kind,
                    title=form.title.data or "",
                    document_date=form.document_date.data,
                    direction=Direction(form.direction.data) if form.direction.data else None,
                    correspondent=form.correspondent.data or "",
                    confidentiality=Confidentiality(form.confidentiality.data),
                    comment=form.comment.data or "",
                )
                db.session.commit()
                crash.point("upload.after_commit")
        except UploadRefused as error:
            db.session.rollback()
            flash(_("The file was not filed: %(reason)s", reason=str(error)), "error")
        except StorageFull as error:
            db.session.rollback()
            raise InsufficientStorage() from error
        else:
            flash(_("%(title)s filed.", title=document.title), "success")
            return redirect(url_for(".show", reference=reference, document_id=document.id))
    return render_template("documents/new.html", dossier=dossier, form=form), 400


@bp.get("/<int:document_id>")
@login_required
def show(reference: str, document_id: int) -> str:
    dossier = access.get_dossier_or_404(current_user, reference)
    document = access.get_document_or_404(current_user, dossier, document_id)
    number = request.args.get("version", type=int) or document.current_version_number
    version = access.get_version_or_404(current_user, document, number) if number else None
    if version is not None and document.is_confidential:
        documents.record_read(current_user, version)  # the page shows the version's text
        db.session.commit()
    return render_template(
        "documents/show.html",
        dossier=dossier,
        document=document,
        version=version,
        target=request.args.get("unit", ""),
        can_add_version=access.can_add_version(current_user, document),
    )


@bp.get("/<int:document_id>/versions/new")
@login_required
def new_version(reference: str, document_id: int) -> str:
    dossier = access.get_dossier_or_404(current_user, reference)
    document = access.get_document_or_404(current_user, dossier, document_id)
    access.require(access.can_add_version(current_user, document))
    return render_template(
        "documents/new_version.html", dossier=dossier, document=document, form=VersionForm()
    )


@bp.post("/<int:document_id>/versions/new")
@login_required
def create_version(reference: str, document_id: int) -> str | Response | tuple[str, int]:
    dossier = access.get_dossier_or_404(current_user, reference)
    document = access.get_document_or_404(current_user, dossier, document_id)
    access.require(access.can_add_version(current_user, document))
    form = VersionForm()
    if form.validate_on_submit():
        try:
            with documents.receive(form.file.data.stream, form.file.data.filename) as upload:
                version = documents.add_version(
                    current_user, document, upload, comment=form.comment.data or ""
                )
                db.session.commit()
                crash.point("upload.after_commit")
        except UploadRefused as error:
            db.session.rollback()
            flash(_("The file was not filed: %(reason)s", reason=str(error)), "error")
        except StorageFull as error:
            db.session.rollback()
            raise InsufficientStorage() from error
        else:
            flash(_("Version %(number)s filed.", number=version.number), "success")
            return redirect(url_for(".show", reference=reference, document_id=document.id))
    return render_template(
        "documents/new_version.html", dossier=dossier, document=document, form=form
    ), 400


@bp.get("/<int:document_id>/versions/<int:number>/download")
@login_required
def download(reference: str, document_id: int, number: int) -> Response:
    dossier = access.get_dossier_or_404(current_user, reference)
    document = access.get_document_or_404(current_user, dossier, document_id)
    version = access.get_version_or_404(current_user, document, number)
    stream = documents.open_version(version)
    documents.record_read(current_user, version)
    db.session.commit()
    response = send_file(
        stream,
        mimetype=version.mime_type,
        as_attachment=True,
        download_name=version.original_filename,
        etag=version.blob_key,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


MAX_SELECTED = 100


@bp.post("/download")
@login_required
def download_selected(reference: str) -> Response:
    """A zip of the selected documents: all of them, or nothing when any one is not readable."""
    dossier = access.get_dossier_or_404(current_user, reference)
    raw = request.form.getlist("ids")
    if not all(value.isdigit() and len(value) < 12 for value in raw):
        abort(400)
    ids = {int(value) for value in raw}
    back = redirect(url_for("dossiers.show", reference=reference), 303)
    if not ids or len(ids) > MAX_SELECTED:
        flash(_("Select between 1 and %(max)d documents.", max=MAX_SELECTED), "error")
        return back
    chosen = access.readable_documents(current_user, dossier, ids)
    if len(chosen) != len(ids):
        flash(
            _(
                "Nothing was downloaded: %(num)d of the selected documents are not available.",
                num=len(ids) - len(chosen),
            ),
            "error",
        )
        return back
    archive = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 (sent)
    documents.bundle(current_user, chosen, archive)
    db.session.commit()
    archive.seek(0)
    response = send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{dossier.reference}-documents.zip",
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
