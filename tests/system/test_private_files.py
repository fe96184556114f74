"""R16: nothing on disk is readable by other local users, whatever the umask: the instance,
its database, blobs, staging and index, and backups."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

DOSSIER = Path(sys.executable).with_name("dossier")


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(DOSSIER), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        # A permissive umask, as a shell of a careless operator would have.
        preexec_fn=lambda: os.umask(0o022),
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


def _open_to_others(folder: Path) -> list[str]:
    found = []
    for path in [folder, *folder.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_IMODE(mode) & 0o077:
            found.append(f"{path.relative_to(folder.parent)} {oct(stat.S_IMODE(mode))}")
    return found


def test_instance_index_and_backup_are_owner_only(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = {**os.environ, "DOSSIER_INSTANCE_PATH": str(instance)}
    env.pop("DOSSIER_DATABASE_URL", None)
    _run(env, "init")
    folder = tmp_path / "2025-001 Schoonmaak"
    folder.mkdir()
    (folder / "overeenkomst.txt").write_text(
        "Artikel 1 Looptijd\nDe overeenkomst loopt vier jaar.\n"
    )
    (folder / "brief.txt").write_text("Geachte leverancier, hierbij de opdracht.\n")
    _run(env, "import", str(folder))
    _run(env, "reindex")
    _run(env, "backup", str(tmp_path / "backup"))
    assert (instance / "index").is_dir() and any((instance / "blobs").rglob("*"))
    assert _open_to_others(instance) == []
    assert _open_to_others(tmp_path / "backup") == []


def test_the_app_tightens_an_instance_an_older_version_left_open(tmp_path: Path) -> None:
    from dossier import create_app

    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    database = instance / "dossier.sqlite3"
    database.touch(mode=0o644)
    os.chmod(instance, 0o755)
    os.chmod(database, 0o644)
    create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "x", "TESTING": True})
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_a_shared_folder_a_setting_points_at_is_never_changed(tmp_path: Path) -> None:
    from storage import make_private_dir

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /var/tmp
    make_private_dir(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    make_private_dir(shared / "a" / "b")  # what it creates is private, every level
    assert stat.S_IMODE((shared / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((shared / "a" / "b").stat().st_mode) == 0o700
    own = tmp_path / "own"
    own.mkdir()
    own.chmod(0o775)
    make_private_dir(own, tighten=True)  # an installation's own folder loses group and other
    assert stat.S_IMODE(own.stat().st_mode) == 0o700
