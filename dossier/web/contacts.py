"""The people on both sides of a contract: our role holders (from the memberships) and the
supplier's contacts with their mandates, kept by the dossier's beheerder."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from dossier import access, contacts, labels
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import Contact, ContactRole, Dossier
from dossier.web.forms import AmountField, Form, _choices

bp = Blueprint("contacts", __name__, url_prefix="/dossiers/<reference>/contacts")


class ContactForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    role = SelectField(
        _l("Role at the supplier"),
        choices=_choices(labels.CONTACT_ROLE),
        default=ContactRole.CONTRACT_CONTACT.value,
    )
    function = StringField(_l("Function"), validators=[Optional(), Length(max=255)])
    email = EmailField(_l("E-mail address"), validators=[Optional(), Length(max=255)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=64)])

    def values(self) -> dict[str, str]:
        return {name: getattr(self, name).data or "" for name in contacts.FIELDS}


class MandateForm(Form):
    kind = SelectField(_l("Mandate"), choices=_choices(labels.MANDATE_KIND))
    limit_amount = AmountField(_l("Up to (euro, excl. VAT)"), validators=[Optional()])
    note = StringField(_l("Note (for example the contract article)"), validators=[Length(max=500)])


def _dossier(reference: str, manage: bool = True) -> Dossier:
    dossier = access.get_dossier_or_404(current_user, reference)
    if manage:
        access.require(access.can_manage_contacts(current_user, dossier))
    return dossier


def _contact_or_404(dossier: Dossier, contact_id: int) -> Contact:
    """A contact looked up through its dossier, never by its id alone."""
    contact = db.session.scalar(
        sa.select(Contact).where(Contact.id == contact_id, Contact.dossier_id == dossier.id)
    )
    return contact or abort(404)


def _show_errors(form: Form, error: ValidationError) -> None:
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


@bp.get("")
@login_required
def index(reference: str, failed: tuple[int, MandateForm] | None = None) -> str:
    """Both sides; `failed` is a contact id and its mandate form that did not pass, shown
    again beside its errors so nothing typed is lost."""
    dossier = _dossier(reference, manage=False)
    sides = contacts.both_sides(dossier)
    forms = {c.id: _mandate_form(c.id, formdata=None) for c in sides.theirs}
    if failed is not None:
        forms[failed[0]] = failed[1]
    return render_template(
        "contacts/index.html",
        dossier=dossier,
        sides=sides,
        can_manage=access.can_manage_contacts(current_user, dossier),
        mandate_forms=forms,
    )


def _mandate_form(contact_id: int, **kwargs: object) -> MandateForm:
    """The mandate form of one contact: its own prefix, so the fields of several contacts on
    one page have ids (and labels) of their own."""
    return MandateForm(prefix=f"contact{contact_id}", **kwargs)


@bp.get("/new")
@login_required
def new(reference: str) -> str:
    return render_template("contacts/form.html", dossier=_dossier(reference), form=ContactForm())


@bp.post("/new")
@login_required
def create(reference: str) -> str | Response | tuple[str, int]:
    dossier = _dossier(reference)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            contact = contacts.add_contact(current_user, dossier, form.values())
        except ValidationError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Contact %(name)s added.", name=contact.name), "success")
            return redirect(url_for(".index", reference=dossier.reference))
    return render_template("contacts/form.html", dossier=dossier, form=form), 400


@bp.get("/<int:contact_id>/edit")
@login_required
def edit(reference: str, contact_id: int) -> str:
    dossier = _dossier(reference)
    contact = _contact_or_404(dossier, contact_id)
    form = ContactForm(obj=contact)
    return render_template("contacts/form.html", dossier=dossier, form=form, contact=contact)


@bp.post("/<int:contact_id>/edit")
@login_required
def update(reference: str, contact_id: int) -> str | Response | tuple[str, int]:
    dossier = _dossier(reference)
    contact = _contact_or_404(dossier, contact_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            changed = contacts.update_contact(current_user, contact, form.values())
        except ValidationError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            message = _("Contact %(name)s saved.", name=contact.name)
            flash(message if changed else _("Nothing changed."), "success")
            return redirect(url_for(".index", reference=dossier.reference))
    page = render_template("contacts/form.html", dossier=dossier, form=form, contact=contact)
    return page, 400


@bp.post("/<int:contact_id>/remove")
@login_required
def remove(reference: str, contact_id: int) -> Response:
    dossier = _dossier(reference)
    contact = _contact_or_404(dossier, contact_id)
    name = contact.name
    if request.form.get("confirm") != "yes":
        flash(_("Nothing removed: confirm the removal first."), "error")
        return redirect(url_for(".index", reference=dossier.reference))
    contacts.remove_contact(current_user, contact)
    db.session.commit()
    flash(_("Contact %(name)s removed.", name=name), "success")
    return redirect(url_for(".index", reference=dossier.reference))


@bp.post("/<int:contact_id>/mandates")
@login_required
def add_mandate(reference: str, contact_id: int) -> str | Response | tuple[str, int]:
    dossier = _dossier(reference)
    contact = _contact_or_404(dossier, contact_id)
    form = _mandate_form(contact.id)
    if form.validate_on_submit():
        try:
            contacts.add_mandate(
                current_user, contact, form.kind.data, form.limit_amount.data, form.note.data
            )
        except ValidationError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Mandate of %(name)s recorded.", name=contact.name), "success")
            return redirect(url_for(".index", reference=dossier.reference))
    return index(reference, (contact.id, form)), 400


@bp.post("/<int:contact_id>/mandates/<int:mandate_id>/remove")
@login_required
def remove_mandate(reference: str, contact_id: int, mandate_id: int) -> Response:
    dossier = _dossier(reference)
    contact = _contact_or_404(dossier, contact_id)
    mandate = next((m for m in contact.mandates if m.id == mandate_id), None)
    if mandate is None:
        abort(404)
    if request.form.get("confirm") != "yes":
        flash(_("Nothing removed: confirm the removal first."), "error")
        return redirect(url_for(".index", reference=dossier.reference))
    contacts.remove_mandate(current_user, mandate)
    db.session.commit()
    flash(_("Mandate of %(name)s removed.", name=contact.name), "success")
    return redirect(url_for(".index", reference=dossier.reference))


@bp.app_template_global()
def dossier_contacts(dossier: Dossier) -> list[Contact]:
    """The supplier's contacts for the dossier page (whoever sees the dossier sees them)."""
    return contacts.contacts_of(dossier)
