"""The `dossier` command line as a user runs it: in-process through Flask's CLI runner, and end
to end as a subprocess of the installed console script on a fresh instance folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner

from dossier import accounts, dossiers, importer, verify
from dossier.accounts import FIRST_ADMIN_EMAIL
from dossier.cli import cli
from dossier.config import normalise_url
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Base,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    GlobalRole,
    Group,
    MemberRole,
    User,
)
from dossier.services import blob_store
from storage import FileSystemBlobStore
from tests.conftest import PASSWORD, empty_tables

VNG = "dutch/vng-softwarecatalogus-aanbesteding"
VNG_REFERENCE = "vng-softwarecatalogus-aanbesteding"
CONTRACT = "Bijlage 3.01 - Overeenkomst ten behoeve van ICT Prestatie GIBIT 2023.docx"
PG_URL = os.environ.get("DOSSIER_TEST_DATABASE_URL", "")
LOGIN = re.compile(rf"{re.escape(FIRST_ADMIN_EMAIL)} with password (\S+)")
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 2000


# In-process: Flask's CLI runner, reusing the test's application context.


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def invoke(runner: FlaskCliRunner) -> Callable[..., Result]:
    def run(*args: str, input: str | None = None) -> Result:
        result = runner.invoke(cli, list(args), input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return run


def _count(model: type[Base], *where: sa.ColumnElement[bool]) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def test_init_prints_the_first_admin_and_is_idempotent(
    app: Flask, invoke: Callable[..., Result]
) -> None:
    first = invoke("init")
    assert first.exit_code == 0, first.output
    match = LOGIN.search(first.stdout)
    assert match, first.stdout
    password = match.group(1)
    assert accounts.authenticate(FIRST_ADMIN_EMAIL, password) is not None
    password_file = Path(app.instance_path) / "initial-admin-password.txt"
    assert password_file.stat().st_mode & 0o777 == 0o600

    second = invoke("init")
    assert second.exit_code == 0, second.output
    assert LOGIN.search(second.stdout) and LOGIN.search(second.stdout).group(1) == password
    assert _count(User) == 1
    admin = db.session.scalar(sa.select(User))
    assert admin is not None and admin.global_role == GlobalRole.ADMIN


def test_init_makes_no_admin_when_users_exist(
    app: Flask, admin: User, invoke: Callable[..., Result]
) -> None:
    result = invoke("init")
    assert result.exit_code == 0, result.output
    assert FIRST_ADMIN_EMAIL not in result.stdout
    assert _count(User) == 1


def test_create_user_with_password_on_stdin(app: Flask, invoke: Callable[..., Result]) -> None:
    result = invoke(
        "create-user",
        "X@Example.org",
        "--role",
        "beheerder",
        "--name",
        "Xandra",
        "--password-stdin",
        input="een lang genoeg wachtwoord\n",
    )
    assert result.exit_code == 0, result.output
    assert "x@example.org" in result.stdout
    user = accounts.authenticate("x@example.org", "een lang genoeg wachtwoord")
    assert user is not None
    assert (user.global_role, user.name) == (GlobalRole.BEHEERDER, "Xandra")


def test_create_user_without_role(app: Flask, invoke: Callable[..., Result]) -> None:
    result = invoke(
        "create-user", "y@example.org", "--password-stdin", input="nog een wachtwoord\n"
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "y@example.org"))
    assert user is not None and user.global_role is None


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("x@example.org", "kort", "at least 12 characters"),
        ("x@example.org", "x@example.org", "cannot be the e-mail address"),
        ("x@example.org", "password1234", "on a list of commonly used passwords"),
        ("x@example.org", "aaaaaaaaaaaa", "repeats the same characters"),
        ("geen-adres", "een lang genoeg wachtwoord", "valid e-mail address"),
    ],
)
def test_create_user_refuses_bad_input(
    app: Flask, invoke: Callable[..., Result], email: str, password: str, message: str
) -> None:
    result = invoke("create-user", email, "--password-stdin", input=password + "\n")
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert _count(User) == 0


def test_create_user_refuses_a_taken_address(
    app: Flask, admin: User, invoke: Callable[..., Result]
) -> None:
    result = invoke(
        "create-user", "ADMIN@example.org", "--password-stdin", input="een lang wachtwoord\n"
    )
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert _count(User) == 1


def test_import_files_the_vng_folder_once(
    app: Flask, admin: User, invoke: Callable[..., Result], corpus: Path
) -> None:
    folder = corpus / VNG
    first = invoke("import", str(folder))
    assert first.exit_code == 0, first.output
    assert f"{VNG_REFERENCE}: 18 filed, 0 new versions, 0 unchanged, 0 refused" in first.stdout
    dossier = db.session.scalar(sa.select(Dossier))
    assert dossier is not None and dossier.reference == VNG_REFERENCE
    assert dossier.title == "Vng softwarecatalogus aanbesteding"
    assert _count(Document, Document.dossier_id == dossier.id) == 18
    # No English "imported" as the version comment; the audit event names the source file.
    assert set(db.session.scalars(sa.select(DocumentVersion.comment))) == {""}
    sources = [
        e.after["imported_from"]
        for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "version.create")
        )
    ]
    assert str(folder / "Bijlage 6 - Prijzenblad SWC.xlsx") in sources and len(sources) == 18
    trail = app.test_client(user=admin).get(f"/dossiers/{VNG_REFERENCE}/audit").text
    text = " ".join(re.sub(r"<[^>]+>", " ", trail).split())
    assert "Geïmporteerd uit: " + str(folder) in text and "imported_from" not in text
    kinds = dict(
        db.session.execute(
            sa.select(DocumentVersion.original_filename, Document.kind).join(Document)
        ).all()
    )
    assert kinds[CONTRACT] == DocumentKind.ANNEX  # the tender's draft contract is an annex
    assert kinds["Bijlage 6 - Prijzenblad SWC.xlsx"] == DocumentKind.ANNEX

    second = invoke("import", str(folder), "--json")
    assert second.exit_code == 0, second.output
    outcome = json.loads(second.stdout)
    assert list(outcome) == [VNG_REFERENCE]
    assert len(outcome[VNG_REFERENCE]["unchanged"]) == 18
    assert outcome[VNG_REFERENCE]["filed"] == outcome[VNG_REFERENCE]["refused"] == []
    assert _count(DocumentVersion) == 18


def test_import_files_a_changed_file_as_a_new_version(
    app: Flask, admin: User, invoke: Callable[..., Result], tmp_path: Path, corpus: Path
) -> None:
    folder = tmp_path / "Contract 2025-007 Schoonmaak"
    folder.mkdir()
    shutil.copy(corpus / VNG / CONTRACT, folder / "overeenkomst.docx")
    (folder / "brief.txt").write_text("Geachte leverancier,\n")
    assert invoke("import", str(folder)).exit_code == 0
    (folder / "brief.txt").write_text("Geachte leverancier, tweede versie.\n")
    result = invoke("import", str(folder), "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)["Contract-2025-007-Schoonmaak"]
    assert outcome["new_versions"] == ["brief.txt"]
    assert outcome["unchanged"] == ["overeenkomst.docx"]
    numbers = db.session.scalars(
        sa.select(DocumentVersion.number)
        .join(Document)
        .where(Document.title == "brief")
        .order_by(DocumentVersion.number)
    ).all()
    assert numbers == [1, 2]


def test_import_into_a_named_dossier_ignores_the_case_of_its_reference(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    invoke: Callable[..., Result],
    tmp_path: Path,
) -> None:
    dossier = make_dossier("ABC-2025-1")
    folder = _folder_with_a_letter(tmp_path)
    result = invoke("import", str(folder), "--dossier", "abc-2025-1")
    assert result.exit_code == 0, result.output
    assert _count(Dossier) == 1
    assert _count(Document, Document.dossier_id == dossier.id) == 1


def test_import_a_folder_of_folders_makes_one_dossier_each(
    app: Flask, admin: User, invoke: Callable[..., Result], tmp_path: Path, corpus: Path
) -> None:
    root = _folder_of_folders(tmp_path, corpus)
    result = invoke("import", str(root))
    assert result.exit_code == 0, result.output
    references = db.session.scalars(sa.select(Dossier.reference).order_by(Dossier.reference))
    assert list(references) == ["2025-001-ICT", "2025-002-Schoonmaak"]
    by_dossier = dict(
        db.session.execute(
            sa.select(Dossier.reference, sa.func.count(Document.id))
            .join(Document, Document.dossier_id == Dossier.id)
            .group_by(Dossier.reference)
        ).all()
    )
    assert by_dossier == {"2025-001-ICT": 2, "2025-002-Schoonmaak": 1}


def test_import_lists_a_refused_file_and_keeps_the_good_one(
    app: Flask, admin: User, invoke: Callable[..., Result], tmp_path: Path, corpus: Path
) -> None:
    folder = _folder_with_an_executable(tmp_path, corpus)
    result = invoke("import", str(folder))
    assert result.exit_code == 2, result.output
    assert "1 filed, 0 new versions, 0 unchanged, 1 refused" in result.stdout
    assert re.search(r"refused contract\.pdf: .*executable", result.stdout), result.stdout
    assert _count(Document) == 1
    assert _count(DocumentVersion, DocumentVersion.original_filename == "contract.pdf") == 0
    assert list(Path(app.config["STAGING_DIR"]).iterdir()) == []


def test_a_file_that_cannot_be_read_is_refused_and_the_rest_kept(
    app: Flask,
    admin: User,
    invoke: Callable[..., Result],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = _folder_with_a_letter(tmp_path)
    listed = importer._listing

    def files_then_one_vanishes(path: Path) -> tuple[list[Path], list[Path], list]:
        files, folders, refused = listed(path)
        # Listed, then deleted before reading.
        return [path / "verdwenen.pdf", *files], folders, refused

    monkeypatch.setattr(importer, "_listing", files_then_one_vanishes)
    result = invoke("import", str(folder))
    assert result.exit_code == 2, result.output
    assert "refused verdwenen.pdf: cannot read the file: No such file or directory" in (
        result.stdout
    )
    assert "brieven: 1 filed" in result.stdout
    assert _count(Document) == 1


def test_import_as_an_unknown_user_is_refused(
    app: Flask, admin: User, invoke: Callable[..., Result], corpus: Path
) -> None:
    result = invoke("import", str(corpus / VNG), "--as", "niemand@example.org")
    assert result.exit_code == 1
    assert "no enabled user niemand@example.org" in result.stderr
    assert _count(Dossier) == 0


def test_import_without_an_admin_says_to_run_init(
    app: Flask, invoke: Callable[..., Result], corpus: Path
) -> None:
    result = invoke("import", str(corpus / VNG))
    assert result.exit_code == 1
    assert "dossier init" in result.stderr


def test_import_files_as_the_named_user(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    invoke: Callable[..., Result],
    tmp_path: Path,
) -> None:
    beheerder = make_user("b@example.org", GlobalRole.BEHEERDER)
    result = invoke("import", str(_folder_with_a_letter(tmp_path)), "--as", "B@example.org")
    assert result.exit_code == 0, result.output
    version = db.session.scalar(sa.select(DocumentVersion))
    assert version is not None and version.uploaded_by_id == beheerder.id
    dossier = db.session.scalar(sa.select(Dossier))
    assert dossier is not None
    assert dossiers.people(dossier, MemberRole.BEHEERDER) == [beheerder]


def test_verify_reports_ok_then_the_corrupt_blob(
    app: Flask, admin: User, invoke: Callable[..., Result], corpus: Path
) -> None:
    assert invoke("import", str(corpus / VNG)).exit_code == 0
    clean = invoke("verify")
    assert clean.exit_code == 0, clean.output
    assert "18 versions, 18 blobs" in clean.stdout
    assert "OK" in clean.stdout

    key = db.session.scalar(
        sa.select(DocumentVersion.blob_key).where(DocumentVersion.original_filename == CONTRACT)
    )
    assert key is not None
    store = blob_store()
    assert isinstance(store, FileSystemBlobStore)
    _flip_byte(store.path_for(key))
    broken = invoke("verify")
    assert broken.exit_code == 1
    assert "PROBLEM corrupt_blob: version" in broken.stdout
    assert key in broken.stdout
    assert "FAILED: 1 problems" in broken.stdout

    as_json = invoke("verify", "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert [(p["kind"], key in p["subject"]) for p in report["problems"]] == [
        ("corrupt_blob", True)
    ]


def test_verify_on_an_empty_instance(app: Flask, invoke: Callable[..., Result]) -> None:
    result = invoke("verify", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "versions": 0,
        "destroyed_versions": 0,
        "blobs": 0,
        "audit_events": 0,
        "index_units": 0,
        "problems": [],
        "pending": [],
        "notes": [],
        "checks": [c.__name__.removeprefix("check_") for c in verify.CHECKS],
        "ok": True,
    }


# Helpers that build import folders under tmp_path from corpus files.


def _folder_with_a_letter(tmp_path: Path) -> Path:
    folder = tmp_path / "brieven"  # not tmp_path itself: the test database lives there
    folder.mkdir()
    (folder / "brief.txt").write_text("Geachte leverancier,\n")
    return folder


def _folder_of_folders(tmp_path: Path, corpus: Path) -> Path:
    root = tmp_path / "archief"
    ict, cleaning = root / "2025-001 ICT", root / "2025-002 Schoonmaak"
    ict.mkdir(parents=True)
    cleaning.mkdir()
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    shutil.copy(corpus / VNG / CONTRACT, ict / CONTRACT)
    shutil.copy(corpus / VNG / "Bijlage 6 - Prijzenblad SWC.xlsx", ict)
    shutil.copy(corpus / VNG / "20250128_kennismaking.pdf", cleaning)
    (cleaning / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    return root


def _folder_with_an_executable(tmp_path: Path, corpus: Path) -> Path:
    folder = tmp_path / "2025-003 Gemengd"
    folder.mkdir()
    (folder / "contract.pdf").write_bytes(ELF)
    shutil.copy(corpus / VNG / "Bijlage 6 - Prijzenblad SWC.xlsx", folder)
    return folder


def _flip_byte(path: Path, offset: int = 200) -> None:
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


# End to end: the console script in a subprocess, on a new instance folder.


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def _empty_postgres(request: pytest.FixtureRequest) -> str:
    """The test PostgreSQL database, migrated (by conftest) and emptied of every row."""
    url = request.getfixturevalue("postgres_schema")
    empty_tables(url)
    return url


def _shell_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user's shell: a new instance folder, no test settings, SQLite."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "FLASK_"))}
    env["DOSSIER_INSTANCE_PATH"] = str(tmp_path / "instance")
    return env


@pytest.fixture(params=_backends())
def instance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A user's shell on a new instance folder, with SQLite or the test PostgreSQL database."""
    env = _shell_env(tmp_path)
    if request.param == "postgresql":
        env["DOSSIER_DATABASE_URL"] = normalise_url(_empty_postgres(request))
    yield env


