"""proposal_dismissals: proposed obligations a person judged not to be one

Revision ID: proposal_dismissals
Revises: intake
Create Date: 2026-12-06 14:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "proposal_dismissals"
down_revision = "intake"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "proposal_dismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("clause_version_id", sa.Integer(), nullable=False),
        sa.Column("clause_number", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dismissed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["clause_version_id"], ["document_version.id"], name=op.f("fk_proposal_dismissal_clause_version_id_document_version"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["dismissed_by_id"], ["user.id"], name=op.f("fk_proposal_dismissal_dismissed_by_id_user"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], name=op.f("fk_proposal_dismissal_dossier_id_dossier"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_dismissal")),
        sa.UniqueConstraint("clause_version_id", "clause_number", name=op.f("uq_proposal_dismissal_clause_version_id_clause_number")),
    )
    with op.batch_alter_table("proposal_dismissal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_dismissal_dossier_id"), ["dossier_id"], unique=False)


def downgrade():
    with op.batch_alter_table("proposal_dismissal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_dismissal_dossier_id"))
    op.drop_table("proposal_dismissal")
