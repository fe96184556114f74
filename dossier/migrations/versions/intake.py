"""intake: mail and files handled by the IMAP and folder intake (filed, queued, refused,
discarded), with the Message-ID and hash that keep a mail from being filed twice

Revision ID: intake
Revises: amendments_checks
Create Date: 2026-12-06 11:45:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = "intake"
down_revision = "amendments_checks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "intake_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Enum("mail", "folder", name="intakesource", native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column("status", sa.Enum("filed", "queued", "discarded", "refused", name="intakestatus", native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_intake_item_decided_by_id_user")),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], name=op.f("fk_intake_item_document_id_document")),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], name=op.f("fk_intake_item_dossier_id_dossier")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_item")),
    )
    with op.batch_alter_table("intake_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_item_content_sha256"), ["content_sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_intake_item_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intake_item_message_id"), ["message_id"], unique=False)


def downgrade():
    with op.batch_alter_table("intake_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_item_message_id"))
        batch_op.drop_index(batch_op.f("ix_intake_item_dossier_id"))
        batch_op.drop_index(batch_op.f("ix_intake_item_content_sha256"))
    op.drop_table("intake_item")
