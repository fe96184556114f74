"""records: the selection list, retention categories, destruction lists, legal holds and the
archivist global role

The archivist role widens the CHECK constraint on user.global_role the way
performance_portfolio did (see there why SQLite's declaration is edited in place).

The selection list shipped then (the example values dossier/data/selection_list.csv had at
the time, frozen in EXAMPLE_LIST below so this migration does the same on every database; the
selectielijst_2020 migration replaces them) is loaded. The
old free `dossier.retention_years` column is kept as it was (the register import and export
still carry it, and the dossier page shows it as the period entered before the selection
list); a dossier whose retention_years equals the period of exactly one shipped category to
destroy, counted from the contract end and for whole dossiers, is given that category, with the
reason saying so. Every other dossier gets the configured default for its contract category
until a beheerder or archivist chooses one.

Revision ID: retention_disposal
Revises: spend
Create Date: 2026-12-06 11:01:35.086380

"""
import csv
import io
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from dossier.migrations.check_constraints import set_roles


# revision identifiers, used by Alembic.
revision = 'retention_disposal'
down_revision = 'spend'
branch_labels = None
depends_on = None

OLD_ROLES = ("admin", "auditor", "beheerder", "portfolio")
NEW_ROLES = (*OLD_ROLES, "archivist")


EXAMPLE_LIST = """\
code;description;valuation;retention_years;trigger;for_documents
VB-INK-01;Overeenkomsten voor leveringen en diensten, met bijlagen, wijzigingen en contractbeheer;vernietigen;7;contract_end;nee
VB-INK-02;Overeenkomsten voor werken (bouw, onderhoud, infrastructuur);vernietigen;10;contract_end;nee
VB-INK-03;Overeenkomsten van blijvend belang (grond, concessies, samenwerking, beeldbepalend);bewaren;;contract_end;nee
VB-INK-04;Aanbestedingsstukken van niet-gekozen inschrijvers;vernietigen;2;contract_end;ja
VB-INK-05;Facturen en betalingsstukken bij een overeenkomst;vernietigen;7;document_date;ja
VB-INK-06;Stukken van het contractoverleg (verslagen, correspondentie);vernietigen;5;dossier_closed;ja
"""


def _shipped_rows():
    for row in csv.DictReader(io.StringIO(EXAMPLE_LIST), delimiter=";"):
        yield {
            "code": row["code"],
            "description": row["description"],
            "valuation": row["valuation"],
            "retention_years": int(row["retention_years"]) if row["retention_years"] else None,
            "trigger": row["trigger"],
            "for_documents": row["for_documents"] == "ja",
            "is_active": True,
            "created_at": datetime.now(timezone.utc),
        }


