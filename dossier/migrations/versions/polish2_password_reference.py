"""polish2: forced password change for one-time passwords; dossier references up to 64 characters

Revision ID: polish2_password_reference
Revises: reports_deadlines
Create Date: 2026-11-24 01:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'polish2_password_reference'
down_revision = 'reports_deadlines'
branch_labels = None
depends_on = None


def _sqlite_reference_length(old: int, new: int) -> None:
    """SQLite does not store or enforce VARCHAR lengths, so only the declared type changes.

    A batch table rebuild would drop the dossier table, and with foreign keys on (they
    cannot be switched off inside the migration's transaction) SQLite would run the
    ON DELETE CASCADE actions of the tables that refer to it. Editing the declaration
    in the schema is the documented way for a change that leaves the stored data as it is.
    """
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'dossier'",
        (f"\treference VARCHAR({old}) NOT NULL", f"\treference VARCHAR({new}) NOT NULL"),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def upgrade():
    # A plain ALTER TABLE ADD COLUMN, also on SQLite: a batch rebuild of the user table
    # would trip the foreign keys that point at it.
    op.add_column('user', sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))

    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_reference_length(32, 64)
    else:
        op.alter_column('dossier', 'reference', existing_type=sa.String(length=32), type_=sa.String(length=64), existing_nullable=False)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_reference_length(64, 32)
    else:
        op.alter_column('dossier', 'reference', existing_type=sa.String(length=64), type_=sa.String(length=32), existing_nullable=False)

    if op.get_bind().dialect.name == 'sqlite':
        # Native since SQLite 3.35; a batch rebuild would drop the user table, and its
        # ON DELETE CASCADE would take memberships with it.
        op.execute('ALTER TABLE "user" DROP COLUMN must_change_password')
    else:
        op.drop_column('user', 'must_change_password')
