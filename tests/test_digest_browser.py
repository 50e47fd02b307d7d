"""The digest's HTML part in a real browser (Debian's headless Chromium through Playwright):
no sideways scrolling at 600 and 375 px, every headline on screen, and the dark-mode block
still wins over the inlined colours. Requests leave nothing but the local file."""

from __future__ import annotations

import shutil
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from test_digest import small_site

from syndicate.build import write_digest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright for Python is not installed")
    if not CHROMIUM.exists() or not shutil.which(str(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def html_part(mini_site, tmp_path) -> Path:
    config = small_site(mini_site)
    write_digest(config, day=date(2026, 3, 15))
    raw = (config.parent / "out/digest/2026-03-15.eml").read_bytes()
    message = message_from_bytes(raw, policy=policy.default)
    page = tmp_path / "digest-part.html"
    page.write_text(message.get_body(("html",)).get_content(), encoding="utf-8")
    return page


def open_page(browser, page_file: Path, width: int, scheme: str = "light"):
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  color_scheme=scheme)
    page = context.new_page()
    blocked: list[str] = []

    def only_local(route) -> None:
        url = route.request.url
        if url.startswith(("file://", "data:", "about:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(page_file.as_uri())
    return context, page, blocked


@pytest.mark.parametrize("width", [600, 375])
def test_no_overflow_and_every_headline_visible(browser, html_part, tmp_path, width):
    context, page, blocked = open_page(browser, html_part, width)
    try:
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width
        headlines = page.locator("h2")
        assert headlines.count() == 4
        for index in range(headlines.count()):
            headline = headlines.nth(index)
            assert headline.is_visible()
            box = headline.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
            assert box["height"] >= 20  # a line of text, not a collapsed box
        assert not page.locator(".preheader").is_visible()
        shot = tmp_path / f"digest-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        # The lead picture is remote: the browser asked for it and was refused.
        assert blocked == ["https://cdn.example.net/lead.jpg"]
    finally:
        context.close()


def test_dark_mode_rules_override_the_inlined_colours(browser, html_part):
    colours = {}
    for scheme in ("light", "dark"):
        context, page, _ = open_page(browser, html_part, 600, scheme)
        try:
            colours[scheme] = page.evaluate(
                "[getComputedStyle(document.querySelector('.container')).backgroundColor,"
                " getComputedStyle(document.querySelector('h2 a')).color]")
        finally:
            context.close()
    assert colours["light"] == ["rgb(255, 255, 255)", "rgb(29, 29, 31)"]
    assert colours["dark"] == ["rgb(27, 30, 34)", "rgb(242, 240, 237)"]
