"""Forms of the performance pages (Flask-WTF: CSRF on each); numbers parse themselves, the
domain (dossier/performance.py) checks the rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from dossier import labels, performance
from dossier.web.forms import AmountField, Form, OptionalSelectField, _choices


class NumberField(StringField):
    """A number typed with a decimal comma or point (99,5 or 99.5); what was typed stays in the
    field next to its error."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        raw = (valuelist[0] if valuelist else "").strip()
        if not raw:
            return
        try:
            self.data = performance.parse_number(raw)
        except ValueError as exc:
            raise ValueError(_l("Not a number; write for example 99,5")) from exc

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return format_number(self.data) if self.data is not None else ""


def format_number(value: Decimal | None) -> str:
    """A stored number without trailing zeros, with a decimal comma (as typed in Dutch)."""
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return text.replace(".", ",")


class KpiForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    description = TextAreaField(_l("Description (how it is measured)"), [Length(max=4000)])
    norm = NumberField(_l("Norm"), validators=[DataRequired()])
    unit = StringField(_l("Unit (for example %, hours, incidents)"), [Length(max=32)])
    direction = SelectField(_l("Direction"), choices=_choices(labels.KPI_DIRECTION))
    period = SelectField(_l("Measurement period"), choices=_choices(labels.KPI_PERIOD))
    tolerance = NumberField(_l("Tolerance for amber (in the KPI's unit)"))


class KpiEditForm(KpiForm):
    period = None  # measurements are kept per period: the period of a KPI stays


class MeasurementForm(Form):
    period = StringField(_l("Period"), validators=[DataRequired(), Length(max=16)])
    value = NumberField(_l("Measured value"), validators=[DataRequired()])
    document_id = OptionalSelectField(_l("From report (a document of this dossier)"), choices=[])
    penalty_amount = AmountField(_l("Penalty or malus (euro)"))
    penalty_note = StringField(_l("Penalty note"), [Length(max=1000)])
    note = TextAreaField(_l("Note"), [Length(max=4000)])
