"""Records: the selection list, destruction lists and legal holds; the retention panel of the
dossier page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from dossier import access, deadlines, records
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import DisposalItem, DisposalList, DisposalStatus, Document, Dossier
from dossier.web.forms import Form

bp = Blueprint("records", __name__)


class ReasonForm(Form):
    reason = TextAreaField("reason", validators=[DataRequired(), Length(max=2000)])


class ImportForm(Form):
    file = FileField("file")


def _flash(error: ValidationError) -> None:
    for message in error.errors.values():
        flash(message, "error")


def _form_errors(form: Form) -> None:
    if form.errors:
        flash(_("Give a reason."), "error")


def _get_list(list_id: int) -> DisposalList:
    listing = db.session.get(DisposalList, list_id)
    if listing is None:
        abort(404)
    return listing


@bp.app_template_global()
def retention_panel(dossier: Dossier) -> dict[str, Any]:
    """What the dossier page shows about retention, hold and destruction."""
    cache = records.Lookup.for_dossier(dossier)
    category, is_default = records.category_of(dossier, cache)
    return {
        "category": category,
        "is_default": is_default,
        "assignment": cache.assigned.get(dossier.id),
        "start": records.retention_start(dossier, cache),
        "disposal_on": records.disposal_date(dossier, cache),
        "hold": records.active_hold(dossier),
        "destroyed": records.is_destroyed(dossier),
        "categories": sorted(
            (c for c in cache.by_code.values() if c.is_active), key=lambda c: c.code
        ),
        "can_set": access.can_set_retention_category(current_user, dossier),
        "can_hold": access.can_manage_holds(current_user),
    }


@bp.app_template_global()
def document_retention(document: Document) -> dict[str, Any]:
    """A document's own category and disposal date (empty when it follows its dossier)."""
    return {
        "category": records.document_category(document),
        "disposal_on": records.document_disposal_date(document),
    }


@bp.app_template_global()
def can_hold_dossiers() -> bool:
    return access.can_manage_holds(current_user)


@bp.app_template_global()
def records_overview() -> dict[str, Any]:
    """The archivist's part of the dashboard: disposals coming up, lists waiting, holds."""
    today = deadlines.local_today()
    horizon = today + timedelta(days=int(current_app.config.get("DISPOSAL_HORIZON_DAYS", 180)))
    visible = db.session.scalars(access.visible_dossiers(current_user)).unique()
    upcoming = records.upcoming(visible, horizon)
    return {
        "today": today,
        "horizon": horizon,
        "upcoming": upcoming,
        "due": [d for d in upcoming if d.disposal_on <= today],
        "proposed": records.lists([DisposalStatus.PROPOSED]),
        "in_grace": records.lists([DisposalStatus.APPROVED]),
        "holds": records.holds(),
    }


# The selection list


@bp.get("/records/selection-list", endpoint="selection_list")
@login_required
def selection_list() -> str:
    access.require(access.can_view_records(current_user))
    return render_template(
        "records/selection_list.html",
        categories=records.categories(active_only=False),
        form=ImportForm(),
        can_import=access.can_review_disposal(current_user) or current_user.is_admin,
    )


@bp.post("/records/selection-list", endpoint="import_selection_list")
@login_required
def import_selection_list() -> Response:
    access.require(access.can_review_disposal(current_user) or current_user.is_admin)
    form = ImportForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        flash(_("Choose a CSV file."), "error")
        return redirect(url_for("records.selection_list"))
    try:
        text = upload.read(1_000_001).decode("utf-8-sig")
        if len(text) > 1_000_000:
            raise ValidationError({"file": _("the file is larger than 1 MB")})
        added, updated = records.import_selection_list(current_user, text)
    except UnicodeDecodeError:
        flash(_("The file is not UTF-8 text."), "error")
    except ValidationError as error:
        db.session.rollback()
        _flash(error)
    else:
        db.session.commit()
        flash(_("%(a)d categories added, %(u)d updated.", a=added, u=updated), "success")
    return redirect(url_for("records.selection_list"))


# Destruction lists


@bp.get("/records/disposals", endpoint="disposals")
@login_required
def disposals() -> str:
    access.require(access.can_view_records(current_user))
    today = deadlines.local_today()
    horizon = today + timedelta(days=int(current_app.config.get("DISPOSAL_HORIZON_DAYS", 180)))
    visible = db.session.scalars(access.visible_dossiers(current_user)).unique()
    return render_template(
        "records/disposals.html",
        lists=records.lists(),
        upcoming=records.upcoming(visible, horizon),
        today=today,
        can_propose=access.can_propose_disposal(current_user),
    )


@bp.post("/records/disposals", endpoint="propose")
@login_required
def propose() -> Response:
    access.require(access.can_propose_disposal(current_user))
    listing = records.propose(current_user, deadlines.local_today())
    if listing is None:
        flash(_("No dossier is due for destruction."), "info")
        return redirect(url_for("records.disposals"))
    db.session.commit()
    flash(_("Destruction list proposed."), "success")
    return redirect(url_for("records.disposal", list_id=listing.id))


