"""The layout on a phone (390 px) and a laptop (1,366 px): no main page scrolls sideways, not
even a contract with 80 articles, and on a laptop no table scrolls inside its box either; no
form control is cut off, not even a member's role on a phone; the navigation folds away behind a
menu button on a phone, and so do the search facets, below which the results start; chart
labels stay inside their chart; and the upload form says a refusal once, where it can be seen,
and is ready for the next files after a batch."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, log_in

REFERENCE = "2026-870"  # unique among the e2e tests, which share one server (each file its own)
LAPTOP = 1366
WIDTHS = (390, LAPTOP)
ARTICLES = 80
AUDITOR = "anna.auditor@example.org"
AUDITOR_PASSWORD = "een lang genoeg wachtwoord voor anna"
# Longer than the room a label had before its bar (it was cut off on the left).
SUPPLIER = "Gemeenschappelijke Regeling Werkvoorzieningsschap Noord-Veluwe B.V."
# A register row as wide as rows get: words longer than a column, two badges, a large amount.
WIDE_ROW = "2026-871"
# A file name without a space, as long as names get: it becomes the title, the heading and the
# breadcrumb of the document page (a trial found that page 1,772 px wide).
LONG_NAME = "Overeenkomst_" + "schoonmaakdiensten_kantoren_en_buitenlocaties_" * 3 + "def.txt"


def _contract_text() -> bytes:
    lines = ["OVEREENKOMST VOOR SCHOONMAAKDIENSTEN", ""]
    for n in range(1, ARTICLES + 1):
        lines += [
            f"Artikel {n} Afspraken over onderwerp {n}",
            f"Partijen regelen onderwerp {n}.",
            "",
        ]
    return "\n".join(lines).encode()


def _submit(page: Any) -> None:
    page.locator("main form button[type=submit]").last.click()


def _register_dossier(page: Any) -> None:
    page.goto("/dossiers/new")
    page.fill("#reference", REFERENCE)
    page.fill("#title", "Schoonmaak van alle kantoren en buitenlocaties van de gemeente")
    page.fill("#supplier", SUPPLIER)
    page.select_option("#status", "active")
    page.fill("#end_on", "2027-01-31")
    page.fill("#value", "250.000,00")
    _submit(page)
    page.wait_for_url(f"**/dossiers/{REFERENCE}")


def _register_wide_row(page: Any) -> None:
    """A dossier whose register row is as wide as rows get: words longer than their column,
    an "end date passed" badge next to its status, and a nine-digit value."""
    page.goto("/dossiers/new")
    page.fill("#reference", WIDE_ROW)
    page.fill("#title", "Onderhoudswerkzaamhedenraamovereenkomst gemeentelijke sportaccommodaties")
    page.fill("#supplier", "Internationale Bouwcombinatiemaatschappij Waterstaatsprojecten B.V.")
    page.select_option("#status", "active")
    page.fill("#end_on", "2025-01-31")
    page.fill("#value", "123.456.789,00")
    _submit(page)
    page.wait_for_url(f"**/dossiers/{WIDE_ROW}")


def _file_long_contract(page: Any) -> str:
    """File a TXT contract of 80 articles, under a long name, through the form; the URL of its
    page once its clauses are there."""
    page.goto(f"/dossiers/{REFERENCE}/documents/new")
    page.set_input_files(
        "#file",
        {"name": LONG_NAME, "mimeType": "text/plain", "buffer": _contract_text()},
    )
    page.select_option("#kind", "contract")
    _submit(page)
    page.wait_for_url(re.compile(r"/documents/\d+$"))
    expect(page.locator("article.clause").first).to_be_visible(timeout=90_000)
    expect(page.locator("nav.toc li")).to_have_count(ARTICLES)
    return page.url


def _create_auditor(page: Any) -> None:
    page.goto("/admin/users")
    page.fill("#email", AUDITOR)
    page.fill("#name", "Anna Auditor")
    page.select_option("#role", "auditor")
    page.fill("#password", AUDITOR_PASSWORD)
    _submit(page)
    expect(page.locator("main")).to_contain_text(AUDITOR)


def _log_out(page: Any) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login"))


# Every box in the page that scrolls sideways itself (a table's container): its widths.
_SCROLLING_BOXES = """() => [...document.querySelectorAll('main *')]
    .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)
                 && e.scrollWidth > e.clientWidth)
    .map(e => [e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.tagName,
               e.scrollWidth, e.clientWidth])"""


# Form controls in the page that a user cannot fully see or read: a control outside the
# window or cut off by a box around it, or a menu too narrow for the option it shows.
_CUT_OFF_CONTROLS = """() => {
  const canvas = document.createElement('canvas').getContext('2d');
  const problems = [];
  for (const control of document.querySelectorAll('main select, main button, main input')) {
    const box = control.getBoundingClientRect();
    if (box.width === 0 || getComputedStyle(control).visibility === 'hidden') continue;
    const name = control.getAttribute('aria-label') || control.name || control.textContent.trim();
    let clipped = box.left < 0 || box.right > document.documentElement.clientWidth;
    for (let up = control.parentElement; up && !clipped; up = up.parentElement) {
      if (getComputedStyle(up).overflowX === 'visible') continue;
      const room = up.getBoundingClientRect();
      clipped = box.left < room.left - 1 || box.right > room.right + 1;
    }
    if (clipped) problems.push(`${control.tagName} ${name} is cut off`);
    if (control.tagName === 'SELECT' && control.selectedOptions.length) {
      const style = getComputedStyle(control);
      canvas.font = style.font;
      const text = canvas.measureText(control.selectedOptions[0].text).width;
      const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
      if (text + padding > control.clientWidth + 1) {
        problems.push(`SELECT ${name} shows ${Math.round(control.clientWidth - padding)} px`
                      + ` of its ${Math.round(text)} px choice`);
      }
    }
  }
  return problems;
}"""


def _sideways(page: Any, paths: list[str]) -> list[str]:
    """The pages, at each width, whose document is wider than the window; on a laptop also
    the pages with a box that scrolls sideways inside itself (a table wider than its box). On a
    phone a wide table may scroll inside its box; the page itself never. And at each width the
    form controls that are cut off or too narrow for their choice."""
    wide = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        for path in paths:
            page.goto(path)
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            if scroll > client:
                wide.append(f"{path} at {width} px: {scroll} px wide in {client} px")
            if width >= LAPTOP:
                for box, box_scroll, box_client in page.evaluate(_SCROLLING_BOXES):
                    wide.append(
                        f"{path} at {width} px: {box} is {box_scroll} px wide in {box_client} px"
                    )
            wide += [f"{path} at {width} px: {p}" for p in page.evaluate(_CUT_OFF_CONTROLS)]
    return wide


def test_no_main_page_scrolls_sideways(page: Any, server: Server) -> None:
    log_in(page, server)
    _register_dossier(page)
    _register_wide_row(page)
    document = _file_long_contract(page)
    _create_auditor(page)
    paths = [
        "/overview",
        "/",
        f"/dossiers/{REFERENCE}",
        f"/dossiers/{REFERENCE}/documents/new",
        document,
        "/search?q=onderwerp",
        "/reports/deadlines",
        "/reports/value",
        "/reports/activity",
        f"/dossiers/{REFERENCE}/members",
        "/admin/users",
    ]
    wide = _sideways(page, paths)
    _log_out(page)
    log_in(page, server, AUDITOR, AUDITOR_PASSWORD)
    wide += _sideways(page, ["/audit", f"/dossiers/{REFERENCE}/audit"])
    assert wide == []
    # On a phone the audit trail is one block an event, not seven squeezed columns (a row of
    # changed values was once 3,973 px tall, with hashes wrapped two characters a line).
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/dossiers/{REFERENCE}/audit")
    tallest = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('.audit-table tbody tr')]"
        ".map(r => r.getBoundingClientRect().height))"
    )
    assert 0 < tallest < 900, tallest


def test_chart_labels_stay_inside_the_chart(page: Any, server: Server) -> None:
    log_in(page, server)
    if page.goto(f"/dossiers/{REFERENCE}").status == 404:
        _register_dossier(page)
    page.set_viewport_size({"width": 1366, "height": 800})
    page.goto("/reports/value")
    labels = page.locator("svg.chart text.chart-label")
    expect(labels.first).to_be_visible()
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('svg.chart text.chart-label')].map(t => {
            const box = t.getBBox();
            return [t.textContent, box.x, box.x + box.width,
                    t.ownerSVGElement.viewBox.baseVal.width];
        })"""
    )
    assert any(text.startswith(SUPPLIER[:20]) for text, *_ in boxes)
    outside = [b for b in boxes if b[1] < 0 or b[2] > b[3]]
    assert outside == []


