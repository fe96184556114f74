"""Language choice and Dutch formatting of dates and amounts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, session
from flask_babel import format_currency, format_date, format_datetime, get_locale
from flask_login import current_user

from dossier.extensions import babel


def init_app(app: Flask) -> None:
    """Dutch unless the user or session chose English; filters for dates and money."""
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["date_nl"] = _format_date
    app.jinja_env.filters["datetime_nl"] = _format_datetime
    app.jinja_env.filters["money"] = _format_money
    app.jinja_env.globals["labels"] = _labels()
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "nl")


def _labels() -> dict[str, object]:
    from dossier.web import labels

    return labels.ALL


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _format_date(value: date | None) -> str:
    return format_date(value, "d MMMM y") if value else ""


def _format_datetime(value: datetime | None) -> str:
    return format_datetime(value, "d MMMM y HH:mm") if value else ""


def _format_money(value: Decimal | None) -> str:
    return format_currency(value, "EUR") if value is not None else ""
