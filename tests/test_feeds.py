"""Feeds (spec/feeds.md): content, ids, dates, order, images, switches, JSON Feed schema,
OPML and the XSLT, read back through lxml, feedparser, json and jsonschema.

The helpers here (`story`, `render_feeds`, `fixture_feeds`) are shared by the other
test_feeds_* modules.
"""

from __future__ import annotations

import gc
import html
import json
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import html5lib
import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from syndicate.build import load
from syndicate.config import config_from_dict
from syndicate.errors import ConfigError
from syndicate.outputs import RenderContext, feedxml, jsonfeed
from syndicate.outputs import feeds as feeds_output

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
SCHEMA = Path(__file__).parent / "data" / "jsonfeed-schema-v1.1.json"


def story(story_id: str, title: str = "A headline", published: str = "2026-03-14T08:00:00Z",
          **fields: object) -> str:
    """Return a JSON record with sensible defaults."""
    data: dict[str, object] = {"id": story_id, "title": title, "published": published,
                               "section": "World", "authors": ["Ann Writer"],
                               "body": f"<p>Body of {story_id}.</p>"}
    data.update(fields)
    return json.dumps(data)


def render_feeds(mini_site, stories: dict[str, str], config: str = "",
                 site_config: str = "") -> dict[str, bytes]:
    """Write a mini-site with `stories` (file stem -> JSON) and return the feeds' files.
    `config` is appended to the mini config; `site_config` replaces it."""
    files = {f"articles/{name}.json": text for name, text in stories.items()}
    if site_config:
        files["config.toml"] = site_config
    loaded = load(mini_site(files, config), environ={})
    return {a.path: a.content() for a in feeds_output.render(loaded.site, RenderContext())}


def fixture_feeds(fixture_copy) -> dict[str, bytes]:
    loaded = load(fixture_copy("basic"), environ={})
    return {a.path: a.content() for a in feeds_output.render(loaded.site, RenderContext())}


def xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def parsed(data: bytes) -> feedparser.FeedParserDict:
    result = feedparser.parse(data)
    assert not result.bozo, result.get("bozo_exception")
    return result


ARABIC = "\u0645\u0631\u062d\u0628\u0627"
HEBREW = "\u05e9\u05dc\u05d5\u05dd"
HOSTILE_TITLE = f"Tom & Jerry ]]> <b>not bold</b> \U0001f389 {ARABIC} \x01\x0b end"
HOSTILE_SUMMARY = f"Less < more & ]]> &amp; {HEBREW} \x02"
HOSTILE_BODY = f"<p>Code: <code>a]]&gt;b</code> &amp; &lt;tag&gt; &#x1F600; {HEBREW} \x03</p>"
CLEAN_TITLE = f"Tom & Jerry ]]> <b>not bold</b> \U0001f389 {ARABIC} end"
CLEAN_SUMMARY = f"Less < more & ]]> &amp; {HEBREW}"


@pytest.fixture
def hostile(mini_site) -> dict[str, bytes]:
    return render_feeds(mini_site, {"h": story("hostile", HOSTILE_TITLE, summary=HOSTILE_SUMMARY,
                                               body=HOSTILE_BODY)})


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_hostile_text_round_trips_through_feedparser(hostile, name):
    entry = parsed(hostile[name]).entries[0]
    assert html.unescape(entry.title) == CLEAN_TITLE
    assert html.unescape(entry.summary) == CLEAN_SUMMARY
    body = entry.content[0].value
    assert "<code>a]]&gt;b</code>" in body
    assert f"\U0001f600 {HEBREW}" in body
    assert "\x03" not in body


def test_hostile_text_round_trips_through_lxml_and_json(hostile):
    rss_item = xml(hostile["feed.xml"]).find("channel/item")
    # RSS titles are read as HTML by readers, so markup-like text is escaped once more.
    assert html.unescape(rss_item.findtext("title")) == CLEAN_TITLE
    assert html.unescape(rss_item.findtext("description")) == CLEAN_SUMMARY
    assert "a]]&gt;b" in rss_item.findtext(f"{CONTENT}encoded")
    atom_entry = xml(hostile["atom.xml"]).find(f"{ATOM}entry")
    title = atom_entry.find(f"{ATOM}title")
    assert title.get("type") == "html" and html.unescape(title.text) == CLEAN_TITLE
    item = json.loads(hostile["feed.json"])["items"][0]
    assert item["title"] == CLEAN_TITLE
    assert item["summary"] == CLEAN_SUMMARY
    assert "a]]&gt;b" in item["content_html"]


