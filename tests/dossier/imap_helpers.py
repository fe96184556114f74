"""A private Dovecot IMAP server for the mail-intake tests, started on a free 127.0.0.1 port.

Everything it writes (config, passwd-file, mail, sockets, log) lives in one folder of its own.
As an ordinary user Dovecot runs entirely as that user. As root (CI runs as root) Dovecot
refuses to serve mail or run its login process as root, so mail is served as the `dovecot`
system user and logins run as `dovenull` (both made by Debian's package); that folder is then
made under /tmp (a root-only pytest folder would be unreachable for them) and removed after.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
)
USER = "intake"
PASSWORD = "intake-secret"

CONFIG = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{base}/mail/%u
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={base}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
{auth}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DovecotServer:
    def __init__(self, binary: str, folder: Path) -> None:
        self.binary = binary
        self.root = os.geteuid() == 0
        self.base = Path(tempfile.mkdtemp(prefix="dovecot-")) if self.root else folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> Path:
        if self.root:
            mail = pwd.getpwnam("dovecot")
            names = {"internal": "dovecot", "internal_group": "dovecot", "login": "dovenull"}
            uid, gid = mail.pw_uid, mail.pw_gid
            auth = "service auth {\n  user = root\n}"  # reads the passwd-file in a root folder
            os.chmod(self.base, 0o755)
        else:
            me = getpass.getuser()
            names = {"internal": me, "internal_group": me, "login": me}
            uid, gid = os.getuid(), os.getgid()
            with contextlib.suppress(KeyError):
                names["internal_group"] = __import__("grp").getgrgid(gid).gr_name
            auth = ""
        (self.base / "mail").mkdir(exist_ok=True)
        if self.root:
            os.chown(self.base / "mail", uid, gid)
        users = self.base / "users"
        users.write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        conf = self.base / "dovecot.conf"
        conf.write_text(
            CONFIG.format(
                base=self.base, port=self.port, mail_uid=uid, mail_gid=gid, auth=auth, **names
            )
        )
        return conf

    def start(self) -> None:
        conf = self._write_config()
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self._failure())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    if conn.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("Dovecot did not answer within 20 s: " + self._failure())

    def _failure(self) -> str:
        log = self.base / "dovecot.log"
        text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        err = (
            self.process.stderr.read().decode(errors="replace")
            if self.process and self.process.poll() is not None and self.process.stderr
            else ""
        )
        return (err + text).strip()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        if self.root:
            shutil.rmtree(self.base, ignore_errors=True)

    def settings(self) -> dict[str, object]:
        """The application settings that point the mail intake at this server."""
        return {
            "IMAP_HOST": "127.0.0.1",
            "IMAP_PORT": self.port,
            "IMAP_USER": USER,
            "IMAP_PASSWORD": PASSWORD,
            "IMAP_SECURITY": "none",
            "IMAP_FOLDER": "INBOX",
            "IMAP_TIMEOUT": 20.0,
        }


def mailbox(server: DovecotServer, name: str) -> dict[str, object]:
    """Settings for a mailbox of one test's own: its inbox and the three intake folders are
    folders under `name`, so tests on one server never see each other's mail."""
    return server.settings() | {
        "IMAP_FOLDER": f"{name}/Inbox",
        "IMAP_DONE_FOLDER": f"{name}/Verwerkt",
        "IMAP_QUEUE_FOLDER": f"{name}/Wachtrij",
        "IMAP_REFUSED_FOLDER": f"{name}/Geweigerd",
    }
