"""document kinds for a service level agreement and a processing agreement, so completeness asks
for a kind rather than for words in a title

Revision ID: sla_processing_kinds
Revises: contacts_notices
Create Date: 2026-12-06 11:20:00

Existing documents keep their kind: changing it is a correction a person makes (and the audit
trail records); until then completeness also accepts the title words it accepted before.
"""

from dossier.migrations.check_constraints import set_kinds

# revision identifiers, used by Alembic.
revision = "sla_processing_kinds"
down_revision = "contacts_notices"
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
    "execution_plan",
    "other",
)
NEW_KINDS = (
    "contract",
    "annex",
    "amendment",
    "sla",
    "processing_agreement",
    "correspondence",
    "minutes",
    "report",
    "invoice",
    "execution_plan",
    "other",
)


def upgrade():
    set_kinds(NEW_KINDS)


def downgrade():
    # Refused while a document has one of the new kinds (the constraint would not hold): the
    # database says so and nothing changes.
    set_kinds(OLD_KINDS)
