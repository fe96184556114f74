"""selectielijst_2020: the real categories of the Selectielijst gemeenten en intergemeentelijke
organen 2020 replace the shipped example categories (VB-INK-...)

The categories of dossier/data/selection_list.csv as it is at this revision (frozen in
REAL_LIST below, so the migration does the same on every database) are added, except a code
the organisation already has (an imported list of its own wins). The example categories of
the retention_disposal migration are deleted where no dossier, document or disposal list uses
them. An example category in use is not mapped to a real one: its period and event were made
up, so no real category is its equivalent and only an archivist can decide which result a
dossier has. It stays, inactive (it can no longer be chosen), until an archivist chooses a real
category for the dossiers and documents that carry it.

Downgrade deletes the real categories nothing uses and that still have the shipped
description (one the organisation imported under the same code with its own words stays) and
brings the example ones back (active).

Revision ID: selectielijst_2020
Revises: woo_requests
Create Date: 2026-12-06 16:10:00

"""

import csv
import io
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "selectielijst_2020"
down_revision = "woo_requests"
branch_labels = None
depends_on = None

# The example list of the retention_disposal migration, for the downgrade.
EXAMPLE_LIST = """\
VB-INK-01;Overeenkomsten voor leveringen en diensten, met bijlagen, wijzigingen en contractbeheer;vernietigen;7;contract_end;nee
VB-INK-02;Overeenkomsten voor werken (bouw, onderhoud, infrastructuur);vernietigen;10;contract_end;nee
VB-INK-03;Overeenkomsten van blijvend belang (grond, concessies, samenwerking, beeldbepalend);bewaren;;contract_end;nee
VB-INK-04;Aanbestedingsstukken van niet-gekozen inschrijvers;vernietigen;2;contract_end;ja
VB-INK-05;Facturen en betalingsstukken bij een overeenkomst;vernietigen;7;document_date;ja
VB-INK-06;Stukken van het contractoverleg (verslagen, correspondentie);vernietigen;5;dossier_closed;ja
"""
EXAMPLE_CODES = ("VB-INK-01", "VB-INK-02", "VB-INK-03", "VB-INK-04", "VB-INK-05", "VB-INK-06")

# code;description;valuation;retention_years;trigger;for_documents (sources and the mapping of
# the list's procestermijn to the trigger: dossier/data/selection_list.csv)
REAL_LIST = """\
16.1;Overeenkomsten aangaan - Aangegaan (bijv. garantstelling, inkoopovereenkomst, huur, pacht, ingebruikgeving, verkoop roerend goed, lening);vernietigen;10;contract_end;nee
16.1.1;Overeenkomsten aangaan - Aangegaan: inkoopovereenkomst zonder contract of garantiebepalingen (bijv. inkoop van materialen);vernietigen;7;dossier_closed;nee
16.1.2;Overeenkomsten aangaan - Aangegaan: samenwerkingsovereenkomst ten behoeve van de taakuitoefening van het orgaan;bewaren;;contract_end;nee
16.1.4;Overeenkomsten aangaan - Aangegaan: overdracht van onroerend goed, schenkingsovereenkomst (koop, verkoop, ruiling, onteigening, verjaring);bewaren;;contract_end;nee
16.1.5;Overeenkomsten aangaan - Aangegaan: verzekering;vernietigen;7;contract_end;nee
16.2;Overeenkomsten aangaan - Niet doorgegaan;vernietigen;5;dossier_closed;nee
16.2.1;Overeenkomsten aangaan - Niet doorgegaan: inkoopovereenkomst;vernietigen;1;dossier_closed;nee
16.2.2;Overeenkomsten aangaan - Niet doorgegaan: aanbesteding vallend onder Europees recht;vernietigen;3;dossier_closed;nee
16.3;Overeenkomsten aangaan - Beëindigd;vernietigen;10;dossier_closed;nee
16.3.1;Overeenkomsten aangaan - Beëindigd: samenwerkingsovereenkomst ten behoeve van de taakuitoefening van het orgaan;bewaren;;contract_end;nee
16.4;Overeenkomsten aangaan - Afgebroken;vernietigen;1;dossier_closed;nee
12.1.5;Toezien en handhaven - Toezicht uitgevoerd: financieel en contractueel toezicht;vernietigen;7;dossier_closed;ja
18.1;Betalen en innen - Betaald (facturen en de betaling van belasting door het orgaan);vernietigen;7;document_date;ja
18.1.1;Betalen en innen - Betaald: factuur omtrent onroerend goed;vernietigen;10;document_date;ja
"""
COLUMNS = ("code", "description", "valuation", "retention_years", "trigger", "for_documents")


def real_rows():
    return list(_rows(REAL_LIST))


def _rows(text):
    now = datetime.now(timezone.utc)
    for row in csv.DictReader(io.StringIO(text), fieldnames=COLUMNS, delimiter=";"):
        yield {
            "code": row["code"],
            "description": row["description"],
            "valuation": row["valuation"],
            "retention_years": int(row["retention_years"]) if row["retention_years"] else None,
            "trigger": row["trigger"],
            "for_documents": row["for_documents"] == "ja",
            "is_active": True,
            "created_at": now,
        }


CATEGORY = sa.table(
    "selection_category",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("description", sa.String),
    sa.column("valuation", sa.String),
    sa.column("retention_years", sa.Integer),
    sa.column("trigger", sa.String),
    sa.column("for_documents", sa.Boolean),
    sa.column("is_active", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _used_codes(codes):
    """The codes of `codes` a dossier, a document or a disposal list refers to."""
    bind = op.get_bind()
    used = set()
    for table in ("dossier_retention", "document_retention"):
        used.update(
            bind.execute(
                sa.text(
                    f"SELECT DISTINCT c.code FROM {table} r "
                    "JOIN selection_category c ON c.id = r.category_id"
                )
            ).scalars()
        )
    used.update(bind.execute(sa.text("SELECT DISTINCT category_code FROM disposal_item")).scalars())
    return used & set(codes)


def _existing_codes():
    return set(op.get_bind().execute(sa.select(CATEGORY.c.code)).scalars())


def upgrade():
    bind = op.get_bind()
    existing = _existing_codes()
    new = [row for row in real_rows() if row["code"] not in existing]
    if new:
        op.bulk_insert(CATEGORY, new)
    examples = existing & set(EXAMPLE_CODES)
    used = _used_codes(examples)
    if examples - used:
        bind.execute(sa.delete(CATEGORY).where(CATEGORY.c.code.in_(sorted(examples - used))))
    if used:
        bind.execute(
            sa.update(CATEGORY).where(CATEGORY.c.code.in_(sorted(used))).values(is_active=False)
        )


def downgrade():
    bind = op.get_bind()
    for row in real_rows():
        if row["code"] in _used_codes([row["code"]]):
            continue
        bind.execute(
            sa.delete(CATEGORY).where(
                CATEGORY.c.code == row["code"], CATEGORY.c.description == row["description"]
            )
        )
    existing = _existing_codes()
    back = [row for row in _rows(EXAMPLE_LIST) if row["code"] not in existing]
    if back:
        op.bulk_insert(CATEGORY, back)
    bind.execute(
        sa.update(CATEGORY).where(CATEGORY.c.code.in_(EXAMPLE_CODES)).values(is_active=True)
    )
