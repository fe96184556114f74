"""Shared pieces of the API views: documented errors, paging, the user behind the token."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from dossier.api.problems import Problem
from dossier.extensions import db
from dossier.models import User

F = TypeVar("F", bound=Callable[..., Any])
# What every token request may meet: a missing or bad token, a read-only token on a write,
# the rate limit, an unknown route or method, and the server's own failure (never a trace).
COMMON = (401, 403, 404, 405, 429, 500, 503)
MAX_OFFSET = 2**31 - 1


def errors(blp: Blueprint, *codes: int) -> Callable[[F], F]:
    """Document the problem-details responses a view can give (schemathesis holds us to it)."""

    def decorate(view: F) -> F:
        for code in sorted(set(COMMON) | set(codes), reverse=True):
            view = blp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorate


def user() -> User:
    """The token's user (set by dossier.api.auth for this request)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def page_of(query: sa.Select[Any], pagination: Any) -> list[Any]:
    """One page of `query`'s rows; sets the total that the X-Pagination header reports."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    pagination.item_count = total or 0
    if pagination.first_item >= MAX_OFFSET:
        return []  # past any real list, and past what the database takes as an offset
    return list(db.session.scalars(query.offset(pagination.first_item).limit(pagination.page_size)))


def require_content_type(*types: str) -> None:
    """415 for a body in a type the operation does not take."""
    if request.mimetype not in types:
        raise Problem(415, f"Send the body as {' or '.join(types)}.")
