"""`syndicate import`: the example site's own feeds and a WordPress export built here come back
as the same stories; importing twice changes nothing; hostile XML is refused."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import xml.etree.ElementTree as ET
from calendar import timegm
from datetime import timezone
from pathlib import Path

import click
import feedparser
import pytest
from click.testing import CliRunner
from conftest import ROOT

from syndicate.build import build, load
from syndicate.cli import main
from syndicate.importers import import_source

SITE_CONFIG = (ROOT / "config.toml").read_text()


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example site built once: its articles (drafts left out) and its out/ folder."""
    out = tmp_path_factory.mktemp("example") / "out"
    result = build(ROOT / "config.toml", out_dir=str(out), environ={})
    return result.loaded.site, out


def imported_site(tmp_path: Path, records: Path):
    """Load the imported records with the example site's config, as a newsroom would."""
    config = tmp_path / "config.toml"
    config.write_text(SITE_CONFIG.replace('dir = "articles"', f'dir = "{records.name}"'))
    return load(config)


def assert_same_stories(original, loaded, *, updated: bool = True) -> None:
    assert [p for p in loaded.problems if p.severity == "error"] == []
    by_title = {a.title: a for a in loaded.site.articles}
    assert sorted(by_title) == sorted(a.title for a in original.articles)
    for article in original.articles:
        copy = by_title[article.title]
        assert copy.published == article.published, article.title
        if updated:
            assert copy.updated == article.updated, article.title
        assert loaded.site.body(copy) == original.body(article), article.title
        assert copy.section == article.section
        assert copy.tags == article.tags
        assert [a.name for a in copy.authors] == [a.name for a in article.authors]
        assert copy.summary == article.summary
        assert copy.url == article.url, "the old URL is kept through the slug"


@pytest.mark.parametrize("name, source_format, has_updated", [
    ("feed.xml", "rss", False), ("atom.xml", "atom", True), ("feed.json", "jsonfeed", True)])
def test_the_example_sites_own_feeds_round_trip(example, tmp_path, name, source_format,
                                                has_updated):
    site, out = example
    records = tmp_path / "imported"
    result = run("import", str(out / name), "--to", str(records))
    assert result.exit_code == 0, result.output
    count = len(site.articles)
    assert result.output.splitlines()[-1].startswith(
        f"syndicate: {count} items read from {out / name} ({source_format}): {count} written, "
        "0 unchanged, 0 skipped, 0 drafts; ")
    assert_same_stories(site, imported_site(tmp_path, records), updated=has_updated)

    pictured = [a for a in site.articles if a.lead_image]
    loaded = imported_site(tmp_path, records).site
    copies = {a.title: a for a in loaded.articles}
    for article in pictured:
        image = copies[article.title].lead_image
        if source_format == "jsonfeed":
            # JSON Feed gives no picture sizes: the importer says so for each picture.
            assert f'"{article.title[:60]}": images[0]: {article.lead_image.url}: no width ' \
                "and height in the source" in result.output
            continue
        assert image is not None and image.url == article.lead_image.url
        assert (image.width, image.height) == (article.lead_image.width,
                                               article.lead_image.height)
        assert image.caption == article.lead_image.caption
        assert image.credit == article.lead_image.credit

    # Importing again writes nothing and changes no byte.
    before = tree(records)
    again = run("import", str(out / name), "--to", str(records), "--json")
    assert again.exit_code == 0
    data = json.loads(again.output)
    assert (data["written"], data["unchanged"], data["ok"]) == (0, count, True)
    assert tree(records) == before


