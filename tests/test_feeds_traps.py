"""Each feedgen 1.0 trap that feedxml wraps (STYLE.md), pinned by a test that fails if the
wrapper stops defusing it."""

from __future__ import annotations

import datetime as dt

import feedgen.entry
import feedgen.feed
from test_feeds import ATOM, CONTENT, DC, parsed, render_feeds, story, xml

from syndicate import __version__

STORIES = {
    "a": story("a", published="2026-03-14T08:00:00Z", updated="2026-03-14T09:00:00Z",
               authors=["Ann Writer", "Bo Reporter"], tags=["Belarus"],
               images=[{"src": "https://img.example.com/a.jpg", "width": 8, "height": 6}]),
    "b": story("b", published="2026-03-13T08:00:00Z"),
    "c": story("c", published="2026-03-12T08:00:00Z"),
    "d": story("d", published="2026-03-11T08:00:00Z"),
}


class _AnyDatetime(type):
    # feedgen also uses its `datetime` for isinstance checks, which real datetimes must pass.
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, dt.datetime)


def clock_at(moment: dt.datetime) -> type[dt.datetime]:
    class Clock(dt.datetime, metaclass=_AnyDatetime):
        @classmethod
        def now(cls, tz=None):
            return moment if tz is None else moment.astimezone(tz)

    return Clock


def test_the_wall_clock_never_shows(mini_site, monkeypatch):
    """feedgen stamps updated/lastBuildDate (and every entry) with datetime.now()."""
    renders = []
    for year in (2031, 2042):
        clock = clock_at(dt.datetime(year, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc))
        monkeypatch.setattr(feedgen.feed, "datetime", clock)
        monkeypatch.setattr(feedgen.entry, "datetime", clock)
        renders.append(render_feeds(mini_site, STORIES, "[feeds]\nmax_items = 2\n"))
    assert renders[0] == renders[1]
    for data in renders[0].values():
        assert b"2031" not in data
    channel = xml(renders[0]["feed.xml"]).find("channel")
    assert channel.findtext("lastBuildDate") == "Sat, 14 Mar 2026 09:00:00 +0000"
    assert xml(renders[0]["atom.xml"]).findtext(f"{ATOM}updated") == "2026-03-14T09:00:00+00:00"


def test_items_are_appended_not_prepended(mini_site):
    files = render_feeds(mini_site, STORIES)
    assert [e.title for e in parsed(files["feed.xml"]).entries] == ["A headline"] * 4
    guids = [g.text[-1] for g in xml(files["feed.xml"]).iter("guid")]
    assert guids == ["a", "b", "c", "d"]


def test_rss_channel_link_is_the_page_not_a_feed(mini_site):
    files = render_feeds(mini_site, STORIES, "[feeds]\nmax_items = 1\n")
    assert xml(files["feed.xml"]).findtext("channel/link") == "https://mini.example.com/"
    assert xml(files["world/feed.xml"]).findtext("channel/link") == "https://mini.example.com/world/"
    archive = xml(files["world/archive/feed-2.xml"]).find("channel")
    assert archive.findtext("link") == "https://mini.example.com/world/"
    rels = {link.get("rel"): link.get("href") for link in archive.findall(f"{ATOM}link")}
    assert rels["self"] == "https://mini.example.com/world/archive/feed-2.xml"


def test_atom_entry_links_keep_rel_and_type(mini_site):
    """feedgen issue #135: entry links lose rel and type."""
    entry = xml(render_feeds(mini_site, STORIES)["atom.xml"]).find(f"{ATOM}entry")
    links = [(link.get("rel"), link.get("type"), link.get("href"))
             for link in entry.findall(f"{ATOM}link")]
    assert [link[:2] for link in links] == [("alternate", "text/html"),
                                            ("enclosure", "image/jpeg")]
    assert links[0][2].startswith("https://mini.example.com/world/2026/03/14/")
    assert links[1][2] == "https://img.example.com/a.jpg"


def test_content_encoded_and_description_on_every_item(mini_site):
    for item in xml(render_feeds(mini_site, STORIES)["feed.xml"]).iter("item"):
        assert item.findtext("description")
        assert item.findtext(f"{CONTENT}encoded").startswith(("<p>", "<figure>"))


def test_bylines_use_dc_creator_not_rss_author(mini_site):
    item = xml(render_feeds(mini_site, STORIES)["feed.xml"]).find("channel/item")
    assert [c.text for c in item.findall(f"{DC}creator")] == ["Ann Writer", "Bo Reporter"]
    assert item.find("author") is None
    entry = xml(render_feeds(mini_site, STORIES)["atom.xml"]).find(f"{ATOM}entry")
    assert [a.findtext(f"{ATOM}name") for a in entry.findall(f"{ATOM}author")] == [
        "Ann Writer", "Bo Reporter"]


def test_generator_is_pinned(mini_site):
    files = render_feeds(mini_site, STORIES)
    assert xml(files["feed.xml"]).findtext("channel/generator") == "syndicate"
    generator = xml(files["atom.xml"]).find(f"{ATOM}generator")
    assert (generator.text, generator.get("version")) == ("syndicate", __version__)
    assert b"feedgen" not in files["feed.xml"] + files["atom.xml"]


def test_syndication_module_elements_are_spelled_right(mini_site):
    files = render_feeds(mini_site, STORIES, '[feeds]\nupdate_period = "daily"\nttl = 90\n')
    channel = xml(files["feed.xml"]).find("channel")
    sy = "{http://purl.org/rss/1.0/modules/syndication/}"
    assert channel.findtext(f"{sy}updatePeriod") == "daily"
    assert channel.findtext(f"{sy}updateFrequency") == "1"
    assert channel.find(f"{sy}UpdatePeriod") is None
    assert channel.findtext("ttl") == "90"


def test_control_characters_do_not_raise(mini_site):
    files = render_feeds(mini_site, {"x": story("x", "Bell\x07 and \ufffe nul\x00",
                                                summary="\x1b[31m red")})
    assert parsed(files["feed.xml"]).entries[0].title == "Bell and nul"
    assert parsed(files["atom.xml"]).entries[0].summary == "[31m red"
