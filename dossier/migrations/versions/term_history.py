"""term history: a dossier's term as events, end-of-contract decisions, related dossiers,
per-dossier lead times and framework maximum

An existing dossier gets its "original term" event from its fields as they stand when the
first change to its term is recorded (dossier/terms.py), so nothing is lost.

Revision ID: term_history
Revises: retention_disposal
Create Date: 2026-12-06 11:20:00

"""

from alembic import op
import sqlalchemy as sa

from dossier.migrations.check_constraints import set_allowed


# revision identifiers, used by Alembic.
revision = 'term_history'
down_revision = 'retention_disposal'
branch_labels = None
depends_on = None

OLD_KINDS = ("end", "notice", "option", "review", "tender")
NEW_KINDS = (*OLD_KINDS, "decision")
KIND_CHECK = "ck_deadline_action_deadlinekind"
TABLE = "deadline_action"


def _set_kinds(kinds):
    set_allowed(TABLE, "kind", KIND_CHECK, kinds)


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _user_fk(table, column):
    return sa.ForeignKeyConstraint(
        [column], ["user.id"], name=f"fk_{table}_{column}_user", ondelete="SET NULL"
    )


def upgrade():
    _set_kinds(NEW_KINDS)
    op.add_column("dossier", sa.Column("option_lead_months", sa.Integer(), nullable=True))
    op.add_column("dossier", sa.Column("tender_lead_months", sa.Integer(), nullable=True))
    op.add_column(
        "dossier",
        sa.Column("is_framework", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "dossier",
        sa.Column("framework_max_value", sa.Numeric(precision=14, scale=2), nullable=True),
    )
    op.create_table(
        "term_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            _enum(
                "termeventkind",
                "original", "option", "renewal", "extension", "termination", "correction",
            ),
            nullable=False,
        ),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("end_before", sa.Date(), nullable=True),
        sa.Column("end_after", sa.Date(), nullable=True),
        sa.Column("options_before", sa.Integer(), nullable=True),
        sa.Column("options_after", sa.Integer(), nullable=True),
        sa.Column("option_months", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"],
            name=op.f("fk_term_event_document_id_document"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"],
            name=op.f("fk_term_event_dossier_id_dossier"), ondelete="CASCADE",
        ),
        _user_fk("term_event", "recorded_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_term_event")),
    )
    op.create_index(op.f("ix_term_event_dossier_id"), "term_event", ["dossier_id"])
    op.create_index(op.f("ix_term_event_document_id"), "term_event", ["document_id"])
    op.create_table(
        "end_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", _enum("enddecisionkind", "extend", "retender", "end", "insource"),
            nullable=False,
        ),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column(
            "status", _enum("enddecisionstatus", "proposed", "approved", "rejected"),
            nullable=False,
        ),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"],
            name=op.f("fk_end_decision_dossier_id_dossier"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"], ["dossier.id"],
            name=op.f("fk_end_decision_successor_id_dossier"), ondelete="SET NULL",
        ),
        _user_fk("end_decision", "proposed_by_id"),
        _user_fk("end_decision", "decided_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_end_decision")),
    )
    op.create_index(op.f("ix_end_decision_dossier_id"), "end_decision", ["dossier_id"])
    op.create_table(
        "dossier_relation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", _enum("relationkind", "call_off", "successor", "processing", "sla"),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("parent_id <> child_id", name=op.f("ck_dossier_relation_not_itself")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["dossier.id"],
            name=op.f("fk_dossier_relation_parent_id_dossier"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["dossier.id"],
            name=op.f("fk_dossier_relation_child_id_dossier"), ondelete="CASCADE",
        ),
        _user_fk("dossier_relation", "created_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_relation")),
        sa.UniqueConstraint(
            "parent_id", "child_id", name=op.f("uq_dossier_relation_parent_id_child_id")
        ),
    )
    op.create_index(op.f("ix_dossier_relation_parent_id"), "dossier_relation", ["parent_id"])
    op.create_index(op.f("ix_dossier_relation_child_id"), "dossier_relation", ["child_id"])
    # Existing dossiers get their "original term" event lazily (dossier/terms.py): from the
    # register fields as they are when the first change to the term is recorded.


def downgrade():
    op.drop_table("dossier_relation")
    op.drop_table("end_decision")
    op.drop_table("term_event")
    # Plain DROP COLUMN (SQLite 3.35+ in place): a batch rebuild of the dossier table would
    # delete every row that refers to it through ON DELETE CASCADE.
    for column in ("framework_max_value", "is_framework", "tender_lead_months",
                   "option_lead_months"):
        op.drop_column("dossier", column)
    op.execute(f"DELETE FROM {TABLE} WHERE kind = 'decision'")
    _set_kinds(OLD_KINDS)
