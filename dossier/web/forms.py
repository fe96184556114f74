"""Web forms (Flask-WTF: CSRF on every one); they coerce input, the domain validates rules."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)

from dossier import deadlines, dossiers, labels
from dossier.models import (
    Category,
    Confidentiality,
    DossierStatus,
    MemberRole,
    NoticeUnit,
    PlanQuestion,
    Procedure,
)
from dossier.text import clean_line, clean_text, has_nul

NUL_MESSAGE = _l(
    "This text holds a NUL character (often left by a file saved as UTF-16); remove it and try "
    "again."
)


def _refuse_nul(value: Any) -> Any:
    """A NUL is refused, not removed: it only comes with binary or wrongly decoded input, so
    the text around it is suspect too, and the user should see it (PostgreSQL cannot store it)."""
    if isinstance(value, str) and has_nul(value):
        raise ValueError(NUL_MESSAGE)
    return value


def _line(value: Any) -> Any:
    return clean_line(value) if isinstance(value, str) else value


def _text(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


def _choices(enum_labels: dict[Any, Any], blank: bool = False) -> list[SelectChoice]:
    pairs = [SelectChoice(member.value, label) for member, label in enum_labels.items()]
    return ([SelectChoice("", "—")] if blank else []) + pairs


class OptionalSelectField(SelectField):
    """A select whose blank (or omitted) value means "not set"; other values must be offered."""

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, ""):
            self.data = ""
            return
        super().pre_validate(form)


class AmountField(StringField):
    """A euro amount typed the Dutch way (450.000,00) or the English way (450,000.00)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        raw = (valuelist[0] if valuelist else "").strip()
        if not raw:
            return
        try:
            self.data = dossiers.coerce_decimal(raw).quantize(Decimal("0.01"))
        except dossiers.AmbiguousAmount as exc:
            self.data = None
            raise ValueError(
                _(
                    "Unclear: %(thousands)s or %(decimal)s? Write thousands with a point and "
                    "cents with a comma",
                    thousands=exc.thousands,
                    decimal=exc.decimal,
                )
            ) from exc
        except (InvalidOperation, ValueError) as exc:
            self.data = None
            raise ValueError(_l("Not an amount; write for example 450.000,00")) from exc

    def _value(self) -> str:
        if self.data is not None:
            return format_decimal(self.data, "#,##0.00")
        # What the user typed stays in the field next to its error, so nothing is lost.
        return self.raw_data[0] if self.raw_data else ""


class Form(FlaskForm):
    """The base of every form: free text is cleaned where it comes in, in one place.

    A text area keeps its lines and tabs (`clean_text`), any other text field becomes one line
    (`clean_line`); both lose control and bidi-override characters, after a NUL is refused.
    Passwords are left exactly as typed, and amounts parse themselves.
    """

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            kind = unbound_field.field_class
            if issubclass(kind, StringField) and not issubclass(kind, PasswordField | AmountField):
                clean = _text if issubclass(kind, TextAreaField) else _line
                filters = unbound_field.kwargs.get("filters", ())
                options["filters"] = (_refuse_nul, clean, *filters)
            return unbound_field.bind(form=form, **options)


class LoginForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=255)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Stay logged in on this computer"))


class PasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=1024)]
    )
    new_password = PasswordField(
        _l("New password (at least 12 characters)"), validators=[DataRequired(), Length(max=1024)]
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", _l("The passwords differ."))],
    )

    def validate_new_password(self, field: PasswordField) -> None:
        """The password policy, checked with the other fields so every problem shows at once."""
        from flask_login import current_user

        from dossier import accounts
        from dossier.errors import ValidationError as DomainValidationError

        email = current_user.email if current_user.is_authenticated else ""
        name = current_user.name if current_user.is_authenticated else ""
        try:
            accounts.check_password_policy(field.data or "", email, name or "")
        except DomainValidationError as error:
            raise StopValidation(list(error.errors.values())[0]) from None


