"""The forms of the action and obligation pages (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from dossier import actions, labels, obligations
from dossier.models import Dossier
from dossier.web.forms import Form, OptionalSelectField, _choices


class ActionStatusForm(Form):
    status = SelectField(_l("Status"), choices=_choices(labels.ACTION_STATUS))
    status_note = TextAreaField(
        _l("Note (what was done or why it was dropped)"), validators=[Length(max=2000)]
    )


class ActionForm(ActionStatusForm):
    agreement = TextAreaField(
        _l("What was agreed"), validators=[DataRequired(), Length(max=actions.MAX_AGREEMENT)]
    )
    meeting_on = DateField(_l("Meeting date"), validators=[Optional()])
    minutes_id = OptionalSelectField(_l("Minutes"), choices=[])
    assignee_id = OptionalSelectField(_l("Who acts (a user)"), choices=[])
    assignee_text = StringField(
        _l("Or who acts outside (e.g. the supplier's contact)"), validators=[Length(max=255)]
    )
    due_on = DateField(_l("Due date"), validators=[Optional()])

    def offer(self, dossier: Dossier) -> None:
        blank = [SelectChoice("", "—")]
        self.minutes_id.choices = blank + [
            SelectChoice(str(d.id), labels.document_choice(d))
            for d in actions.minutes_choices(current_user, dossier)
        ]
        self.assignee_id.choices = blank + [
            SelectChoice(str(u.id), f"{u.name} <{u.email}>") for u in actions.people(dossier)
        ]

    def values(self) -> dict[str, Any]:
        values = {name: self[name].data for name in actions.FIELDS}
        for name in ("minutes_id", "assignee_id"):
            values[name] = int(values[name]) if values[name] else None
        return values


class ObligationForm(Form):
    clause_id = HiddenField()
    title = StringField(_l("Obligation"), validators=[DataRequired(), Length(max=255)])
    party = SelectField(_l("Who owes it"), choices=_choices(labels.OBLIGATION_PARTY))
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    recurrence = SelectField(_l("Recurrence"), choices=_choices(labels.RECURRENCE))
    first_due_on = DateField(_l("First due date"), validators=[DataRequired()])
    until_on = DateField(
        _l("Last date (empty: as long as the contract runs)"), validators=[Optional()]
    )
    owner_id = OptionalSelectField(_l("Owner"), choices=[])

    def offer(self, dossier: Dossier) -> None:
        self.owner_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(u.id), f"{u.name} <{u.email}>") for u in actions.people(dossier)
        ]

    def values(self) -> dict[str, Any]:
        values = {name: self[name].data for name in obligations.FIELDS}
        values["owner_id"] = int(values["owner_id"]) if values["owner_id"] else None
        return values


class DismissProposalForm(Form):
    reason = StringField(
        _l("Why is this not an obligation? (optional)"), validators=[Length(max=500)]
    )


class FulfilForm(Form):
    fulfilled_on = DateField(_l("Fulfilled on (empty: not fulfilled)"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
