"""Saving e-mail attachments as files with generated names, within count and size limits."""

from __future__ import annotations

import os
import tempfile

from .model import FILENAME_MAX_CHARS, Attachment, Draft, Job, clean_line, plural, size_text


class AttachmentSaver:
    """Writes attachments into the job's folder as attachment-XXXX.bin and lists them."""

    def __init__(self, job: Job, draft: Draft) -> None:
        self.job = job
        self.draft = draft
        self.over_count = 0
        self.over_size = 0
        self.failed = 0

    def fits(self, size: int) -> bool:
        """Whether an attachment of about this many bytes would be saved; counts it if not."""
        limits = self.job.limits
        if len(self.draft.attachments) >= limits.max_attachments:
            self.over_count += 1
            return False
        if size > limits.max_attachment_bytes:
            self.over_size += 1
            return False
        return True

    def save(self, filename: str, data: bytes) -> None:
        """Save one attachment; its name is kept as data, never used as a path."""
        folder = self.job.attachments_dir
        if folder is None or not self.fits(len(data)):
            return
        handle, path = tempfile.mkstemp(prefix="attachment-", suffix=".bin", dir=folder)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
        except OSError:  # Disk full or the file-size limit: lose this attachment only.
            os.unlink(path)
            self.failed += 1
            return
        name = clean_line(filename, FILENAME_MAX_CHARS)
        self.draft.attachments.append(Attachment(name, path, len(data)))

    def finish(self) -> None:
        """Note the attachments that were left out, so the result reads as partial."""
        limits = self.job.limits
        if self.over_count:
            self.draft.note(
                f"{plural(self.over_count, 'attachment')} skipped beyond the first "
                f"{limits.max_attachments}"
            )
        if self.over_size:
            size = size_text(limits.max_attachment_bytes)
            self.draft.note(f"{plural(self.over_size, 'attachment')} over {size} skipped")
        if self.failed:
            self.draft.note(f"{plural(self.failed, 'attachment')} could not be saved")
