"""Matching spend lines to our suppliers and contracts, and the suppliers a person maps by hand.

A line's party: a remembered mapping (creditor number within its source, KvK number, name), a
party with the line's KvK number, or a party of exactly its name. Its contract: the one it names,
else the supplier's only contract running on the invoice date, else none ("without contract").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from dossier import audit
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    Dossier,
    DossierStatus,
    Party,
    SpendAttribution,
    SpendLine,
    SupplierKey,
    SupplierMapping,
    User,
)
from dossier.spend_files import CENT, FIELDS, fold_name

# Statuses of a contract that was or is running: a draft or archived dossier takes no spend
# by itself (a line may still name it).
RUNNING = (DossierStatus.ACTIVE, DossierStatus.ENDED, DossierStatus.TERMINATED)


def find_party(source: str, values: dict[str, Any]) -> Party | None:
    """Our party for a line: a remembered mapping (creditor number, KvK, name), a party with
    the line's KvK number, or a party of exactly the line's name."""
    keys = []
    if values.get("creditor_number"):
        keys.append((SupplierKey.CREDITOR, source, values["creditor_number"]))
    if values.get("kvk_number"):
        keys.append((SupplierKey.KVK, "", values["kvk_number"]))
    if values.get("supplier_name"):
        keys.append((SupplierKey.NAME, "", fold_name(values["supplier_name"])))
    for kind, key_source, identifier in keys:
        mapping = db.session.scalar(
            sa.select(SupplierMapping).where(
                SupplierMapping.kind == kind,
                SupplierMapping.source == key_source,
                SupplierMapping.identifier == identifier,
            )
        )
        if mapping is not None:
            return mapping.party
    if values.get("kvk_number"):
        party = db.session.scalars(
            sa.select(Party).where(Party.kvk_number == values["kvk_number"]).order_by(Party.id)
        ).first()
        if party is not None:
            return party
    if values.get("supplier_name"):
        return db.session.scalar(
            sa.select(Party).where(sa.func.lower(Party.name) == values["supplier_name"].lower())
        )
    return None


def find_dossier(
    values: dict[str, Any], party: Party | None
) -> tuple[Dossier | None, SpendAttribution]:
    """The contract a line counts against: the one it names, else the supplier's only
    contract running on the invoice date, else none. A running contract that renews
    automatically has rolled on past its recorded end date (`deadlines.current_end`) until
    its status says it ended."""
    reference = values.get("contract_reference") or ""
    if reference:
        dossier = db.session.scalar(
            sa.select(Dossier).where(sa.func.lower(Dossier.reference) == reference.lower())
        )
        if dossier is not None:
            return dossier, SpendAttribution.REFERENCE
        return None, SpendAttribution.NONE
    if party is None:
        return None, SpendAttribution.NONE
    day = values["invoice_date"]
    running = list(
        db.session.scalars(
            sa.select(Dossier).where(
                Dossier.supplier_id == party.id,
                Dossier.status.in_(RUNNING),
                sa.or_(Dossier.start_on.is_(None), Dossier.start_on <= day),
                sa.or_(
                    Dossier.end_on.is_(None), Dossier.end_on >= day, Dossier.auto_renewal.is_(True)
                ),
            )
        )
    )
    if len(running) == 1:
        return running[0], SpendAttribution.ONLY_CONTRACT
    return None, SpendAttribution.NONE


class Resolver:
    """`find_party` and `find_dossier` remembered per supplier and per question, so a file of
    many lines costs a few queries per supplier, not per line."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._parties: dict[tuple[str, str, str], Party | None] = {}
        self._dossiers: dict[tuple[Any, ...], tuple[Dossier | None, SpendAttribution]] = {}

    def party(self, values: dict[str, Any]) -> Party | None:
        key = (values["creditor_number"], values["kvk_number"], values["supplier_name"])
        if key not in self._parties:
            self._parties[key] = find_party(self.source, values)
        return self._parties[key]

    def dossier(
        self, values: dict[str, Any], party: Party | None
    ) -> tuple[Dossier | None, SpendAttribution]:
        reference = (values.get("contract_reference") or "").lower()
        key: tuple[Any, ...] = (
            ("reference", reference)
            if reference
            else ("party", party.id if party else None, values["invoice_date"])
        )
        if key not in self._dossiers:
            self._dossiers[key] = find_dossier(values, party)
        return self._dossiers[key]

    def resolve(self, values: dict[str, Any]) -> dict[str, Any]:
        """`values` with the party and dossier the line goes to (for the preview)."""
        party = self.party(values)
        dossier, attribution = self.dossier(values, party)
        return {**values, "party": party, "dossier": dossier, "attribution": attribution}


