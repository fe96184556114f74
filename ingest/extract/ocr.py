"""OCR with the tesseract command (Dutch and English) and page rendering with pdftoppm.

Both run as separate programs under the child's resource limits, so a crash in either costs
one page, not the extraction. pdftoppm (poppler-utils) renders pages rather than a PDF library
inside the child for the same reason, and because CI installs poppler-utils anyway.
"""

from __future__ import annotations

import functools
import os
import shutil
import struct
import subprocess
from pathlib import Path

from .model import Draft, Extraction, Job, Status, TooLarge, clean_line, failure

LANGUAGES = ("nld", "eng")
UNAVAILABLE = "OCR is not installed (tesseract with the nld and eng languages)"
# Long side of a rendered page in pixels: an A4 page at 300 dpi, the resolution tesseract's
# models are trained for; it also bounds the memory a page with a huge MediaBox can take.
RENDER_LONG_SIDE = 3508
# An A0 poster scanned at 300 dpi; bigger images are refused before tesseract decodes them.
IMAGE_MAX_PIXELS = 150_000_000
LIST_LANGUAGES_TIMEOUT = 30.0
JPEG_SIZE_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class OcrFailed(Exception):
    """Rendering or recognising one page or image failed; the message says why."""


class OcrTimedOut(OcrFailed):
    """Rendering or recognising did not finish in the time left."""


def ocr_available() -> bool:
    """Whether the tesseract command is installed with the Dutch and English languages."""
    binary = shutil.which("tesseract")
    return binary is not None and _has_languages(binary)


@functools.lru_cache(maxsize=8)
def _has_languages(binary: str) -> bool:
    """Whether this tesseract binary lists every language we need."""
    try:
        result = subprocess.run(
            [binary, "--list-langs"],
            capture_output=True,
            timeout=LIST_LANGUAGES_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    # The first line is a heading ("List of available languages in ..."), then one per line.
    listed = {line.strip() for line in result.stdout.decode("utf-8", "replace").splitlines()[1:]}
    return result.returncode == 0 and set(LANGUAGES) <= listed


def recognise(image: Path, timeout: float) -> str:
    """Return the text tesseract reads in an image file (every frame of a multi-page TIFF)."""
    binary = shutil.which("tesseract")
    if binary is None:
        raise OcrFailed("tesseract is not installed")
    result = _run([binary, str(image), "stdout", "-l", "+".join(LANGUAGES)], timeout)
    return result.decode("utf-8", "replace").replace("\f", "\n")


def pdf_renderer() -> str | None:
    """The pdftoppm command, or None when poppler-utils is not installed."""
    return shutil.which("pdftoppm")


def render_pdf_page(pdf: Path, number: int, scratch: Path, timeout: float) -> Path:
    """Render page number (1-based) of pdf as a greyscale image in scratch and return it."""
    binary = pdf_renderer()
    if binary is None:
        raise OcrFailed("pdftoppm is not installed")
    prefix = scratch / "page"
    page = str(number)
    options = ["-f", page, "-l", page, "-singlefile", "-gray", "-scale-to", str(RENDER_LONG_SIDE)]
    _run([binary, *options, str(pdf), str(prefix)], timeout)
    image = prefix.with_suffix(".pgm")
    if not image.is_file():
        raise OcrFailed("pdftoppm wrote no image")
    return image


def _run(command: list[str], timeout: float) -> bytes:
    """Run a command with a timeout and return its stdout; OcrFailed if it fails."""
    if timeout <= 0:
        raise OcrTimedOut("no time was left")
    # One thread: tesseract's OpenMP threads make it slower, not faster, on a few cores, and
    # each reserves stack space that counts against RLIMIT_AS.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired:
        raise OcrTimedOut(f"{Path(command[0]).name} took longer than {timeout:.0f} s") from None
    except OSError as exc:
        raise OcrFailed(f"{Path(command[0]).name} could not run ({exc.strerror})") from None
    if result.returncode != 0:
        said = clean_line(result.stderr.decode("utf-8", "replace")[-300:], 120)
        raise OcrFailed(f"{Path(command[0]).name} failed (exit {result.returncode}) {said}")
    return result.stdout


def parse_image(job: Job) -> Extraction:
    """Read the text of a PNG, JPEG or TIFF image with OCR."""
    if not job.ocr:
        return failure(Status.NO_TEXT_LAYER, "an image has no text layer; OCR was not requested")
    if not ocr_available():
        return failure(Status.OCR_UNAVAILABLE, UNAVAILABLE)
    check_pixels(job.path)
    try:
        text = recognise(job.path, job.time_left())
    except OcrTimedOut as exc:
        return failure(Status.TIMED_OUT, f"OCR stopped: {exc}")
    except OcrFailed as exc:
        return failure(Status.UNREADABLE, f"OCR failed: {exc}")
    draft = Draft(job.limits)
    draft.add_page(text)
    if not any(page.strip() for page in draft.pages):
        return draft.finish(Status.NO_TEXT_LAYER, "OCR found no text")
    return draft.finish(detail="ocr")


def check_pixels(path: Path) -> None:
    """Refuse a PNG or JPEG whose declared size would need too much memory to decode."""
    with open(path, "rb") as file:
        head = file.read(64 * 1024)
    size = _png_size(head) or _jpeg_size(head)
    if size and size[0] * size[1] > IMAGE_MAX_PIXELS:
        raise TooLarge(f"the image is {size[0]} x {size[1]} pixels, too large to read")


def _png_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk."""
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _jpeg_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from the first start-of-frame marker of a JPEG, if in the head."""
    if head[:2] != b"\xff\xd8":
        return None
    position = 2
    while position + 9 <= len(head) and head[position] == 0xFF:
        marker = head[position + 1]
        (length,) = struct.unpack(">H", head[position + 2 : position + 4])
        if marker in JPEG_SIZE_MARKERS:
            height, width = struct.unpack(">HH", head[position + 5 : position + 9])
            return width, height
        position += 2 + length
    return None
