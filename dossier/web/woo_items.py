"""The document pages of a Woo request: assessment, marking passages on a page (by phrase, by a
rectangle drawn on the page image or typed in), the redacted PDF, and the exports."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from dossier import access, database, deadlines, documents, redaction, woo, woo_marks, woo_package
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import Assessment, DocumentVersion, WooDocument, WooPassage, WooRequest
from dossier.web import int_arg
from dossier.web.documents import from_elsewhere
from dossier.web.forms import Form
from dossier.web.woo import (
    AreaForm,
    AssessForm,
    PhraseForm,
    _commit_or_flash,
    _form_errors,
    _get_item,
    _get_request,
    _ground_choices,
    _handle,
    bp,
)


def _item_url(item: WooDocument, page: int | None = None) -> str:
    return url_for("woo.item", request_id=item.request_id, entry_id=item.id, page=page)


def _assess_form(item: WooDocument) -> AssessForm:
    form = AssessForm(
        data={
            "assessment": item.assessment.value,
            "grounds": item.grounds.split(),
            "note": item.note,
        }
    )
    _choices(form)
    return form


def _choices(form: AssessForm) -> None:
    form.assessment.choices = [
        SelectChoice(a.value, str(label)) for a, label in woo_package.ASSESSMENT_LABELS.items()
    ]
    form.grounds.choices = [SelectChoice(c, f"{c} – {d}") for c, d in woo.grounds()]


@bp.get("/<int:request_id>/documents/<int:entry_id>", endpoint="item")
@login_required
def item(request_id: int, entry_id: int) -> str:
    found = _get_request(request_id)
    chosen = _get_item(found, entry_id)
    page = int_arg("page", 1) or 1
    sizes, problem = [], None
    if chosen.assessment == Assessment.PARTLY_PUBLIC:
        try:
            sizes = redaction.page_sizes(woo_marks.source_pdf(chosen))
        except DomainError as error:
            problem = str(error)
        except redaction.PdfRefused:
            problem = str(woo_marks.unreadable_pdf(chosen))
    page = min(max(page, 1), max(len(sizes), 1))
    phrase_form, area_form = PhraseForm(), AreaForm()
    _ground_choices(phrase_form)
    _ground_choices(area_form)
    return render_template(
        "woo/item.html",
        found=found,
        item=chosen,
        page=page,
        pages=len(sizes),
        size=sizes[page - 1] if sizes else None,
        problem=problem,
        grounds=dict(woo.grounds()),
        item_grounds=woo.item_grounds(chosen),
        assessment_labels=woo_package.ASSESSMENT_LABELS,
        mark_groups=woo_marks.mark_groups(chosen),
        assess_form=_assess_form(chosen),
        phrase_form=phrase_form,
        area_form=area_form,
        can_handle=access.can_handle_woo(current_user) and found.status == "open",
    )


@bp.post("/<int:request_id>/documents/<int:entry_id>/assess", endpoint="assess")
@login_required
def assess(request_id: int, entry_id: int) -> Response:
    chosen = _get_item(_handle(request_id), entry_id)
    form = AssessForm()
    _choices(form)
    if not form.validate_on_submit():
        _form_errors(form)
    else:
        _commit_or_flash(
            lambda: woo.assess(
                current_user,
                chosen,
                Assessment(form.assessment.data),
                form.grounds.data or [],
                form.note.data or "",
            ),
            _("Assessment saved."),
        )
    return redirect(_item_url(chosen))


@bp.post("/<int:request_id>/documents/<int:entry_id>/remove", endpoint="remove_item")
@login_required
def remove_item(request_id: int, entry_id: int) -> Response:
    found = _handle(request_id)
    chosen = _get_item(found, entry_id)
    if not Form().validate_on_submit():
        abort(400)
    _commit_or_flash(
        lambda: woo.remove_item(current_user, chosen), _("Document removed from the request.")
    )
    return redirect(url_for("woo.show", request_id=found.id))


@bp.post("/<int:request_id>/documents/<int:entry_id>/passages", endpoint="mark")
@login_required
def mark(request_id: int, entry_id: int) -> Response:
    """Mark by phrase (`mode=phrase`) or by a rectangle in PDF points (`mode=area`)."""
    chosen = _get_item(_handle(request_id), entry_id)
    page = int_arg("page", 1) or 1
    if request.form.get("mode") == "area":
        form = AreaForm()
        _ground_choices(form)
        if not form.validate_on_submit():
            _form_errors(form)
        else:
            area = redaction.Area(page, form.x0.data, form.y0.data, form.x1.data, form.y1.data)
            _commit_or_flash(
                lambda: woo_marks.mark_area(current_user, chosen, area, form.ground.data),
                _("Passage marked."),
            )
        return redirect(_item_url(chosen, page))
    form = PhraseForm()
    _ground_choices(form)
    if not form.validate_on_submit():
        _form_errors(form)
        return redirect(_item_url(chosen, page))
    where = page if form.scope.data == "page" else None
    try:
        count = woo_marks.mark_phrase(
            current_user, chosen, form.phrase.data, form.ground.data, where
        )
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(_item_url(chosen, page))
    db.session.commit()
    if count:
        flash(_("%(n)d occurrences marked.", n=count), "success")
    else:
        flash(_("The words were not found in the text of the document."), "error")
    return redirect(_item_url(chosen, page))


@bp.post(
    "/<int:request_id>/documents/<int:entry_id>/passages/<int:passage_id>/remove", endpoint="unmark"
)
@login_required
def unmark(request_id: int, entry_id: int, passage_id: int) -> Response:
    chosen = _get_item(_handle(request_id), entry_id)
    passage = db.session.get(WooPassage, passage_id)
    if passage is None or passage.item_id != chosen.id:
        abort(404)
    if not Form().validate_on_submit():
        abort(400)
    page = passage.page
    _commit_or_flash(lambda: woo_marks.unmark(current_user, passage), _("Mark removed."))
    return redirect(_item_url(chosen, page))


@bp.post(
    "/<int:request_id>/documents/<int:entry_id>/passages/remove-phrase", endpoint="unmark_phrase"
)
@login_required
def unmark_phrase(request_id: int, entry_id: int) -> Response:
    """Remove every mark of one phrase under one ground."""
    chosen = _get_item(_handle(request_id), entry_id)
    if not Form().validate_on_submit():
        abort(400)
    phrase, ground = request.form.get("phrase", ""), request.form.get("ground", "")
    try:
        count = woo_marks.unmark_phrase(current_user, chosen, phrase, ground)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(_item_url(chosen, int_arg("page", 1) or 1))
    db.session.commit()
    flash(_("%(n)d marks removed.", n=count), "success" if count else "error")
    return redirect(_item_url(chosen, int_arg("page", 1) or 1))


@bp.post("/<int:request_id>/documents/<int:entry_id>/redact", endpoint="redact")
@login_required
def redact(request_id: int, entry_id: int) -> Response:
    chosen = _get_item(_handle(request_id), entry_id)
    if not Form().validate_on_submit():
        abort(400)
    _commit_or_flash(
        lambda: woo_marks.make_redacted(current_user, chosen),
        _("Redacted PDF made: the marked text is removed from the file."),
    )
    return redirect(_item_url(chosen))


@bp.get("/<int:request_id>/documents/<int:entry_id>/pages/<int:page>.png", endpoint="page_image")
@login_required
def page_image(request_id: int, entry_id: int, page: int) -> Response:
    """A page of the document as an image: a read of its version, audited per image sent."""
    chosen = _get_item(_get_request(request_id), entry_id)
    if _confidential_from_elsewhere(chosen.version):
        return redirect(_item_url(chosen, page), 303)
    try:
        png = redaction.page_png(woo_marks.source_pdf(chosen), page)
    except (IndexError, DomainError, redaction.PdfRefused):
        abort(404)
    _record_reads([chosen.version])
    response = send_file(io.BytesIO(png), mimetype="image/png", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:request_id>/documents/<int:entry_id>/redacted.pdf", endpoint="redacted")
@login_required
def redacted(request_id: int, entry_id: int) -> Response:
    """The redacted PDF: most of the version's text, so a read of it like a download."""
    chosen = _get_item(_get_request(request_id), entry_id)
    if _confidential_from_elsewhere(chosen.version):
        return redirect(_item_url(chosen), 303)
    try:
        data = woo_marks.redacted_bytes(chosen)
    except DomainError:
        abort(404)
    _record_reads([chosen.version])
    response = send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"woo-{chosen.request_id}-{chosen.number:04d}-gelakt.pdf",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _confidential_from_elsewhere(*versions: DocumentVersion) -> bool:
    """Whether another site started a request that would read a confidential version in the
    user's name (see documents.from_elsewhere): it is not served, and nothing is recorded."""
    return any(v.document.is_confidential for v in versions) and from_elsewhere()


