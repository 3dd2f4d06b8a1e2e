"""What a hostile archive must not get onto a page, as the tests look for it: live markup in
the HTML (event handlers, script URLs, the payloads' elements), the text a reader sees, and
what Chromium finds and runs when it loads each page."""

import html
from html.parser import HTMLParser
from pathlib import Path

from reporter import escaping

from .helpers import CHROMIUM


class Live(HTMLParser):
    """What a browser would run or follow: event handlers, javascript:/data: URLs, elements
    that carry the payloads' markup."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key.startswith("on") or key == "autofocus":
                self.found.append(f"<{tag} {key}>")
            if key in ("href", "src", "action", "formaction") and value and \
                    value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                self.found.append(f"<{tag} {key}={value[:40]}>")
        if tag in ("img", "svg", "h", "b") and any(k == "src" and v == "x" for k, v in attrs):
            self.found.append(f"<{tag}>")


def live(page: Path) -> list[str]:
    found = Live()
    found.feed(page.read_text())
    return found.found


def site_pages(site: Path) -> list[Path]:
    return sorted(site.glob("*.html"))


def visible(page: Path) -> str:
    """The page's text as a reader sees it, white space folded."""
    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    found = Text()
    found.feed(page.read_text())
    return " ".join(" ".join(found.parts).split())


def shown(value: str) -> str:
    """How a value reads on a page: line breaks as spaces, control characters as U+FFFD."""
    return " ".join(html.unescape(escaping.text(value)).split())


def in_chromium(site: Path, only: str = "") -> tuple[dict[str, list[str]], list[str]]:
    """Each page (whose name has ``only`` in it) loaded in Chromium (onload, onerror,
    autofocus fire): per page the live attributes and script URLs its DOM holds, and every
    dialog any page opened."""
    from playwright.sync_api import Dialog, sync_playwright

    dialogs: list[str] = []
    found: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()

            def seen(dialog: Dialog) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", seen)
            for path in [p for p in site_pages(site) if only in p.name]:
                page.goto(path.as_uri(), wait_until="load")
                found[path.name] = page.evaluate("""() => {
                  const out = [];
                  for (const el of document.querySelectorAll('*')) {
                    for (const a of el.attributes) {
                      const v = (a.value || '').trim().toLowerCase();
                      if (a.name.startsWith('on') || a.name === 'autofocus') out.push(a.name);
                      const url = /^(javascript|data|vbscript):/.test(v);
                      if (['href', 'src'].includes(a.name) && url) out.push(a.name + '=' + v);
                    }
                  }
                  return out; }""")
        finally:
            browser.close()
    return found, dialogs
