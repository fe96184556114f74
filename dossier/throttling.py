"""Throttling failed log-ins and password checks, without letting a stranger lock anyone out.

Only failures count. An address that fails too often is refused for a while (brute force from
one place). An account that fails too often, from wherever, is refused only to the addresses
that failed for it: whoever names a user and guesses wrong cannot keep that user out, because a
correct password from an address that has not failed still logs in. A botnet then gains one
guess per address. The counters live in the rate-limit store (`RATELIMIT_STORAGE_URI`: memory
per process, or Redis shared by every web node), keyed by a hash of the e-mail address.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import STRATEGIES, RateLimiter

_EXTENSION = "dossier.throttling"

ADDRESS = "address"  # too many failures from one network address, whatever the account
ACCOUNT = "account"  # too many failures for one account, and this address is one that failed
PASSWORD = "password"  # too many wrong current passwords on the password page
SECOND_FACTOR = "second_factor"  # too many wrong codes at the second step of a log-in


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused without looking at the password, and for how long."""

    scope: str
    retry_after: int  # seconds

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def init_app(app: Flask) -> None:
    """Open the counters' store once per application (not at all when rate limits are off)."""
    if app.config.get("RATELIMIT_ENABLED", True):
        storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        strategy = app.config.get("RATELIMIT_STRATEGY", "fixed-window")
        app.extensions[_EXTENSION] = STRATEGIES[strategy](storage)


def login_refusal(email: str, address: str) -> Refusal | None:
    """Whether a log-in as `email` from `address` is refused before its password is checked."""
    limiter = _limiter()
    if limiter is None:
        return None
    account = _account_key(email)
    if wait := _wait(limiter, "LOGIN_LIMITS", "login-address", address):
        return Refusal(ADDRESS, wait)
    failed_here = _used(limiter, "LOGIN_ACCOUNT_LIMITS", "login-pair", account, address)
    if failed_here and (wait := _wait(limiter, "LOGIN_ACCOUNT_LIMITS", "login-account", account)):
        return Refusal(ACCOUNT, wait)
    return None


def record_login_failure(email: str, address: str) -> list[str]:
    """Count a wrong password; the scopes this failure just closed (each once per window)."""
    limiter = _limiter()
    if limiter is None:
        return []
    account = _account_key(email)
    _hit(limiter, "LOGIN_ACCOUNT_LIMITS", "login-pair", account, address)
    tripped = []
    if _hit(limiter, "LOGIN_LIMITS", "login-address", address):
        tripped.append(ADDRESS)
    if _hit(limiter, "LOGIN_ACCOUNT_LIMITS", "login-account", account):
        tripped.append(ACCOUNT)
    return tripped


def password_refusal(user_id: int) -> Refusal | None:
    """Whether the current-password check of this user is refused for now."""
    limiter = _limiter()
    if limiter is None:
        return None
    wait = _wait(limiter, "PASSWORD_CHECK_LIMITS", "password-check", str(user_id))
    return Refusal(PASSWORD, wait) if wait else None


def record_password_failure(user_id: int) -> bool:
    """Count a wrong current password; True when this failure closed the check."""
    limiter = _limiter()
    if limiter is None:
        return False
    return _hit(limiter, "PASSWORD_CHECK_LIMITS", "password-check", str(user_id))


def spend(setting: str, *key: str) -> int:
    """Count one request under `key` against the limits of `setting` (the API's per-token
    limit); the seconds to wait when a limit is used up, else 0 (also when limits are off)."""
    limiter = _limiter()
    if limiter is None:
        return 0
    if wait := _wait(limiter, setting, *key):
        return wait
    for item in _items(setting):
        limiter.hit(item, *key)
    return 0


def second_factor_refusal(user_id: int) -> Refusal | None:
    """Whether this user's second step is refused for now (too many wrong codes)."""
    limiter = _limiter()
    if limiter is None:
        return None
    wait = _wait(limiter, "SECOND_FACTOR_LIMITS", "second-factor", str(user_id))
    return Refusal(SECOND_FACTOR, wait) if wait else None


def record_second_factor_failure(user_id: int) -> bool:
    """Count a wrong code (or recovery code); True when this failure closed the second step."""
    limiter = _limiter()
    if limiter is None:
        return False
    return _hit(limiter, "SECOND_FACTOR_LIMITS", "second-factor", str(user_id))


def _limiter() -> RateLimiter | None:
    return current_app.extensions.get(_EXTENSION)


def _items(setting: str) -> list[RateLimitItem]:
    return parse_many(current_app.config[setting])


def _account_key(email: str) -> str:
    """A fixed-length key: no address in the store, no separator an e-mail could smuggle in."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _wait(limiter: RateLimiter, setting: str, *key: str) -> int:
    """Seconds until every exhausted limit of `setting` has room again; 0 when none is."""
    resets = [
        limiter.get_window_stats(item, *key).reset_time
        for item in _items(setting)
        if not limiter.test(item, *key)
    ]
    return max(1, math.ceil(max(resets) - time.time())) if resets else 0


def _used(limiter: RateLimiter, setting: str, *key: str) -> bool:
    """Whether anything was counted under `key` in the current windows of `setting`."""
    return any(
        limiter.get_window_stats(item, *key).remaining < item.amount for item in _items(setting)
    )


def _hit(limiter: RateLimiter, setting: str, *key: str) -> bool:
    """Count one failure; True when it used up the last attempt of a limit of `setting`."""
    tripped = False
    for item in _items(setting):
        counted = limiter.hit(item, *key)  # False once past the limit
        tripped |= counted and not limiter.test(item, *key)
    return tripped