@dataclass
class UnknownSupplier:
    source: str
    creditor_number: str
    kvk_number: str
    supplier_name: str
    count: int
    total: Decimal


def unknown_suppliers() -> list[UnknownSupplier]:
    """The suppliers of booked lines that match none of our parties, largest total first."""
    columns = (
        SpendLine.source,
        SpendLine.creditor_number,
        SpendLine.kvk_number,
        SpendLine.supplier_name,
    )
    query = (
        sa.select(*columns, sa.func.count(), sa.func.sum(SpendLine.amount))
        .where(SpendLine.party_id.is_(None))
        .group_by(*columns)
    )
    found = [
        UnknownSupplier(s, c, k, n, count, Decimal(total or 0).quantize(CENT))
        for s, c, k, n, count, total in db.session.execute(query)
    ]
    return sorted(found, key=lambda u: (-u.total, u.supplier_name))


def map_supplier(
    actor: User, party: Party, source: str, creditor_number: str, kvk_number: str, name: str
) -> int:
    """Remember that this supplier of the financial system is `party` (by its creditor number,
    else its KvK number, else its name) and match the lines that are now known; returns how many
    lines found their party."""
    if creditor_number:
        kind, key_source, identifier = SupplierKey.CREDITOR, source, creditor_number
    elif kvk_number:
        kind, key_source, identifier = SupplierKey.KVK, "", kvk_number
    elif name.strip():
        kind, key_source, identifier = SupplierKey.NAME, "", fold_name(name)
    else:
        raise DomainError(_("Nothing identifies this supplier."))
    mapping = db.session.scalar(
        sa.select(SupplierMapping).where(
            SupplierMapping.kind == kind,
            SupplierMapping.source == key_source,
            SupplierMapping.identifier == identifier[:255],
        )
    )
    before = {"party": mapping.party.name} if mapping else None
    if mapping is None:
        mapping = SupplierMapping(
            kind=kind, source=key_source, identifier=identifier[:255], created_by_id=actor.id
        )
        db.session.add(mapping)
    mapping.party_id = party.id
    db.session.flush()
    db.session.expire(mapping, ["party"])
    matched, attributed = rematch()
    audit.record(
        actor,
        AuditAction.SPEND_SUPPLIER_MAP,
        "supplier_mapping",
        mapping.id,
        before=before,
        after={
            "key": kind.value,
            "source": key_source,
            "identifier": identifier,
            "party": party.name,
            "lines_matched": matched,
            "lines_to_contract": attributed,
        },
    )
    return matched


def rematch() -> tuple[int, int]:
    """Give lines without a party the party they now match, and lines without a contract the
    contract they now count against; returns (lines matched to a party, lines to a contract)."""
    matched = attributed = 0
    resolvers: dict[str, Resolver] = {}
    query = sa.select(SpendLine).where(
        sa.or_(SpendLine.party_id.is_(None), SpendLine.dossier_id.is_(None))
    )
    for line in db.session.scalars(query):
        resolver = resolvers.setdefault(line.source, Resolver(line.source))
        values = {name: getattr(line, name) for name in FIELDS}
        if line.party_id is None:
            party = resolver.party(values)
            if party is None:
                continue
            line.party_id = party.id
            line.party = party
            matched += 1
        if line.dossier_id is None:
            dossier, attribution = resolver.dossier(values, line.party)
            if dossier is not None:
                line.dossier_id = dossier.id
                line.attribution = attribution
                attributed += 1
    db.session.flush()
    return matched, attributed
