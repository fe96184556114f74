"""clause types: the thesaurus concepts each clause is about (search.clause_types)

Existing clauses start without types; `dossier reindex --clauses` classifies every stored
clause (and rebuilds the index, whose schema version changed with this column).

Revision ID: clause_types
Revises: outbox_claims
Create Date: 2026-12-06 04:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "clause_types"
down_revision = "outbox_claims"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no batch copy of the table): SQLite adds a NOT NULL column with a
    # default in place.
    op.add_column("clause", sa.Column("clause_types", sa.Text(), server_default="", nullable=False))


def downgrade():
    op.drop_column("clause", "clause_types")
