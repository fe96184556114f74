"""Filing documents, adding versions, showing history and downloading any version."""

from __future__ import annotations

import tempfile

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
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

from dossier import (
    access,
    compare,
    crash,
    database,
    documents,
    downloads,
    labels,
    messages,
    records,
)
from dossier.errors import StaleEdit, UploadRefused, ValidationError
from dossier.extensions import db
from dossier.models import (
    Confidentiality,
    Direction,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
)
from dossier.web import int_arg
from dossier.web.forms import (
    AUTOMATIC_KIND,
    DocumentEditForm,
    UploadForm,
    VersionForm,
    WithdrawForm,
)
from ingest.clauses_markdown import readable
from storage import StorageFull


class InsufficientStorage(HTTPException):
    """507: the blob store is full; nothing was filed."""

    code = 507
    description = "Insufficient storage"


bp = Blueprint("documents", __name__, url_prefix="/dossiers/<reference>/documents")
# A Markdown clause is shown as read (ingest.clauses_markdown.readable), as it is indexed.
bp.add_app_template_filter(readable, "markdown_readable")

# Types a browser shows itself (PDF viewer, image) and that cannot run script in our origin;
# everything else, HTML above all, is only ever served as an attachment.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})
# For an inline response: a sandboxed document with no script, no forms and no plug-ins of ours.
INLINE_CSP = (
    "sandbox; default-src 'none'; img-src 'self'; object-src 'self'; frame-ancestors 'none'"
)


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
        chosen = None if form.kind.data == AUTOMATIC_KIND else DocumentKind(form.kind.data)
        access.require(chosen is None or access.can_file(current_user, dossier, chosen))
        try:
            with documents.receive(form.file.data.stream, form.file.data.filename) as upload:
                document = documents.file_document(
                    current_user,
                    dossier,
                    upload,
                    kind=chosen or _automatic_kind(dossier, upload),
                    title=form.title.data or "",
                    document_date=form.document_date.data,
                    direction=Direction(form.direction.data) if form.direction.data else None,
                    correspondent=form.correspondent.data or "",
                    confidentiality=Confidentiality(form.confidentiality.data),
                    comment=form.comment.data or "",
                    invoice=(
                        form.invoice_amount.data,
                        form.invoice_from.data,
                        form.invoice_to.data,
                    ),
                )
                db.session.commit()
                crash.point("upload.after_commit")
        except UploadRefused as error:
            db.session.rollback()
            flash(_("The file was not filed: %(reason)s", reason=str(error)), "error")
        except ValidationError as error:
            db.session.rollback()
            for message in error.errors.values():
                flash(_("The file was not filed: %(reason)s", reason=message), "error")
        except StorageFull as error:
            db.session.rollback()
            raise InsufficientStorage() from error
        else:
            return _filed(
                document,
                _("%(title)s filed.", title=document.title),
                _duplicate_warning(document.current_version),
            )
    return render_template("documents/new.html", dossier=dossier, form=form), 400


def _automatic_kind(dossier: Dossier, upload: documents.Upload) -> DocumentKind:
    """The kind the file says (see messages.automatic_kind); when the user may not file that
    kind (a contract manager files only correspondence and minutes), a refusal that asks them
    to choose one."""
    kind = messages.automatic_kind(upload)
    if not access.can_file(current_user, dossier, kind):
        raise UploadRefused(
            _(
                "you may not file a document of the kind %(kind)s here; choose the kind of "
                "document",
                kind=str(labels.DOCUMENT_KIND[kind]).lower(),
            )
        )
    return kind


def _filed(
    document: Document, message: str, warning: str | None = None
) -> Response | tuple[Response, int]:
    """After filing: on to the document's page, or, for the upload script (which asks for
    JSON), its address and any warning, so that no page is fetched that nobody sees (a
    confidential one would count as a read)."""
    url = url_for(".show", reference=document.dossier.reference, document_id=document.id)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(url=url, warning=warning), 201
    flash(message, "success")
    if warning:
        flash(warning, "warning")
    return redirect(url)


def _readable(document: Document | None) -> Document | None:
    """The document when the user may read it (a message, an attachment), else None."""
    if document is not None and access.can_view_document(current_user, document):
        return document
    return None


def _duplicate_warning(version: DocumentVersion | None) -> str | None:
    """A warning when the dossier already held these bytes under a document the user may
    read. The file is filed all the same: a beheerder may mean to file the same bytes twice.
    """
    if version is None:
        return None
    dossier = version.document.dossier
    for other in documents.versions_with_content(dossier, version.blob_key):
        if other.id != version.id and access.can_view_document(current_user, other.document):
            return _(
                'This file is already in the dossier as "%(title)s", version %(number)s.',
                title=other.document.title,
                number=other.number,
            )
    return None