def test_feed_items_agree_with_feedparser(example, tmp_path):
    _, out = example
    for name in ("feed.xml", "atom.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        records = tmp_path / name
        import_source(str(out / name), records)
        by_id = {json.loads(p.read_text())["id"]: json.loads(p.read_text())
                 for p in records.rglob("*.json")}
        assert len(by_id) == len(parsed.entries)
        for entry in parsed.entries:
            record = by_id[entry.id]
            assert record["title"] == entry.title
            moment = entry.get("published_parsed") or entry.updated_parsed
            assert timegm(moment) == int(_aware(record["published"]).timestamp())
            assert [a["name"] for a in record["authors"]] == [a.name for a in entry.authors]


def _aware(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


WP = "http://wordpress.org/export/1.2/"
NS = {"wp": WP, "excerpt": WP + "excerpt/", "content": "http://purl.org/rss/1.0/modules/content/",
      "dc": "http://purl.org/dc/elements/1.1/"}


def _add(parent: ET.Element, tag: str, value: str = "", **attributes: str) -> ET.Element:
    prefix, _, name = tag.rpartition(":")
    element = ET.SubElement(parent, f"{{{NS[prefix]}}}{name}" if prefix else name, attributes)
    element.text = value
    return element


def _post(channel: ET.Element, post_id: int, **fields: str) -> ET.Element:
    item = _add(channel, "item")
    for tag, value in fields.items():
        if tag not in ("categories", "meta"):
            _add(item, tag.replace("__", ":"), value)
    return item


def wordpress_export(site) -> bytes:
    """A WXR 1.2 file with the site's articles as posts, their pictures as attachments, and
    what a real export also holds: a draft, a page, a menu item, comments, shortcodes."""
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    rss = ET.Element("rss", version="2.0")
    channel = _add(rss, "channel")
    _add(channel, "title", "The Harbour Courier")
    _add(channel, "wp:wxr_version", "1.2")
    logins: dict[str, str] = {}
    for article in site.articles:
        for author in article.authors:
            if author.name not in logins:
                logins[author.name] = author.slug
                person = _add(channel, "wp:author")
                _add(person, "wp:author_login", author.slug)
                _add(person, "wp:author_display_name", author.name)
    next_id = 1000
    for index, article in enumerate(site.articles, 1):
        item = _post(channel, index, title=article.title, link=article.url,
                     guid=f"https://news.example.org/?p={index}",
                     **{"dc__creator": article.authors[0].slug if article.authors else "",
                        "content__encoded": site.body(article),
                        "excerpt__encoded": article.summary,
                        "wp__post_id": str(index),
                        "wp__post_date": article.published.strftime("%Y-%m-%d %H:%M:%S"),
                        "wp__post_date_gmt": article.published.astimezone(timezone.utc)
                        .strftime("%Y-%m-%d %H:%M:%S"),
                        "wp__post_modified_gmt": article.updated.astimezone(timezone.utc)
                        .strftime("%Y-%m-%d %H:%M:%S"),
                        "wp__post_name": article.slug, "wp__status": "publish",
                        "wp__post_type": "post"})
        _add(item, "category", article.section, domain="category",
             nicename=article.section_slug)
        for author in article.authors[1:]:  # as the Co-Authors Plus plugin exports them
            _add(item, "category", author.slug, domain="author", nicename=f"cap-{author.slug}")
        for tag, slug in zip(article.tags, article.tag_slugs, strict=True):
            _add(item, "category", tag, domain="post_tag", nicename=slug)
        image = article.lead_image
        if image:
            next_id += 1
            meta = _add(item, "wp:postmeta")
            _add(meta, "wp:meta_key", "_thumbnail_id")
            _add(meta, "wp:meta_value", str(next_id))
            attachment = _post(channel, next_id, title="picture", guid=image.url,
                               **{"wp__post_id": str(next_id), "wp__post_type": "attachment",
                                  "wp__status": "inherit", "wp__attachment_url": image.url,
                                  "excerpt__encoded": image.caption})
            size = (f'a:5:{{s:5:"width";i:{image.width};s:6:"height";i:{image.height};'
                    's:4:"file";s:9:"x/pic.jpg";}')
            for key, value in (("_wp_attachment_metadata", size),
                               ("_wp_attachment_image_alt", image.alt)):
                meta = _add(attachment, "wp:postmeta")
                _add(meta, "wp:meta_key", key)
                _add(meta, "wp:meta_value", value)
    # A classic-editor draft with no publication time in GMT yet, a caption, a gallery,
    # comments and a custom field.
    draft = _post(channel, 9001, title="Unfinished: the harbour at night",
                  guid="https://news.example.org/?p=9001",
                  **{"dc__creator": "nobody", "wp__post_id": "9001",
                     "content__encoded": 'First line of the draft.\nStill the first paragraph.'
                     '\n\n[caption id="a1" width="300"]<img src="https://news.example.org/n.jpg"'
                     ' width="300" height="200"> The harbour at night[/caption]\n\n'
                     '[gallery ids="1,2,3"]\n\nA last paragraph [sic].',
                     "wp__post_date": "2026-03-01 22:15:00",
                     "wp__post_date_gmt": "0000-00-00 00:00:00",
                     "wp__post_name": "", "wp__status": "draft", "wp__post_type": "post"})
    _add(draft, "category", "Uncategorized", domain="category", nicename="uncategorized")
    for _ in range(2):
        _add(draft, "wp:comment")
    meta = _add(draft, "wp:postmeta")
    _add(meta, "wp:meta_key", "mood")
    _add(meta, "wp:meta_value", "calm")
    _post(channel, 9002, title="About us", **{"wp__post_id": "9002", "wp__post_type": "page",
                                             "wp__status": "publish"})
    _post(channel, 9003, title="Home", **{"wp__post_id": "9003",
                                         "wp__post_type": "nav_menu_item",
                                         "wp__status": "publish"})
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


def test_a_wordpress_export_round_trips(example, tmp_path):
    site, _ = example
    export = tmp_path / "wordpress.xml"
    export.write_bytes(wordpress_export(site))
    records = tmp_path / "imported"
    result = run("import", str(export), "--to", str(records))
    assert result.exit_code == 0, result.output
    count = len(site.articles)
    attachments = sum(1 for a in site.articles if a.lead_image)
    lines = result.output.splitlines()
    assert lines[-1] == (f"syndicate: {count + attachments + 3} items read from {export} (wxr): "
                         f"{count + 1} written, 0 unchanged, {attachments + 2} skipped, 1 drafts;"
                         " 3 fields not mapped")
    draft = f'{export}: post 9001 "Unfinished: the harbour at night"'
    assert f"{draft}: comments: 2 comments not imported" in lines
    assert f'{draft}: postmeta: custom field "mood" not imported' in lines
    assert f"{draft}: body: shortcode [gallery] left as text" in lines
    assert f'{export}: post 9002 "About us": is a WordPress page, not an article; skipped' in lines
    assert f'{export}: post 9003 "Home": is a WordPress nav_menu_item, not an article; ' \
        "skipped" in lines
    assert f'{export}: post 1001 "picture": is a WordPress attachment, not an article; ' \
        "skipped" in lines

    loaded = imported_site(tmp_path, records)
    assert_same_stories(site, loaded)
    copies = {a.title: a for a in loaded.site.articles}
    for article in site.articles:
        if article.lead_image:
            image = copies[article.title].lead_image
            assert (image.url, image.width, image.height, image.caption, image.alt) == (
                article.lead_image.url, article.lead_image.width, article.lead_image.height,
                article.lead_image.caption, article.lead_image.alt)

    draft_record = json.loads((records / "2026" / "unfinished-the-harbour-at-night.json")
                              .read_text())
    assert draft_record["draft"] is True
    assert draft_record["published"] == "2026-03-01T22:15:00", "local time, site time zone"
    assert "section" not in draft_record, "Uncategorized is no section"
    assert draft_record["body"] == (
        "<p>First line of the draft.<br>\nStill the first paragraph.</p>\n<figure>"
        '<img src="https://news.example.org/n.jpg" width="300" height="200">'
        "<figcaption>The harbour at night</figcaption></figure>\n"
        '<p>[gallery ids="1,2,3"]</p>\n<p>A last paragraph [sic].</p>')

    # Older exports name their namespace 1.0 or 1.1: the same records, byte for byte.
    older = tmp_path / "wordpress-1.1.xml"
    older.write_bytes(export.read_bytes().replace(b"wordpress.org/export/1.2/",
                                                  b"wordpress.org/export/1.1/"))
    copy = tmp_path / "again"
    assert run("import", "-q", str(older), "--to", str(copy)).exit_code == 0
    assert tree(copy) == tree(records)


def test_a_changed_record_is_kept_unless_forced(example, tmp_path):
    _, out = example
    records = tmp_path / "imported"
    import_source(str(out / "feed.xml"), records)
    victim = sorted(records.rglob("*.json"))[0]
    victim.write_text(victim.read_text().replace('"title": "', '"title": "Edited: '))
    edited = victim.read_bytes()
    result = run("import", "-q", str(out / "feed.xml"), "--to", str(records))
    assert result.exit_code == 1
    assert result.output == (f"{victim}: exists with different content; kept "
                             "(--force replaces it)\n")
    assert victim.read_bytes() == edited
    forced = run("import", "-q", "--force", str(out / "feed.xml"), "--to", str(records))
    assert forced.exit_code == 0 and forced.output == ""
    assert b"Edited: " not in victim.read_bytes()


def test_an_item_already_in_the_folder_keeps_its_file_when_its_headline_changes(tmp_path):
    feed = tmp_path / "feed.json"
    item = {"id": "story-1", "title": "First headline", "content_html": "<p>Text.</p>",
            "date_published": "2026-02-01T10:00:00Z"}
    feed.write_text(json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "T",
                                "items": [item]}))
    import_source(str(feed), tmp_path / "records")
    item["title"] = "Second headline"
    feed.write_text(json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "T",
                                "items": [item]}))
    result = import_source(str(feed), tmp_path / "records", force=True)
    assert result.written == ["2026/first-headline.json"]
    assert json.loads((tmp_path / "records/2026/first-headline.json").read_text())["title"] \
        == "Second headline"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss version="2.0"><channel><item><title>&lol9;</title></item></channel></rss>
