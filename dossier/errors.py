"""Domain errors that views and commands turn into clear messages."""

from __future__ import annotations


class DomainError(Exception):
    """Something the user asked for cannot be done; `str(exc)` says why."""


class ValidationError(DomainError):
    """Input that breaks a rule; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class UploadRefused(DomainError):
    """A file that is not filed, with the reason."""


class IntegrityFailure(Exception):
    """A stored blob no longer matches its hash: it is never served."""


class StaleEdit(DomainError):
    """Someone else changed the object since the form was loaded."""