@bp.get("/<int:document_id>")
@login_required
def show(reference: str, document_id: int) -> str | tuple[str, int]:
    dossier, document = _document(reference, document_id)
    number = int_arg("version") or document.current_version_number
    version = access.get_version_or_404(current_user, document, number) if number else None
    # Only a page that shows the text reads it: not one waiting for extraction (which reloads
    # itself), nor one of a version without text.
    if version is not None and version.clauses and document.is_confidential:
        if from_elsewhere():
            return _confirm_read(dossier, document, version)
        _record_reads(version)
    return render_template(
        "documents/show.html",
        dossier=dossier,
        document=document,
        version=version,
        target=request.args.get("unit", ""),
        can_add_version=access.can_add_version(current_user, document),
        can_edit=access.can_edit_document(current_user, document),
        message=_readable(document.parent),
        attachments=[a for a in document.attachments if _readable(a)],
        refused_attachments=messages.refused_attachments(document),
        inline_types=INLINE_TYPES,
        pending=version is not None and version.extraction_status.value == "pending",
    )


@bp.get("/<int:document_id>/versions/<int:number>/status")
@login_required
def status(reference: str, document_id: int, number: int) -> Response:
    """The extraction status of one version, for the document page to poll until done."""
    dossier, document = _document(reference, document_id)
    version = access.get_version_or_404(current_user, document, number)
    return jsonify(
        status=version.extraction_status.value,
        label=str(labels.EXTRACTION_STATUS[version.extraction_status]),
        done=version.extraction_status.value != "pending",
    )


@bp.get("/<int:document_id>/compare")
@login_required
def compare_versions(reference: str, document_id: int) -> str | tuple[str, int]:
    dossier, document = _document(reference, document_id)
    current = document.current_version_number
    new_number = int_arg("new") or current
    old_number = int_arg("old") or max(new_number - 1, 1)
    old = access.get_version_or_404(current_user, document, old_number)
    new = access.get_version_or_404(current_user, document, new_number)
    shown = [v for v in ([old] if new.id == old.id else [old, new]) if v.text]
    if shown and document.is_confidential:  # the comparison shows the text of both versions
        if from_elsewhere():
            return _confirm_read(dossier, document, new)
        _record_reads(*shown)
    return render_template(
        "documents/compare.html",
        dossier=dossier,
        document=document,
        old=old,
        new=new,
        comparison=compare.compare_texts(old.text, new.text),
    )


def _edit_page(
    dossier: Dossier,
    document: Document,
    form: DocumentEditForm,
    withdraw_form: WithdrawForm | None = None,
) -> str:
    """The edit page, with the withdrawal form for those who may withdraw the document."""
    return render_template(
        "documents/edit.html",
        dossier=dossier,
        document=document,
        form=form,
        withdraw_form=withdraw_form or WithdrawForm(),
        can_withdraw=access.can_withdraw(current_user, document),
    )


def _edit_form(dossier: Dossier, document: Document) -> DocumentEditForm:
    """The edit form, offering only the kinds the user may file and, to all but the beheerder,
    the current confidentiality only."""
    form = DocumentEditForm()
    if not form.is_submitted():
        form.process(
            data={
                "token": documents.edit_token(document),
                "kind": document.kind.value,
                "title": document.title,
                "document_date": document.document_date,
                "direction": document.direction.value if document.direction else "",
                "correspondent": document.correspondent,
                "confidentiality": document.confidentiality.value,
                "invoice_amount": document.invoice_amount,
                "invoice_from": document.invoice_from,
                "invoice_to": document.invoice_to,
                "retention_category": getattr(records.document_category(document), "code", ""),
            }
        )
    form.retention_category.choices = [("", _("as the dossier"))] + [
        # Short enough for a phone's menu: the code says which, the start of its description what.
        (c.code, f"{c.code} · {_shortened(c.description)}")
        for c in records.categories()
        if c.for_documents
    ]
    form.kind.choices = [
        choice
        for choice in form.kind.choices
        if access.can_file(current_user, dossier, DocumentKind(choice.value))
    ]
    if not access.can_set_confidentiality(current_user, dossier):
        form.confidentiality.choices = [
            c for c in form.confidentiality.choices if c.value == document.confidentiality.value
        ]
    return form


@bp.get("/<int:document_id>/edit")
@login_required
def edit(reference: str, document_id: int) -> str:
    dossier, document = _document(reference, document_id)
    access.require(access.can_edit_document(current_user, document))
    return _edit_page(dossier, document, _edit_form(dossier, document))