def _record_reads(versions: list[DocumentVersion]) -> None:
    """Audit the reads of the confidential ones of `versions`, once each, in a short write
    transaction of their own (this is a GET: its own transaction only reads)."""
    confidential = {v.id: v for v in versions if v.document.is_confidential}
    if confidential:
        with database.writing():
            for version in confidential.values():
                documents.record_read(current_user, version)


def _all_readable(found: WooRequest) -> None:
    """Exports list every document: only for someone who reads all of them."""
    _items, hidden = woo.readable_items(current_user, found)
    if hidden:
        abort(403)


@bp.get("/<int:request_id>/inventory.<any(csv, xlsx):fmt>", endpoint="inventory")
@login_required
def inventory(request_id: int, fmt: str) -> Response:
    found = _get_request(request_id)
    _all_readable(found)
    data = woo_package.inventory_bytes(found, fmt, str(get_locale() or "nl"))
    mimetypes = {
        "csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    response = send_file(
        io.BytesIO(data),
        mimetype=mimetypes[fmt],
        as_attachment=True,
        download_name=f"woo-{found.id}-inventarislijst.{fmt}",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:request_id>/package.zip", endpoint="package")
@login_required
def package(request_id: int) -> Response:
    """The publication package; the export and the confidential versions it holds are audited
    after it is made, in a short write transaction of their own."""
    found = _handle(request_id)
    _all_readable(found)
    if _confidential_from_elsewhere(*(i.version for i in woo_package.published_items(found))):
        return redirect(url_for("woo.show", request_id=found.id), 303)
    buffer = io.BytesIO()
    try:
        published = woo_package.write_package(found, buffer, str(get_locale() or "nl"))
    except DomainError as error:
        db.session.rollback()
        flash(_("The package cannot be made yet: %(why)s", why=str(error)), "error")
        return redirect(url_for("woo.show", request_id=found.id))
    with database.writing():
        woo_package.record_export(current_user, found, published)
    buffer.seek(0)
    response = send_file(
        buffer,
        mimetype="application/zip",
        as_attachment=True,
        download_name=woo_package.package_name(found, deadlines.local_today()),
    )
    response.headers["Cache-Control"] = "no-store"
    return response
