"""The example site in a real browser (Debian's headless Chromium through Playwright): no
horizontal scrolling on a phone or a desktop, no console error, nothing fetched from another
host, the headline and lead picture visible, and readable text contrast in light and dark."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

from syndicate.build import build

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
WIDTHS = (375, 1280)

# Return every text-bearing element whose contrast with its background is too low (WCAG AA:
# 4.5:1, or 3:1 for large text), walking up to the first opaque background.
CONTRAST_SCRIPT = """() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] === 1) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    const [a, b] = [lum(rgb(style.color).slice(0, 3)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    const shown = `${el.tagName} "${el.textContent.trim().slice(0, 40)}" ${ratio.toFixed(2)}`;
    if (ratio < (large ? 3 : 4.5)) failures.push(shown);
  }
  return failures;
}"""


def _browser_available() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (run scripts/setup-test-env)"
    return ""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    reason = _browser_available()
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("browser") / "out"
    site = build(ROOT / "config.toml", out_dir=str(out), environ={}).loaded.site

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, origin: str, path: str, width: int, scheme: str = "light"):
    """Open `path` at `width`, blocking and recording every request to another host."""
    context = browser.new_context(viewport={"width": width, "height": 800},
                                  color_scheme=scheme)
    page = context.new_page()
    foreign: list[str] = []
    errors: list[str] = []

    def route(route) -> None:
        if route.request.url.startswith(origin):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(origin + path, wait_until="load")
    assert response is not None and response.status == 200
    return context, page, foreign, errors


def lead_article(site) -> object:
    return next(a for a in site.articles if a.lead_image and a.lead_image.sources)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("which", ["article", "home"])
def test_pages_fit_the_screen_and_stay_local(served, browser, which, width, tmp_path):
    origin, site = served
    article = lead_article(site)
    path = article.path if which == "article" else "index.html"
    context, page, foreign, errors = open_page(browser, origin, path, width)
    try:
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert overflow[0] <= overflow[1], f"{path} scrolls sideways at {width}px: {overflow}"
        headline = page.locator("h1")
        assert headline.is_visible()
        if which == "article":
            assert headline.inner_text() == article.title
            lead = page.locator("figure.lead img")
        else:
            lead = page.locator('img[fetchpriority="high"]')
        assert lead.count() == 1 and lead.is_visible()
        assert page.evaluate("(img) => img.complete && img.naturalWidth > 0",
                             lead.element_handle())
        box = lead.bounding_box()
        assert box is not None and box["width"] > 100 and box["x"] + box["width"] <= width
        shot = tmp_path / f"{which}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000
    finally:
        context.close()
    assert not foreign, f"requests left the local server: {foreign}"
    assert not errors, f"console errors: {errors}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_in_light_and_dark(served, browser, scheme):
    origin, site = served
    for path in (lead_article(site).path, "index.html"):
        context, page, _, _ = open_page(browser, origin, path, 375, scheme)
        try:
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            failures = page.evaluate(CONTRAST_SCRIPT)
        finally:
            context.close()
        dark = background != "rgb(255, 255, 255)"
        assert dark == (scheme == "dark"), background
        assert not failures, f"{path} ({scheme}): {failures[:10]}"
