"""RFC 5005 archived feeds: the subscription document holds the newest max_items; archive
pages of max_items, numbered from the oldest, hold the rest and never change once written."""

from __future__ import annotations

import json

import pytest
from test_feeds import ATOM, parsed, render_feeds, story, xml

from syndicate.outputs.feedmodel import Feed, pages

FH = "{http://purl.org/syndication/history/1.0}"
BASE = "https://mini.example.com/world/"


def stories(count: int) -> dict[str, str]:
    """`count` stories in World, one a day, s01 the oldest."""
    return {f"s{n:02d}": story(f"s{n:02d}", f"Story {n}", f"2026-03-{n:02d}T08:00:00Z")
            for n in range(1, count + 1)}


def numbers(data: bytes) -> list[int]:
    return [int(e.title.split()[1]) for e in parsed(data).entries]


def links(data: bytes) -> dict[str, str]:
    root = xml(data)
    parent = root.find("channel") if root.tag == "rss" else root
    return {link.get("rel"): link.get("href").removeprefix(BASE)
            for link in parent.findall(f"{ATOM}link") if link.get("rel") != "alternate"}


def test_a_section_beyond_max_items_gets_archives(mini_site):
    files = render_feeds(mini_site, stories(7), "[feeds]\nmax_items = 3\n")
    assert numbers(files["world/feed.xml"]) == [7, 6, 5]
    assert numbers(files["world/archive/feed-1.xml"]) == [3, 2, 1]
    assert numbers(files["world/archive/feed-2.xml"]) == [6, 5, 4]
    assert "world/archive/feed-3.xml" not in files
    assert links(files["world/feed.xml"]) == {"self": "feed.xml",
                                              "prev-archive": "archive/feed-2.xml"}
    assert links(files["world/archive/feed-1.xml"]) == {
        "self": "archive/feed-1.xml", "current": "feed.xml", "next-archive": "archive/feed-2.xml"}
    assert links(files["world/archive/atom-2.xml"]) == {
        "self": "archive/atom-2.xml", "current": "atom.xml", "prev-archive": "archive/atom-1.xml"}
    for name in ("feed", "atom"):
        assert xml(files[f"world/archive/{name}-1.xml"]).iter(f"{FH}archive")
        assert next(xml(files[f"world/{name}.xml"]).iter(f"{FH}archive"), None) is None
    current = json.loads(files["world/feed.json"])
    assert current["next_url"] == BASE + "archive/feed-2.json"
    older = json.loads(files["world/archive/feed-2.json"])
    assert older["next_url"] == BASE + "archive/feed-1.json"
    assert "next_url" not in json.loads(files["world/archive/feed-1.json"])
    assert [i["title"] for i in json.loads(files["world/archive/feed-1.json"])["items"]] == [
        "Story 3", "Story 2", "Story 1"]


def test_archive_pages_do_not_change_as_stories_arrive(mini_site):
    config = "[feeds]\nmax_items = 3\n"
    before = render_feeds(mini_site, stories(7), config)
    after = render_feeds(mini_site, stories(8), config)
    for name in ("archive/feed-1.xml", "archive/atom-1.xml", "archive/feed-1.json",
                 "archive/feed-2.xml", "archive/feed-2.json"):
        assert before["world/" + name] == after["world/" + name], name
    later = render_feeds(mini_site, stories(10), config)
    assert numbers(later["world/archive/feed-2.xml"]) == [6, 5, 4]
    assert links(later["world/archive/feed-2.xml"])["next-archive"] == "archive/feed-3.xml"


def test_archives_can_be_switched_off(mini_site):
    files = render_feeds(mini_site, stories(7), "[feeds]\nmax_items = 3\narchives = false\n")
    assert not [path for path in files if "archive" in path]
    assert "prev-archive" not in links(files["world/feed.xml"])


def test_a_lone_archive_page_is_not_marked(mini_site):
    files = render_feeds(mini_site, stories(5), "[feeds]\nmax_items = 3\n")
    assert numbers(files["world/archive/feed-1.xml"]) == [3, 2, 1]
    assert links(files["world/archive/atom-1.xml"]) == {"self": "archive/atom-1.xml",
                                                        "current": "atom.xml"}
    assert next(xml(files["world/archive/atom-1.xml"]).iter(f"{FH}archive"), None) is None


@pytest.mark.parametrize("per_page", [1, 2, 3, 5])
def test_pages_cover_every_article_and_keep_their_contents(per_page):
    seen: dict[int, tuple[str, ...]] = {}
    for count in range(0, 24):
        articles = tuple(f"a{n:02d}" for n in range(count, 0, -1))  # newest first
        feed = Feed("section", "world", "World", "T", "D", BASE, "/world/", "id", articles)
        result = pages(feed, per_page, archives=True)
        current, archives = result[0], result[1:]
        assert current.articles == articles[:per_page]
        covered = set(current.articles).union(*(p.articles for p in archives))
        assert covered == set(articles)
        for page in archives:
            assert len(page.articles) == per_page
            assert page.articles != current.articles
            assert seen.setdefault(page.number, page.articles) == page.articles
        assert [p.number for p in archives] == list(range(1, len(archives) + 1))
        assert current.older == (len(archives) or None)
