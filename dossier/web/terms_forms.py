"""The forms of the term page: an option exercised, another term event, the lead times, the
end-of-contract decision, related dossiers and the framework data (Flask-WTF: CSRF on each)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from dossier import access, labels, relations
from dossier.extensions import db
from dossier.models import Document, Dossier, EndDecisionKind, TermEventKind
from dossier.web.forms import AmountField, Form, OptionalSelectField, _choices


def document_choices(dossier: Dossier) -> list[SelectChoice]:
    query = access.visible_documents(current_user).where(Document.dossier_id == dossier.id)
    documents = db.session.scalars(query.order_by(Document.document_date.desc(), Document.id))
    return [SelectChoice("", "—")] + [
        SelectChoice(str(d.id), labels.document_choice(d)) for d in documents
    ]


class _DecidedForm(Form):
    decided_on = DateField(_l("Decided on"), validators=[DataRequired()])
    decided_by = StringField(
        _l("Decided by (empty: you)"), validators=[Optional(), Length(max=255)]
    )
    document_id = OptionalSelectField(_l("Document (decision, letter)"), choices=[])
    note = TextAreaField(_l("Note"), validators=[Length(max=4000)])

    def offer(self, dossier: Dossier) -> None:
        self.document_id.choices = document_choices(dossier)


class OptionForm(_DecidedForm):
    pass


EVENT_KINDS = {
    kind: labels.TERM_EVENT_KIND[kind]
    for kind in (TermEventKind.RENEWAL, TermEventKind.EXTENSION, TermEventKind.TERMINATION)
}


class TermEventForm(_DecidedForm):
    kind = SelectField(_l("What happened"), choices=_choices(EVENT_KINDS))
    new_end = DateField(_l("New end date (not for a tacit renewal)"), validators=[Optional()])


class LeadsForm(Form):
    option_lead_months = IntegerField(
        _l("Option decision: months before the end (empty: the default)"),
        validators=[Optional(), NumberRange(min=0, max=60)],
    )
    tender_lead_months = IntegerField(
        _l("New tender: months before the maximum end (empty: the default)"),
        validators=[Optional(), NumberRange(min=0, max=60)],
    )


class ProposeForm(Form):
    kind = SelectField(_l("Decision"), choices=_choices(labels.END_DECISION_KIND))
    reasons = TextAreaField(_l("Reasons"), validators=[DataRequired(), Length(max=4000)])

    def decision_kind(self) -> EndDecisionKind:
        return EndDecisionKind(self.kind.data)


class SettleForm(Form):
    note = TextAreaField(_l("Note (required when rejecting)"), validators=[Length(max=4000)])


class RelationForm(Form):
    relation = SelectField(
        _l("The other dossier is"),
        choices=[
            SelectChoice(
                value,
                labels.RELATION_CHILD[kind]
                if side == relations.CHILD
                else labels.RELATION_PARENT[kind],
            )
            for value, kind, side in relations.CHOICES
        ],
    )
    other = StringField(
        _l("Reference of the other dossier"), validators=[DataRequired(), Length(max=64)]
    )


class FrameworkForm(Form):
    is_framework = BooleanField(_l("This dossier is a framework agreement"))
    framework_max_value = AmountField(
        _l("Maximum value of the framework (EUR, excl. VAT)"), validators=[Optional()]
    )