class DossierForm(Form):
    row_version = HiddenField()
    reference = StringField(_l("Reference"), validators=[DataRequired(), Length(max=64)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=255)])
    description = TextAreaField(_l("Description"), validators=[Length(max=20000)])
    supplier = StringField(_l("Supplier"), validators=[Length(max=255)])
    supplier_kvk = StringField(_l("Supplier KvK number"), validators=[Length(max=8)])
    client_department = StringField(_l("Client department"), validators=[Length(max=255)])
    # Each lists everyone holding the role (the dossier's memberships); a person holds one.
    owner = SelectMultipleField(_l("Contract owner"), choices=[])
    manager = SelectMultipleField(_l("Contract manager"), choices=[])
    beheerder = SelectMultipleField(_l("Contract administrator"), choices=[])
    status = SelectField(_l("Status"), choices=_choices(labels.STATUS))
    signed_on = DateField(_l("Signed on"), validators=[Optional()])
    start_on = DateField(_l("Start date"), validators=[Optional()])
    end_on = DateField(_l("End date"), validators=[Optional()])
    option_count = IntegerField(
        _l("Renewal options left"), default=0, validators=[Optional(), NumberRange(0, 99)]
    )
    option_months = IntegerField(
        _l("Length of each option (months)"), validators=[Optional(), NumberRange(1, 240)]
    )
    option_lead_months = IntegerField(
        _l("Option decision: months before the end (empty: the default)"),
        validators=[Optional(), NumberRange(0, 60)],
    )
    tender_lead_months = IntegerField(
        _l("New tender: months before the maximum end (empty: the default)"),
        validators=[Optional(), NumberRange(0, 60)],
    )
    notice_value = IntegerField(_l("Notice period"), validators=[Optional(), NumberRange(0)])
    notice_unit = OptionalSelectField(
        _l("Notice period unit"), choices=_choices(labels.NOTICE_UNIT, True)
    )
    auto_renewal = BooleanField(_l("Renews automatically"))
    value = AmountField(_l("Contract value (EUR, excl. VAT)"), validators=[Optional()])
    annual_value = AmountField(_l("Annual value (EUR, excl. VAT)"), validators=[Optional()])
    procedure = OptionalSelectField(
        _l("Procurement procedure"), choices=_choices(labels.PROCEDURE, True)
    )
    tender_reference = StringField(_l("Tender reference"), validators=[Length(max=64)])
    cpv_code = StringField(_l("CPV code"), validators=[Length(max=10)])
    category = OptionalSelectField(_l("Category"), choices=_choices(labels.CATEGORY, True))
    confidentiality = SelectField(_l("Confidentiality"), choices=_choices(labels.CONFIDENTIALITY))
    retention_years = IntegerField(
        _l("Retention period (years)"), validators=[Optional(), NumberRange(0, 100)]
    )
    personal_data = BooleanField(_l("The supplier processes personal data"))
    review_months = IntegerField(
        _l("Review the execution plan every (months)"),
        validators=[Optional(), NumberRange(1, 120)],
    )
    tags = StringField(_l("Tags (comma separated)"), validators=[Length(max=1000)])

    def set_people(self, people: list[tuple[str, str]]) -> None:
        """Offer the users that can be named owner, manager or beheerder."""
        choices = [SelectChoice(v, label) for v, label in people]
        self.owner.choices = self.manager.choices = self.beheerder.choices = choices

    def values(self) -> dict[str, Any]:
        """The submitted register fields as domain values (enums, lists, None for blanks)."""
        enums = {
            "status": DossierStatus,
            "notice_unit": NoticeUnit,
            "procedure": Procedure,
            "category": Category,
            "confidentiality": Confidentiality,
        }
        data: dict[str, Any] = {}
        for name in self._register_fields():
            raw = self[name].data
            if name in enums:
                data[name] = enums[name](raw) if raw else None
            elif name == "tags":
                data[name] = [t.strip() for t in (raw or "").split(",") if t.strip()]
            elif isinstance(self[name], SelectMultipleField):
                data[name] = [v for v in (raw or []) if v]
            elif isinstance(self[name], AmountField):
                data[name] = raw
            elif isinstance(raw, str) or isinstance(self[name], StringField):
                data[name] = (raw or "").strip()
            else:
                data[name] = raw
        data["option_count"] = data.get("option_count") or 0
        return data

    def _register_fields(self) -> list[str]:
        return [f.name for f in self if f.name not in ("csrf_token", "row_version")]


