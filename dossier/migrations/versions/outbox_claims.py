"""outbox claims: the worker holding an item, its lease and the back-off after a failure

Several workers (on several machines) take outbox items with SELECT ... FOR UPDATE SKIP LOCKED
and hold them for a lease (dossier.outbox); an item whose holder died is taken over when the
lease runs out.

Revision ID: outbox_claims
Revises: drop_dossier_people_columns
Create Date: 2026-12-06 04:20:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "outbox_claims"
down_revision = "drop_dossier_people_columns"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_by", sa.String(length=128), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("not_before")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
