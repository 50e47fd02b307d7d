"""The AMP-lite checklist (/work/shared/spec/amp-lite.md, points 1-14) on every page of the
example site, read with a real HTML parser (lxml.html).

Points that only make sense for a story (6 lead figure, 9 NewsArticle, 10 og:type=article,
14 related lists) are checked on every article page. The home, section, tag and author pages
meet their list-page form: og:type=website, CollectionPage JSON-LD whose items are the cards
shown, the first card's picture as the lead image.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
from conftest import ROOT

from syndicate import rank
from syndicate.build import build
from syndicate.outputs.pages import page_path

CSS_BUDGET = 15_000
HTML_BUDGET = 100_000
FORBIDDEN_ELEMENTS = ("iframe", "form", "object", "embed", "frame", "applet")


class Page:
    """One built page: its file, URL, bytes and parsed tree."""

    def __init__(self, out: Path, path: str, base_url: str) -> None:
        self.path = path
        self.data = (out / path).read_bytes()
        self.url = base_url + path.removesuffix("index.html")
        self.tree = lxml.html.document_fromstring(self.data)

    def all(self, xpath: str) -> list:
        return self.tree.xpath(xpath)

    def one(self, xpath: str):
        found = self.tree.xpath(xpath)
        assert len(found) == 1, f"{self.path}: expected one {xpath}, found {len(found)}"
        return found[0]

    def text(self, element) -> str:
        return " ".join(element.text_content().split())

    def absolute(self, href: str) -> str:
        return urljoin(self.url, href)

    def meta(self, key: str) -> list[str]:
        return [m.get("content") for m in self.all(f'//meta[@property="{key}" or @name="{key}"]')]

    def json_ld(self) -> dict:
        (script,) = self.all('//script[@type="application/ld+json"]')
        return json.loads(script.text)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("example") / "out"
    result = build(ROOT / "config.toml", out_dir=str(out), environ={})
    site = result.loaded.site
    pages = {path: Page(out, path, site.base_url) for path in page_paths(site)}
    return site, out, pages


def page_paths(site) -> list[str]:
    """Return every file the pages output should write (other outputs write HTML too)."""
    paths = ["index.html"] + [a.path for a in site.articles]
    per_page = site.config.pages.per_page
    for kind in ("section", "tag", "author"):
        for term in site.terms(kind):
            archived = max(0, len(term.articles) // per_page - 1)
            paths += [page_path(site, term, number) for number in range(archived + 1)]
    return paths


@pytest.fixture(scope="module")
def site(built):
    return built[0]


@pytest.fixture(scope="module")
def pages(built) -> dict[str, Page]:
    return built[2]


@pytest.fixture(scope="module")
def articles(site, pages):
    return [(article, pages[article.path]) for article in site.articles]


def check_all(pages, check) -> None:
    failures = []
    for page in pages.values():
        failures.extend(f"{page.path}: {problem}" for problem in check(page))
    assert not failures, "\n".join(failures[:30])


def test_every_page_is_built(built):
    site, out, pages = built
    assert all((out / path).is_file() for path in pages)
    assert len(pages) > len(site.articles) + 10


def test_1_doctype_lang_charset_viewport(site, pages):
    def check(page: Page):
        if not page.data.startswith(b"<!DOCTYPE html>\n"):
            yield "does not start with <!DOCTYPE html>"
        if page.tree.get("lang") != site.config.site.language:
            yield f"lang is {page.tree.get('lang')!r}"
        head = page.tree.find("head")
        first = head[0]
        if first.tag != "meta" or first.get("charset") != "utf-8" or len(first.attrib) != 1:
            yield "the first child of <head> is not <meta charset=utf-8>"
        viewport = page.meta("viewport")
        if viewport != ["width=device-width,initial-scale=1"]:
            yield f"viewport is {viewport}"

    check_all(pages, check)


def test_2_one_absolute_canonical(site, pages):
    canonical_of = {a.path: a.canonical for a in site.articles}

    def check(page: Page):
        links = page.all('//link[@rel="canonical"]')
        if len(links) != 1:
            yield f"{len(links)} canonical links"
            return
        href = links[0].get("href")
        if urlsplit(href).scheme != "https" or not urlsplit(href).netloc:
            yield f"canonical {href} is not absolute"
        if href != canonical_of.get(page.path, page.url):
            yield f"canonical {href} is not the page's"

    check_all(pages, check)


def test_3_no_executable_script_or_embeds(pages):
    def check(page: Page):
        for script in page.all("//script"):
            if script.get("type") != "application/ld+json" or script.get("src"):
                yield f"executable script {lxml.html.tostring(script)[:80]!r}"
        for element in page.tree.iter():
            if not isinstance(element.tag, str):
                continue
            for name, value in element.attrib.items():
                if name.lower().startswith("on"):
                    yield f"event handler {name} on <{element.tag}>"
                if re.sub(r"\s", "", value).lower().startswith("javascript:"):
                    yield f"javascript: URL in {name}"
            if element.tag in FORBIDDEN_ELEMENTS:
                yield f"<{element.tag}> element"

    check_all(pages, check)


def css_of(page: Page) -> str:
    return "".join(s.text or "" for s in page.all("//style")) + "".join(
        page.all("//@style"))


def test_4_one_small_style_element_and_no_stylesheets(pages):
    def check(page: Page):
        if page.all('//link[contains(concat(" ", @rel, " "), " stylesheet ")]'):
            yield "links a stylesheet"
        styles = page.all("//style")
        if len(styles) != 1 or styles[0].getparent().tag != "head":
            yield f"{len(styles)} <style> elements, or not in <head>"
        css = css_of(page)
        if len(css.encode("utf-8")) > CSS_BUDGET:
            yield f"{len(css.encode())} bytes of CSS"
        for forbidden in ("!important", "@import", "@font-face", "url("):
            if forbidden in css:
                yield f"CSS uses {forbidden}"

    check_all(pages, check)


def test_5_image_attributes(site, pages, articles):
    def check(page: Page):
        leads = page.all('//img[@fetchpriority="high"]')
        if len(leads) > 1:
            yield f"{len(leads)} images with fetchpriority=high"
        for img in page.all("//img"):
            shown = img.get("src")
            for name in ("width", "height"):
                if not re.fullmatch(r"[1-9][0-9]*", img.get(name) or ""):
                    yield f"{shown}: {name}={img.get(name)!r}"
            if img.get("alt") is None:
                yield f"{shown}: no alt"
            if img.get("decoding") != "async":
                yield f"{shown}: decoding={img.get('decoding')!r}"
            is_lead = img.get("fetchpriority") == "high"
            if is_lead == (img.get("loading") == "lazy"):
                yield f"{shown}: lead={is_lead} but loading={img.get('loading')!r}"

    check_all(pages, check)
    with_sources = 0
    for article, page in articles:
        image = article.lead_image
        if image is None:
            assert not page.all('//img[@fetchpriority="high"]')
            continue
        lead = page.one('//img[@fetchpriority="high"]')
        assert page.absolute(lead.get("src")) == image.url
        assert (lead.get("width"), lead.get("height")) == (str(image.width), str(image.height))
        assert lead.get("alt") == image.alt
        if image.sources:
            with_sources += 1
            offered = {page.absolute(entry.split()[0]): entry.split()[1]
                       for entry in lead.get("srcset").split(", ")}
            assert {s.url: f"{s.width}w" for s in image.sources}.items() <= offered.items()
            assert lead.get("sizes")
    assert with_sources, "the example site should exercise srcset"


def test_6_lead_image_in_figure_with_caption_and_credit(articles):
    for article, page in articles:
        image = article.lead_image
        if image is None:
            continue
        figure = page.one('//img[@fetchpriority="high"]').getparent()
        assert figure.tag == "figure", page.path
        caption = page.text(figure.find("figcaption"))
        assert image.caption in caption and image.credit in caption, page.path
        assert caption == f"{image.caption} {image.credit}".strip()


def test_7_headline_byline_dateline_landmarks(articles, pages):
    def check(page: Page):
        if len(page.all("//h1")) != 1:
            yield f"{len(page.all('//h1'))} <h1> elements"
        for landmark in ("header", "main", "article", "nav", "footer"):
            if not page.all(f"//{landmark}"):
                yield f"no <{landmark}>"
        if not page.all("/html/body/header") or not page.all("/html/body/footer"):
            yield "masthead or footer is not a landmark at body level"
        for time in page.all("//time"):
            moment = datetime.fromisoformat(time.get("datetime"))
            if moment.tzinfo is None or not re.fullmatch(
                    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", time.get("datetime")):
                yield f"time {time.get('datetime')} is not RFC 3339 with an offset"

    check_all(pages, check)
    for article, page in articles:
        assert page.text(page.one("//h1")) == article.title
        if article.authors:
            byline = page.one('//article//p[@class="byline"]')
            assert page.text(byline) == f"By {article.byline}"
        dateline = page.one('//p[@class="dateline"]/time[1]')
        assert datetime.fromisoformat(dateline.get("datetime")) == article.published


def test_8_robots_large_image_preview(pages):
    check_all(pages, lambda page: [] if page.meta("robots") == ["max-image-preview:large"]
              else [f"robots is {page.meta('robots')}"])


def test_9_news_article_json_ld_matches_the_page(site, articles):
    publisher = site.config.site.publisher or site.config.site.title
    for article, page in articles:
        data = page.json_ld()
        assert data["@type"] == "NewsArticle"
        assert data["headline"] == page.text(page.one("//h1"))
        shown_images = [page.absolute(img.get("src"))
                        for img in page.all('//article[@class="story"]//figure/img')]
        assert data.get("image", []) == shown_images
        times = {t.get("datetime") for t in page.all('//p[@class="dateline"]/time')}
        assert data["datePublished"] in times and data["dateModified"] in times
        assert datetime.fromisoformat(data["dateModified"]) == article.updated
        byline = page.all('//article//p[@class="byline"]/a')
        assert [(a["name"], a["url"]) for a in data["author"] if a["@type"] == "Person"] == [
            (page.text(a), page.absolute(a.get("href"))) for a in byline]
        assert data["publisher"]["@type"] == "Organization"
        assert data["publisher"]["name"] == publisher
        assert publisher in page.text(page.one("/html/body/footer"))
        assert data["publisher"]["logo"]["url"] == site.logo.url


def test_9_list_pages_json_ld_lists_the_cards(pages, site):
    article_paths = {a.path for a in site.articles}
    for page in pages.values():
        if page.path in article_paths:
            continue
        data = page.json_ld()
        assert data["@type"] == "CollectionPage", page.path
        assert data["url"] == page.url and data["name"] == page.text(page.one("//h1"))
        shown = [(page.text(a), page.absolute(a.get("href")))
                 for a in page.all('//article[contains(@class, "card")]/h3/a')]
        listed = [(item["name"], item["url"]) for item in
                  data["mainEntity"]["itemListElement"]]
        assert listed == shown and shown, page.path


def test_10_open_graph_and_twitter_card(articles, pages, site):
    for article, page in articles:
        assert page.meta("og:type") == ["article"]
        assert page.meta("og:title") == [page.text(page.one("//h1"))]
        assert page.meta("og:url") == [page.one('//link[@rel="canonical"]').get("href")]
        assert page.meta("article:published_time") == [page.json_ld()["datePublished"]]
        assert page.meta("article:modified_time") == [page.json_ld()["dateModified"]]
        assert page.meta("article:section") == [page.text(page.one('//p[@class="kicker"]'))]
        assert page.meta("article:tag") == [page.text(a) for a in page.all('//a[@rel="tag"]')]
        assert page.meta("article:tag") == list(article.tags)
        image = article.lead_image
        if image is None:
            assert page.meta("twitter:card") == ["summary"]
            continue
        lead = page.one('//img[@fetchpriority="high"]')
        assert page.meta("og:image") == [page.absolute(lead.get("src"))]
        assert page.meta("og:image:width") == [lead.get("width")]
        assert page.meta("og:image:height") == [lead.get("height")]
        assert page.meta("og:image:alt") == [lead.get("alt")] == page.meta("twitter:image:alt")
        assert page.meta("twitter:card") == ["summary_large_image"]
    for path in ("index.html", site.sections[0].path.lstrip("/") + "index.html"):
        assert pages[path].meta("og:type") == ["website"]
        assert pages[path].meta("og:url") == [pages[path].url]


def test_11_feed_autodiscovery(built):
    site, out, pages = built
    names = [site.config.feeds.rss, site.config.feeds.atom, site.config.feeds.json]
    site_feeds = [site.url(name) for name in names]
    section_of = {a.path: a.section_slug for a in site.articles}
    sections = {t.slug: t for t in site.sections}
    for page in pages.values():
        hrefs = [link.get("href") for link in page.all('//link[@rel="alternate"]')]
        assert hrefs[:3] == site_feeds, page.path
        if page.path in section_of:
            term = sections[section_of[page.path]]
            assert hrefs[3:] == [site.url(term.path + name) for name in names], page.path
        for href in hrefs:
            assert (out / href.removeprefix(site.base_url)).is_file(), f"{page.path}: {href}"


def test_12_size_and_reading_order_without_css(articles, pages):
    check_all(pages, lambda page: [f"{len(page.data)} bytes"] if len(page.data) > HTML_BUDGET
              else [])
    for article, page in articles:
        order = ["//h1", '//p[@class="dateline"]', '//p[@class="byline"]',
                 '//figure[@class="lead"]', '//div[@class="body"]',
                 '//nav[@aria-label="Related stories"]',
                 f'//nav[@aria-label="Latest {article.section} News"]']
        positions = []
        elements = list(page.tree.iter())
        for xpath in order:
            found = page.all(xpath)
            if found:
                positions.append(elements.index(found[0]))
        assert positions == sorted(positions), page.path
        assert len(positions) >= 5


def test_13_dark_mode_reduced_motion_no_animation(pages):
    def check(page: Page):
        css = css_of(page)
        for feature in ("prefers-color-scheme:dark", "prefers-reduced-motion"):
            if feature not in css.replace(" ", ""):
                yield f"no {feature}"
        if "@keyframes" in css or re.search(r"animation(-name)?:(?!none)", css):
            yield "animates"

    check_all(pages, check)


def test_14_related_and_latest_lists(site, articles):
    for article, page in articles:
        for label, expected in (
            ("Related stories", rank.related(site, article)),
            (f"Latest {article.section} News", rank.latest_in_section(site, article)),
        ):
            navs = page.all(f'//nav[@aria-label="{label}"]')
            if not expected:
                assert not navs
                continue
            (nav,) = navs
            links = nav.xpath(".//li/a")
            assert [page.absolute(a.get("href")) for a in links] == [a.url for a in expected]
            assert [page.text(a) for a in links] == [a.title for a in expected]
            for img in nav.xpath(".//img"):
                assert img.get("width") and img.get("height") and img.get("alt") is not None


def test_internal_links_and_images_resolve(built):
    """Every link the pages make reaches a built file (record bodies link where they like)."""
    site, out, pages = built
    broken = set()
    for page in pages.values():
        for attribute in ('//a[not(ancestor::div[@class="body"])]/@href', "//img/@src",
                          '//link[@rel="icon"]/@href'):
            for value in page.all(attribute):
                target = page.absolute(value)
                if not target.startswith(site.base_url) or "#" in target:
                    continue
                path = target.removeprefix(site.base_url)
                if path == "" or path.endswith("/"):
                    path += "index.html"
                if not (out / path).is_file():
                    broken.add(f"{page.path}: {value}")
        for srcset in page.all("//img/@srcset"):
            for entry in srcset.split(", "):
                path = page.absolute(entry.split()[0]).removeprefix(site.base_url)
                if not (out / path).is_file():
                    broken.add(f"{page.path}: {entry}")
    assert not broken, sorted(broken)[:20]


def test_pages_link_nothing_on_other_hosts_that_a_browser_would_fetch(site, pages):
    """Pictures, the icon and every link a reader follows stay relative to the page."""

    def check(page: Page):
        for value in page.all("//img/@src | //img/@srcset | //link[@rel='icon']/@href"):
            if "://" in value:
                yield f"fetches {value}"

    check_all(pages, check)


def relative_luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, two: str) -> float:
    high, low = sorted((relative_luminance(one), relative_luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_contrast_passes_in_light_and_dark(pages):
    css = css_of(pages["index.html"])
    light = dict(re.findall(r"--([a-z]+):(#[0-9a-f]{6})", css.split("@media")[0]))
    dark_block = re.search(r"prefers-color-scheme:dark\)\{:root\{([^}]*)\}", css).group(1)
    dark = dict(re.findall(r"--([a-z]+):(#[0-9a-f]{6})", dark_block))
    assert set(light) == set(dark) >= {"bg", "fg", "muted", "link", "accent", "panel"}
    for scheme in (light, dark):
        for text in ("fg", "muted", "link", "accent"):
            for background in ("bg", "panel"):
                ratio = contrast(scheme[text], scheme[background])
                assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}"
    assert relative_luminance(dark["bg"]) < 0.05 < relative_luminance(light["bg"])


def test_pagination_of_the_example_site(built):
    site, out, _ = built
    per_page = site.config.pages.per_page
    term = max(site.tags + site.sections + site.authors, key=lambda t: len(t.articles))
    folder = out / term.path.lstrip("/")
    archived = len(term.articles) // per_page - 1
    assert archived >= 1, "the example site should have a paginated list"
    assert (folder / "index.html").is_file()
    assert all((folder / f"page/{n}/index.html").is_file() for n in range(1, archived + 1))
    assert not (folder / f"page/{archived + 1}").exists()


def test_story_cards_share_their_term_links_and_unchanged_dates(site):
    """Every render worker keeps a card for each story it lists: the cards of one tag's
    stories hold one link to that tag, not a copy each, and a story never updated holds its
    date's text once."""
    from syndicate.site import term_path
    from syndicate.stories import Link, story_card

    by_tag: dict[str, list[Link]] = {}
    for article in site.articles:
        card = story_card(site, article)
        assert card.section.url == site.url(term_path(site.config, "section",
                                                      article.section_slug))
        for link in card.tags:
            by_tag.setdefault(link.url, []).append(link)
        if article.updated == article.published:
            assert card.updated_iso is card.published_iso
            assert card.updated_text is card.published_text
    shared = [links for links in by_tag.values() if len(links) > 1]
    assert shared
    for links in shared:
        assert all(link is links[0] for link in links)