"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><item><title>&secret;</title></item></channel></rss>
"""


@pytest.mark.parametrize("payload, reason", [
    (BILLION_LAUGHS, 'the XML declares the entity "lol"'),
    (EXTERNAL, 'the XML declares the entity "secret"')])
def test_hostile_xml_is_refused_and_nothing_is_written(tmp_path, payload, reason):
    source = tmp_path / "hostile.xml"
    source.write_bytes(payload)
    result = run("import", str(source), "--to", str(tmp_path / "records"))
    assert result.exit_code == 1
    assert result.output == (f"Error: {source}: refused: {reason}; syndicate never expands "
                             "entities from a source (an entity-expansion attack can exhaust "
                             "memory)\n")
    assert not (tmp_path / "records").exists()


@pytest.mark.parametrize("content, args, message", [
    (b"<html><body>hi</body></html>", [], "not a feed or a WordPress export (its root element "
     "is <html>); expected RSS, Atom, JSON Feed or WXR"),
    (b'<rss version="2.0"><channel></channel></rss>', ["--format", "atom"],
     "is not an Atom feed (its root element is <rss>)"),
    (b"<rss><channel><item>", [], "not well-formed XML (line 1, column 21): no element found"),
    (b'{"items": []}', [], 'not a JSON Feed (no "version": "https://jsonfeed.org/version/1.1")'),
])
def test_what_is_not_a_feed_is_one_error_line(tmp_path, content, args, message):
    source = tmp_path / "source"
    source.write_bytes(content)
    result = run("import", str(source), "--to", str(tmp_path / "records"), *args)
    assert result.exit_code == 1
    assert result.output == f"Error: {source}: {message}\n"
    missing = run("import", str(tmp_path / "nope.xml"), "--to", str(tmp_path / "records"))
    assert missing.output == f"Error: {tmp_path / 'nope.xml'}: file not found\n"


def test_import_from_a_url(example, tmp_path):
    _, out = example
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        result = run("import", "-q", base + "atom.xml", "--to", str(tmp_path / "records"))
        assert result.exit_code == 0, result.output
        missing = run("import", base + "missing.xml", "--to", str(tmp_path / "records"))
        assert missing.exit_code == 1
        assert missing.output == f"Error: {base}missing.xml: the server answered 404 File not " \
            "found\n"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    local = tmp_path / "local"
    import_source(str(out / "atom.xml"), local)
    assert tree(tmp_path / "records") == tree(local)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_section_option_and_canonical_links(example, tmp_path):
    _, out = example
    records = tmp_path / "records"
    result = run("import", "-q", str(out / "sport" / "feed.xml"), "--to", str(records),
                 "--section", "Wire", "--canonical")
    assert result.exit_code == 0, result.output
    for path in records.rglob("*.json"):
        record = json.loads(path.read_text())
        assert record["section"] == "Wire"
        assert "Sport" in record["tags"]
        assert record["canonical_url"].startswith("https://news.example.org/sport/")
    shutil.rmtree(records)


def test_problems_are_coloured_on_a_terminal_unless_no_color(tmp_path):
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "T",
                                "items": [{"id": "1", "content_text": "Text only.",
                                           "date_published": "2026-02-01T10:00:00Z"}]}))
    runner = CliRunner()
    args = ["import", "-q", str(feed), "--to", str(tmp_path / "records")]
    coloured = runner.invoke(main, args, color=True, env={"NO_COLOR": None})
    assert coloured.exit_code == 0
    assert coloured.output.startswith("\x1b[33m") and "title: none in the source" in \
        coloured.output
    (tmp_path / "records").rename(tmp_path / "first")
    plain = runner.invoke(main, args, color=True, env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain.output
    assert plain.output == click.unstyle(coloured.output)
