"""The contract register: every dossier the user may see, as a sortable, filterable table."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import orm

from dossier import access, deadlines, dossiers
from dossier.extensions import db
from dossier.models import Dossier, DossierStatus, Party

bp = Blueprint("register", __name__)

PER_PAGE = 100
SORTS: dict[str, Any] = {
    "reference": Dossier.reference,
    "title": Dossier.title,
    "supplier": Party.name,
    "status": Dossier.status,
    "end_on": Dossier.end_on,
    "value": Dossier.value,
}


@bp.get("/")
@login_required
def index() -> str:
    query = (
        access.visible_dossiers(current_user)
        .outerjoin(Party, Dossier.supplier)
        .options(orm.contains_eager(Dossier.supplier))
    )
    text = request.args.get("q", "").strip()[:100]
    if text:
        like = f"%{text.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(Dossier.reference).like(like),
                sa.func.lower(Dossier.title).like(like),
                sa.func.lower(Party.name).like(like),
            )
        )
    status = request.args.get("status", "")
    if status in DossierStatus.__members__.values():
        query = query.where(Dossier.status == status)
    sort = request.args.get("sort", "reference")
    column = SORTS.get(sort.lstrip("-"), Dossier.reference)
    order = column.desc().nulls_last() if sort.startswith("-") else column.asc().nulls_last()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    query = query.order_by(order, Dossier.id).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
    rows = db.session.scalars(query).unique().all()
    today = deadlines.local_today()
    return render_template(
        "register/index.html",
        rows=[(d, dossiers.derived_dates(d), deadlines.past_end(d, today)) for d in rows],
        q=text,
        status=status,
        sort=sort,
        page=page,
        pages=pages,
        total=total,
        can_create=access.can_create_dossier(current_user),
    )