def _script() -> Path:
    script = Path(sys.executable).parent / "dossier"
    if not script.exists():
        pytest.fail(f"the dossier console script is not installed next to {sys.executable}")
    return script


def _run(
    env: dict[str, str], *args: str, input: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(_script()), *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}: {result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def test_end_to_end(instance: dict[str, str], tmp_path: Path, corpus: Path) -> None:
    folder = tmp_path / "instance"

    first = _ok(_run(instance, "init"))
    match = LOGIN.search(first)
    assert match, first
    password = match.group(1)
    assert len(password) >= 12
    assert (folder / "initial-admin-password.txt").read_text().strip() == password
    if "DOSSIER_DATABASE_URL" not in instance:
        assert (folder / "dossier.sqlite3").is_file()
    second = _ok(_run(instance, "init"))
    assert LOGIN.search(second) and LOGIN.search(second).group(1) == password

    created = _run(
        instance,
        "create-user",
        "x@example.org",
        "--role",
        "beheerder",
        "--password-stdin",
        input="een lang genoeg wachtwoord\n",
    )
    assert "Created user x@example.org" in _ok(created)
    short = _run(instance, "create-user", "y@example.org", "--password-stdin", input="te kort\n")
    assert short.returncode == 1
    assert "Error: password: use at least 12 characters" in short.stderr
    assert "Traceback" not in short.stderr

    imported = _ok(_run(instance, "import", str(corpus / VNG)))
    assert f"{VNG_REFERENCE}: 18 filed, 0 new versions, 0 unchanged, 0 refused" in imported
    again = _ok(_run(instance, "import", str(corpus / VNG)))
    assert f"{VNG_REFERENCE}: 0 filed, 0 new versions, 18 unchanged, 0 refused" in again

    verified = _ok(_run(instance, "verify"))
    assert "18 versions, 18 blobs" in verified
    assert "OK" in verified

    blobs = sorted(p for p in (folder / "blobs").glob("??/??/*") if p.is_file())
    assert len(blobs) == 18
    victim = blobs[7]
    assert victim.stat().st_mode & 0o777 == 0o400
    _flip_byte(victim)
    broken = _run(instance, "verify")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "PROBLEM corrupt_blob" in broken.stdout
    assert victim.name in broken.stdout
    assert "FAILED: 1 problems" in broken.stdout and "OK" not in broken.stdout
    as_json = _run(instance, "verify", "--json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert [p["kind"] for p in report["problems"]] == ["corrupt_blob"]
    assert victim.name in report["problems"][0]["subject"]


@pytest.mark.any_database  # folder handling: the same on every database
def test_end_to_end_folder_of_folders_and_a_refused_file(
    instance: dict[str, str], tmp_path: Path, corpus: Path
) -> None:
    _ok(_run(instance, "init"))
    root = _folder_of_folders(tmp_path, corpus)
    outcome = json.loads(_ok(_run(instance, "import", str(root), "--json")))
    assert sorted(outcome) == ["2025-001-ICT", "2025-002-Schoonmaak"]
    assert sorted(outcome["2025-001-ICT"]["filed"]) == sorted(
        [CONTRACT, "Bijlage 6 - Prijzenblad SWC.xlsx"]
    )
    assert outcome["2025-002-Schoonmaak"]["filed"] == ["20250128_kennismaking.pdf"]

    mixed = _folder_with_an_executable(tmp_path, corpus)
    result = _run(instance, "import", str(mixed))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "2025-003-Gemengd: 1 filed, 0 new versions, 0 unchanged, 1 refused" in result.stdout
    assert re.search(r"refused contract\.pdf: .*executable", result.stdout), result.stdout
    # The refused file left nothing behind: the price sheet is stored once for two versions.
    verified = _ok(_run(instance, "verify"))
    assert "4 versions, 3 blobs" in verified
    staging = tmp_path / "instance" / "staging"
    assert not staging.exists() or list(staging.iterdir()) == []


def test_end_to_end_without_init_says_what_to_do(tmp_path: Path, corpus: Path) -> None:
    instance = _shell_env(tmp_path)
    for args in (["import", str(corpus / VNG)], ["verify"], ["register", "export", "x.csv"]):
        result = _run(instance, *args, cwd=tmp_path)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        assert "run `dossier init`" in result.stderr
    created = _run(instance, "create-user", "x@example.org", "--password-stdin", input="x" * 20)
    assert created.returncode == 1
    assert "run `dossier init`" in created.stderr


@pytest.mark.any_database  # folder handling: the same on every database
def test_import_refuses_a_file_instead_of_a_folder(instance: dict[str, str], corpus: Path) -> None:
    _ok(_run(instance, "init"))
    result = _run(instance, "import", str(corpus / VNG / CONTRACT))
    assert result.returncode == 2  # click's usage error
    assert "is a file" in result.stderr


@pytest.mark.any_database  # folder handling: the same on every database
def test_import_of_an_empty_folder_says_so(instance: dict[str, str], tmp_path: Path) -> None:
    _ok(_run(instance, "init"))
    empty = tmp_path / "leeg"
    (empty / ".hidden").mkdir(parents=True)
    (empty / ".DS_Store").write_bytes(b"x")
    result = _run(instance, "import", str(empty))
    assert result.returncode == 1
    assert "holds no files to import" in result.stderr and "Traceback" not in result.stderr


def test_plan_is_what_the_command_imports(tmp_path: Path, corpus: Path) -> None:
    root = _folder_of_folders(tmp_path, corpus)
    targets = [(f.name, p.name) for f, p in importer.iter_targets(root)]
    assert targets == [
        ("2025-001 ICT", CONTRACT),
        ("2025-001 ICT", "Bijlage 6 - Prijzenblad SWC.xlsx"),
        ("2025-002 Schoonmaak", "20250128_kennismaking.pdf"),
    ]


def test_member_roles_come_from_the_importing_user(
    app: Flask,
    make_user: Callable[..., User],
    invoke: Callable[..., Result],
    tmp_path: Path,
) -> None:
    from dossier.models import Membership

    make_user("admin@example.org", GlobalRole.ADMIN)
    assert invoke("import", str(_folder_with_a_letter(tmp_path))).exit_code == 0
    roles = db.session.scalars(sa.select(Membership.role)).all()
    assert roles == [MemberRole.BEHEERDER]


# Names the commands take lose control and bidi-override characters.


def test_names_given_to_the_cli_are_cleaned(app: Flask, admin: User) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        cli,
        ["create-user", "ada@example.org", "--name", "Ada\x0bLovelace\u202e", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["create-group", "\u202eInkoop\x0bteam "])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "ada@example.org"))
    assert user is not None and user.name == "Ada Lovelace"
    assert db.session.scalars(sa.select(Group.name)).all() == ["Inkoop team"]
