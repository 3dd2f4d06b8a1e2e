"""The report site in a real headless Chromium (Debian's, driven by Playwright): every chart
draws an SVG with marks, no console errors, no request leaves the origin."""

import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .test_report import PAGES

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium missing")


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_every_chart_renders_offline(served: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            off_origin: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: off_origin.append(r.url)
                    if not r.url.startswith((served, "data:", "blob:")) else None)
            charts = 0
            for name in PAGES:
                page.goto(f"{served}/{name}.html", wait_until="load")
                count = page.locator(".dpb-chart").count()
                for i in range(count):
                    chart = page.locator(".dpb-chart").nth(i)
                    chart.locator("svg").first.wait_for(timeout=20000)
                    marks = chart.locator("svg .mark-line, svg .mark-rect, svg .mark-symbol, "
                                          "svg .mark-area, svg .mark-rule")
                    assert marks.count() > 0, f"{name}: chart {i} has no marks"
                charts += count
                if name in ("throughput", "latency"):
                    page.screenshot(path=str(ARTIFACTS / f"site-{name}.png"), full_page=True)
            assert charts == 5
            assert errors == []
            assert off_origin == []
        finally:
            browser.close()