def test_stories_share_one_copy_of_each_section_tag_and_author(site):
    """Each record is parsed on its own, so each held its own copy of every name it gives;
    the site keeps one copy of each (tens of MB at 100,000 stories)."""
    seen: dict[object, object] = {}
    named = 0
    for article in site.articles:
        for value in (article.section, *article.tags, *article.authors):
            named += 1
            first = seen.setdefault(value, value)
            assert first is value, f"{article.source} holds a copy of {value!r} of its own"
    assert named > 2 * len(seen), "the example site's stories hardly share a name"


def test_long_bodies_and_body_pictures_without_sizes_are_reported_once_each(mini_site, tmp_path):
    def record(title: str, body: str) -> str:
        return json.dumps({"title": title, "published": "2026-03-12T10:00:00Z",
                           "section": "World", "body": body})

    config = mini_site({
        "articles/long.json": record("Long", "<p>" + "word " * 18_000 + "</p>"),
        "articles/picture.json": record(
            "Picture", '<p>A quay.</p><img src="https://img.example.org/q.jpg" alt="Quay">'),
        "articles/sized.json": record(
            "Sized", '<p>A quay.</p><img src="https://img.example.org/q.jpg" alt="Quay" '
                     'width="640" height="480">'),
        "articles/plain.json": record("Plain", "<p>Nothing to say.</p>"),
    })
    result = build(config, out_dir=str(tmp_path / "out"), environ={}, jobs=1)
    about_bodies = sorted((Path(p.where).name, p.message) for p in result.problems
                          if p.field == "body")
    assert [name for name, _ in about_bodies] == ["long.json", "picture.json"]
    assert "AMP-lite budget" in about_bodies[0][1]
    assert "no integer width and height" in about_bodies[1][1]
    assert all(a.body_ref is not None for a in result.loaded.site.articles)  # kept on disk
