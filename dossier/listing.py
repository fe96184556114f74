"""Sorting and paging of lists: the register, a dossier's documents and the audit trail share
one way to turn a `sort` argument into ORDER BY and one way to cut a page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dossier.extensions import db


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, the number of rows in all, the page count and the page
    shown (a page past the end shows the last one)."""

    items: list[Any]
    total: int
    pages: int
    number: int


def order(sort: str, columns: Mapping[str, Sequence[sa.ColumnElement[Any]]]) -> list[Any]:
    """ORDER BY for `sort`, a key of `columns` with an optional leading "-" for descending;
    empty values come last either way. The caller has checked the key."""
    key = sort.lstrip("-")
    if sort.startswith("-"):
        return [column.desc().nulls_last() for column in columns[key]]
    return [column.asc().nulls_last() for column in columns[key]]


def paginate(query: sa.Select[Any], number: int, per_page: int) -> Page:
    """One page of `query` (which must be ordered), counted and cut by the database."""
    pagination = db.paginate(
        query, page=max(number, 1), per_page=per_page, max_per_page=per_page, error_out=False
    )
    pages = max(1, pagination.pages)
    if pagination.page > pages:
        pagination = db.paginate(
            query, page=pages, per_page=per_page, max_per_page=per_page, error_out=False
        )
    return Page(list(pagination.items), pagination.total or 0, pages, pagination.page)
