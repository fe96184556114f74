"""performance: KPIs and their measurements; the portfolio global role (contractmanagement)

The global role is a string column with a CHECK constraint (enum_column, not a native enum), so
a new role widens that constraint. On PostgreSQL the constraint is dropped and created again;
on SQLite it is edited in the table's declaration (a batch rebuild of the user table would
drop it first, and with foreign keys on its ON DELETE CASCADE would take memberships with it,
as polish2 and drop_dossier_people_columns explain). A downgrade refuses while a user holds the
new role, rather than leaving a row the old constraint forbids.

Revision ID: performance_portfolio
Revises: clause_types
Create Date: 2026-12-06 08:00:00

"""

from alembic import op
import sqlalchemy as sa

from dossier.migrations.check_constraints import set_roles


# revision identifiers, used by Alembic.
revision = "performance_portfolio"
down_revision = "actions_obligations"
branch_labels = None
depends_on = None

OLD_ROLES = ("admin", "auditor", "beheerder")
NEW_ROLES = (*OLD_ROLES, "portfolio")


def upgrade():
    set_roles(NEW_ROLES)
    op.create_table(
        "kpi",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("norm", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "higher",
                "lower",
                name="kpidirection",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "period",
            sa.Enum(
                "month",
                "quarter",
                "year",
                name="kpiperiod",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("tolerance", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name="fk_kpi_created_by_id_user", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name="fk_kpi_dossier_id_dossier", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_kpi"),
        sa.UniqueConstraint("dossier_id", "name", name="uq_kpi_dossier_id_name"),
    )
    op.create_index("ix_kpi_dossier_id", "kpi", ["dossier_id"], unique=False)
    op.create_table(
        "kpi_measurement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpi_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("penalty_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("penalty_note", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name="fk_kpi_measurement_document_id_document"
        ),
        sa.ForeignKeyConstraint(
            ["kpi_id"], ["kpi.id"], name="fk_kpi_measurement_kpi_id_kpi", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user.id"],
            name="fk_kpi_measurement_recorded_by_id_user",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_kpi_measurement"),
        sa.UniqueConstraint(
            "kpi_id", "period_start", name="uq_kpi_measurement_kpi_id_period_start"
        ),
    )
    op.create_index(
        "ix_kpi_measurement_document_id", "kpi_measurement", ["document_id"], unique=False
    )
    op.create_index("ix_kpi_measurement_kpi_id", "kpi_measurement", ["kpi_id"], unique=False)


def downgrade():
    holders = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM \"user\" WHERE global_role = 'portfolio'"
    ).scalar()
    if holders:
        raise RuntimeError(
            f"{holders} user(s) hold the portfolio role; give them another role first"
        )
    op.drop_index("ix_kpi_measurement_kpi_id", table_name="kpi_measurement")
    op.drop_index("ix_kpi_measurement_document_id", table_name="kpi_measurement")
    op.drop_table("kpi_measurement")
    op.drop_index("ix_kpi_dossier_id", table_name="kpi")
    op.drop_table("kpi")
    set_roles(OLD_ROLES)