@bp.post("/<int:document_id>/edit")
@login_required
def update(reference: str, document_id: int) -> str | Response | tuple[str, int]:
    dossier, document = _document(reference, document_id)
    access.require(access.can_edit_document(current_user, document))  # before the input
    form = _edit_form(dossier, document)
    if form.validate_on_submit():
        kind = DocumentKind(form.kind.data)
        confidentiality = Confidentiality(form.confidentiality.data)
        access.require(access.can_edit_document(current_user, document, kind))
        if confidentiality != document.confidentiality:
            access.require(access.can_set_confidentiality(current_user, dossier))
        values = {
            "kind": kind,
            "title": form.title.data or "",
            "document_date": form.document_date.data,
            "direction": Direction(form.direction.data) if form.direction.data else None,
            "correspondent": form.correspondent.data or "",
            "confidentiality": confidentiality,
            "invoice_amount": form.invoice_amount.data,
            "invoice_from": form.invoice_from.data,
            "invoice_to": form.invoice_to.data,
        }
        try:
            changes = documents.update_metadata(
                current_user, document, values, form.token.data or None
            )
            code = form.retention_category.data or ""
            category = records.category_by_code(code) if code else None
            if (code and category is None) or (
                category != records.document_category(document)
                and not access.can_set_retention_category(current_user, dossier)
            ):
                raise ValidationError({"retention_category": _("choose a category from the list")})
            records.set_document_category(current_user, document, category)
        except ValidationError as error:
            db.session.rollback()
            for message in error.errors.values():
                flash(message, "error")
        except (StaleEdit, UploadRefused) as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            if changes:
                flash(_("Changes saved."), "success")
            return redirect(url_for(".show", reference=reference, document_id=document.id))
    return _edit_page(dossier, document, form), 400


@bp.post("/<int:document_id>/withdraw")
@login_required
def withdraw(reference: str, document_id: int) -> str | Response | tuple[str, int]:
    dossier, document = _document(reference, document_id)
    access.require(access.can_withdraw(current_user, document))
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _edit_page(dossier, document, _edit_form(dossier, document), form), 400
    documents.withdraw(current_user, document, form.reason.data.strip())
    db.session.commit()
    flash(_("%(title)s is withdrawn.", title=document.title), "success")
    return redirect(url_for("dossiers.show", reference=dossier.reference))


@bp.get("/<int:document_id>/versions/new")
@login_required
def new_version(reference: str, document_id: int) -> str:
    dossier, document = _document(reference, document_id)
    access.require(access.can_add_version(current_user, document))
    return render_template(
        "documents/new_version.html", dossier=dossier, document=document, form=VersionForm()
    )


@bp.post("/<int:document_id>/versions/new")
@login_required
def create_version(reference: str, document_id: int) -> str | Response | tuple[str, int]:
    dossier, document = _document(reference, document_id)
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
            return _filed(
                document,
                _("Version %(number)s filed.", number=version.number),
                _duplicate_warning(version),
            )
    return render_template(
        "documents/new_version.html", dossier=dossier, document=document, form=form
    ), 400


@bp.get("/<int:document_id>/versions/<int:number>/download")
@login_required
def download(reference: str, document_id: int, number: int) -> Response | tuple[str, int]:
    dossier, document = _document(reference, document_id)
    version = access.get_version_or_404(current_user, document, number)
    if document.is_confidential and from_elsewhere():
        return _confirm_read(dossier, document, version)
    return _send(version, as_attachment=True)


@bp.get("/<int:document_id>/versions/<int:number>/view")
@login_required
def view(reference: str, document_id: int, number: int) -> Response | tuple[str, int]:
    """A PDF or image shown by the browser itself, in a sandbox; other types are not viewable."""
    dossier, document = _document(reference, document_id)
    version = access.get_version_or_404(current_user, document, number)
    if version.mime_type not in INLINE_TYPES:
        abort(404)
    if document.is_confidential and from_elsewhere():
        return _confirm_read(dossier, document, version)
    response = _send(version, as_attachment=False)
    response.headers["Content-Security-Policy"] = INLINE_CSP
    return response


def _document(reference: str, document_id: int) -> tuple[Dossier, Document]:
    """The dossier and, looked up through it, the document, both as the user may see them."""
    dossier = access.get_dossier_or_404(current_user, reference)
    return dossier, access.get_document_or_404(current_user, dossier, document_id)


# Fetch Metadata (Sec-Fetch-Site) values of requests a user started here: "same-origin" from
# our own pages, "none" when typed, from a bookmark or from another program such as a mail
# client. "same-site" (a sibling host name) and "cross-site" are other sites.
OWN_SITES = frozenset({"same-origin", "none"})


def from_elsewhere() -> bool:
    """Whether another site started this request: its link, image or frame, not the user here.

    Such a request must not read a confidential document in the user's name (the audit trail
    would record a read the user never chose).
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in OWN_SITES
    referrer = request.referrer  # a browser without Fetch Metadata still names the page
    return bool(referrer) and not referrer.startswith(request.host_url)


def _confirm_read(
    dossier: Dossier, document: Document, version: DocumentVersion
) -> tuple[str, int]:
    """Instead of a confidential document opened from elsewhere: the same address to click, so
    opening it, and the read in the audit trail, is the user's own choice."""
    return render_template(
        "documents/confirm_read.html",
        dossier=dossier,
        document=document,
        version=version,
        target=request.full_path.rstrip("?"),
    ), 200


def _record_reads(*versions: DocumentVersion) -> None:
    """Audit reads of confidential versions in a short write transaction of their own."""
    with database.writing():
        for version in versions:
            documents.record_read(current_user, version)


def _send(version: DocumentVersion, as_attachment: bool) -> Response:
    """The bytes of `version` under our own type, never cached, with the read recorded."""
    return downloads.send_version(current_user, version, as_attachment)


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


def _shortened(text: str, most: int = 24) -> str:
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"
