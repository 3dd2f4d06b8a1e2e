"""The report site in a real headless Chromium (Debian's, driven by Playwright): every chart
draws an SVG with marks and legible text, the Summary's key points link to anchors that exist,
no interval is printed below zero, the Runs table filters on cell fields, no console errors,
no request leaves the origin. Full-page screenshots of every page at 1440×900 and 390×844 go
to test-artifacts/screens/ (printed; not committed): look at them."""

import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .helpers import CHROMIUM, study_pages

PAGES = study_pages()
SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"
FIGURE_PAGES = ("index", "throughput", "cpu", "cpu-per-gbps", "latency")
VIEWS = {"desktop": (1440, 900), "phone": (390, 844)}
NEGATIVE_INTERVAL = re.compile(r"(?<![\w.])[-\u2212]\d[\d.,]*\s*–\s*[-\u2212]?\d")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium missing")


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_site_reads_well_in_a_browser(served: str) -> None:
    from playwright.sync_api import sync_playwright

    SCREENS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SCREENS}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            errors: list[str] = []
            off_origin: list[str] = []
            for view, (width, height) in VIEWS.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.on("console", lambda m: errors.append(m.text) if m.type == "error"
                        else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("request", lambda r: off_origin.append(r.url)
                        if not r.url.startswith((served, "data:", "blob:")) else None)
                for name in PAGES:
                    page.goto(f"{served}/{name}.html", wait_until="load")
                    charts = page.locator(".dpb-chart")
                    if name in FIGURE_PAGES:
                        assert charts.count() > 0, f"{name}: no chart"
                    for i in range(charts.count()):
                        chart = charts.nth(i)
                        chart.locator("svg").first.wait_for(state="attached", timeout=20000)
                        marks = chart.locator("svg .mark-rect, svg .mark-rule, "
                                              "svg .mark-symbol, svg .mark-line")
                        assert marks.count() > 0, f"{name}: chart {i} has no marks"
                        sizes = chart.locator("svg text").evaluate_all(
                            "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
                        assert sizes and min(sizes) >= 11, (name, i, min(sizes))
                    text = page.locator("article").inner_text()
                    assert not NEGATIVE_INTERVAL.search(text), (name, NEGATIVE_INTERVAL.search(
                        text))
                    page.screenshot(path=str(SCREENS / f"{name}-{view}.png"), full_page=True)
                assert errors == [], errors
                assert off_origin == [], off_origin
                page.close()
            _summary_links(browser, served)
            _runs_filter(browser, served)
        finally:
            browser.close()


def _summary_links(browser: object, served: str) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{served}/index.html", wait_until="load")
    points = page.locator(".dpb-keypoints li")
    assert 3 <= points.count() <= 8, points.count()
    for i in range(points.count()):
        href = points.nth(i).locator("a").last.get_attribute("href")
        assert href and "#" in href, href
        target, anchor = href.split("#", 1)
        other = browser.new_page()  # type: ignore[attr-defined]
        other.goto(f"{served}/{target}", wait_until="load")
        assert other.locator(f"[id='{anchor}']").count() == 1, href
        other.close()
    page.close()


def _runs_filter(browser: object, served: str) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{served}/runs.html", wait_until="load")
    rows = page.locator("#dpb-runs tbody tr")
    total = rows.count()
    assert total > 0
    page.fill(".dpb-filter", "rr")  # a test name: must not match the word "stderr" in links
    shown = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert shown and len(shown) < total
    assert all(".rr." in row for row in shown), shown[:3]
    page.close()
