"""PDF text with pypdf, page by page and under pypdf's own limits, with OCR for scans."""

from __future__ import annotations

from dataclasses import dataclass

import pypdf
from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError

from . import ocr
from .model import Draft, Extraction, Job, Status, TooLarge, Unreadable, failure, plural

# pypdf.Configuration overrides. Text extraction decodes content streams only; a page whose
# content stream inflates past 50 MB is an attack, not a contract. External decoders are
# never run on untrusted data, and the deprecated module constants are not consulted.
PYPDF_LIMITS = {
    "zlib_maximum_output_length": 50_000_000,
    "lzw_maximum_output_length": 50_000_000,
    "run_length_maximum_output_length": 50_000_000,
    "array_based_stream_maximum_output_length": 50_000_000,
    "brotli_maximum_output_length": 50_000_000,
    "stream_decoding_work_maximum_length": 200_000_000,
    "jbig2dec_binary": None,
    "disable_legacy_handling": True,
}
# A page with fewer visible characters than this has no real text layer (a page number or
# a scanner's stamp is not text).
EMPTY_PAGE_CHARS = 16
# OCR runs only on the first pages of a long scan: at 2-5 s a page, more would not fit the
# time budget anyway.
OCR_MAX_PAGES = 200
# Stop OCR when less time is left than this many times the slowest page so far.
OCR_TIME_SAFETY = 1.5
METADATA_KEYS = ("title", "author", "subject", "keywords")


@dataclass
class _Page:
    """The text of one page and whether reading it failed."""

    text: str = ""
    failed: bool = False
    over_limit: bool = False


def parse_pdf(job: Job) -> Extraction:
    """Extract the text of every page, trying the empty password on encrypted files."""
    with pypdf.apply_configuration(**PYPDF_LIMITS), _open(job) as reader:
        if not _unlock(reader):
            return failure(Status.ENCRYPTED, "the PDF is encrypted and needs a password")
        draft = Draft(job.limits)
        draft.page_count = _page_count(reader)
        _read_metadata(reader, draft)
        pages = _read_pages(reader, job, draft)
        return _finish(job, draft, pages)


def _open(job: Job) -> pypdf.PdfReader:
    """Open the PDF leniently, as viewers do; Unreadable if not even the structure parses."""
    try:
        return pypdf.PdfReader(job.path, strict=False)
    except LimitReachedError as exc:
        raise TooLarge(f"the PDF exceeds a parser limit ({exc})") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Unreadable(f"the PDF structure is unreadable ({exc})") from None


def _unlock(reader: pypdf.PdfReader) -> bool:
    """Open an encrypted PDF with the empty user password; False if it needs a real one."""
    if not reader.is_encrypted:
        return True
    try:
        return reader.decrypt("") != pypdf.PasswordType.NOT_DECRYPTED
    except (PdfReadError, NotImplementedError, ValueError, KeyError, TypeError):
        return False


def _page_count(reader: pypdf.PdfReader) -> int:
    """The number of pages, walking the page tree within pypdf's limits."""
    try:
        count = len(reader.pages)
    except FileNotDecryptedError:
        raise Unreadable("the PDF could not be decrypted") from None
    except LimitReachedError as exc:
        raise TooLarge(f"the page tree exceeds a parser limit ({exc})") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise Unreadable(f"the page tree is unreadable ({exc})") from None
    if count == 0:
        raise Unreadable("the PDF has no pages")
    return count


def _read_metadata(reader: pypdf.PdfReader, draft: Draft) -> None:
    """Copy title, author, subject and keywords from the document information, if readable."""
    try:
        info = reader.metadata
        values = {key: info.get(f"/{key.title()}") for key in METADATA_KEYS} if info else {}
    except Exception:  # Damaged metadata must not cost the text.
        return
    for key, value in values.items():
        if value is not None:
            draft.set_metadata(key, value)


def _read_pages(reader: pypdf.PdfReader, job: Job, draft: Draft) -> list[_Page]:
    """Read page texts in order until the page limit, the text budget or the deadline."""
    count = draft.page_count or 0
    wanted = min(count, job.limits.max_pages)
    if wanted < count:
        draft.note(f"only the first {wanted} of {count} pages were read")
    pages: list[_Page] = []
    used = 0
    for index in range(wanted):
        if used >= job.limits.max_text_chars:
            draft.note("text truncated")
            break
        if job.time_left() <= 0:
            draft.note(f"stopped after {index} of {count} pages at the time limit")
            break
        page = _read_page(reader, index)
        used += len(page.text)
        pages.append(page)
    return pages