def test_plain_titles_stay_plain(mini_site):
    files = render_feeds(mini_site, {"a": story("a", "Tom & Jerry: a < b", summary="x & y")})
    assert b"<title>Tom &amp; Jerry: a &lt; b</title>" in files["feed.xml"]
    assert b"<title>Tom &amp; Jerry: a &lt; b</title>" in files["atom.xml"]
    assert b'<summary type="text">x &amp; y</summary>' in files["atom.xml"]


def test_every_entry_has_what_readers_need(fixture_copy):
    files = fixture_feeds(fixture_copy)
    xml_files = [path for path in files if path.endswith(("feed.xml", "atom.xml"))]
    assert len(xml_files) > 10
    for path in xml_files:
        result = parsed(files[path])
        assert result.entries, path
        for entry in result.entries:
            for key in ("title", "link", "id", "summary", "author"):
                assert entry.get(key), (path, key)
            assert entry.published_parsed, path
            if path.endswith("atom.xml"):
                assert dict.__contains__(entry, "updated_parsed"), path
            assert entry.content[0].value, path
    for path in (p for p in files if p.endswith("feed.json")):
        for item in json.loads(files[path])["items"]:
            for key in ("id", "url", "title", "summary", "content_html", "date_published",
                        "date_modified", "authors"):
                assert item.get(key), (path, key)


def test_byline_fallback_is_the_publisher(mini_site):
    files = render_feeds(mini_site, {"a": story("a", authors=[])}, 'publisher = "Mini Media"\n')
    entry = parsed(files["atom.xml"]).entries[0]
    assert entry.author == "Mini Media"


def test_lead_image_everywhere_and_only_the_lead(mini_site):
    images = [{"src": f"https://img.example.com/{n}.jpg", "width": 1200, "height": 800,
               "alt": f"Alt {n}", "caption": f"Caption {n}", "credit": "Picture: PA"}
              for n in (1, 2, 3)]
    images[0]["sources"] = [{"src": "https://img.example.com/1-480.jpg", "width": 480}]
    files = render_feeds(mini_site, {"three": story("three", images=images),
                                     "none": story("none", published="2026-03-13T08:00:00Z")})
    items = {i.findtext("guid").rsplit(":", 1)[1]: i for i in xml(files["feed.xml"]).iter("item")}
    three, none = items["three"], items["none"]
    enclosures = three.findall("enclosure")
    assert [e.get("url") for e in enclosures] == ["https://img.example.com/1.jpg"]
    assert enclosures[0].get("type") == "image/jpeg" and enclosures[0].get("length") == "0"
    (media,) = three.findall(f"{MEDIA}content")
    assert [media.get(key) for key in ("medium", "width", "height")] == ["image", "1200", "800"]
    assert media.findtext(f"{MEDIA}description") == "Caption 1"
    assert media.findtext(f"{MEDIA}credit") == "Picture: PA"
    thumb = three.find(f"{MEDIA}thumbnail")
    assert (thumb.get("url"), thumb.get("width"), thumb.get("height")) == (
        "https://img.example.com/1-480.jpg", "480", "320")
    content = three.findtext(f"{CONTENT}encoded")
    assert content.startswith('<figure><img src="https://img.example.com/1.jpg" alt="Alt 1"')
    assert "<figcaption>Caption 1 — Picture: PA</figcaption></figure><p>" in content
    assert "2.jpg" not in content and "3.jpg" not in content
    assert none.find("enclosure") is None and none.find(f"{MEDIA}content") is None
    assert "<figure>" not in none.findtext(f"{CONTENT}encoded")
    atom_links = xml(files["atom.xml"]).find(f"{ATOM}entry").findall(f"{ATOM}link")
    assert [(link.get("rel"), link.get("type")) for link in atom_links] == [
        ("alternate", "text/html"), ("enclosure", "image/jpeg")]
    json_items = json.loads(files["feed.json"])["items"]
    assert json_items[0]["image"] == "https://img.example.com/1.jpg"
    assert "image" not in json_items[1]
    fp = parsed(files["feed.xml"]).entries[0]
    assert fp.media_content[0]["url"] == "https://img.example.com/1.jpg"
    assert fp.media_credit[0]["content"] == "Picture: PA"


def test_changed_slug_keeps_the_id(mini_site):
    ids, links = set(), set()
    for slug in ("old-slug", "new-slug"):
        files = render_feeds(mini_site, {"a": story("world-1", slug=slug)})
        ids.add((xml(files["feed.xml"]).findtext("channel/item/guid"),
                 xml(files["atom.xml"]).findtext(f"{ATOM}entry/{ATOM}id"),
                 json.loads(files["feed.json"])["items"][0]["id"]))
        links.add(xml(files["feed.xml"]).findtext("channel/item/link"))
    assert len(links) == 2
    assert ids == {("tag:mini.example.com,2000:world-1",) * 3}


