"""Language choice and Dutch formatting of dates, amounts and file sizes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, g, has_request_context, session
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    ngettext,
)
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import Markup

from dossier import labels
from dossier.extensions import babel

# The `dossier` commands print English, so the domain messages they show are English too.
COMMAND_LINE_LOCALE = "en"
_SIZE_UNITS = ("kB", "MB", "GB", "TB", "PB")


def init_app(app: Flask) -> None:
    """Dutch unless the user or session chose English; filters for dates and money."""
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["date_nl"] = _format_date
    app.jinja_env.filters["datetime_nl"] = _format_datetime
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["sentence"] = sentence
    app.jinja_env.filters["filesize"] = format_filesize
    app.jinja_env.globals["labels"] = TemplateLabels()
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "nl")


class TemplateLabels:
    """`labels.ALL` as templates see it: each table translated once per request and language.

    A lazy string looks its text up in the catalogue every time it is shown; a dossier page with
    200 documents showed the kind and text status of each, 400 lookups for a dozen texts.
    Translated texts stay Markup, as a lazy string is (its `__html__` is not escaped).
    """

    def __getitem__(self, name: str) -> object:
        cache = g.setdefault("_template_labels", {})
        key = (str(get_locale()), name)
        try:
            return cache[key]
        except KeyError:
            pass
        table = labels.ALL[name]
        if isinstance(table, dict):
            table = {
                code: Markup(str(text)) if isinstance(text, LazyString) else text
                for code, text in table.items()
            }
        cache[key] = table
        return table


def select_locale() -> str:
    """The language of this request; commands (no request) speak English, like their output."""
    if not has_request_context():
        return COMMAND_LINE_LOCALE
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _format_date(value: date | None) -> str:
    return format_date(value, "d MMMM y") if value else ""


# The pages' own way of writing a date ("30 juni 2028"), for messages made in the views.
long_date = _format_date


def _format_datetime(value: datetime | None) -> str:
    return format_datetime(value, "d MMMM y HH:mm") if value else ""


def format_money(value: Decimal | None) -> str:
    """An amount in euros; an amount nobody recorded is unknown ("—"), never € 0,00."""
    return format_currency(value, "EUR") if value is not None else "—"


def format_filesize(value: int | None) -> str:
    """A byte count the way `filesizeformat` writes it (1000-based), in the locale: "1,2 MB"."""
    if value is None:
        return ""
    if value < 1000:
        return ngettext("%(num)d byte", "%(num)d bytes", value)
    size = value / 1000
    index = 0
    while size >= 1000 and index < len(_SIZE_UNITS) - 1:
        size /= 1000
        index += 1
    return f"{format_decimal(size, format='#,##0.0')}\u00a0{_SIZE_UNITS[index]}"


def sentence(message: object) -> str:
    """A message as shown on its own: with a capital first letter (domain messages are written
    to follow a field name, so they start lower-case)."""
    text = str(message)
    return text[:1].upper() + text[1:]
