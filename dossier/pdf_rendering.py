"""Pages rendered as PDF on the server (WeasyPrint), with the page's own print style.

Only the application's static files may be loaded while rendering: a stylesheet or image
address pointing anywhere else (another host, a file path) is refused, so rendering never
reaches out of the server, whatever text the page holds.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app
from markupsafe import escape


class _Refused(ValueError):
    pass


class Unavailable(RuntimeError):
    """WeasyPrint cannot load here (Pango is missing from the system)."""


def render(html: str, variant: str | None = None) -> bytes:
    """The PDF of `html`, a page rendered by this application (its print media rules apply);
    `variant` asks WeasyPrint for a PDF flavour such as "pdf/a-2b" (transfer renditions)."""
    # Imported on use: WeasyPrint loads Pango, which the rest of the application never needs.
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher, URLFetcherResponse
    except OSError as exc:  # the shared libraries it loads at import
        current_app.logger.error("PDF rendering unavailable: %s", exc)
        raise Unavailable(str(exc)) from exc

    static = Path(current_app.static_folder or "static").resolve()
    prefix = (current_app.static_url_path or "/static").rstrip("/") + "/"

    class StaticOnly(URLFetcher):  # type: ignore[misc]
        """Serves the application's static files from disk and refuses every other address."""

        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            parts = urlsplit(url)
            if parts.scheme not in ("", "file") or not parts.path.startswith(prefix):
                raise _Refused(url)
            path = (static / unquote(parts.path[len(prefix) :])).resolve()
            if not path.is_relative_to(static) or not path.is_file():
                raise _Refused(url)
            return URLFetcherResponse(
                url, body=path.read_bytes(), headers={"Content-Type": _mime(path)}
            )

    document = HTML(string=html, base_url="file:///", url_fetcher=StaticOnly())
    return document.write_pdf(pdf_variant=variant)  # type: ignore[no-any-return]


def text_rendition(title: str, text: str) -> bytes:
    """A PDF/A-2b of a document's extracted text under its title: the rendition of a text
    document in a transfer package, and what a Woo package publishes of one."""
    return render(rendition_html(title, text), "pdf/a-2b")


def rendition_html(title: str, text: str) -> str:
    """A plain page with a document's extracted text, for its PDF rendition."""
    paragraphs = "\n".join(f"<p>{escape(block)}</p>" for block in text.split("\n\n") if block)
    return (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>"
        "@page{size:A4;margin:2cm} body{font-family:serif;font-size:11pt}"
        "p{white-space:pre-wrap;margin:0 0 .6em}</style></head>"
        f"<body><h1>{escape(title)}</h1>{paragraphs}</body></html>"
    )


def _mime(path: Path) -> str:
    return {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}.get(
        path.suffix, "application/octet-stream"
    )