def test_the_navigation_folds_away_on_a_phone(page: Any, server: Server) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, server)
    nav = page.get_by_role("navigation", name="Hoofdnavigatie")
    log_out = nav.get_by_role("button", name="Uitloggen")
    expect(log_out).to_be_hidden()
    expect(nav.get_by_role("link", name="Rapportages")).to_be_hidden()
    assert nav.bounding_box()["height"] < 120  # one line: the name and the menu button

    toggle = page.locator("label[for=nav-toggle]")
    expect(toggle).to_have_text(re.compile("Menu"))
    toggle.click()
    expect(log_out).to_be_visible()
    box = log_out.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    log_out.click()
    expect(page).to_have_url(re.compile(r"/login"))

    # A wide window shows the whole navigation, without the menu button.
    page.set_viewport_size({"width": 1366, "height": 800})
    log_in(page, server)
    expect(page.locator("label[for=nav-toggle]")).to_be_hidden()
    expect(nav.get_by_role("button", name="Uitloggen")).to_be_visible()


def test_upload_form_reports_once_and_is_ready_for_new_files(page: Any, server: Server) -> None:
    log_in(page, server)
    if page.goto(f"/dossiers/{REFERENCE}").status == 404:
        _register_dossier(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"/dossiers/{REFERENCE}/documents/new")
    form = page.locator("form[data-upload]")
    button = form.locator("button[type=submit]")
    page.set_input_files(
        "#file",
        [
            {"name": f"brief-{n}.txt", "mimeType": "text/plain", "buffer": f"Brief {n}\n".encode()}
            for n in (1, 2)
        ],
    )
    page.select_option("#kind", "correspondence")
    button.click()
    rows = page.locator(".upload-list li")
    expect(rows).to_have_count(2)
    expect(rows.locator("a")).to_have_count(2)
    # The files are done: the choice is cleared and the button waits for new files.
    expect(page.locator("[data-chosen]")).to_have_text("")
    expect(button).to_be_disabled()
    page.set_input_files(
        "#file", {"name": "nep.txt", "mimeType": "text/plain", "buffer": b"%PDF-1.4\n%%EOF\n"}
    )
    expect(button).to_be_enabled()

    button.click()
    refused = page.locator(".upload-list li.upload-failed")
    expect(refused).to_have_count(1)
    expect(refused).to_be_in_viewport()
    text = refused.inner_text().lower()
    failed = form.get_attribute("data-msg-failed").rstrip(".").lower()
    assert text.count(failed) <= 1, text  # "not filed" once, not "Not filed. … not filed: …"
    intro = page.locator("main h1 + p").inner_text().lower()
    assert intro not in text  # the form's introduction is no reason
    assert "pdf" in text  # the server's reason is there


