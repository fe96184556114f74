"""Named crash points, so tests can prove that a crash at any step loses nothing.

`point(name)` ends the process at once, without cleanup (as kill -9 would), when the environment
variable DOSSIER_CRASH_AT names that step. The points, in the order an operation passes them:

- upload / new version: upload.after_staging, upload.after_blob, upload.after_version_row,
  upload.before_commit, upload.after_commit (web views, before the response and the indexing)
- withdrawal: withdraw.after_mark, withdraw.before_commit
- membership change (`dossier grant`, the members page): membership.after_row,
  membership.before_commit, membership.after_commit (CLI)
- membership removal (`dossier revoke`, the members page): membership.after_delete,
  membership.revoke_before_commit, membership.revoke_after_commit (CLI)
- indexing: indexing.after_extract, indexing.after_extract_commit, indexing.after_index_commit
  (index written, outbox items not yet removed), indexing.after_outbox_done; filing an e-mail's
  attachments during the extraction passes the upload points from upload.after_blob on
"""

from __future__ import annotations

import os

ENV_VAR = "DOSSIER_CRASH_AT"
EXIT_CODE = 70  # EX_SOFTWARE: tests tell a crash point from any other way of ending


def point(name: str) -> None:
    """Exit the process at once, without cleanup, when the environment names this step."""
    if os.environ.get(ENV_VAR) == name:
        os._exit(EXIT_CODE)
