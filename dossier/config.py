"""Configuration: defaults, then `instance/config.py`, then `DOSSIER_*` environment variables."""

from __future__ import annotations

import json
import os
import secrets
import socket
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask

from storage import make_private_dir

# Flask adds the underscore: DOSSIER_INDEXING=worker sets INDEXING.
ENV_PREFIX = "DOSSIER"


class Defaults:
    """Settings every installation starts from; each can be overridden."""

    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # None: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    # How long an SQLite connection waits for another's write lock before giving up (the
    # request then answers 503 with Retry-After, never 500).
    SQLITE_BUSY_TIMEOUT_MS = 30_000
    # Where blobs are kept: "filesystem" (BLOB_ROOT) or "s3" (an S3-compatible object store,
    # the S3_* settings below; needs the `s3` extra, boto3). "memory" is for tests only.
    BLOB_STORE = "filesystem"
    BLOB_ROOT: str | None = None  # None: <instance>/blobs
    # The S3 store: endpoint (None: AWS itself), bucket (must exist), credentials (None: boto3's
    # own chain: AWS_* variables, ~/.aws, an instance role), region, and a key prefix
    # ("dossier/" keeps blobs under dossier/ab/cd/<sha256>). Files above the threshold go up in
    # parts of S3_PART_SIZE bytes (at least 5 MiB); each request gets the timeouts (seconds) and
    # is tried S3_MAX_ATTEMPTS times in all.
    S3_ENDPOINT: str | None = None
    S3_BUCKET: str | None = None
    S3_ACCESS_KEY: str | None = None
    S3_SECRET_KEY: str | None = None
    S3_REGION: str | None = None
    S3_PREFIX = ""
    S3_MULTIPART_THRESHOLD = 16 * 1024 * 1024
    S3_PART_SIZE = 8 * 1024 * 1024
    S3_CONNECT_TIMEOUT = 5.0
    S3_READ_TIMEOUT = 60.0
    S3_MAX_ATTEMPTS = 3
    STAGING_DIR: str | None = None  # None: <instance>/staging
    INDEX_DIR: str | None = None  # None: <instance>/index
    # The search backend (search.backend.BACKENDS): "whoosh", the embedded index in INDEX_DIR;
    # "postgres", PostgreSQL full text in SEARCH_SCHEMA of SEARCH_DATABASE_URL (None: the
    # application's own database, which must then be PostgreSQL). Several web nodes need it.
    SEARCH_BACKEND = "whoosh"
    SEARCH_DATABASE_URL: str | None = None
    SEARCH_SCHEMA = "dossier_search"
    MAX_UPLOAD_BYTES = 200 * 1024 * 1024
    # "thread": this process drains the outbox after each commit (the embedded default);
    # "worker": a separate `dossier worker` does it (several web processes); "off": tests.
    INDEXING = "thread"
    EXTRACT_TIMEOUT = 60.0
    # Outbox work claimed by a worker (dossier.outbox) is its own for this long, renewed while
    # it works; a dead worker's items are taken over once it runs out (at once on its own
    # machine). A failed item waits this long before its next attempt, doubling per attempt.
    OUTBOX_LEASE_SECONDS = 120.0
    OUTBOX_RETRY_SECONDS = 10.0
    # Files the outbox drain extracts at once, each in a sandboxed worker process of its own.
    EXTRACT_WORKERS = min(2, os.cpu_count() or 1)
    # `dossier verify` reports blobs no version refers to once they are older than this.
    VERIFY_ORPHAN_GRACE_HOURS = 24.0
    # Start-up recovery removes staging and temp files untouched for this long (crash leftovers).
    STAGING_GRACE_SECONDS = 600.0
    OCR = True
    HOST = "127.0.0.1"
    PORT = 5000
    THREADS = 8
    # The waitress server of `dossier run`. Open connections (idle ones included) beyond the
    # limit wait in the listen backlog; a connection without a request and silent for
    # CHANNEL_TIMEOUT seconds is closed (checked every CLEANUP_INTERVAL seconds). A reverse proxy
    # in front still belongs in production: it buffers slow clients (see the README).
    CONNECTION_LIMIT = 1000
    CHANNEL_TIMEOUT = 30
    CLEANUP_INTERVAL = 10
    BACKLOG = 1024
    BABEL_DEFAULT_LOCALE = "nl"
    BABEL_DEFAULT_TIMEZONE = "Europe/Amsterdam"
    LANGUAGES = ("nl", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # True when served over https: then every cookie (session and remember-me) is Secure.
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "dossier_session"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    # Strict-Transport-Security max-age in seconds on https responses; 0 sends none.
    HSTS_SECONDS = 0
    HSTS_INCLUDE_SUBDOMAINS = False
    # Reverse proxies in front of the app whose X-Forwarded-For and -Proto are believed; 0 when
    # clients connect directly (then those headers are ignored, so nobody can fake an address).
    TRUSTED_PROXIES = 0
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    PREFERRED_URL_SCHEME = "http"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    # Failed log-ins allowed per network address, and per account (then only addresses that
    # failed for it are refused: see dossier/throttling.py); wrong current passwords per user.
    # The address limit is the wider one: a whole town hall may share one address, and one
    # person's typos must not lock out the rest; guessing one account is held by its own limit.
    LOGIN_LIMITS = "30 per minute;300 per hour"
    LOGIN_ACCOUNT_LIMITS = "10 per minute;50 per hour"
    PASSWORD_CHECK_LIMITS = "5 per minute;20 per hour"
    # Failed single sign-on answers (an error the provider sent back, a token that fails the
    # checks) audited per network address; past this they are only logged, so a stranger who
    # replays the callback cannot flood the audit trail. The person sees the same message.
    SSO_FAILURE_AUDIT_LIMITS = "5 per minute;30 per hour"
    # Two-step verification of local accounts (dossier/second_factor.py). Users with these global
    # roles are led to set up an authenticator app on every page until they have (an empty list:
    # nobody must). The issuer is the name the app shows. The TOTP secrets are encrypted with
    # SECOND_FACTOR_KEY (None: a key derived from SECRET_KEY); changing that key leaves every
    # enrolled user unable to pass the second step until an administrator resets their factor.
    # Wrong codes are limited per user; a password that was right waits this long for its code.
    # A secret shown for setting up must be confirmed within SECOND_FACTOR_ENROLMENT_SECONDS;
    # after that the page shows a new one.
    SECOND_FACTOR_REQUIRED_ROLES: tuple[str, ...] = ("admin", "auditor")
    SECOND_FACTOR_ISSUER = "Dossier"
    SECOND_FACTOR_KEY: str | None = None
    SECOND_FACTOR_LIMITS = "5 per minute;20 per hour;50 per day"
    SECOND_FACTOR_PENDING_SECONDS = 300
    SECOND_FACTOR_ENROLMENT_SECONDS = 900
    # Searches with a * wildcard cost far more than plain ones: this many per user, counted in
    # the limiter's storage (shared between web processes when that is Redis).
    SEARCH_WILDCARD_LIMITS = "20 per minute;200 per hour"
    # API requests (/api/v1) per user, all their tokens together, counted in the same storage.
    API_RATE_LIMITS = "300 per minute;5000 per hour"
    # Seconds of matching (CPU time in the embedded index) before a search is refused.
    SEARCH_TIME_LIMIT = 5.0

    # Management information (dossier/deadlines.py, dossier/reports.py).
    # European thresholds (EUR excl. VAT) for sub-central contracting authorities, per category,
    # valid 1 January 2026 to 31 December 2027: Directive 2014/24/EU art. 4 as amended by
    # Commission Delegated Regulation (EU) 2025/2152 (art. 2.1 Aanbestedingswet 2012 refers to
    # the directive's thresholds). Checked again on 6 December 2026 against three public
    # summaries (mondaq.com "public procurement thresholds for 2026-2027", cwmf.gov.ie "revised
    # EU procurement thresholds applicable from 1 January 2026", keystoneprocurement.eu): works
    # 5,404,000; supplies and services 216,000 for sub-central authorities and 140,000 for
    # central government (het Rijk: set supplies and services to 140,000 there); social and
    # other specific services 750,000. The 2024-2025 values were 221,000, 143,000 and 5,538,000.
    EU_THRESHOLDS: dict[str, int] = {
        "supplies": 216_000,
        "services": 216_000,
        "works": 5_404_000,
        "social_services": 750_000,
    }
    # Procurement-law checks (dossier/checks.py). Sources, checked against public texts on
    # 6 December 2026 with the search tool (stored copies, not the official wetten.nl text):
    # CONFIRMED from two public summaries (vhadvocaat.nl "wijziging opdracht na aanbesteding",
    # peterhoogstrate.nl "contractmanagement wijzigingen", PIANOo "(niet-)wezenlijke wijziging"):
    # art. 2.163a Aanbestedingswet 2012 (a public contract is modified only after a new
    # procedure), the exceptions in art. 2.163b-2.163g, and the de-minimis rule of art. 2.163b:
    # the modification is below the European threshold AND below 10 % of the initial value for
    # supplies and services (15 % for works), and successive small modifications are added up.
    # NOT CONFIRMED from the Dutch text here (taken from Directive 2014/24/EU art. 72(1)(b)-(c),
    # which art. 2.163d and 2.163e transpose): the price increase of one modification for
    # additional work or unforeseen circumstances may not exceed 50 % of the initial value.
    # NOT CONFIRMED either: the estimation rules of art. 2.14-2.15 (value incl. options and
    # renewals; a contract of indefinite term counts as 48 months) and the ban on splitting a
    # contract to avoid the rules (art. 1.5 / 2.15); they follow Directive 2014/24/EU art. 5.
    DE_MINIMIS_PERCENT: dict[str, int] = {
        "supplies": 10,
        "services": 10,
        "social_services": 10,
        "works": 15,
    }
    MODIFICATION_LIMIT_PERCENT = 50  # art. 2.163d/2.163e (Directive 2014/24/EU art. 72(1)(b)-(c))
    # Possible splitting (art. 1.5, 2.15): contracts with one supplier whose CPV codes share
    # this many leading digits (3: the CPV "group", e.g. 302 computer equipment; 2 would be the
    # whole division, too coarse; 4 the class, which splitting across classes would dodge)
    # and whose start dates lie within this many months of each other are added up.
    SPLITTING_CPV_DIGITS = 3
    SPLITTING_MONTHS = 12
    # The organisation's own procurement policy below the European thresholds: an estimated
    # value up to the first amount may go to one supplier (single private), up to the second
    # to several invited suppliers (multiple private), above it a national (public) procedure.
    # Defaults: the usual municipal values based on the Gids Proportionaliteit (2e herziening,
    # 2020) and the VNG model procurement policy (modelinkoopbeleid); each organisation sets
    # its own. Works have higher limits in the Gids Proportionaliteit (par. 3.4.2).
    PROCUREMENT_POLICY: dict[str, dict[str, int]] = {
        "supplies": {"single_private": 50_000, "multiple_private": 100_000},
        "services": {"single_private": 50_000, "multiple_private": 100_000},
        "social_services": {"single_private": 50_000, "multiple_private": 100_000},
        "works": {"single_private": 150_000, "multiple_private": 1_500_000},
    }
    TENDER_HORIZON_MONTHS = 18  # maximum end dates this close ask for a new tender
    TENDER_LEAD_MONTHS = 9  # a procurement takes this long, so it starts this much earlier
    # Months before the current end date to decide on an option when no notice period is set.
    OPTION_LEAD_MONTHS = 3
    # A contract that renews automatically without a stated option length renews by this much.
    AUTO_RENEWAL_MONTHS = 12
    DEADLINE_WINDOWS = (30, 90, 180)  # days ahead the dashboard groups deadlines by
    # Fix the date reports, the dashboard and feeds compute with (demonstrations, tests); None:
    # today in BABEL_DEFAULT_TIMEZONE. Commands take --date instead.
    REPORT_DATE: str | None = None
    # Spend against the ceiling (dossier/spend.py): a contract is flagged when its booked spend
    # reaches each of these percentages of its contract value, or this year's spend of its
    # annual value. Spend files name their financial system with this when the importer does not.
    SPEND_WARNING_PERCENTAGES = (80, 100)
    SPEND_DEFAULT_SOURCE = "finance"
    # Records: an approved destruction list becomes irreversible this many days after approval
    # (until then the blobs are kept and the archivist can cancel); the selection-list category
    # a dossier gets by default, per contract category ("default" for the rest): 16.1 of the
    # Selectielijst gemeenten 2020 (overeenkomst aangegaan: destroy 10 years after it ended)
    # for every kind; see dossier/data/selection_list.csv.
    DISPOSAL_GRACE_DAYS = 30
    RETENTION_DEFAULTS: dict[str, str] = {
        "supplies": "16.1",
        "services": "16.1",
        "social_services": "16.1",
        "works": "16.1",
        "default": "16.1",
    }
    # Transfer packages in MDTO (dossier/transfer.py): the archiefvormer every informatieobject
    # names (required before a package can be made), its identifier (e.g. its TOOI URI) and the
    # register that identifier comes from, and the name identifiers of this system are given with.
    TRANSFER_ORGANISATION_NAME = ""
    TRANSFER_ORGANISATION_ID = ""
    TRANSFER_ORGANISATION_ID_SOURCE = "TOOI"
    TRANSFER_SOURCE_SYSTEM = "Dossier"
    # The download on the dossier page makes the package within the request (PDF/A renditions
    # included): larger dossiers go through `dossier transfer export` instead.
    TRANSFER_WEB_MAX_VERSIONS = 100
    TRANSFER_WEB_MAX_BYTES = 512 * 1024 * 1024
    # Dashboards and reports show disposals due within this many days.
    DISPOSAL_HORIZON_DAYS = 180
    # Woo requests (dossier/woo.py). Woo art. 4.4 lid 1: the decision is due within four weeks,
    # counted from the day after the request was received; lid 2: it may be postponed once by
    # at most two weeks, with a reasoned notice to the requester before the first period ends.
    # A period ending on a Saturday, Sunday or public holiday runs to the next working day
    # (Algemene termijnenwet art. 1 and 3).
    WOO_DECISION_WEEKS = 4
    WOO_EXTENSION_WEEKS = 2
    # The dashboard of Woo handlers warns this many days before a decision is due.
    WOO_WARNING_DAYS = 7
    # The grounds a passage or document may be withheld on: (code, description). None: the
    # grounds of Woo art. 5.1 and 5.2 that ship with Dossier (dossier/woo.py WOO_GROUNDS).
    WOO_GROUNDS: list[tuple[str, str]] | None = None
    DIGEST_DAYS = 30  # the daily digest lists deadlines this many days ahead, and missed ones
    # Documents a complete dossier holds. A requirement applies to the listed categories (None:
    # all), only to dossiers with personal data when `personal_data` is set; it is met by a
    # document of one of `kinds` whose title contains one of `title_words` (none: any title),
    # or by one of `legacy_kinds` whose title does.
    REQUIRED_DOCUMENTS: list[dict[str, Any]] = [
        {"key": "signed_contract", "kinds": ["contract"], "title_words": []},
        # Met by the dossier's execution-plan record (dossier.plans), not by a document; an
        # overdue review of the plan is missing too ("execution_plan_review").
        {
            "key": "execution_plan",
            "record": "execution_plan",
            "categories": ["services", "social_services", "works"],
        },
        # Met by a document of its own kind; `legacy_kinds` with `title_words` still count, for
        # documents filed before the kind existed (until someone corrects their kind).
        {
            "key": "sla",
            "kinds": ["sla"],
            "legacy_kinds": ["annex", "contract", "amendment"],
            "title_words": ["sla", "service level", "dienstverleningsniveau"],
            "categories": ["services"],
        },
        {
            "key": "processing_agreement",
            "kinds": ["processing_agreement"],
            "legacy_kinds": ["annex", "contract", "amendment", "other"],
            "title_words": ["verwerkersovereenkomst", "processing agreement", "dpa"],
            "personal_data": True,
        },
    ]
    # Outgoing mail for the daily digest (smtplib). MAIL_SECURITY: "none", "starttls" or "ssl".
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_FROM = "dossier@localhost"
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_SECURITY = "none"
    MAIL_TIMEOUT = 30.0
    # The address links in mails and calendar feeds point at (no request to take it from),
    # e.g. "https://dossier.example.org". Unset: the address this process serves on (`public_url`).
    BASE_URL: str | None = None

    # Intake (dossier/mail_intake.py, dossier/folder_intake.py; `dossier intake` runs both).
    # The mailbox polled over IMAP; unset IMAP_HOST: no mail intake. IMAP_SECURITY: "none",
    # "starttls" or "ssl" (certificates checked against the system's CAs). IMAP_FOLDER is read;
    # handled mail moves to the three folders below ("/" is replaced by the server's own
    # hierarchy separator), never deleted.
    IMAP_HOST: str | None = None
    IMAP_PORT = 993
    IMAP_USER: str | None = None
    IMAP_PASSWORD: str | None = None
    IMAP_SECURITY = "ssl"
    IMAP_FOLDER = "INBOX"
    IMAP_TIMEOUT = 60.0
    IMAP_DONE_FOLDER = "Dossier/Verwerkt"  # filed into its dossier
    IMAP_QUEUE_FOLDER = "Dossier/Wachtrij"  # placed in the intake queue
    IMAP_REFUSED_FOLDER = "Dossier/Geweigerd"  # refused by the type checks
    # The watched folder: files in a subfolder named like a dossier reference are filed into
    # that dossier, files at the top level go to the intake queue; each is moved to done/ or
    # refused/ (with a <name>.reason.txt) afterwards. Unset: no folder intake. A file is left
    # alone until it is this many seconds old (a scanner or copy may still be writing it).
    INTAKE_FOLDER: str | None = None
    INTAKE_MIN_AGE_SECONDS = 30.0
    # The account the intake files as (its e-mail address): it files only into dossiers where it
    # may file (a membership as beheerder or manager); other mail waits in the queue.
    INTAKE_AS: str | None = None
    INTAKE_INTERVAL_SECONDS = 60.0  # `dossier intake` without --once: one pass this often

    # Webhooks (dossier/webhooks.py): a delivery the receiver did not accept (2xx) is tried
    # again after WEBHOOK_RETRY_SECONDS, doubling per attempt up to an hour, at most
    # WEBHOOK_MAX_ATTEMPTS times (about four hours with the defaults). Each request waits at most
    # the connect and read timeouts. Deadlines are signalled once per threshold (days ahead).
    # Without a `dossier worker`, the web process looks for due retries this often. Delivered
    # and failed deliveries are removed with their log after WEBHOOK_DELIVERY_KEEP_DAYS without
    # an attempt (by the drain, hourly; None keeps them for ever); pending ones stay.
    WEBHOOK_RETRY_SECONDS = 60.0
    WEBHOOK_MAX_ATTEMPTS = 10
    WEBHOOK_CONNECT_TIMEOUT = 5.0
    WEBHOOK_READ_TIMEOUT = 10.0
    WEBHOOK_DEADLINE_DAYS = (90, 30, 7)
    WEBHOOK_POLL_SECONDS = 15.0
    WEBHOOK_DELIVERY_KEEP_DAYS: int | None = 90

    # Single sign-on with OpenID Connect (dossier/oidc.py, dossier/web/sso.py; README "How to
    # connect an identity provider"). Unset OIDC_ISSUER: no single sign-on. The provider's
    # settings come from <issuer>/.well-known/openid-configuration; Dossier is registered there
    # as a confidential client with <address>/sso/callback as redirect URI (and <address>/login
    # as post-logout redirect URI).
    OIDC_ISSUER: str | None = None
    OIDC_CLIENT_ID: str | None = None
    OIDC_CLIENT_SECRET: str | None = None
    OIDC_SCOPES = "openid email profile"  # add "groups" where the provider needs that scope
    OIDC_PROVIDER_NAME = ""  # on the button ("Inloggen met ..."); empty: "single sign-on"
    # The claim that lists the person's groups at the provider, and what each group gives here:
    # membership of Dossier groups (by name; created when missing) and a global role (admin,
    # auditor, archivist, portfolio, beheerder; of several, the first in that order). Applied
    # at every log-in: a group the provider no longer lists is taken away, for the Dossier
    # groups and roles these mappings name only (others stay as an administrator set them).
    OIDC_GROUPS_CLAIM = "groups"
    OIDC_GROUP_MAPPING: dict[str, list[str]] = {}
    OIDC_ROLE_MAPPING: dict[str, str] = {}
    # False: someone whose groups give nothing may log in and sees no dossier until granted
    # one; True: such a log-in is refused with a message.
    OIDC_REQUIRE_MAPPED_GROUP = False
    # The first single sign-on of an address that already has a local account takes that
    # account over only when this is on and the provider says the address is verified.
    OIDC_LINK_BY_EMAIL = False
    OIDC_CLOCK_SKEW_SECONDS = 60  # leeway for the ID token's exp and iat
    OIDC_TIMEOUT = 10.0  # seconds for each request to the provider
    OIDC_LOGOUT_AT_PROVIDER = True  # log-out also ends the provider's session (when it offers)
    # False: only single sign-on, except for the break-glass account (an e-mail address) that
    # still logs in with its password, at /login/break-glass, for when the provider is down.
    LOCAL_LOGIN = True
    BREAK_GLASS_ACCOUNT: str | None = None


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill `app.config` from defaults, the instance file and the environment, in that order."""
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env(ENV_PREFIX, loads=_loads)
        if url := os.environ.get("DOSSIER_DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = url
        # Names and secrets stay text, even when they look like JSON ("12345", "true").
        for name in TEXT_SETTINGS:
            if (value := os.environ.get(f"{ENV_PREFIX}_{name}")) is not None:
                app.config[name] = value
    else:
        app.config.update(test_config)
    _fill_instance_paths(app)
    # The instance holds the database, the documents and the index: the owner's alone (R16).
    make_private_dir(app.instance_path, tighten=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = read_or_create_secret_key(app.instance_path)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_BYTES"] + 1024 * 1024
    _secure_cookies_together(app)


TEXT_SETTINGS = (
    "SECRET_KEY",  # every web node of a cluster sets the same one (DOSSIER_SECRET_KEY)
    "MAIL_PASSWORD",
    "SECOND_FACTOR_KEY",
    "SECOND_FACTOR_ISSUER",
    "IMAP_HOST",
    "IMAP_USER",
    "IMAP_PASSWORD",
    "IMAP_FOLDER",
    "INTAKE_FOLDER",
    "INTAKE_AS",
    "RATELIMIT_STORAGE_URI",
    "SEARCH_DATABASE_URL",
    "SEARCH_SCHEMA",
    "S3_ENDPOINT",
    "S3_BUCKET",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_REGION",
    "S3_PREFIX",
    "OIDC_ISSUER",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OIDC_SCOPES",
    "OIDC_PROVIDER_NAME",
    "OIDC_GROUPS_CLAIM",
    "BREAK_GLASS_ACCOUNT",
)


def _secure_cookies_together(app: Flask) -> None:
    """One switch for every cookie: a Secure session beside a clear-text remember-me cookie
    would hand the long-lived one to anybody on the network."""
    secure = bool(app.config["SESSION_COOKIE_SECURE"] or app.config.get("REMEMBER_COOKIE_SECURE"))
    app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = secure


SECRET_KEY_FILE = "secret_key"


def read_or_create_secret_key(instance_path: str) -> str:
    """The installation's own signing key, made once and kept private in the instance folder."""
    path = os.path.join(instance_path, SECRET_KEY_FILE)
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        pass
    make_private_dir(instance_path, tighten=True)
    key = secrets.token_hex(32)
    fd, temp = tempfile.mkstemp(dir=instance_path, prefix=".secret-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails when the file exists: of two processes starting at once, one key wins.
        os.link(temp, path)
    except FileExistsError:
        return read_or_create_secret_key(instance_path)
    finally:
        os.unlink(temp)
    return key


def _loads(value: str) -> Any:
    """Parse environment values as JSON where they are JSON, else keep the string."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _fill_instance_paths(app: Flask) -> None:
    """Point every unset path at the instance folder, so one folder holds one installation."""
    folder = app.instance_path
    defaults = {
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(folder, "dossier.sqlite3"),
        "BLOB_ROOT": os.path.join(folder, "blobs"),
        "STAGING_DIR": os.path.join(folder, "staging"),
        "INDEX_DIR": os.path.join(folder, "index"),
    }
    for key, value in defaults.items():
        if not app.config.get(key):
            app.config[key] = value
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_url(app.config["SQLALCHEMY_DATABASE_URI"])


def normalise_url(url: str) -> str:
    """Plain `postgresql://` URLs use the psycopg 3 driver that the package installs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def public_url(config: Mapping[str, Any]) -> str:
    """The address links in mails point at, without a trailing slash.

    BASE_URL when configured (it should be, behind a reverse proxy); otherwise the host and port
    this installation serves on: `dossier run` records the ones it listens on, and a command such
    as `dossier digest --send` uses the configured HOST and PORT.
    """
    if config.get("BASE_URL"):
        return str(config["BASE_URL"]).rstrip("/")
    host = str(config["HOST"])
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: name this machine instead
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config['PORT']}"
