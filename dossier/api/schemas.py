"""The API's request and response shapes (marshmallow), from which the OpenAPI document is made."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import validate

from dossier import dossiers, tokens
from dossier.models import (
    REFERENCE_RE,
    Category,
    Confidentiality,
    DeadlineKind,
    DeadlineStatus,
    Direction,
    DocumentKind,
    DossierStatus,
    ExtractionStatus,
    MemberRole,
    NoticeUnit,
    Procedure,
)


def _choice(enum_cls: type, **kwargs: object) -> ma.fields.String:
    """A string field restricted to an enum's values (listed in the OpenAPI document)."""
    return ma.fields.String(validate=validate.OneOf([m.value for m in enum_cls]), **kwargs)


class Text(ma.fields.String):
    """Text without a NUL character: PostgreSQL cannot store one, and the web forms refuse it
    too (a 422, never a database error)."""

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: object) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("Holds a NUL character.")
        return text


class Amount(ma.fields.Decimal):
    """A euro amount, written as a decimal string ("450000.00") so no precision is lost."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(places=2, as_string=True, allow_nan=False, **kwargs)


class StrictSchema(ma.Schema):
    """Unknown fields are refused (422), never ignored: no mass assignment, no typos lost."""

    class Meta:
        unknown = ma.RAISE


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = Text(required=True)
    title = Text(required=True)
    status = ma.fields.Integer(required=True)
    detail = Text()
    instance = Text()
    errors = ma.fields.Raw(
        metadata={"description": "Field errors of a request that did not validate"}
    )
    reason = Text()
    error_id = Text(metadata={"description": "The reference of a logged server error"})


class MemberSchema(ma.Schema):
    role = _choice(MemberRole, required=True)
    email = Text(allow_none=True)
    name = Text(required=True)
    group = ma.fields.Boolean(required=True)


class TermSchema(ma.Schema):
    notice_deadline = ma.fields.Date(allow_none=True)
    max_end_on = ma.fields.Date(allow_none=True)


class DossierSummarySchema(ma.Schema):
    reference = Text(required=True)
    title = Text(required=True)
    status = _choice(DossierStatus, required=True)
    supplier = Text(required=True)
    end_on = ma.fields.Date(allow_none=True)


class DossierSchema(ma.Schema):
    """The register data of a dossier (owner, manager and beheerder by e-mail address, as the
    register export gives them) and its derived term dates."""

    reference = Text(required=True)
    title = Text(required=True)
    description = Text(required=True)
    supplier = Text(required=True)
    supplier_kvk = Text(required=True)
    client_department = Text(required=True)
    owner = ma.fields.List(Text(), required=True)
    manager = ma.fields.List(Text(), required=True)
    beheerder = ma.fields.List(Text(), required=True)
    status = _choice(DossierStatus, required=True)
    signed_on = ma.fields.Date(allow_none=True)
    start_on = ma.fields.Date(allow_none=True)
    end_on = ma.fields.Date(allow_none=True)
    option_count = ma.fields.Integer(required=True)
    option_months = ma.fields.Integer(allow_none=True)
    # Months before the end: the option decision and the start of a re-tender (none: default).
    option_lead_months = ma.fields.Integer(allow_none=True)
    tender_lead_months = ma.fields.Integer(allow_none=True)
    notice_value = ma.fields.Integer(allow_none=True)
    notice_unit = Text(allow_none=True)
    auto_renewal = ma.fields.Boolean(required=True)
    value = Amount(allow_none=True)
    annual_value = Amount(allow_none=True)
    procedure = Text(allow_none=True)
    tender_reference = Text(required=True)
    cpv_code = Text(required=True)
    category = Text(allow_none=True)
    confidentiality = _choice(Confidentiality, required=True)
    retention_years = ma.fields.Integer(allow_none=True)
    personal_data = ma.fields.Boolean(required=True)
    review_months = ma.fields.Integer(allow_none=True)
    tags = ma.fields.List(Text(), required=True)
    term = ma.fields.Nested(TermSchema, required=True)


_TEXT = validate.Length(max=255)
_PEOPLE = ma.fields.List(ma.fields.Email(), validate=validate.Length(max=50))


class DossierInputSchema(StrictSchema):
    """Register fields to set; on an update only those given change."""

    reference = Text(validate=validate.Regexp(REFERENCE_RE))
    title = Text(validate=validate.Length(min=1, max=255))
    description = Text(validate=validate.Length(max=20_000))
    supplier = Text(validate=_TEXT, allow_none=True)
    supplier_kvk = Text(validate=validate.Length(max=8), allow_none=True)
    client_department = Text(validate=_TEXT)
    owner = _PEOPLE
    manager = _PEOPLE
    beheerder = _PEOPLE
    status = _choice(DossierStatus)
    signed_on = ma.fields.Date(allow_none=True)
    start_on = ma.fields.Date(allow_none=True)
    end_on = ma.fields.Date(allow_none=True)
    option_count = ma.fields.Integer(validate=validate.Range(0, dossiers.MAX_OPTIONS))
    option_months = ma.fields.Integer(validate=validate.Range(1, 120), allow_none=True)
    option_lead_months = ma.fields.Integer(
        validate=validate.Range(0, dossiers.MAX_LEAD_MONTHS), allow_none=True
    )
    tender_lead_months = ma.fields.Integer(
        validate=validate.Range(0, dossiers.MAX_LEAD_MONTHS), allow_none=True
    )
    notice_value = ma.fields.Integer(validate=validate.Range(0, 3660), allow_none=True)
    notice_unit = _choice(NoticeUnit, allow_none=True)
    auto_renewal = ma.fields.Boolean()
    value = Amount(allow_none=True, validate=validate.Range(0, dossiers.MAX_AMOUNT))
    annual_value = Amount(allow_none=True, validate=validate.Range(0, dossiers.MAX_AMOUNT))
    procedure = _choice(Procedure, allow_none=True)
    tender_reference = Text(validate=validate.Length(max=64))
    cpv_code = Text(validate=validate.Length(max=10))
    category = _choice(Category, allow_none=True)
    confidentiality = _choice(Confidentiality)
    retention_years = ma.fields.Integer(validate=validate.Range(0, 100), allow_none=True)
    personal_data = ma.fields.Boolean()
    review_months = ma.fields.Integer(validate=validate.Range(1, 120), allow_none=True)
    tags = ma.fields.List(Text(validate=validate.Length(max=64)), validate=validate.Length(max=50))


class DossierCreateSchema(DossierInputSchema):
    reference = Text(required=True, validate=validate.Regexp(REFERENCE_RE))
    title = Text(required=True, validate=validate.Length(min=1, max=255))


class DossierFilterSchema(ma.Schema):
    status = _choice(DossierStatus)
    q = Text(
        validate=validate.Length(max=100),
        metadata={"description": "Part of the reference or title"},
    )


class VersionSchema(ma.Schema):
    number = ma.fields.Integer(required=True)
    sha256 = Text(required=True, attribute="blob_key")
    size = ma.fields.Integer(required=True)
    mime_type = Text(required=True)
    filename = Text(required=True, attribute="original_filename")
    uploaded_at = ma.fields.DateTime(required=True)
    comment = Text(required=True)
    extraction_status = ma.fields.Function(
        lambda v: v.extraction_status.value,
        required=True,
        metadata={"type": "string", "enum": [s.value for s in ExtractionStatus]},
    )
    page_count = ma.fields.Integer(allow_none=True)


class DocumentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    dossier = ma.fields.Function(
        lambda d: d.dossier.reference, required=True, metadata={"type": "string"}
    )
    kind = ma.fields.Function(lambda d: d.kind.value, required=True, metadata={"type": "string"})
    title = Text(required=True)
    document_date = ma.fields.Date(allow_none=True)
    direction = ma.fields.Function(
        lambda d: d.direction.value if d.direction else None,
        allow_none=True,
        metadata={"type": ["string", "null"]},
    )
    correspondent = Text(required=True)
    confidentiality = ma.fields.Function(
        lambda d: d.confidentiality.value, required=True, metadata={"type": "string"}
    )
    current_version = ma.fields.Integer(required=True, attribute="current_version_number")
    created_at = ma.fields.DateTime(required=True)
    versions = ma.fields.List(ma.fields.Nested(VersionSchema), required=True)


class DocumentFilterSchema(ma.Schema):
    kind = _choice(DocumentKind)


class UploadFormSchema(StrictSchema):
    kind = _choice(DocumentKind, required=True)
    title = Text(validate=_TEXT)
    document_date = ma.fields.Date()
    direction = _choice(Direction)
    correspondent = Text(validate=_TEXT)
    confidentiality = _choice(Confidentiality, load_default=Confidentiality.NORMAL.value)
    comment = Text(validate=validate.Length(max=2000))


class VersionFormSchema(StrictSchema):
    comment = Text(validate=validate.Length(max=2000))


class FileSchema(ma.Schema):
    file = Upload(required=True)


class SearchArgsSchema(ma.Schema):
    q = Text(required=True, validate=validate.Length(min=1, max=1000))
    mode = Text(validate=validate.OneOf(["documents", "clauses"]), load_default="documents")
    dossier = Text(validate=validate.Length(max=64))
    kind = ma.fields.List(_choice(DocumentKind), validate=validate.Length(max=20))
    page = ma.fields.Integer(validate=validate.Range(1, 500), load_default=1)
    per_page = ma.fields.Integer(validate=validate.Range(1, 50), load_default=20)


class HitSchema(ma.Schema):
    document_id = ma.fields.Integer(required=True)
    dossier = Text(required=True)
    title = Text(required=True)
    version = ma.fields.Integer(required=True)
    clause_number = Text(allow_none=True)
    heading = Text(allow_none=True)
    text = Text(allow_none=True)
    page = ma.fields.Integer(allow_none=True)
    clause_types = ma.fields.List(Text(), allow_none=True)
    score = ma.fields.Float(required=True)
    snippet = Text(required=True)
    text_withheld = ma.fields.Boolean(required=True)


class SearchResultSchema(ma.Schema):
    total = ma.fields.Integer(required=True)
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    degraded = ma.fields.Boolean(required=True)
    hits = ma.fields.List(ma.fields.Nested(HitSchema), required=True)


class DeadlineArgsSchema(ma.Schema):
    days = ma.fields.Integer(validate=validate.Range(1, 3660), load_default=180)


class DeadlineSchema(ma.Schema):
    dossier = Text(required=True)
    title = Text(required=True)
    kind = _choice(DeadlineKind, required=True)
    due_on = ma.fields.Date(required=True)
    status = _choice(DeadlineStatus, required=True)
    missed = ma.fields.Boolean(required=True)


class ReportSchema(ma.Schema):
    name = Text(required=True)
    title = Text(required=True)
    columns = ma.fields.List(Text(), required=True)
    rows = ma.fields.List(ma.fields.Dict(), required=True)


class AuditArgsSchema(ma.Schema):
    dossier = Text(validate=validate.Length(max=64))
    action = Text(validate=validate.Length(max=64))


class AuditEventSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    at = ma.fields.DateTime(required=True)
    actor = Text(required=True, attribute="actor_label")
    action = Text(required=True)
    object_type = Text(required=True)
    object_id = ma.fields.Integer(allow_none=True)
    dossier_id = ma.fields.Integer(allow_none=True)
    before = ma.fields.Dict(allow_none=True)
    after = ma.fields.Dict(allow_none=True)
    hash = Text(required=True)


LIFETIMES = tokens.LIFETIMES