class DeadlineForm(Form):
    # Only what a person records; "elapsed" and "before registration" follow from the dates.
    status = SelectField(
        _l("Status"),
        choices=_choices({k: labels.DEADLINE_STATUS[k] for k in deadlines.RECORDABLE}),
    )
    note = TextAreaField(_l("Note (what was done or decided)"), validators=[Length(max=2000)])


# The upload form's first (and default) kind: left to the file. An e-mail becomes
# correspondence, any other file a contract, the kind this form chose before it had this option.
AUTOMATIC_KIND = "auto"


class UploadForm(Form):
    file = FileField(_l("File"), validators=[FileRequired()])
    kind = SelectField(
        _l("Kind of document"),
        choices=[
            SelectChoice(AUTOMATIC_KIND, _l("Automatic")),
            *_choices(labels.DOCUMENT_KIND),
        ],
        default=AUTOMATIC_KIND,
    )
    title = StringField(_l("Title (default: the file name)"), validators=[Length(max=255)])
    document_date = DateField(_l("Document date"), validators=[Optional()])
    direction = OptionalSelectField(_l("Direction"), choices=_choices(labels.DIRECTION, True))
    correspondent = StringField(_l("Correspondent"), validators=[Length(max=255)])
    confidentiality = SelectField(_l("Confidentiality"), choices=_choices(labels.CONFIDENTIALITY))
    comment = TextAreaField(_l("Comment"), validators=[Length(max=2000)])
    # Recorded for invoices only.
    invoice_amount = AmountField(_l("Invoice amount (euro, excluding VAT)"))
    invoice_from = DateField(_l("Invoice period from"), validators=[Optional()])
    invoice_to = DateField(_l("Invoice period to"), validators=[Optional()])


class DocumentEditForm(Form):
    token = HiddenField()
    kind = SelectField(_l("Kind of document"), choices=_choices(labels.DOCUMENT_KIND))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=255)])
    document_date = DateField(_l("Document date"), validators=[Optional()])
    direction = OptionalSelectField(_l("Direction"), choices=_choices(labels.DIRECTION, True))
    correspondent = StringField(_l("Correspondent"), validators=[Length(max=255)])
    confidentiality = SelectField(_l("Confidentiality"), choices=_choices(labels.CONFIDENTIALITY))
    # Recorded for invoices only.
    invoice_amount = AmountField(_l("Invoice amount (euro, excluding VAT)"))
    invoice_from = DateField(_l("Invoice period from"), validators=[Optional()])
    invoice_to = DateField(_l("Invoice period to"), validators=[Optional()])
    # A selection-list category of its own (only those the list allows for documents; empty:
    # the dossier's); the view fills the choices.
    retention_category = OptionalSelectField(_l("Selection-list category"), choices=[])


class WithdrawForm(Form):
    reason = TextAreaField(
        _l("Why is this document withdrawn?"), validators=[DataRequired(), Length(max=2000)]
    )


class VersionForm(Form):
    file = FileField(_l("File"), validators=[FileRequired()])
    comment = TextAreaField(
        _l("What changed in this version?"), validators=[DataRequired(), Length(max=2000)]
    )


GLOBAL_ROLE_CHOICES = [SelectChoice("", _l("none"))] + _choices(labels.GLOBAL_ROLE)


class UserForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=255)])
    name = StringField(_l("Name"), validators=[Length(max=255)])
    role = OptionalSelectField(_l("Global role"), choices=GLOBAL_ROLE_CHOICES)
    password = PasswordField(
        _l("Password (leave empty to generate one)"), validators=[Length(max=1024)]
    )


class ResetPasswordForm(Form):
    password = PasswordField(
        _l("New password (leave empty to generate one)"), validators=[Length(max=1024)]
    )


class GlobalRoleForm(Form):
    role = OptionalSelectField(_l("Global role"), choices=GLOBAL_ROLE_CHOICES)


class GroupForm(Form):
    name = StringField(_l("Name of the group"), validators=[DataRequired(), Length(max=255)])


class GroupMemberForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=255)])


class MemberForm(Form):
    principal = StringField(
        _l("E-mail address, name or group"), validators=[DataRequired(), Length(max=255)]
    )
    # The least powerful role is the default: more power is a deliberate choice.
    role = SelectField(
        _l("Role"), choices=_choices(labels.MEMBER_ROLE), default=MemberRole.READER.value
    )


class MemberRoleForm(Form):
    role = SelectField(_l("Role"), choices=_choices(labels.MEMBER_ROLE))


class AuditFilterForm(Form):
    """The audit viewer's filters: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    dossier = StringField(_l("Dossier"), validators=[Optional(), Length(max=64)])
    actor = StringField(_l("User (e-mail)"), validators=[Optional(), Length(max=255)])
    # Options are set by the view (every recorded action by its label); a code or prefix that
    # is not among them still filters, for links and scripts.
    action = SelectField(
        _l("Action"), choices=[], validate_choice=False, validators=[Optional(), Length(max=64)]
    )
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Up to and including"), validators=[Optional()])


# The execution plan (dossier/web/plans.py)


class PlanForm(Form):
    """One text area per question of the execution plan, named after `PlanQuestion` values."""

    why = TextAreaField(labels.PLAN_QUESTION[PlanQuestion.WHY], validators=[Length(max=20000)])
    scope = TextAreaField(labels.PLAN_QUESTION[PlanQuestion.SCOPE], validators=[Length(max=20000)])
    approach = TextAreaField(
        labels.PLAN_QUESTION[PlanQuestion.APPROACH], validators=[Length(max=20000)]
    )
    responsibilities = TextAreaField(
        labels.PLAN_QUESTION[PlanQuestion.RESPONSIBILITIES], validators=[Length(max=20000)]
    )
    cost = TextAreaField(labels.PLAN_QUESTION[PlanQuestion.COST], validators=[Length(max=20000)])
    risks = TextAreaField(labels.PLAN_QUESTION[PlanQuestion.RISKS], validators=[Length(max=20000)])
    result = TextAreaField(
        labels.PLAN_QUESTION[PlanQuestion.RESULT], validators=[Length(max=20000)]
    )


class PlanDocumentForm(Form):
    document_id = SelectField(_l("Document"), coerce=int, choices=[])


class PlanReviewForm(Form):
    held_on = DateField(_l("Held on"), validators=[DataRequired()])
    participants = TextAreaField(_l("Participants"), validators=[Length(max=5000)])
    outcome = SelectField(_l("Outcome"), choices=_choices(labels.REVIEW_OUTCOME))
    # One text per area a deviation can be in; an empty one found none there.
    deviation_result = TextAreaField(_l("Deviation in the result"), validators=[Length(max=5000)])
    deviation_approach = TextAreaField(
        _l("Deviation in the approach"), validators=[Length(max=5000)]
    )
    deviation_budget = TextAreaField(_l("Deviation in the budget"), validators=[Length(max=5000)])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=5000)])
    minutes = OptionalSelectField(_l("Minutes of the review"), choices=[])
    new_version = BooleanField(_l("The plan changes: start a new plan version"))
