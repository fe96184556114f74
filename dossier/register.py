"""The contract register as a list: the dossiers a user sees, filtered and sorted.

The web page, its pages and its exports read the same `Selection`, so what is exported is what
the page showed. Notice deadline and maximum end date are derived in Python (`derived_dates`),
so sorting on them sorts the filtered dossiers here instead of in SQL. The end date is the end
of the running term (a contract that renews automatically rolls past its recorded end date);
its filter and its sort compute it in SQL (`deadlines.running_end_sql`), so pages stay queries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from dossier import access, deadlines, dossiers
from dossier.extensions import db
from dossier.listing import Page, order, paginate
from dossier.models import (
    Category,
    Dossier,
    DossierStatus,
    GroupMember,
    MemberRole,
    Membership,
    Party,
    Procedure,
    User,
)

SQL_SORTS: dict[str, Sequence[Any]] = {
    "reference": [Dossier.reference],
    "title": [Dossier.title],
    "supplier": [Party.name],
    "status": [Dossier.status],
    "end_on": [],  # the end of the running term, as the column shows it: see `_ordered`
    "value": [Dossier.value],
}
DERIVED_SORTS: dict[str, Callable[[dossiers.DerivedDates], date | None]] = {
    "notice_deadline": lambda d: d.notice_deadline,
    "max_end_on": lambda d: d.max_end_on,
}
# The roles the "contract manager or beheerder" filter looks for.
_MANAGING = (MemberRole.MANAGER, MemberRole.BEHEERDER)
MAX_ENDS_WITHIN = 3660  # days; a longer horizon is no filter


@dataclass(frozen=True)
class Selection:
    """What the register shows; empty fields do not filter."""

    text: str = ""  # part of the reference, title or supplier
    status: str = ""
    supplier: str = ""  # part of the supplier's name
    procedure: str = ""
    category: str = ""
    person: int | None = None  # the dossier's contract manager or beheerder (a user id)
    ends_within: int | None = None  # the current term ends within this many days from today
    sort: str = "reference"  # a key of SQL_SORTS or DERIVED_SORTS, "-" first for descending

    @classmethod
    def from_args(cls, args: Any) -> Selection:
        """Read a selection from request arguments, dropping what is not a valid value."""
        person = args.get("person", "")
        days = args.get("ends_within", "")
        sort = args.get("sort", "reference")
        return cls(
            text=args.get("q", "").strip()[:100],
            status=_member(DossierStatus, args.get("status", "")),
            supplier=args.get("supplier", "").strip()[:100],
            procedure=_member(Procedure, args.get("procedure", "")),
            category=_member(Category, args.get("category", "")),
            person=_small_int(person, 2**31 - 1),
            ends_within=_small_int(days, MAX_ENDS_WITHIN),
            sort=sort if sort.lstrip("-") in SQL_SORTS | DERIVED_SORTS else "reference",
        )

    def args(self) -> dict[str, Any]:
        """The selection as URL arguments (empty ones left out), for links and exports."""
        values = {
            "q": self.text,
            "status": self.status,
            "supplier": self.supplier,
            "procedure": self.procedure,
            "category": self.category,
            "person": self.person,
            "ends_within": self.ends_within,
            "sort": self.sort if self.sort != "reference" else None,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}

    @property
    def filters(self) -> bool:
        return bool(set(self.args()) - {"sort"})


def _member(enum_cls: Any, value: str) -> str:
    return value if value in {m.value for m in enum_cls} else ""


def query(user: User, selection: Selection, today: date) -> sa.Select[Any]:
    """The visible dossiers that match `selection`, with their supplier loaded, unordered."""
    query = (
        access.visible_dossiers(user)
        .outerjoin(Party, Dossier.supplier)
        .options(orm.contains_eager(Dossier.supplier))
    )
    if selection.text:
        like = f"%{selection.text.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(Dossier.reference).like(like),
                sa.func.lower(Dossier.title).like(like),
                sa.func.lower(Party.name).like(like),
            )
        )
    if selection.supplier:
        query = query.where(sa.func.lower(Party.name).contains(selection.supplier.lower()))
    for column, value in (
        (Dossier.status, selection.status),
        (Dossier.procedure, selection.procedure),
        (Dossier.category, selection.category),
    ):
        if value:
            query = query.where(column == value)
    if selection.person is not None:
        query = query.where(
            Dossier.id.in_(
                sa.select(Membership.dossier_id).where(
                    _held_by(selection.person), Membership.role.in_(_MANAGING)
                )
            )
        )
    if selection.ends_within is not None:
        # The running term: a contract that renews automatically has rolled past its
        # recorded end date (the column, the sort and the dossier page show the same date).
        last = today + timedelta(days=selection.ends_within)
        query = query.where(deadlines.ends_between(today, last))
    return query


def _held_by(user_id: int) -> sa.ColumnElement[bool]:
    """A membership of the user, or of a group the user is in (its members hold its roles)."""
    groups = sa.select(GroupMember.group_id).where(GroupMember.user_id == user_id)
    return sa.or_(Membership.user_id == user_id, Membership.group_id.in_(groups))


def _small_int(text: str, maximum: int) -> int | None:
    """ASCII digits up to `maximum` as a number, anything else None ("²" is a digit to Python
    but no number to int(), and a 5,000-digit number is refused by int())."""
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    value = int(text)
    return value if value <= maximum else None


def page(user: User, selection: Selection, today: date, number: int, per_page: int) -> Page:
    """One page of the sorted selection."""
    if selection.sort.lstrip("-") not in DERIVED_SORTS:
        return paginate(_ordered(query(user, selection, today), selection, today), number, per_page)
    rows = sorted_all(user, selection, today)  # derived dates are computed, not stored
    pages = max(1, -(-len(rows) // per_page))
    number = min(max(number, 1), pages)
    start = (number - 1) * per_page
    return Page(rows[start : start + per_page], len(rows), pages, number)


def sorted_all(user: User, selection: Selection, today: date) -> list[Dossier]:
    """Every dossier of the selection in its order (for exports and derived-date sorts)."""
    key = selection.sort.lstrip("-")
    if key not in DERIVED_SORTS:
        ordered = _ordered(query(user, selection, today), selection, today)
        return list(db.session.scalars(ordered).unique())
    rows = db.session.scalars(
        query(user, selection, today).order_by(Dossier.reference, Dossier.id)
    ).unique()
    derive = DERIVED_SORTS[key]
    keyed = [(derive(deadlines.running_dates(d, today)), d) for d in rows]
    dated = sorted((k, d.reference, d) for k, d in keyed if k is not None)
    if selection.sort.startswith("-"):
        dated.sort(key=lambda item: (-item[0].toordinal(), item[1]))
    return [d for _k, _r, d in dated] + [d for k, d in keyed if k is None]


def _ordered(query: sa.Select[Any], selection: Selection, today: date) -> sa.Select[Any]:
    columns = {**SQL_SORTS, "end_on": deadlines.running_end_sql(today)}
    return query.order_by(*order(selection.sort, columns), Dossier.id)


def people(user: User) -> list[User]:
    """The contract managers and beheerders of the dossiers `user` sees (directly or as a
    member of a group that holds the role), for the filter."""
    visible = access.visible_dossiers(user).with_only_columns(Dossier.id)
    managing = sa.and_(Membership.dossier_id.in_(visible), Membership.role.in_(_MANAGING))
    direct = sa.select(Membership.user_id).where(managing)
    by_group = sa.select(GroupMember.user_id).join(
        Membership, Membership.group_id == GroupMember.group_id
    )
    ids = sa.union(direct, by_group.where(managing))
    return list(
        db.session.scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.name, User.email))
    )