def _read_page(reader: pypdf.PdfReader, index: int) -> _Page:
    """Extract one page's text; a failure marks the page instead of ending the document."""
    try:
        return _Page(reader.pages[index].extract_text() or "")
    except (LimitReachedError, MemoryError):
        return _Page(failed=True, over_limit=True)
    except Exception:  # pypdf raises many types on damaged pages; the page is lost, not all.
        return _Page(failed=True)


def _finish(job: Job, draft: Draft, pages: list[_Page]) -> Extraction:
    """Decide the status from the page texts, running OCR when the PDF is a scan."""
    failed = [page for page in pages if page.failed]
    if pages and len(failed) == len(pages):
        if any(page.over_limit for page in failed):
            raise TooLarge("every page exceeds the parser's limits")
        raise Unreadable(f"no page could be read (the PDF has {plural(len(pages), 'page')})")
    if failed:
        draft.note(f"{len(failed)} of {plural(len(pages), 'page')} could not be read")
    empty = [number for number, page in enumerate(pages, 1) if _is_empty(page)]
    readable = len(pages) - len(failed)
    if not empty or len(empty) * 2 < readable:
        return _with_pages(draft, pages).finish()
    return _scan(job, draft, pages, empty)


def _is_empty(page: _Page) -> bool:
    """Whether a page that was read has (almost) no visible text."""
    return not page.failed and _visible(page.text) < EMPTY_PAGE_CHARS


def _visible(text: str) -> int:
    """The number of characters in text that are not whitespace."""
    return len("".join(text.split()))


def _with_pages(draft: Draft, pages: list[_Page]) -> Draft:
    """Add the page texts to the draft, within its text budget."""
    for page in pages:
        if not draft.add_page(page.text):
            break
    return draft


def _scan(job: Job, draft: Draft, pages: list[_Page], empty: list[int]) -> Extraction:
    """Handle a PDF whose pages are mostly without text: OCR them, or say why not."""
    refusal = _why_no_ocr(job)
    if refusal is not None:
        return _with_pages(draft, pages).finish(*refusal)
    if _ocr_pages(job, draft, pages, empty):
        return _with_pages(draft, pages).finish(detail="ocr")
    if any(page.text.strip() for page in pages):
        return _with_pages(draft, pages).finish()  # The little text there is, is all there is.
    # Damaged pages and nothing legible on the others: there is nothing to read.
    damaged = any(page.failed for page in pages)
    status = Status.UNREADABLE if damaged else Status.NO_TEXT_LAYER
    return _with_pages(draft, pages).finish(status, "OCR found no text")


def _why_no_ocr(job: Job) -> tuple[Status, str] | None:
    """The status and reason when OCR is not to be run, or None when it can run."""
    if not job.ocr:
        return Status.NO_TEXT_LAYER, "the PDF has no text layer; OCR was not requested"
    if not ocr.ocr_available():
        return Status.OCR_UNAVAILABLE, ocr.UNAVAILABLE
    if ocr.pdf_renderer() is None:
        return Status.OCR_UNAVAILABLE, "pdftoppm (poppler-utils) is not installed"
    return None


def _ocr_pages(job: Job, draft: Draft, pages: list[_Page], empty: list[int]) -> bool:
    """OCR the empty pages in place within the time budget; return whether any text was found."""
    if len(empty) > OCR_MAX_PAGES:
        draft.note(f"OCR read only the first {OCR_MAX_PAGES} of {len(empty)} pages without text")
    slowest = 0.0
    failures = 0
    found = False
    for done, number in enumerate(empty[:OCR_MAX_PAGES]):
        if job.time_left() < slowest * OCR_TIME_SAFETY:
            draft.note(f"OCR stopped after {done} of {len(empty)} pages at the time limit")
            break
        started = job.time_left()
        try:
            text = _ocr_page(job, number)
        except ocr.OcrFailed:
            failures += 1
            continue
        slowest = max(slowest, started - job.time_left())
        page = pages[number - 1]
        if _visible(text) > _visible(page.text):
            page.text = text
            found = True
    if failures:
        draft.note(f"OCR failed on {plural(failures, 'page')}")
    return found


def _ocr_page(job: Job, number: int) -> str:
    """Render one page and return the text tesseract reads on it."""
    image = ocr.render_pdf_page(job.path, number, job.scratch, job.time_left())
    try:
        return ocr.recognise(image, job.time_left())
    finally:
        image.unlink(missing_ok=True)
