"""Finding and reporting: `search`, `digest` and `report`."""

from __future__ import annotations

import json
import smtplib
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from dossier import audit, database, deadlines, digest, labels, reports, searching, webhooks
from dossier.cli.common import LANG_OPTION, acting_user, fail, require_database
from dossier.extensions import db
from dossier.spreadsheets import table_bytes
from search.query import QueryRefused


@click.command("search")
@click.argument("query")
@click.option("--as", "as_email", required=True, help="Search with this user's rights.")
@click.option("--clauses", is_flag=True, help="Clause hits instead of documents.")
@click.option("--dossier", "reference", default=None, help="Only in this dossier.")
@click.option("--old", is_flag=True, help="Include earlier versions.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@click.option(
    "--no-expand", "no_expand", is_flag=True, help="Search without the thesaurus's synonyms."
)
@click.option(
    "--explain",
    is_flag=True,
    help="With --json: an object with the hits, the total and the synonyms also searched.",
)
@with_appcontext
def search_command(
    query: str,
    as_email: str,
    clauses: bool,
    reference: str | None,
    old: bool,
    limit: int,
    as_json: bool,
    no_expand: bool,
    explain: bool,
) -> None:
    """Search with a user's permissions, as the web search does.

    Words of a clause concept in the legal thesaurus also search its synonyms in Dutch and
    English, at a lower weight (listed as "also searched"); --no-expand searches only the words
    typed.
    """
    actor = acting_user(as_email)
    options: dict[str, Any] = {
        "mode": "clauses" if clauses else "documents",
        "per_page": limit,
        "include_old_versions": old,
        "expand": not no_expand,
    }
    if reference:
        options["dossier_id"] = searching.dossier_id_for(actor, reference)
        if options["dossier_id"] is None:
            fail(f"no dossier {reference} that {actor.email} may see")
    try:
        outcome = searching.search(actor, query, **options)
    except QueryRefused as exc:
        fail(str(exc))
    if as_json:
        _print_json(outcome, clauses, explain)
    else:
        _print_hits(outcome, clauses)


def _print_json(outcome: searching.Outcome, clauses: bool, explain: bool) -> None:
    """The hits as a JSON list or, with --explain, an object that also says what was searched."""
    hits = [
        searching.hit_as_dict(h, clauses, h.document_id in outcome.withheld)
        for h in outcome.result.hits
    ]
    shown: object = hits
    if explain:
        shown = {
            "hits": hits,
            "total": outcome.result.total,
            "degraded": outcome.degraded,
            "expansions": [searching.expansion_as_dict(e) for e in outcome.result.expansions],
        }
    click.echo(json.dumps(shown, indent=2, ensure_ascii=False))


def _print_hits(outcome: searching.Outcome, clauses: bool) -> None:
    hits = outcome.result.hits
    if outcome.degraded:
        click.echo("(the index is being rebuilt; these results come from a simpler search)")
    shown, total = len(outcome.result.hits), outcome.result.total
    more = f", the first {shown} shown (--limit to see more)" if shown < total else ""
    click.echo(f"{total} results{more}")
    for expansion in outcome.result.expansions:
        click.echo(f"also searched ({expansion.label_en}): {', '.join(expansion.terms)}")
    for hit in hits:
        where = f"{hit.dossier_reference} · {hit.title} · v{hit.version_number}"
        clause = (
            f" · {hit.clause_number} {hit.heading}".rstrip()
            if hit.clause_number or hit.heading
            else ""
        )
        page = f" · p.{hit.page}" if hit.page else ""
        click.echo(f"- {where}{clause}{page}  [{hit.score:.2f}]")
        if hit.document_id in outcome.withheld:
            click.echo("    (confidential: the text shows when the document is opened)")
        else:
            click.echo(f"    {searching.plain_snippet(hit.snippet)}")


def _parse_day(value: str | None) -> date:
    if not value:
        return deadlines.local_today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{value!r} is not a date; write it as 2026-01-31")
    raise AssertionError  # unreachable: _fail exits


