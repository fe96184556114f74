"""Spend against the ceiling: a dossier's spend, the spend report, importing spend files from
the financial system (upload, preview, commit) and mapping their unknown suppliers."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from dossier import (
    access,
    deadlines,
    spend,
    spend_files,
    spend_import,
    spend_matching,
    spend_tables,
)
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import Party, SpendImport
from dossier.web.forms import Form
from dossier.web.reports import _render

bp = Blueprint("spend", __name__)
SUFFIXES = (".csv", ".xlsx")


@bp.app_template_filter("percent")
def format_percent(value: Decimal | int | None) -> str:
    """80.5 as "80,5 %" (Dutch) or "80.5 %"; None as a dash."""
    if value is None:
        return "—"
    return f"{format_decimal(value, '#,##0.#')} %"


class SpendUploadForm(Form):
    file = FileField(_l("Spend file (CSV or XLSX)"), validators=[FileRequired()])
    source = StringField(
        _l("Financial system (source)"), validators=[DataRequired(), Length(max=64)]
    )


class SupplierMapForm(Form):
    source = HiddenField()
    creditor_number = HiddenField()
    kvk_number = HiddenField()
    supplier_name = HiddenField()
    party_id = SelectField(_l("Our supplier"), validators=[DataRequired()])


def _require_importer() -> None:
    access.require(access.can_import_spend(current_user), access.NEEDS_SPEND_IMPORT)


def _import_or_404(import_id: int) -> SpendImport:
    return spend_import.get_import(import_id) or abort(404)


@bp.get("/dossiers/<reference>/spend")
@login_required
def dossier(reference: str) -> str:
    found = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_view_spend(current_user, found))
    figures = spend.dossier_spend(current_user, found, deadlines.local_today(), lines=200)
    return render_template(
        "spend/dossier.html", dossier=found, figures=figures, thresholds=spend.thresholds()
    )


@bp.get("/reports/spend")
@login_required
def report() -> str:
    today = deadlines.local_today()
    tables = [spend_tables.spend_table(current_user, today)]
    without = spend_tables.without_contract_table(current_user)
    if without is not None:
        tables.append(without)
    return _render(
        "spend/report.html",
        tables,
        thresholds=spend.thresholds(),
        can_import=access.can_import_spend(current_user),
    )


@bp.get("/spend/imports")
@login_required
def imports(form: SpendUploadForm | None = None) -> str:
    _require_importer()
    if form is None:
        form = SpendUploadForm(source=current_app.config["SPEND_DEFAULT_SOURCE"])
    return render_template(
        "spend/imports.html",
        form=form,
        imports=spend_import.recent_imports(),
        headers=spend_files.HEADERS,
        unknown=len(spend_matching.unknown_suppliers()),
    )


@bp.post("/spend/imports")
@login_required
def upload() -> str | Response | tuple[str, int]:
    _require_importer()
    form = SpendUploadForm()
    if not form.validate_on_submit():
        return imports(form), 400
    name = Path(form.file.data.filename or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        form.file.errors = [_("Choose a .csv or .xlsx file.")]
        return imports(form), 400
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"spend{suffix}"
        form.file.data.save(path)
        try:
            preview = spend_import.preview(current_user, path, form.source.data, name)
        except DomainError as exc:
            db.session.rollback()
            form.file.errors = [_("The file cannot be read: %(reason)s", reason=str(exc))]
            return imports(form), 400
    db.session.commit()
    return redirect(url_for(".preview", import_id=preview.spend_import.id))


@bp.get("/spend/imports/<int:import_id>")
@login_required
def preview(import_id: int) -> str:
    _require_importer()
    found = spend_import.load_preview(_import_or_404(import_id))
    return render_template(
        "spend/preview.html",
        preview=found,
        item=found.spend_import,
        limit=spend_import.PREVIEW_LINES,
    )


@bp.post("/spend/imports/<int:import_id>/commit")
@login_required
def commit(import_id: int) -> Response:
    _require_importer()
    item = _import_or_404(import_id)
    try:
        booked = spend_import.commit(current_user, item)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".preview", import_id=import_id))
    except sa.exc.IntegrityError:
        db.session.rollback()
        flash(
            _("Another import booked some of these lines at the same moment; commit again."),
            "error",
        )
        return redirect(url_for(".preview", import_id=import_id))
    if booked:
        flash(
            ngettext("%(num)d spend line imported.", "%(num)d spend lines imported.", booked),
            "success",
        )
    else:
        flash(_("Nothing changed: every line of this file was already imported."), "success")
    return redirect(url_for(".preview", import_id=import_id))


@bp.post("/spend/imports/<int:import_id>/discard")
@login_required
def discard(import_id: int) -> Response:
    _require_importer()
    spend_import.discard(_import_or_404(import_id))
    db.session.commit()
    flash(_("The import was discarded; nothing was booked."), "success")
    return redirect(url_for(".imports"))


def _party_choices() -> list[SelectChoice]:
    parties = db.session.scalars(sa.select(Party).order_by(Party.name))
    return [SelectChoice("", "—")] + [
        SelectChoice(str(p.id), f"{p.name} ({p.kvk_number})" if p.kvk_number else p.name)
        for p in parties
    ]


@bp.get("/spend/suppliers")
@login_required
def suppliers() -> str:
    _require_importer()
    choices = _party_choices()
    rows = []
    for item in spend_matching.unknown_suppliers():
        form = SupplierMapForm(
            source=item.source,
            creditor_number=item.creditor_number,
            kvk_number=item.kvk_number,
            supplier_name=item.supplier_name,
        )
        form.party_id.choices = choices
        rows.append((item, form))
    return render_template("spend/suppliers.html", rows=rows)


@bp.post("/spend/suppliers")
@login_required
def map_supplier() -> Response:
    _require_importer()
    form = SupplierMapForm()
    form.party_id.choices = _party_choices()
    if not form.validate_on_submit():
        flash(_("Choose the supplier these lines belong to."), "error")
        return redirect(url_for(".suppliers"))
    party = db.session.get(Party, int(form.party_id.data)) or abort(404)
    try:
        matched = spend_matching.map_supplier(
            current_user,
            party,
            form.source.data or "",
            form.creditor_number.data or "",
            form.kvk_number.data or "",
            form.supplier_name.data or "",
        )
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".suppliers"))
    db.session.commit()
    flash(
        ngettext(
            "Mapped to %(party)s: %(num)d line found its supplier.",
            "Mapped to %(party)s: %(num)d lines found their supplier.",
            matched,
            party=party.name,
        ),
        "success",
    )
    return redirect(url_for(".suppliers"))
