"""Sitemaps follow the sitemap protocol and Google News' extension."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from syndicate.build import build, load
from syndicate.outputs import RenderContext
from syndicate.outputs import sitemap as sitemap_output

ROOT = Path(__file__).resolve().parent.parent
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
W3C_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    target = tmp_path_factory.mktemp("sitemap") / "out"
    build(ROOT / "config.toml", out_dir=str(target), environ={}, jobs=1)
    return target


def test_sitemap_follows_the_protocol(out):
    root = etree.parse(str(out / "sitemap.xml")).getroot()
    assert root.tag == f"{SM}urlset"
    urls = root.findall(f"{SM}url")
    locs = [u.findtext(f"{SM}loc") for u in urls]
    assert 0 < len(urls) <= 50_000
    assert len(set(locs)) == len(locs)
    for url in urls:
        assert [child.tag for child in url] == [f"{SM}loc", f"{SM}lastmod"]
        loc = url.findtext(f"{SM}loc")
        assert loc.startswith("https://news.example.org/") and len(loc) <= 2048
        assert W3C_DATETIME.fullmatch(url.findtext(f"{SM}lastmod"))
    loaded = load(ROOT / "config.toml")
    expected = {a.url for a in loaded.site.articles if not a.canonical_url}
    assert expected <= set(locs), "every article page is listed"
    assert loaded.site.base_url in locs
    assert {t.url for t in loaded.site.sections} <= set(locs)


def test_news_sitemap_lists_the_last_48_hours(out):
    root = etree.parse(str(out / "news-sitemap.xml")).getroot()
    loaded = load(ROOT / "config.toml")
    newest = loaded.site.articles[0].published
    entries = root.findall(f"{SM}url")
    assert entries
    for entry in entries:
        news = entry.find(f"{NEWS}news")
        publication = news.find(f"{NEWS}publication")
        assert publication.findtext(f"{NEWS}name") == "The Harbour Courier"
        assert publication.findtext(f"{NEWS}language") == "en"
        when = datetime.fromisoformat(news.findtext(f"{NEWS}publication_date"))
        assert newest - timedelta(hours=48) <= when <= newest
        assert news.findtext(f"{NEWS}title")
    recent = [a for a in loaded.site.articles if a.published >= newest - timedelta(hours=48)]
    assert len(entries) == len(recent)


def test_a_large_site_gets_a_sitemap_index(monkeypatch):
    monkeypatch.setattr(sitemap_output, "URLS_PER_FILE", 25)
    loaded = load(ROOT / "config.toml")
    files = {a.path: a.content() for a in sitemap_output.render(loaded.site, RenderContext())}
    index = etree.fromstring(files["sitemap.xml"])
    assert index.tag == f"{SM}sitemapindex"
    parts = [s.findtext(f"{SM}loc") for s in index.findall(f"{SM}sitemap")]
    assert parts == [f"https://news.example.org/sitemap-{n}.xml" for n in range(1, len(parts) + 1)]
    listed = [u.findtext(f"{SM}loc") for n in range(1, len(parts) + 1)
              for u in etree.fromstring(files[f"sitemap-{n}.xml"]).findall(f"{SM}url")]
    assert sorted(listed) == sorted(url for url, _ in
                                    sitemap_output.sitemap_entries(loaded.site))
    assert all(len(etree.fromstring(files[f"sitemap-{n}.xml"])) <= 25
               for n in range(1, len(parts) + 1))
    for entry in index.findall(f"{SM}sitemap"):
        name = entry.findtext(f"{SM}loc").rsplit("/", 1)[1]
        lastmods = [u.findtext(f"{SM}lastmod")
                    for u in etree.fromstring(files[name]).findall(f"{SM}url")]
        assert entry.findtext(f"{SM}lastmod") == max(lastmods)


def test_a_new_story_leaves_the_sitemap_files_of_older_stories_as_they_were(
        monkeypatch, tmp_path):
    """Above the per-file limit the list pages come first and the articles oldest first, so a
    new story changes the list file, the newest articles' file and the index only; the
    others keep their fingerprints, so a build does not even render them."""
    import json
    import shutil

    monkeypatch.setattr(sitemap_output, "URLS_PER_FILE", 4)
    site_dir = tmp_path / "site"
    shutil.copytree(ROOT / "articles", site_dir / "articles")
    shutil.copy(ROOT / "config.toml", site_dir / "config.toml")

    def sitemaps() -> dict[str, tuple[str, bytes]]:
        made = sitemap_output.render(load(site_dir / "config.toml").site, RenderContext())
        return {a.path: (a.fingerprint, a.content()) for a in made}

    before = sitemaps()
    (site_dir / "articles" / "zz-newest.json").write_text(json.dumps({
        "id": "zz-newest", "title": "A ferry timetable changes for the winter",
        "published": "2030-01-01T06:00:00Z", "section": "World",
        "body": "<p>The winter timetable starts on Monday.</p>"}), encoding="utf-8")
    after = sitemaps()
    changed = {path for path in after if after[path] != before.get(path)}
    number = lambda path: int(path.removeprefix("sitemap-").removesuffix(".xml"))  # noqa: E731
    stories = sorted((p for p, (fingerprint, _) in after.items() if fingerprint), key=number)
    lists = {p for p in after if p.startswith("sitemap-") and p not in stories}
    assert len(stories) >= 3 and lists, "the fixture spans several files of each kind"
    assert stories[-1] in changed and "sitemap.xml" in changed
    assert not changed & set(stories[:-1]), "the files of older stories changed"
    assert changed <= {"sitemap.xml", "news-sitemap.xml", stories[-1]} | lists
    newest = etree.fromstring(after[stories[-1]][1]).findall(f"{SM}url")
    assert newest[-1].findtext(f"{SM}loc").endswith("/a-ferry-timetable-changes-for-the-winter/")


def test_a_list_pages_lastmod_is_its_latest_update_the_first_of_equal_ones():
    import dataclasses
    from datetime import timezone

    from syndicate.config import Config
    from syndicate.model import Article
    from syndicate.site import build_site

    utc, plus_two = timezone.utc, timezone(timedelta(hours=2))
    old = datetime(2026, 3, 1, 8, tzinfo=utc)

    def story(number: int, tags: tuple[str, ...], updated: datetime) -> Article:
        published = old + timedelta(days=number)
        return Article(id=f"s{number}", title=f"Story {number}", published=published,
                       updated=max(updated, published), section="World", summary="",
                       body_html="", source=f"articles/s{number}.json", tags=tags)

    same_instant = datetime(2026, 4, 1, 12, tzinfo=utc)
    articles = [
        story(1, ("Quay",), datetime(2026, 5, 1, 9, 0, 0, 1, tzinfo=utc)),  # oldest, latest
        story(2, ("Quay",), datetime(2026, 5, 1, 9, tzinfo=utc)),  # 1 microsecond earlier
        story(3, ("Tide",), same_instant.astimezone(plus_two)),
        story(4, ("Tide",), same_instant),  # newer story: listed first, so its time is kept
        story(5, ("Ferry",), old),
    ]
    base = Config()
    config = dataclasses.replace(
        base, site=dataclasses.replace(base.site, title="T", base_url="https://t.example/"))
    site, _ = build_site(config, articles, environ={})
    entries = dict(sitemap_output._list_entries(site))
    by_slug = {term.slug: entries[term.url] for term in site.tags}
    assert by_slug["quay"] == datetime(2026, 5, 1, 9, 0, 0, 1, tzinfo=utc)
    assert by_slug["tide"] == same_instant and by_slug["tide"].utcoffset() == timedelta(0)
    assert by_slug["ferry"] == articles[4].updated
    assert entries[site.base_url] == max(a.updated for a in site.articles)
    for kind in ("section", "tag", "author"):
        for term in site.terms(kind):
            first_latest = max(a.updated for a in term.articles)
            assert entries[term.url] is first_latest or entries[term.url] == first_latest
            assert entries[term.url].utcoffset() == first_latest.utcoffset()
