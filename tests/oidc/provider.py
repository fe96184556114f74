"""Start the real OpenID provider of tests/oidc (Node's `oidc-provider`) and log in at it with a
plain HTTP client, following its redirects up to the relying party's callback."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

HERE = Path(__file__).resolve().parent
NODE = shutil.which("node")
NPM = shutil.which("npm")
CLIENT_SECRET = "a-long-client-secret-for-the-tests-only"
PASSWORD = "provider password 1"
_INSTALL_LOCK = threading.Lock()


MIN_NODE = 20  # oidc-provider 9 runs on Node.js 20.19 and later LTS releases


def missing_tools() -> str | None:
    """Why the provider cannot run here, or None."""
    if NODE is None or NPM is None:
        return "Node.js and npm are not installed (apt-get install nodejs npm)"
    version = subprocess.run([NODE, "--version"], capture_output=True, text=True, timeout=30)
    major = version.stdout.strip().lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < MIN_NODE:
        return f"Node.js {MIN_NODE} or later is needed, not {version.stdout.strip()!r}"
    return None


def install() -> None:
    """`npm ci` the provider's locked dependencies when node_modules is missing; one process
    at a time (parallel test workers share the folder)."""
    lock_path = Path(tempfile.gettempdir()) / f"dossier-oidc-npm-{os.getuid()}.lock"
    with _INSTALL_LOCK, lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (HERE / "node_modules" / "oidc-provider").is_dir():
            return
        subprocess.run(
            [str(NPM), "ci", "--no-audit", "--no-fund"],
            cwd=HERE,
            check=True,
            capture_output=True,
            timeout=600,
        )


def client(client_id: str, redirect_uri: str, post_logout_redirect_uri: str) -> dict[str, Any]:
    """An oidc-provider client registration (confidential, authorisation code only)."""
    return {
        "client_id": client_id,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [redirect_uri],
        "post_logout_redirect_uris": [post_logout_redirect_uri],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
    }


class OpenIdProvider:
    """One running provider process; `users` writes its user directory (re-read at each log-in)."""

    def __init__(self, folder: Path, clients: list[dict[str, Any]], modes: dict[str, str]) -> None:
        self.users_file = folder / "users.json"
        self.users_file.write_text("{}")
        self.log = (folder / "provider.log").open("w")
        config = {"clients": clients, "modes": modes, "users_file": str(self.users_file)}
        self.process = subprocess.Popen(
            [str(NODE), str(HERE / "provider.mjs")],
            cwd=HERE,
            env={**os.environ, "PROVIDER_CONFIG": json.dumps(config)},
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            self.stop()
            raise RuntimeError(f"the OpenID provider did not start: see {self.log.name}")
        self.issuer: str = json.loads(line)["issuer"]

    def users(self, users: dict[str, dict[str, Any]]) -> None:
        """Replace the provider's users: {login: {email, name, groups[, password]}}."""
        full = {login: {"password": PASSWORD, **user} for login, user in users.items()}
        self.users_file.write_text(json.dumps(full))

    def stop(self) -> None:
        if self.process.stdout:
            self.process.stdout.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class _Forms(HTMLParser):
    """The forms of a page: action, method and the inputs' names and values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"action": values.get("action"), "fields": {}, **values})
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1]["fields"][values["name"]] = values.get("value") or ""


def forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def follow(http: requests.Session, url: str, stop_at: str) -> requests.Response | str:
    """GET `url` and follow redirects until one points under `stop_at` (returned as the URL)
    or a page is answered (returned)."""
    for _ in range(20):
        if url.startswith(stop_at):
            return url
        response = http.get(url, allow_redirects=False, timeout=10)
        if response.status_code not in (301, 302, 303, 307, 308):
            return response
        url = urljoin(url, response.headers["Location"])
    raise AssertionError("too many redirects")


def log_in(
    http: requests.Session, authorize_url: str, login: str, stop_at: str, password: str = PASSWORD
) -> str:
    """Drive the provider's log-in page as a browser would; the callback URL it sends back."""
    page = follow(http, authorize_url, stop_at)
    if isinstance(page, str):
        return page  # the provider still had a session: no log-in page
    assert page.status_code == 200, page.text
    (form,) = forms(page.text)
    posted = http.post(
        urljoin(page.url, form["action"]),
        data={"login": login, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    assert posted.status_code in (302, 303), posted.text
    result = follow(http, urljoin(page.url, posted.headers["Location"]), stop_at)
    assert isinstance(result, str), result.text
    return result