def test_id_schemes_and_tag_authority(mini_site):
    stories = {"a": story("news/2026 a\u00e9")}
    tag = render_feeds(mini_site, stories, '[feeds]\ntag_authority = "mini.example.com,2026"\n')
    assert xml(tag["feed.xml"]).findtext("channel/item/guid") == (
        "tag:mini.example.com,2026:news/2026%20a%C3%A9")
    url = render_feeds(mini_site, stories, '[feeds]\nid_scheme = "url"\n')
    guid = xml(url["feed.xml"]).find("channel/item/guid")
    assert guid.get("isPermaLink") == "true" and guid.text.startswith("https://mini.example.com/")
    with pytest.raises(ConfigError, match="tag_authority"):
        config_from_dict({"site": {"title": "T", "base_url": "https://t.example/"},
                          "feeds": {"tag_authority": "Example.org"}})


def test_dates_are_utc_and_updated_is_the_newest_item(mini_site):
    stories = {"a": story("a", published="2026-07-01T09:30:00",
                          updated="2026-07-02T10:00:00+02:00"),
               "b": story("b", published="2026-06-30T23:00:00-04:00")}
    london = ('[site]\ntitle = "T"\nbase_url = "https://t.example.com/"\n'
              'timezone = "Europe/London"\n')
    files = render_feeds(mini_site, stories, site_config=london)
    channel = xml(files["feed.xml"]).find("channel")
    assert channel.findtext("lastBuildDate") == "Thu, 02 Jul 2026 08:00:00 +0000"
    dates = [i.findtext("pubDate") for i in channel.iter("item")]
    assert dates == ["Wed, 01 Jul 2026 08:30:00 +0000", "Wed, 01 Jul 2026 03:00:00 +0000"]
    feed = xml(files["atom.xml"])
    assert feed.findtext(f"{ATOM}updated") == "2026-07-02T08:00:00+00:00"
    assert feed.findtext(f"{ATOM}entry/{ATOM}published") == "2026-07-01T08:30:00+00:00"
    item = json.loads(files["feed.json"])["items"][0]
    assert item["date_modified"] == "2026-07-02T08:00:00+00:00"
    assert parsedate_to_datetime(dates[0]).utcoffset().total_seconds() == 0


def test_items_newest_first_ties_by_id(mini_site):
    stories = {name: story(name, published=when) for name, when in [
        ("b", "2026-03-14T08:00:00Z"), ("a", "2026-03-14T08:00:00Z"),
        ("c", "2026-03-15T08:00:00Z"), ("d", "2026-03-13T08:00:00Z")]}
    files = render_feeds(mini_site, stories)
    rss = [g.text.rsplit(":", 1)[1] for g in xml(files["feed.xml"]).iter("guid")]
    atom = [e.findtext(f"{ATOM}id").rsplit(":", 1)[1]
            for e in xml(files["atom.xml"]).iter(f"{ATOM}entry")]
    jsn = [i["id"].rsplit(":", 1)[1] for i in json.loads(files["feed.json"])["items"]]
    assert rss == atom == jsn == ["c", "a", "b", "d"]


def test_output_is_what_lxml_and_json_would_write_for_the_whole_document(fixture_copy):
    files = fixture_feeds(fixture_copy)
    parser = etree.XMLParser(remove_blank_text=True)
    for path, data in files.items():
        if path.endswith((".xml", ".opml")):
            tree = etree.ElementTree(etree.fromstring(data, parser))
            again = etree.tostring(tree, pretty_print=True, encoding="UTF-8",
                                   xml_declaration=True)
            # lxml writes the same bytes, except that it cannot tell "&#x26;" from "&amp;".
            assert again.replace(b'"', b"'") == data.replace(b"&#x26;", b"&amp;").replace(
                b"&#x3C;", b"&lt;").replace(b'"', b"'"), path
        elif path.endswith(".json"):
            text = json.dumps(json.loads(data), ensure_ascii=False, indent=2) + "\n"
            assert text.encode() == data, path


def test_two_builds_are_byte_identical(fixture_copy):
    config = fixture_copy("basic")
    renders = [{a.path: a.content() for a in feeds_output.render(load(config, environ={}).site,
                                                               RenderContext())}
               for _ in range(2)]
    assert renders[0] == renders[1]


def test_entries_are_built_once_per_article(fixture_copy, monkeypatch):
    built: list[str] = []
    original = feedxml.new_entry

    def counting(item):
        built.append(item.key)
        return original(item)

    monkeypatch.setattr(feedxml, "new_entry", counting)
    files = fixture_feeds(fixture_copy)
    assert len([p for p in files if p.endswith("feed.xml")]) > 5
    assert sorted(built) == sorted(set(built))


