"""amendments and extra work: the amendment register (value change, legal ground, the owner's
approval) and the documents linked to each amendment

Revision ID: amendments_checks
Revises: term_history
Create Date: 2026-12-06 11:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'amendments_checks'
down_revision = 'term_history'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('amendment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('amended_on', sa.Date(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('value_change', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('legal_ground', sa.Enum('2.163b', '2.163c', '2.163d', '2.163e', '2.163f', '2.163g', 'other', name='legalground', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'approved', 'rejected', name='amendmentstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_amendment_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], name=op.f('fk_amendment_dossier_id_dossier'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id'], name=op.f('fk_amendment_proposed_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amendment'))
    )
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amendment_dossier_id'), ['dossier_id'], unique=False)

    op.create_table('amendment_document',
    sa.Column('amendment_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['amendment_id'], ['amendment.id'], name=op.f('fk_amendment_document_amendment_id_amendment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_amendment_document_document_id_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('amendment_id', 'document_id', name=op.f('pk_amendment_document'))
    )


def downgrade():
    op.drop_table('amendment_document')
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amendment_dossier_id'))

    op.drop_table('amendment')