def _seed_and_migrate_retention():
    bind = op.get_bind()
    category = sa.table(
        "selection_category",
        sa.column("id", sa.Integer), sa.column("code", sa.String),
        sa.column("description", sa.String), sa.column("valuation", sa.String),
        sa.column("retention_years", sa.Integer), sa.column("trigger", sa.String),
        sa.column("for_documents", sa.Boolean), sa.column("is_active", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    rows = list(_shipped_rows())
    op.bulk_insert(category, rows)
    by_years = {}
    for row in rows:
        if (row["valuation"], row["trigger"], row["for_documents"]) == (
            "vernietigen", "contract_end", False
        ):
            by_years.setdefault(row["retention_years"], []).append(row["code"])
    ids = dict(bind.execute(sa.select(category.c.code, category.c.id)).all())
    now = datetime.now(timezone.utc)
    dossiers = bind.execute(
        sa.text("SELECT id, retention_years FROM dossier WHERE retention_years IS NOT NULL")
    ).all()
    retention = sa.table(
        "dossier_retention",
        sa.column("dossier_id", sa.Integer), sa.column("category_id", sa.Integer),
        sa.column("assigned_by_id", sa.Integer),
        sa.column("assigned_at", sa.DateTime(timezone=True)), sa.column("reason", sa.Text),
    )
    assigned = []
    for dossier_id, years in dossiers:
        codes = by_years.get(years, [])
        if len(codes) == 1:
            assigned.append({
                "dossier_id": dossier_id, "category_id": ids[codes[0]], "assigned_by_id": None,
                "assigned_at": now,
                "reason": f"migrated: the retention period of {years} years entered before "
                "the selection list",
            })
    if assigned:
        op.bulk_insert(retention, assigned)


def upgrade():
    set_roles(NEW_ROLES)
    op.create_table('selection_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('valuation', sa.Enum('bewaren', 'vernietigen', name='valuation', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('retention_years', sa.Integer(), nullable=True),
    sa.Column('trigger', sa.Enum('contract_end', 'dossier_closed', 'document_date', name='retentiontrigger', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('for_documents', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selection_category')),
    sa.UniqueConstraint('code', name=op.f('uq_selection_category_code'))
    )
    op.create_table('disposal_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'approved', 'cancelled', 'destroyed', name='disposalstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('purge_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user.id'], name=op.f('fk_disposal_list_approved_by_id_user')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_disposal_list_closed_by_id_user')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id'], name=op.f('fk_disposal_list_proposed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_list'))
    )
    op.create_table('disposal_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('category_code', sa.String(length=32), nullable=False),
    sa.Column('disposal_on', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('proposed', 'excluded', 'quarantined', 'skipped', 'restored', 'destroyed', name='disposalitemstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('withdrawn_documents', sa.Text(), nullable=False),
    sa.Column('destroyed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], name=op.f('fk_disposal_item_dossier_id_dossier')),
    sa.ForeignKeyConstraint(['list_id'], ['disposal_list.id'], name=op.f('fk_disposal_item_list_id_disposal_list'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_item')),
    sa.UniqueConstraint('list_id', 'dossier_id', name=op.f('uq_disposal_item_list_id_dossier_id'))
    )
    with op.batch_alter_table('disposal_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposal_item_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disposal_item_list_id'), ['list_id'], unique=False)

    op.create_table('dossier_retention',
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['user.id'], name=op.f('fk_dossier_retention_assigned_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['category_id'], ['selection_category.id'], name=op.f('fk_dossier_retention_category_id_selection_category')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], name=op.f('fk_dossier_retention_dossier_id_dossier'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dossier_id', name=op.f('pk_dossier_retention'))
    )
    with op.batch_alter_table('dossier_retention', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_retention_category_id'), ['category_id'], unique=False)

    op.create_table('legal_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('placed_by_id', sa.Integer(), nullable=True),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], name=op.f('fk_legal_hold_dossier_id_dossier'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['user.id'], name=op.f('fk_legal_hold_lifted_by_id_user')),
    sa.ForeignKeyConstraint(['placed_by_id'], ['user.id'], name=op.f('fk_legal_hold_placed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_hold'))
    )
    with op.batch_alter_table('legal_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_hold_dossier_id'), ['dossier_id'], unique=False)

    op.create_table('document_retention',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['selection_category.id'], name=op.f('fk_document_retention_category_id_selection_category')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_document_retention_document_id_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_document_retention'))
    )
    with op.batch_alter_table('document_retention', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_retention_category_id'), ['category_id'], unique=False)

    op.create_table('destroyed_version',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('blob_key', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('destroyed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['disposal_item.id'], name=op.f('fk_destroyed_version_item_id_disposal_item')),
    sa.ForeignKeyConstraint(['version_id'], ['document_version.id'], name=op.f('fk_destroyed_version_version_id_document_version')),
    sa.PrimaryKeyConstraint('version_id', name=op.f('pk_destroyed_version'))
    )
    with op.batch_alter_table('destroyed_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_destroyed_version_blob_key'), ['blob_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_destroyed_version_item_id'), ['item_id'], unique=False)

    _seed_and_migrate_retention()


def downgrade():
    holders = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM \"user\" WHERE global_role = 'archivist'"
    ).scalar()
    if holders:
        raise RuntimeError(
            f"{holders} user(s) hold the archivist role; give them another role first"
        )
    destroyed = op.get_bind().exec_driver_sql("SELECT count(*) FROM destroyed_version").scalar()
    if destroyed:
        raise RuntimeError(
            f"{destroyed} destroyed version(s) have their proof in destroyed_version; "
            "a downgrade would make them look missing"
        )
    with op.batch_alter_table('destroyed_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_destroyed_version_item_id'))
        batch_op.drop_index(batch_op.f('ix_destroyed_version_blob_key'))

    op.drop_table('destroyed_version')
    with op.batch_alter_table('document_retention', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_retention_category_id'))

    op.drop_table('document_retention')
    with op.batch_alter_table('legal_hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_hold_dossier_id'))

    op.drop_table('legal_hold')
    with op.batch_alter_table('dossier_retention', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_retention_category_id'))

    op.drop_table('dossier_retention')
    with op.batch_alter_table('disposal_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disposal_item_list_id'))
        batch_op.drop_index(batch_op.f('ix_disposal_item_dossier_id'))

    op.drop_table('disposal_item')
    op.drop_table('disposal_list')
    op.drop_table('selection_category')
    set_roles(OLD_ROLES)
