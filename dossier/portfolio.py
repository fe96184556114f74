"""The state of the whole portfolio at a glance, for the contract-management (portfolio) role:
KPIs by status, overdue actions, missed obligations and execution plans needing attention across
every dossier the user may see. Shown on the dashboard and pushed in the daily digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from dossier import access, actions, deadlines, obligations, performance, reports
from dossier.extensions import db
from dossier.models import Action, Dossier, GlobalRole, Kpi, Obligation, RagStatus, User

# The longest list of each kind a digest names; the counts are always complete.
LISTED = 10


@dataclass
class Portfolio:
    today: date
    running: int = 0  # dossiers not ended, terminated or archived
    kpis: int = 0
    by_status: dict[RagStatus, int] = field(default_factory=dict)
    red: list[Kpi] = field(default_factory=list)
    open_actions: int = 0
    overdue_actions: list[Action] = field(default_factory=list)
    # Obligations with a missed due date, and how many dates each missed.
    missed_obligations: list[tuple[Obligation, int]] = field(default_factory=list)
    plans_needing_attention: int = 0

    @property
    def needs_attention(self) -> bool:
        return bool(
            self.red
            or self.overdue_actions
            or self.missed_obligations
            or self.plans_needing_attention
        )


def overview(user: User, today: date) -> Portfolio:
    """The portfolio as `user` may see it (every dossier for the portfolio role)."""
    found = Portfolio(today)
    visible = access.visible_dossiers(user).where(Dossier.status.not_in(deadlines.CLOSED))
    ids = list(db.session.scalars(visible.with_only_columns(Dossier.id)))
    found.running = len(ids)
    running = set(ids)
    for kpi in performance.visible_kpis(user):
        if kpi.dossier_id not in running:
            continue
        status = performance.kpi_status(kpi)
        found.kpis += 1
        found.by_status[status] = found.by_status.get(status, 0) + 1
        if status == RagStatus.RED:
            found.red.append(kpi)
    open_ones = actions.open_in(ids)
    found.open_actions = len(open_ones)
    found.overdue_actions = [a for a in open_ones if actions.is_overdue(a, today)]
    for obligation in obligations.in_dossiers(ids):
        missed = obligations.missed(obligation, today)
        if missed:
            found.missed_obligations.append((obligation, len(missed)))
    found.missed_obligations.sort(key=lambda pair: (-pair[1], pair[0].title))
    found.plans_needing_attention = len(reports.plan_report(user, today).rows)
    return found


def portfolio_users() -> list[User]:
    """Enabled users with the portfolio role: the digest tells them about the portfolio."""
    query = sa.select(User).where(
        User.is_enabled.is_(True), User.global_role == GlobalRole.PORTFOLIO
    )
    return list(db.session.scalars(query))
