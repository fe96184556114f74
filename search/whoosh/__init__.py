"""The embedded search backend (see `backend`); its other modules are private."""

from search.whoosh.backend import WhooshBackend

__all__ = ["WhooshBackend"]
