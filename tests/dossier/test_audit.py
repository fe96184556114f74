"""`dossier/audit.py`: every action recorded is a member of AuditAction, and one that is not is
refused."""

from __future__ import annotations

import pytest
from flask import Flask

from dossier import audit
from dossier.extensions import db


def test_an_action_outside_the_enum_is_refused(app: Flask, trail: dict) -> None:
    with pytest.raises(ValueError):
        audit.record(trail["bea"], "made.up", "test", 1)
    db.session.rollback()


def test_every_recorded_action_comes_from_the_enum() -> None:
    """Each `audit.record(...)` call in the code names its action through AuditAction."""
    import ast
    from pathlib import Path

    import dossier

    offenders = []
    for path in Path(dossier.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
                and len(node.args) > 1
                and any(isinstance(n, ast.Constant) for n in ast.walk(node.args[1]))
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
