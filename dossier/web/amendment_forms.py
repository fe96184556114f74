"""The forms of the amendment register (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, SelectChoice, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from dossier import amendments, dossiers, labels
from dossier.models import Dossier
from dossier.web.forms import AmountField, Form, _choices

MINUS_SIGNS = ("-", "\u2212")  # hyphen-minus and the typographic minus sign


class SignedAmountField(AmountField):
    """A euro amount with an optional sign: "-2.500,00" is minus 2,500 (the sign is read
    apart, so the Dutch thousands dot is not taken for a decimal point)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        raw = (valuelist[0] if valuelist else "").strip()
        if not raw:
            return
        negative = raw.startswith(MINUS_SIGNS)
        unsigned = raw[1:].strip() if raw[:1] in (*MINUS_SIGNS, "+") else raw
        try:
            amount = dossiers.coerce_decimal(unsigned).quantize(Decimal("0.01"))
            if amount < 0 or unsigned[:1] in (*MINUS_SIGNS, "+"):
                raise InvalidOperation(raw)
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(
                _l("Not an amount; write for example 12.500,00 or -2.500,00 for a decrease")
            ) from exc
        self.data = -amount if negative else amount


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AmendmentForm(Form):
    amended_on = DateField(_l("Date of the amendment"), validators=[DataRequired()])
    description = TextAreaField(
        _l("What changes"), validators=[DataRequired(), Length(max=amendments.MAX_TEXT)]
    )
    value_change = SignedAmountField(
        _l("Value change in euros excl. VAT (minus for a decrease)"), validators=[InputRequired()]
    )
    reason = TextAreaField(_l("Reason"), validators=[Length(max=amendments.MAX_TEXT)])
    legal_ground = SelectField(_l("Legal ground"), choices=_choices(labels.LEGAL_GROUND))
    document_ids = CheckboxesField(_l("Linked documents"), choices=[], coerce=int)

    def offer(self, dossier: Dossier) -> None:
        self.document_ids.choices = [
            SelectChoice(d.id, labels.document_choice(d))
            for d in amendments.document_choices(current_user, dossier)
        ]

    def values(self) -> dict[str, Any]:
        values = {name: self[name].data for name in amendments.FIELDS}
        values["document_ids"] = list(self.document_ids.data or [])
        return values


class DecisionForm(Form):
    decision = SelectField(
        _l("Decision"),
        choices=[
            SelectChoice("approve", _l("Approve")),
            SelectChoice("reject", _l("Reject")),
        ],
    )
    decision_note = TextAreaField(_l("Note"), validators=[Length(max=amendments.MAX_TEXT)])