def test_the_members_page_works_on_a_phone(page: Any, server: Server) -> None:
    """Every member's role menu, its save button and the remove button are whole at 390 px,
    and the menu is wide enough for the role it shows."""
    log_in(page, server)
    if page.goto(f"/dossiers/{REFERENCE}").status == 404:
        _register_dossier(page)  # its registrar becomes its contract administrator
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"/dossiers/{REFERENCE}/members")
    role = page.locator("main table tbody tr").first.get_by_label("Rol")
    expect(role).to_have_value("beheerder")  # the longest name: "Contractbeheerder"
    assert page.evaluate(_CUT_OFF_CONTROLS) == []


def test_search_results_come_before_the_facets_on_a_phone(page: Any, server: Server) -> None:
    """On a phone the facets fold away behind "Verfijnen", below which the results start; the
    toggle shows them. A laptop shows them beside the results, as always."""
    log_in(page, server)
    if page.goto(f"/dossiers/{REFERENCE}").status == 404:
        _register_dossier(page)
    page.goto(f"/dossiers/{REFERENCE}/documents/new")
    page.set_input_files(
        "#file",
        {"name": "brief.txt", "mimeType": "text/plain", "buffer": b"Over de volgordetoets.\n"},
    )
    page.select_option("#kind", "correspondence")
    _submit(page)
    page.wait_for_url(re.compile(r"/documents/\d+$"))

    page.set_viewport_size({"width": 390, "height": 800})
    first_hit = page.locator("ol.hits li.hit").first
    for _ in range(30):  # the index follows the database a moment after extraction
        page.goto("/search?q=volgordetoets")
        if first_hit.count():
            break
        page.wait_for_timeout(1000)
    facets = page.get_by_role("complementary", name="Verfijnen")
    toggle = page.locator("label[for=facets-toggle]")
    expect(first_hit).to_be_in_viewport()
    expect(facets).to_be_hidden()
    expect(toggle).to_have_text(re.compile("Verfijnen"))
    assert toggle.bounding_box()["y"] < first_hit.bounding_box()["y"]
    toggle.click()
    expect(facets).to_be_visible()
    expect(facets.get_by_role("link", name="Correspondentie")).to_be_visible()
    # With a facet on, the toggle says so.
    facets.get_by_role("link", name="Correspondentie").click()
    expect(toggle).to_have_text(re.compile(r"Verfijnen \(1 filter actief\)"))
    expect(facets).to_be_hidden()

    page.set_viewport_size({"width": LAPTOP, "height": 800})
    page.goto("/search?q=volgordetoets")
    expect(toggle).to_be_hidden()
    expect(facets).to_be_visible()
    facets_box, hits_box = facets.bounding_box(), page.locator("ol.hits").bounding_box()
    assert facets_box["x"] + facets_box["width"] <= hits_box["x"]  # beside, to the left
    assert abs(facets_box["y"] - hits_box["y"]) < 40


def test_a_table_wider_than_a_phone_says_that_it_scrolls(page: Any, server: Server) -> None:
    log_in(page, server)
    if page.goto(f"/dossiers/{WIDE_ROW}").status == 404:
        _register_wide_row(page)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/reports/value")
    hint = page.locator("p.scroll-hint").first
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("Schuif opzij voor meer kolommen")
    # Scrolled to its end, the table has nothing more to the right: the line goes.
    page.evaluate(
        "() => document.querySelectorAll('.overflow-auto').forEach(b => b.scrollLeft = 1e6)"
    )
    expect(hint).to_be_hidden()
    page.set_viewport_size({"width": LAPTOP, "height": 800})
    page.goto("/reports/value")
    expect(page.locator("p.scroll-hint")).to_have_count(0)
