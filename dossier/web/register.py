"""The contract register: every dossier the user may see, as a sortable, filterable table."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from dossier import access, amendments, deadlines, register, register_io
from dossier.web import int_arg
from dossier.web.reports import EXPORT_TYPES, table_download

bp = Blueprint("register", __name__)

PER_PAGE = 100


@bp.get("/")
@login_required
def index() -> str:
    selection = register.Selection.from_args(request.args)
    if request.args.get("ends_within", "").strip() and selection.ends_within is None:
        # Dropped, not guessed at: say so, or the list looks filtered when it is not.
        flash(
            _(
                '"Ends within" takes a number of days from 0 to %(max)s; '
                "that filter is not applied.",
                max=register.MAX_ENDS_WITHIN,
            ),
            "warning",
        )
    today = deadlines.local_today()
    shown = register.page(
        current_user, selection, today, min(int_arg("page", 1) or 1, 10_000), PER_PAGE
    )
    return render_template(
        "register/index.html",
        rows=[
            (d, deadlines.running_dates(d, today), deadlines.past_end(d, today))
            for d in shown.items
        ],
        current=amendments.current_values(shown.items),
        selection=selection,
        filters=selection.args(),
        people=register.people(current_user),
        sort=selection.sort,
        page=shown.number,
        pages=shown.pages,
        total=shown.total,
        can_create=access.can_create_dossier(current_user),
    )


@bp.get("/register/export.<kind>")
@login_required
def export(kind: str) -> Response:
    """The register as the page shows it (same filters and order), every row, as CSV or XLSX,
    headed by the column labels in the user's language (`dossier register import` reads them)."""
    if kind not in EXPORT_TYPES:
        abort(404)
    selection = register.Selection.from_args(request.args)
    rows = register.sorted_all(current_user, selection, deadlines.local_today())
    header = register_io.header_labels()
    today = deadlines.local_today()
    return table_download(kind, "register", header, register_io.register_rows(rows, today))
