"""Shared by migrations that change which values an enum column allows (the CHECK constraint
SQLAlchemy declares for a non-native Enum): document kinds, deadline kinds, global roles."""

import re
from collections.abc import Sequence

from alembic import op


def _in_list(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def set_allowed(table: str, column: str, constraint: str, values: Sequence[str]) -> None:
    """Allow exactly `values` in `table.column`, whose CHECK constraint is named `constraint`."""
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_set_allowed(table, column, constraint, values)
        return
    # op.f: the name as it is, not run through the naming convention a second time.
    op.drop_constraint(op.f(constraint), table, type_="check")
    op.create_check_constraint(op.f(constraint), table, f"{column} IN ({_in_list(values)})")


def _sqlite_set_allowed(table: str, column: str, constraint: str, values: Sequence[str]) -> None:
    """Rewrite the CHECK clause in the table's declaration.

    A batch rebuild (copy, DROP TABLE, rename) would run with foreign keys on inside the
    migration's transaction, so DROP TABLE would first delete every row that refers to the
    table through ON DELETE CASCADE (see drop_dossier_people_columns). A CHECK clause is not
    part of the stored row format: editing the declaration leaves the stored rows as they are.
    """
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar()
    pattern = (
        rf'(CONSTRAINT\s+"?{re.escape(constraint)}"?\s+CHECK\s*\(\s*"?{re.escape(column)}"?'
        r"\s+IN\s*\()[^)]*(\))"
    )
    edited, count = re.subn(pattern, rf"\g<1>{_in_list(values)}\g<2>", sql, flags=re.IGNORECASE)
    if count != 1:
        raise RuntimeError(
            f"the {table} table of this database declares {constraint} differently than "
            "expected; nothing was changed"
        )
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (edited, table)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def set_kinds(kinds: Sequence[str]) -> None:
    """Allow exactly `kinds` in document.kind (the DocumentKind enum)."""
    set_allowed("document", "kind", "ck_document_documentkind", kinds)


def set_roles(roles: Sequence[str]) -> None:
    """Allow exactly `roles` in user.global_role (the GlobalRole enum)."""
    set_allowed("user", "global_role", "ck_user_globalrole", roles)
