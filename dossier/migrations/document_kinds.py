"""Shared by migrations that change which document kinds exist (the CHECK constraint behind
the DocumentKind enum): execution_plan, sla_processing_kinds."""

import re

from alembic import op

KIND_CHECK = "ck_document_documentkind"


def _in_list(kinds):
    return ", ".join(f"'{k}'" for k in kinds)


def _sqlite_set_kinds(kinds):
    """Rewrite the kinds the document table's CHECK constraint allows, in its declaration.

    A batch rebuild (copy, DROP TABLE document, rename) would run with foreign keys on inside
    the migration's transaction, so DROP TABLE would first delete every document row (see
    drop_dossier_people_columns). A CHECK clause is not part of the stored row format: editing
    the declaration leaves the stored rows as they are.
    """
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'document'"
    ).scalar()
    pattern = rf'(CONSTRAINT\s+"?{KIND_CHECK}"?\s+CHECK\s*\(\s*"?kind"?\s+IN\s*\()[^)]*(\))'
    edited, count = re.subn(pattern, rf"\g<1>{_in_list(kinds)}\g<2>", sql, flags=re.IGNORECASE)
    if count != 1:
        raise RuntimeError(
            f"the document table of this database declares {KIND_CHECK} differently than "
            "expected; nothing was changed"
        )
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'document'", (edited,)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def set_kinds(kinds):
    """Allow exactly `kinds` in document.kind (the CHECK constraint of the DocumentKind enum)."""
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_set_kinds(kinds)
        return
    # op.f: the name as it is, not run through the naming convention a second time.
    op.drop_constraint(op.f(KIND_CHECK), "document", type_="check")
    op.create_check_constraint(op.f(KIND_CHECK), "document", f"kind IN ({_in_list(kinds)})")
