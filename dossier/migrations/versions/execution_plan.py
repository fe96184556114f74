"""execution plan: the plan record with its answers, documents and reviews; the execution-plan
document kind; an invoice's amount and period

Revision ID: execution_plan
Revises: clause_types
Create Date: 2026-12-06 08:00:00

"""

import sqlalchemy as sa
from alembic import op

from dossier.migrations.check_constraints import set_kinds

# revision identifiers, used by Alembic.
revision = "execution_plan"
down_revision = "clause_types"
branch_labels = None
depends_on = None

OLD_KINDS = (
    "contract",
    "annex",
    "amendment",
    "correspondence",
    "minutes",
    "report",
    "invoice",
    "other",
)
NEW_KINDS = (
    "contract",
    "annex",
    "amendment",
    "correspondence",
    "minutes",
    "report",
    "invoice",
    "execution_plan",
    "other",
)
def _user_fk(table, column):
    return sa.ForeignKeyConstraint(
        [column], ["user.id"], name=f"fk_{table}_{column}_user", ondelete="SET NULL"
    )


def upgrade():
    set_kinds(NEW_KINDS)
    # Plain ADD COLUMN (nullable): SQLite adds them in place, no table rebuild.
    op.add_column(
        "document", sa.Column("invoice_amount", sa.Numeric(precision=14, scale=2), nullable=True)
    )
    op.add_column("document", sa.Column("invoice_from", sa.Date(), nullable=True))
    op.add_column("document", sa.Column("invoice_to", sa.Date(), nullable=True))

    op.create_table(
        "execution_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossier.id"],
            name="fk_execution_plan_dossier_id_dossier",
            ondelete="CASCADE",
        ),
        _user_fk("execution_plan", "created_by_id"),
        sa.PrimaryKeyConstraint("id", name="pk_execution_plan"),
        sa.UniqueConstraint("dossier_id", name="uq_execution_plan_dossier_id"),
    )
    op.create_table(
        "plan_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column(
            "question",
            sa.Enum(
                "why",
                "scope",
                "approach",
                "responsibilities",
                "cost",
                "risks",
                "result",
                name="planquestion",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["execution_plan.id"],
            name="fk_plan_answer_plan_id_execution_plan",
            ondelete="CASCADE",
        ),
        _user_fk("plan_answer", "changed_by_id"),
        sa.PrimaryKeyConstraint("id", name="pk_plan_answer"),
    )
    op.create_index("ix_plan_answer_plan_id", "plan_answer", ["plan_id"])
    op.create_table(
        "plan_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["execution_plan.id"],
            name="fk_plan_document_plan_id_execution_plan",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name="fk_plan_document_document_id_document",
            ondelete="CASCADE",
        ),
        _user_fk("plan_document", "linked_by_id"),
        sa.PrimaryKeyConstraint("id", name="pk_plan_document"),
        sa.UniqueConstraint("plan_id", "document_id", name="uq_plan_document_plan_id_document_id"),
    )
    op.create_index("ix_plan_document_plan_id", "plan_document", ["plan_id"])
    op.create_index("ix_plan_document_document_id", "plan_document", ["document_id"])
    op.create_table(
        "plan_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("participants", sa.Text(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "on_track",
                "deviations",
                "change_plan",
                name="reviewoutcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("minutes_document_id", sa.Integer(), nullable=True),
        sa.Column("new_plan_version", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["execution_plan.id"],
            name="fk_plan_review_plan_id_execution_plan",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["minutes_document_id"],
            ["document.id"],
            name="fk_plan_review_minutes_document_id_document",
            ondelete="SET NULL",
        ),
        _user_fk("plan_review", "recorded_by_id"),
        sa.PrimaryKeyConstraint("id", name="pk_plan_review"),
    )
    op.create_index("ix_plan_review_plan_id", "plan_review", ["plan_id"])
    op.create_table(
        "plan_deviation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column(
            "area",
            sa.Enum(
                "result",
                "approach",
                "budget",
                name="deviationarea",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["plan_review.id"],
            name="fk_plan_deviation_review_id_plan_review",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_plan_deviation"),
    )
    op.create_index("ix_plan_deviation_review_id", "plan_deviation", ["review_id"])


def downgrade():
    op.drop_index("ix_plan_deviation_review_id", table_name="plan_deviation")
    op.drop_table("plan_deviation")
    op.drop_index("ix_plan_review_plan_id", table_name="plan_review")
    op.drop_table("plan_review")
    op.drop_index("ix_plan_document_document_id", table_name="plan_document")
    op.drop_index("ix_plan_document_plan_id", table_name="plan_document")
    op.drop_table("plan_document")
    op.drop_index("ix_plan_answer_plan_id", table_name="plan_answer")
    op.drop_table("plan_answer")
    op.drop_table("execution_plan")
    if op.get_bind().dialect.name == "sqlite":
        for column in ("invoice_to", "invoice_from", "invoice_amount"):
            op.execute(f"ALTER TABLE document DROP COLUMN {column}")
    else:
        for column in ("invoice_to", "invoice_from", "invoice_amount"):
            op.drop_column("document", column)
    # Documents of the new kind become annexes: the narrower constraint would refuse them.
    op.execute("UPDATE document SET kind = 'annex' WHERE kind = 'execution_plan'")
    set_kinds(OLD_KINDS)
