"""drop the unused people columns of dossier (owner_id, manager_id, beheerder_id)

Who holds which role is recorded only in `membership`; these copies were no longer read or
written.

Revision ID: drop_dossier_people_columns
Revises: polish2_password_reference
Create Date: 2026-11-25 10:00:00

"""
import re
import sqlite3

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'drop_dossier_people_columns'
down_revision = 'polish2_password_reference'
branch_labels = None
depends_on = None

COLUMNS = ('owner_id', 'manager_id', 'beheerder_id')


def _constraint(column):
    return f'fk_dossier_{column}_user'


def _sqlite_drop_foreign_keys():
    """Take the three foreign keys out of the dossier table's declaration.

    On SQLite a batch rebuild (copy, DROP TABLE dossier, rename) cannot be used here: the
    migration runs in a transaction with foreign keys on (PRAGMA foreign_keys cannot be
    switched off inside one), so DROP TABLE first deletes every dossier row, which either
    fails on the tables that refer to dossier or runs their ON DELETE CASCADE (memberships,
    tags, deadline actions). SQLite's own ALTER TABLE DROP COLUMN rewrites the rows in place,
    but refuses a column with a foreign key. A constraint clause is not part of the stored row
    format, so removing it from the declaration (as polish2 edits a declared type) leaves the
    stored data as it is; DROP COLUMN then checks the edited schema before it commits.
    """
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'dossier'"
    ).scalar()
    edited = sql
    for column in COLUMNS:
        reference = r'REFERENCES\s+"?user"?\s*\(\s*"?id"?\s*\)'
        # The table constraint the initial migration created, with its leading comma ...
        table_level = rf',\s*CONSTRAINT\s+"?{_constraint(column)}"?\s+FOREIGN\s+KEY\s*\(\s*"?{column}"?\s*\)\s*{reference}'
        # ... or the column constraint a downgrade of this migration adds.
        column_level = rf'\s+CONSTRAINT\s+"?{_constraint(column)}"?\s+{reference}'
        edited, count = re.subn(table_level, '', edited, flags=re.IGNORECASE)
        if not count:
            edited, count = re.subn(column_level, '', edited, flags=re.IGNORECASE)
        if count != 1:
            raise RuntimeError(
                f'the dossier table of this database declares its foreign key {_constraint(column)} '
                'differently than expected; nothing was changed'
            )
    version = bind.exec_driver_sql('PRAGMA schema_version').scalar()
    bind.exec_driver_sql('PRAGMA writable_schema=ON')
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'dossier'", (edited,)
    )
    bind.exec_driver_sql(f'PRAGMA schema_version={int(version) + 1}')
    bind.exec_driver_sql('PRAGMA writable_schema=OFF')


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        if sqlite3.sqlite_version_info < (3, 35, 0):
            raise RuntimeError(
                f'SQLite {sqlite3.sqlite_version} cannot drop a column; version 3.35 or newer is needed'
            )
        _sqlite_drop_foreign_keys()
        for column in COLUMNS:
            op.execute(f'ALTER TABLE dossier DROP COLUMN {column}')
        return
    # PostgreSQL alters the table in place (batch mode is plain ALTER TABLE there); dropping a
    # column drops its foreign key with it.
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.drop_constraint(_constraint(column), type_='foreignkey')
            batch_op.drop_column(column)


def downgrade():
    # The columns come back empty: nothing wrote them since the roles moved to `membership`.
    if op.get_bind().dialect.name == 'sqlite':
        # A plain ADD COLUMN (a NULL default, so SQLite allows the reference); a batch rebuild
        # would delete every dossier row first, as explained above.
        for column in COLUMNS:
            op.execute(
                f'ALTER TABLE dossier ADD COLUMN {column} INTEGER '
                f'CONSTRAINT {_constraint(column)} REFERENCES "user" (id)'
            )
        return
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_foreign_key(_constraint(column), 'user', [column], ['id'])