def test_json_feeds_validate_against_the_schema(fixture_copy):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    files = fixture_feeds(fixture_copy)
    checked = 0
    for path, data in files.items():
        if path.endswith(".json"):
            document = json.loads(data)
            assert not list(validator.iter_errors(document)), path
            for item in document["items"]:
                for key in ("date_published", "date_modified"):
                    assert datetime.fromisoformat(item[key]).utcoffset().total_seconds() == 0
            checked += 1
    assert checked > 5
    broken = {"version": "https://jsonfeed.org/version/1.1", "title": "x",
              "items": [{"id": "1", "date_published": "14 March 2026"}]}
    assert list(validator.iter_errors(broken)), "the schema check can fail"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=24)


@given(JSON_VALUES)
def test_json_feed_text_is_what_json_dumps_writes(value):
    assert jsonfeed._dumps(value) == json.dumps(value, ensure_ascii=False,
                                                indent=jsonfeed.INDENT)


def test_json_feed_text_leaves_no_cycles_for_a_paused_collector():
    # A build pauses and freezes the collector while it renders (syndicate.collector): a
    # cycle made there is kept until the build ends.
    was_on = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        jsonfeed._dumps({"items": [{"id": "a", "tags": ["x", "y"], "n": 1.5}], "none": None})
        assert gc.collect() == 0
    finally:
        if was_on:
            gc.enable()


def test_opml_lists_every_feed(fixture_copy):
    files = fixture_feeds(fixture_copy)
    root = xml(files["feeds.opml"])
    assert root.get("version") == "2.0"
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    rss_paths = sorted(p for p in files if p.endswith("feed.xml") and "/archive/" not in p)
    assert sorted(u.removeprefix("https://gazette.example.com/") for u in urls) == rss_paths
    assert [o.get("text") for o in root.find("body") if not o.get("xmlUrl")] == [
        "Sections", "Tags", "Authors"]


def test_switches(mini_site):
    stories = {"a": story("a", tags=["Belarus"])}
    files = render_feeds(mini_site, stories, "[feeds]\nsections = false\ntags = false\n")
    assert sorted(p for p in files if p.endswith("feed.xml")) == [
        "author/ann-writer/feed.xml", "feed.xml"]
    files = render_feeds(mini_site, stories, '[feeds]\nformats = ["json"]\nauthors = false\n')
    assert sorted(files) == ["feed.json", "feeds.opml", "tag/belarus/feed.json",
                             "world/feed.json"]
    files = render_feeds(mini_site, stories, "[feeds]\nstylesheet = false\nsite = false\n")
    assert "feed.xsl" not in files and "feed.xml" not in files
    assert b"xml-stylesheet" not in files["world/feed.xml"]
    files = render_feeds(mini_site, stories, '[feeds]\nrss = "rss.xml"\natom = "index.atom"\n')
    assert {"world/rss.xml", "world/index.atom"} <= set(files)


def test_full_content_off_gives_picture_and_summary(mini_site):
    image = {"src": "https://img.example.com/1.jpg", "width": 10, "height": 10, "alt": "A"}
    files = render_feeds(mini_site, {"a": story("a", summary="The gist.", images=[image])},
                         "[feeds]\nfull_content = false\n")
    content = xml(files["feed.xml"]).findtext(f"channel/item/{CONTENT}encoded")
    assert content.startswith("<figure>") and content.endswith("<p>The gist.</p>")
    assert "Body of a" not in content


def test_stylesheet_renders_conforming_html(fixture_copy):
    files = fixture_feeds(fixture_copy)
    assert files["feed.xml"].split(b"\n")[1] == (
        b'<?xml-stylesheet type="text/xsl" href="/feed.xsl"?>')
    transform = etree.XSLT(xml(files["feed.xsl"]))
    for name in ("feed.xml", "atom.xml", "world/feed.xml"):
        page = str(transform(etree.ElementTree(xml(files[name]))))
        assert page.lower().startswith("<!doctype html")
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        document = parser.parse(page)  # raises on any parse error
        assert document.find("head/title").text.endswith("(web feed)")
        headlines = [a.text for a in document.iterfind(".//main/article/h2/a")]
        assert headlines == [e.title for e in parsed(files[name]).entries]
        assert document.get("lang") == "en-GB"


def test_each_article_is_serialised_once_however_many_feeds_list_it(fixture_copy,
                                                                      serialised_entries):
    made = serialised_entries
    loaded = load(fixture_copy("basic"), environ={})
    files = {a.path: a.content() for a in feeds_output.render(loaded.site, RenderContext())}
    listed = [entry.findtext("guid") for path, data in files.items()
              if path.endswith(".xml") and data.startswith(b"<?xml") and b"<rss" in data
              for entry in xml(data).iter("item")]
    assert len(listed) > len(set(listed)), "the fixture should list stories in several feeds"
    assert sorted(made) == sorted(set(made))
    assert len(made) == len(set(listed))
