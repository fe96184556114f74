"""woo_requests: Woo requests with their deadline, the documents collected for them with
their assessment, the passages marked for redaction, and the Woo handler global role

Revision ID: woo_requests
Revises: second_factor
Create Date: 2026-12-06 14:40:00

"""
from alembic import op
import sqlalchemy as sa

from dossier.migrations.check_constraints import set_roles


# revision identifiers, used by Alembic.
revision = "woo_requests"
down_revision = "second_factor"
branch_labels = None
depends_on = None

OLD_ROLES = ("admin", "auditor", "beheerder", "portfolio", "archivist")
NEW_ROLES = (*OLD_ROLES, "woo")


def upgrade():
    set_roles(NEW_ROLES)
    op.create_table(
        "woo_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("requester", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("status", sa.Enum("open", "decided", name="woostatus", native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column("extended_on", sa.Date(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=False),
        sa.Column("suspended_days", sa.Integer(), nullable=False),
        sa.Column("decision_text", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_woo_request_created_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_woo_request")),
    )
    op.create_table(
        "woo_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("assessment", sa.Enum("pending", "public", "partly_public", "not_public", name="assessment", native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("redacted_blob_key", sa.String(length=64), nullable=True),
        sa.Column("redacted_size", sa.BigInteger(), nullable=True),
        sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["added_by_id"], ["user.id"], name=op.f("fk_woo_document_added_by_id_user")),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], name=op.f("fk_woo_document_document_id_document")),
        sa.ForeignKeyConstraint(["request_id"], ["woo_request.id"], name=op.f("fk_woo_document_request_id_woo_request"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["document_version.id"], name=op.f("fk_woo_document_version_id_document_version")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_woo_document")),
        sa.UniqueConstraint("request_id", "document_id", name=op.f("uq_woo_document_request_id_document_id")),
        sa.UniqueConstraint("request_id", "number", name=op.f("uq_woo_document_request_id_number")),
    )
    with op.batch_alter_table("woo_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_woo_document_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_woo_document_redacted_blob_key"), ["redacted_blob_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_woo_document_request_id"), ["request_id"], unique=False)
    op.create_table(
        "woo_passage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("x0", sa.Float(), nullable=False),
        sa.Column("y0", sa.Float(), nullable=False),
        sa.Column("x1", sa.Float(), nullable=False),
        sa.Column("y1", sa.Float(), nullable=False),
        sa.Column("ground", sa.String(length=32), nullable=False),
        sa.Column("phrase", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_woo_passage_created_by_id_user")),
        sa.ForeignKeyConstraint(["item_id"], ["woo_document.id"], name=op.f("fk_woo_passage_item_id_woo_document"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_woo_passage")),
    )
    with op.batch_alter_table("woo_passage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_woo_passage_item_id"), ["item_id"], unique=False)


def downgrade():
    bind = op.get_bind()
    holders = bind.exec_driver_sql("SELECT count(*) FROM \"user\" WHERE global_role = 'woo'").scalar()
    if holders:
        raise RuntimeError(f"{holders} user(s) hold the woo role; give them another role first")
    requests = bind.exec_driver_sql("SELECT count(*) FROM woo_request").scalar()
    if requests:
        raise RuntimeError(
            f"{requests} Woo request(s) are recorded; a downgrade would lose them and leave "
            "their redacted PDFs without a record"
        )
    with op.batch_alter_table("woo_passage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_woo_passage_item_id"))
    op.drop_table("woo_passage")
    with op.batch_alter_table("woo_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_woo_document_request_id"))
        batch_op.drop_index(batch_op.f("ix_woo_document_redacted_blob_key"))
        batch_op.drop_index(batch_op.f("ix_woo_document_document_id"))
    op.drop_table("woo_document")
    op.drop_table("woo_request")
    set_roles(OLD_ROLES)