@bp.get("/records/disposals/<int:list_id>", endpoint="disposal")
@login_required
def disposal(list_id: int) -> str:
    access.require(access.can_view_records(current_user))
    listing = _get_list(list_id)
    return render_template(
        "records/disposal.html",
        listing=listing,
        form=ReasonForm(),
        can_review=access.can_review_disposal(current_user),
    )


@bp.post("/records/disposals/<int:list_id>/items/<int:item_id>/exclude", endpoint="exclude")
@login_required
def exclude(list_id: int, item_id: int) -> Response:
    access.require(access.can_review_disposal(current_user))
    listing = _get_list(list_id)
    item = db.session.get(DisposalItem, item_id)
    if item is None or item.list_id != listing.id:
        abort(404)
    form = ReasonForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return redirect(url_for("records.disposal", list_id=list_id))
    try:
        records.exclude(current_user, listing, item, form.reason.data)
    except ValidationError as error:
        db.session.rollback()
        _flash(error)
    else:
        db.session.commit()
        flash(_("Dossier %(ref)s excluded from the list.", ref=item.reference), "success")
    return redirect(url_for("records.disposal", list_id=list_id))


@bp.post("/records/disposals/<int:list_id>/approve", endpoint="approve")
@login_required
def approve(list_id: int) -> Response:
    access.require(access.can_review_disposal(current_user))
    listing = _get_list(list_id)
    if not Form().validate_on_submit():
        abort(400)
    try:
        records.approve(current_user, listing)
    except ValidationError as error:
        db.session.rollback()
        _flash(error)
    else:
        db.session.commit()
        flash(_("Destruction list approved."), "success")
    return redirect(url_for("records.disposal", list_id=list_id))


@bp.post("/records/disposals/<int:list_id>/cancel", endpoint="cancel")
@login_required
def cancel(list_id: int) -> Response:
    access.require(access.can_review_disposal(current_user))
    listing = _get_list(list_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return redirect(url_for("records.disposal", list_id=list_id))
    try:
        records.cancel(current_user, listing, form.reason.data)
    except ValidationError as error:
        db.session.rollback()
        _flash(error)
    else:
        db.session.commit()
        flash(_("Destruction cancelled; the documents are back."), "success")
    return redirect(url_for("records.disposal", list_id=list_id))


# Legal holds


@bp.get("/records/holds", endpoint="holds")
@login_required
def holds() -> str:
    access.require(access.can_view_records(current_user))
    return render_template(
        "records/holds.html",
        holds=records.holds(include_lifted=True),
        form=ReasonForm(),
        can_hold=access.can_manage_holds(current_user),
    )


@bp.post("/records/holds", endpoint="place_holds")
@login_required
def place_holds() -> Response:
    """Hold a selection (references from the register list or a search result): all or none."""
    access.require(access.can_manage_holds(current_user))
    form = ReasonForm()
    references = [r for r in request.form.getlist("references") if r.strip()]
    for line in request.form.get("reference_list", "").split():
        references.append(line)
    if not form.validate_on_submit() or not references:
        flash(_("Give a reason and at least one dossier reference."), "error")
        return redirect(url_for("records.holds"))
    chosen = [access.get_dossier_or_404(current_user, ref) for ref in references]
    try:
        placed = records.place_holds(current_user, chosen, form.reason.data)
    except ValidationError as error:
        db.session.rollback()
        _flash(error)
    else:
        db.session.commit()
        flash(_("%(n)d dossiers placed on hold.", n=len(placed)), "success")
    return redirect(url_for("records.holds"))


@bp.post("/dossiers/<reference>/hold", endpoint="place_hold")
@login_required
def place_hold(reference: str) -> Response:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_manage_holds(current_user))
    form = ReasonForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return redirect(url_for("dossiers.show", reference=reference))
    try:
        records.place_hold(current_user, dossier, form.reason.data)
    except ValidationError as error:
        db.session.rollback()
        _flash(error)
    else:
        db.session.commit()
        flash(_("Dossier placed on legal hold."), "success")
    return redirect(url_for("dossiers.show", reference=reference))


@bp.post("/dossiers/<reference>/hold/lift", endpoint="lift_hold")
@login_required
def lift_hold(reference: str) -> Response:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_manage_holds(current_user))
    form = ReasonForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return redirect(url_for("dossiers.show", reference=reference))
    try:
        records.lift_hold(current_user, dossier, form.reason.data)
    except ValidationError as error:
        db.session.rollback()
        _flash(error)
    else:
        db.session.commit()
        flash(_("Legal hold lifted."), "success")
    return redirect(url_for("dossiers.show", reference=reference))


@bp.post("/dossiers/<reference>/retention", endpoint="set_category")
@login_required
def set_category(reference: str) -> Response:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_set_retention_category(current_user, dossier))
    code = request.form.get("category", "")
    category = records.category_by_code(code) if code else None
    form = ReasonForm()
    if category is None or not form.validate_on_submit():
        flash(_("Choose a category and give the reason for the change."), "error")
        return redirect(url_for("dossiers.show", reference=reference))
    records.set_category(current_user, dossier, category, form.reason.data)
    db.session.commit()
    flash(_("Selection-list category changed."), "success")
    return redirect(url_for("dossiers.show", reference=reference))
