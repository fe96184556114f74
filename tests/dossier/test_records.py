"""Records: selection list, disposal dates, destruction lists with a grace period, legal holds.

The disposal dates are computed by hand from the shipped selection list (Selectielijst
gemeenten 2020): 16.1 destroy 10 years after the contract end (the default for every kind of
contract), 16.1.2 keep, 16.1.5 destroy 7 years after the contract end, 16.2 destroy 5 years
after the dossier was closed, 18.1 (for documents) 7 years after the document date.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import access, backup, documents, indexing, records, verify
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Clause,
    DisposalItemState,
    DisposalStatus,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    GlobalRole,
    User,
)
from dossier.services import blob_store

CONTRACT_TEXT = (
    "Overeenkomst\n\nArtikel 1 Definities\nIn deze overeenkomst wordt verstaan onder opdracht "
    "het leveren van diensten.\n\nArtikel 2 Aansprakelijkheid\nDe aansprakelijkheid van de "
    "opdrachtnemer is beperkt tot het bedrag van de opdracht.\n"
)


@pytest.fixture
def archivist(make_user: Callable[..., User]) -> User:
    return make_user("archivaris@example.org", GlobalRole.ARCHIVIST, "Anna Archivaris")


@pytest.fixture
def second_archivist(make_user: Callable[..., User]) -> User:
    return make_user("archivaris2@example.org", GlobalRole.ARCHIVIST, "Bert Archivaris")


@pytest.fixture(autouse=True)
def shipped(app: Flask) -> None:
    records.ensure_shipped_list()
    db.session.commit()


def _file(actor: User, dossier: Dossier, data: bytes, name: str = "contract.txt") -> Document:
    with documents.receive(io.BytesIO(data), name) as upload:
        document = documents.file_document(actor, dossier, upload, kind=DocumentKind.CONTRACT)
    db.session.commit()
    return document


def _seed(make_dossier: Callable[..., Dossier]) -> dict[str, Dossier]:
    ended = {"status": "ended"}
    return {
        "services": make_dossier("R-001", category="services", end_on=date(2012, 3, 31), **ended),
        "works": make_dossier("R-002", category="works", end_on=date(2012, 6, 30), **ended),
        "leap": make_dossier("R-003", category="supplies", end_on=date(2012, 2, 29), **ended),
        "active": make_dossier(
            "R-004", category="services", end_on=date(2010, 1, 1), status="active"
        ),
        "recent": make_dossier("R-005", category="services", end_on=date(2017, 12, 31), **ended),
    }


def test_disposal_dates_are_computed_from_the_category_and_the_end(
    make_dossier: Callable[..., Dossier], admin: User
) -> None:
    seeded = _seed(make_dossier)
    assert records.disposal_date(seeded["services"]) == date(2022, 3, 31)  # 2012 + 10
    assert records.disposal_date(seeded["works"]) == date(2022, 6, 30)  # 2012 + 10
    assert records.disposal_date(seeded["leap"]) == date(2022, 2, 28)  # 29 Feb 2012 + 10
    assert records.disposal_date(seeded["recent"]) == date(2027, 12, 31)
    category, is_default = records.category_of(seeded["works"])
    assert (category.code, is_default) == ("16.1", True)
    keep = records.category_by_code("16.1.2")
    records.set_category(admin, seeded["services"], keep, "samenwerkingsovereenkomst")
    assert records.disposal_date(seeded["services"]) is None  # kept permanently
    closed = records.category_by_code("16.2")
    records.set_category(admin, seeded["works"], closed, "niet doorgegaan")
    # Counted from the day the dossier got its closed status (today, when it was created).
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Amsterdam")).date()
    assert records.retention_start(seeded["works"]) == today
    assert records.disposal_date(seeded["works"]) == records.add_years(today, 5)


def test_changing_the_category_needs_a_reason_and_is_audited(
    make_dossier: Callable[..., Dossier], admin: User
) -> None:
    dossier = make_dossier("R-010", category="services", end_on=date(2015, 1, 1), status="ended")
    insurance = records.category_by_code("16.1.5")
    with pytest.raises(ValidationError):
        records.set_category(admin, dossier, insurance, "  ")
    records.set_category(admin, dossier, insurance, "een verzekering")
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.RETENTION_CATEGORY_SET)
    ).one()
    assert event.before == {"category": "16.1"}
    assert event.after == {"category": "16.1.5", "reason": "een verzekering"}
    assert records.disposal_date(dossier) == date(2022, 1, 1)


def test_a_document_carries_its_own_category_where_the_list_allows(
    make_dossier: Callable[..., Dossier], admin: User
) -> None:
    dossier = make_dossier("R-011", end_on=date(2020, 1, 1), status="ended")
    document = _file(admin, dossier, b"factuur 2021\n", "factuur.txt")
    document.document_date = date(2021, 5, 17)
    with pytest.raises(ValidationError):
        records.set_document_category(admin, document, records.category_by_code("16.1"))
    records.set_document_category(admin, document, records.category_by_code("18.1"))
    assert records.document_disposal_date(document) == date(2028, 5, 17)


def test_the_selection_list_imports_from_csv_all_or_nothing(admin: User) -> None:
    good = (
        "code;description;valuation;retention_years;trigger;for_documents\n"
        "EIGEN-1;Eigen categorie;vernietigen;12;contract_end;nee\n"
        "16.1;Overeenkomst aangegaan (aangepast);vernietigen;8;contract_end;nee\n"
    )
    assert records.import_selection_list(admin, good) == (1, 1)
    assert records.category_by_code("EIGEN-1").retention_years == 12
    assert records.category_by_code("16.1").retention_years == 8
    bad = (
        "code,description,valuation,retention_years\n"
        "NIEUW-1,Goed,bewaren,\n"
        "NIEUW-2,Fout,weggooien,3\n"
        "NIEUW-3,Geen termijn,vernietigen,\n"
    )
    with pytest.raises(ValidationError) as caught:
        records.import_selection_list(admin, bad)
    assert "line 3" in str(caught.value) and "line 4" in str(caught.value)
    db.session.rollback()
    assert records.category_by_code("NIEUW-1") is None


def test_the_proposal_lists_exactly_the_due_closed_dossiers_not_on_hold(
    make_dossier: Callable[..., Dossier], archivist: User
) -> None:
    seeded = _seed(make_dossier)
    held = make_dossier("R-006", category="services", end_on=date(2010, 1, 1), status="ended")
    records.place_hold(archivist, held, "rechtszaak leverancier")
    listing = records.propose(None, date(2024, 1, 1))
    assert listing is not None
    assert [(i.reference, i.disposal_on) for i in listing.items] == [
        ("R-003", date(2022, 2, 28)),
        ("R-001", date(2022, 3, 31)),
        ("R-002", date(2022, 6, 30)),
    ]
    # Nothing more is due while these are on an open list; the held dossier never is.
    assert records.propose(None, date(2030, 1, 1)).items[0].reference == "R-005"
    assert records.propose(None, date(2099, 1, 1)) is None
    assert "R-006" not in {i.reference for item in records.lists() for i in item.items}
    assert seeded["active"].status.value == "active"


def test_approved_destruction_removes_content_keeps_metadata_and_verifies_clean(
    make_dossier: Callable[..., Dossier], admin: User, archivist: User, tmp_path: Path
) -> None:
    seeded = _seed(make_dossier)
    shared = b"gedeeld bestand\n"
    doc_services = _file(admin, seeded["services"], CONTRACT_TEXT.encode())
    _file(admin, seeded["services"], shared, "gedeeld.txt")
    doc_works = _file(admin, seeded["works"], b"werkcontract\n")
    _file(admin, seeded["recent"], shared, "gedeeld.txt")  # another dossier shares the blob
    _file(admin, seeded["leap"], b"leveringscontract\n")
    indexing.drain()
    db.session.commit()
    key_services = doc_services.current_version.blob_key
    key_works = doc_works.current_version.blob_key
    key_shared = documents_key(shared)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Clause)) > 0

    listing = records.propose(archivist, date(2024, 1, 1))
    db.session.commit()
    with pytest.raises(ValidationError):
        records.approve(archivist, listing)  # not the one who proposed it
    works_item = next(i for i in listing.items if i.reference == "R-002")
    with pytest.raises(ValidationError):
        records.exclude(admin, listing, works_item, "")
    records.exclude(admin, listing, works_item, "nog in geschil")
    admin.global_role = GlobalRole.ARCHIVIST  # a second archivist approves
    records.approve(admin, listing, grace_days=30)
    db.session.commit()
    indexing.drain()  # the approved dossiers' documents leave the search index now
    store = blob_store()
    assert verify.run(store).problems == []

    # In the grace period: out of sight, but every byte still there.
    assert listing.status == DisposalStatus.APPROVED
    assert doc_services.withdrawn_at is not None and doc_works.withdrawn_at is None
    assert store.exists(key_services)
    assert records.purge_due(listing.purge_after - timedelta(seconds=1)) == []

    records.purge_due(listing.purge_after + timedelta(seconds=1))
    db.session.commit()
    removed = records.remove_destroyed_blobs(store)
    db.session.commit()

    assert removed == 2  # R-001's contract and R-003's; the shared blob stays
    assert not store.exists(key_services)
    assert store.exists(key_shared) and store.exists(key_works)
    assert listing.status == DisposalStatus.DESTROYED
    states = {i.reference: i.state for i in listing.items}
    assert states == {
        "R-001": DisposalItemState.DESTROYED,
        "R-002": DisposalItemState.EXCLUDED,
        "R-003": DisposalItemState.DESTROYED,
    }
    # Metadata stays; text and clauses are gone.
    assert db.session.get(Dossier, seeded["services"].id).title == "Contract R-001"
    versions = db.session.scalars(
        sa.select(DocumentVersion)
        .join(Document)
        .where(Document.dossier_id == seeded["services"].id)
    ).all()
    assert len(versions) == 2 and all(v.text is None for v in versions)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Clause)
            .where(Clause.version_id.in_([v.id for v in versions]))
        )
        == 0
    )
    proof = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == AuditAction.DISPOSAL_DESTROY,
            AuditEvent.dossier_id == seeded["services"].id,
        )
    ).one()
    assert proof.after["hashes"] == sorted([key_services, key_shared])

    report = verify.run(store)
    assert report.problems == []
    assert report.destroyed_versions == 3
    # Excluded dossier untouched.
    assert doc_works.current_version.text is not None
    # A backup holds the blobs that are left, and does not miss the destroyed ones.
    db.session.commit()
    manifest = backup.backup(tmp_path / "backup")
    saved = {blob["key"] for blob in manifest["blobs"]}
    assert key_services not in saved and {key_shared, key_works} <= saved


def documents_key(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_a_hold_placed_after_approval_saves_the_dossier(
    make_dossier: Callable[..., Dossier], admin: User, archivist: User
) -> None:
    seeded = _seed(make_dossier)
    document = _file(admin, seeded["leap"], b"leveringscontract\n")
    listing = records.propose(None, date(2024, 1, 1))
    records.approve(archivist, listing, grace_days=0)
    db.session.commit()
    assert document.withdrawn_at is not None
    records.place_hold(admin, seeded["leap"], "Woo-verzoek")
    # Withdrawn documents in a held dossier stay retrievable for the archivist.
    assert access.can_view_document(archivist, document)
    records.purge_due(datetime.now(UTC) + timedelta(seconds=1))
    db.session.commit()
    records.remove_destroyed_blobs(blob_store())
    item = next(i for i in listing.items if i.reference == "R-003")
    assert item.state == DisposalItemState.SKIPPED
    assert document.withdrawn_at is None
    assert blob_store().exists(document.current_version.blob_key)
    assert verify.run(blob_store()).problems == []


def test_cancelling_in_the_grace_period_restores_everything(
    make_dossier: Callable[..., Dossier],
    admin: User,
    archivist: User,
    client_for: Callable[[User | None], FlaskClient],
) -> None:
    seeded = _seed(make_dossier)
    document = _file(admin, seeded["services"], b"contract\n")
    listing = records.propose(admin, date(2024, 1, 1))
    records.approve(archivist, listing)
    db.session.commit()
    records.cancel(archivist, listing, "verkeerde lijst")
    db.session.commit()
    assert document.withdrawn_at is None
    assert listing.status == DisposalStatus.CANCELLED
    assert records.purge_due(datetime.now(UTC) + timedelta(days=400)) == []
    with pytest.raises(ValidationError):
        records.approve(archivist, listing)
    page = client_for(archivist).get(f"/records/disposals/{listing.id}").get_data(as_text=True)
    closed = page.split('id="list-closed">', 1)[1].split("</dd>", 1)[0]
    assert "Geannuleerd op" in page and archivist.name in closed  # when and by whom


def test_nothing_is_destroyed_without_an_approved_list(
    make_dossier: Callable[..., Dossier], admin: User
) -> None:
    seeded = _seed(make_dossier)
    document = _file(admin, seeded["services"], b"contract\n")
    records.propose(admin, date(2024, 1, 1))
    db.session.commit()
    records.purge_due(datetime.now(UTC) + timedelta(days=4000))
    db.session.commit()
    assert records.remove_destroyed_blobs(blob_store()) == 0
    assert document.withdrawn_at is None
    assert blob_store().exists(document.current_version.blob_key)


def test_lifting_a_hold_needs_a_reason_and_both_are_audited(
    make_dossier: Callable[..., Dossier], archivist: User
) -> None:
    dossier = make_dossier("R-020")
    with pytest.raises(ValidationError):
        records.place_hold(archivist, dossier, " ")
    records.place_hold(archivist, dossier, "onderzoek")
    with pytest.raises(ValidationError):
        records.place_hold(archivist, dossier, "nog een keer")
    with pytest.raises(ValidationError):
        records.lift_hold(archivist, dossier, "")
    records.lift_hold(archivist, dossier, "onderzoek afgerond")
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.object_type == "legal_hold")
    ).all()
    assert actions == [AuditAction.HOLD_PLACE, AuditAction.HOLD_LIFT]
    assert records.active_hold(dossier) is None


def test_a_hold_placed_before_approval_keeps_the_dossier_off_the_destruction(
    make_dossier: Callable[..., Dossier], admin: User, archivist: User
) -> None:
    seeded = _seed(make_dossier)
    document = _file(admin, seeded["services"], b"contract\n")
    listing = records.propose(None, date(2024, 1, 1))
    records.place_hold(admin, seeded["services"], "accountantsonderzoek")
    records.approve(archivist, listing, grace_days=0)
    db.session.commit()
    item = next(i for i in listing.items if i.reference == "R-001")
    assert item.state == DisposalItemState.SKIPPED
    assert document.withdrawn_at is None
    records.purge_due(datetime.now(UTC) + timedelta(seconds=1))
    db.session.commit()
    records.remove_destroyed_blobs(blob_store())
    assert blob_store().exists(document.current_version.blob_key)


def test_the_dashboard_counts_read_as_dutch(
    make_dossier: Callable[..., Dossier],
    archivist: User,
    client_for: Callable[[User | None], FlaskClient],
) -> None:
    """One held dossier is "1 dossier juridisch geblokkeerd", two are "2 dossiers"; the next
    disposals are listed under a heading of their own, not under the last count."""
    records.place_hold(archivist, make_dossier("R-030"), "onderzoek")
    db.session.commit()
    page = client_for(archivist).get("/overview").get_data(as_text=True)
    assert "</strong> dossier juridisch geblokkeerd" in page
    records.place_hold(archivist, make_dossier("R-031"), "onderzoek")
    make_dossier("R-032", category="services", end_on=date(2012, 3, 31), status="ended")
    db.session.commit()
    page = client_for(archivist).get("/overview").get_data(as_text=True)
    assert "</strong> dossiers juridisch geblokkeerd" in page
    assert "Eerstvolgende vernietigingen" in page and "R-032" in page