@click.command("digest")
@click.option("--send", is_flag=True, help="Mail each digest (default: print them).")
@click.option("--date", "day", default=None, help="Compose as of this date (YYYY-MM-DD).")
@with_appcontext
def digest_command(send: bool, day: str | None) -> None:
    """Compose the daily digest of coming and missed deadlines for every manager and beheerder."""
    require_database()
    today = _parse_day(day)
    if send:  # the daily run also tells webhooks of approaching deadlines (once each)
        webhooks.signal_deadlines(today)
        db.session.commit()
    with database.read_only():
        composed = [digest.compose(user, today) for user in digest.recipients()]
        wanted = [d for d in composed if not d.is_empty]
        if not send:
            for item in wanted:
                click.echo(f"To: {item.user.email}\n\n{digest.render_text(item)}\n")
            click.echo(f"{len(wanted)} digests composed ({len(composed) - len(wanted)} empty)")
            return
        messages = [digest.message(item) for item in wanted]
    try:
        sent = digest.send(messages)
    except (OSError, smtplib.SMTPException) as exc:
        fail(f"cannot send through {current_app.config['MAIL_SERVER']}: {exc}")
    click.echo(f"{sent} digests sent ({len(composed) - len(wanted)} recipients had none)")


@click.command("report")
@click.argument(
    "name",
    type=click.Choice(
        [
            "deadlines",
            "tenders",
            "value",
            "completeness",
            "plans",
            "obligations",
            "actions",
            "kpis",
            "scorecard",
            "spend",
            "spend_without_contract",
            "disposal",
            "holds",
            "terms",
            "value_family",
            "checks",
            "woo",
        ]
    ),
)
@click.option("--as", "as_email", required=True, help="Report over what this user may see.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--date", "day", default=None, help="Compute as of this date (YYYY-MM-DD).")
@LANG_OPTION
@with_appcontext
def report_command(
    name: str,
    as_email: str,
    fmt: str,
    as_json: bool,
    output: Path | None,
    day: str | None,
    lang: str,
) -> None:
    """Print or write one management report (csv, xlsx or json) for scripts.

    CSV and XLSX cells carry the labels of the screen in --lang; JSON keeps the codes and adds
    each translated label under "<column>_label". `kpis` is the status of every KPI,
    `scorecard` the supplier scorecard, `spend` spend per contract against its
    ceiling, `spend_without_contract` spend by supplier that counts against no contract
    (portfolio roles only), `terms` every contract's term history in short with its derived
    dates and end-of-contract decision, `value_family` the value per family of related
    contracts, `checks` the flags of the procurement-law checks, `woo` the Woo requests with
    their decision deadlines (Woo handlers and auditors).
    """
    fmt = "json" if as_json else fmt
    actor = acting_user(as_email)
    with database.read_only():
        table = reports.table(actor, name, _parse_day(day))
    if table is None:
        fail(f"{actor.email} may not see the {name} report")
    assert table is not None
    with force_locale(lang):
        shown = labels.report_rows(table)
    if fmt == "json":
        records = []
        for record, labelled in zip(table.records(), shown, strict=True):
            extra = {
                f"{key}_label": text
                for key, text, code in zip(table.keys, labelled, record.values(), strict=True)
                if isinstance(text, str) and text != code
            }
            records.append({**record, **extra})
        body = json.dumps(audit.jsonable(records), ensure_ascii=False, indent=2).encode()
    else:
        if fmt == "xlsx" and output is None:
            fail("an XLSX report needs --output FILE")
        body = table_bytes(fmt, table.keys, shown, sheet_title=name, locale=lang)
    if output is None:
        sys.stdout.buffer.write(body if fmt == "json" else body.removeprefix(b"\xef\xbb\xbf"))
        sys.stdout.flush()
        return
    try:
        output.write_bytes(body)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    click.echo(f"{len(table.rows)} rows written to {output}", err=True)


COMMANDS = [search_command, digest_command, report_command]
