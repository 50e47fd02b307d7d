"""The feedgen wrapper shared by the RSS and Atom writers.

feedgen 1.0.0 builds every element, but it has traps, each defused here:
- it stamps `updated`/`lastBuildDate` with the wall clock: `base_generator` sets them from
  the newest item, and every entry's `updated` is set explicitly;
- `add_entry()` prepends: entries are never added to a generator at all (see below);
- naive datetimes and XML-invalid characters raise: the model is UTC and scrubbed;
- the RSS channel `<link>` is the last `link()` call: the alternate link is added last;
- Atom entry links lose `rel` and `type` (feedgen issue #135): `atom_entry_element` puts
  them back;
- `content:encoded` appears only beside a description: every entry has both;
- RSS `<author>` needs an e-mail address: bylines go to `dc:creator`.

Texts that look like markup ("<b>", "&amp;") are written so that readers, which render RSS
titles as HTML, show them as written: escaped once more in RSS (RSS Profile), and as
`type="html"` in Atom.

For speed, each article's feedgen entry is serialised once per render (`entry_fragments`,
kept by `feedentries.FeedEntries`); a document is feedgen's channel or feed head with those
serialised entries spliced in, byte for byte what lxml would write for the whole tree.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from urllib.parse import urlsplit

from feedgen.entry import FeedEntry
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from .. import __version__
from ..site import Site
from ..text import clean_line
from .feedext import (
    ATOM_NS,
    CONTENT_NS,
    DC_NS,
    MEDIA_NS,
    CaptionedMediaEntryExtension,
    HistoryExtension,
    MediaExtension,
)
from .feedmodel import (
    MEDIA_TYPES,
    FeedItem,
    FeedPage,
    file_path,
    looks_like_markup,
    rss_text,
)

RSS_DOCS = "https://www.rssboard.org/rss-specification"
# The namespaces a serialised entry may use; the document roots declare the same prefixes.
RSS_ENTRY_NSMAP = {"atom": ATOM_NS, "content": CONTENT_NS, "dc": DC_NS, "media": MEDIA_NS}
ATOM_ENTRY_NSMAP = {"media": MEDIA_NS}


def new_entry(item: FeedItem) -> FeedEntry:
    """Return a feedgen entry for `item`, set up for RSS; `atom_entry_element` adapts the
    few texts that Atom carries differently."""
    entry = FeedEntry()
    entry.register_extension("media", CaptionedMediaEntryExtension, atom=True, rss=True)
    entry.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    entry.title(rss_text(item.title))
    entry.guid(item.id, permalink=item.permalink)
    entry.link(href=item.url, rel="alternate", type="text/html")
    # RSS <description> is HTML: the plain summary is escaped once more. Set before
    # summary() and content(), which would otherwise fill it in themselves.
    entry.description(html.escape(item.summary, quote=False))
    entry.summary(item.summary, type="text")
    entry.content(item.content_html, type="html")
    entry.published(item.published)
    entry.updated(item.updated)
    entry.author([{"name": a.name, "uri": a.url} for a in item.authors])
    entry.dc.dc_creator([a.name for a in item.authors])
    # Categories and credits stay plain: readers show them as text, not HTML.
    entry.category([{"term": name} for name in item.categories])
    image = item.image
    if image is not None:
        entry.enclosure(image.url, str(image.length), image.media_type)
        content = {"url": image.url, "medium": "image", "type": image.media_type}
        if image.width and image.height:
            content.update(width=str(image.width), height=str(image.height))
        if image.length:
            content["fileSize"] = str(image.length)
        entry.media.content(content, group=None)
        thumbnail = {"url": image.thumbnail_url}
        if image.thumbnail_width and image.thumbnail_height:
            thumbnail.update(width=str(image.thumbnail_width),
                             height=str(image.thumbnail_height))
        entry.media.thumbnail(thumbnail, group=None)
        caption, kind = image.caption, "plain"
        if looks_like_markup(caption):
            caption, kind = html.escape(caption, quote=False), "html"
        entry.media.caption(image.url, caption, image.credit, kind)
    return entry


def set_atom_text(element: etree._Element, text: str) -> None:
    """Fill an Atom text construct: plain text, or escaped HTML when the text looks like
    markup, so that no reader (or validator) mistakes it for tags."""
    if looks_like_markup(text):
        element.text = html.escape(text, quote=False)
        element.set("type", "html")
    else:
        element.text = text


def atom_entry_element(entry: FeedEntry, item: FeedItem) -> etree._Element:
    """Return feedgen's Atom entry with the link `rel`, `type` and `length` it drops put back
    (feedgen issue #135), and with plain texts rather than the RSS-escaped ones."""
    element = entry.atom_entry()
    for node, spec in zip(element.findall("link"), entry.link(), strict=True):
        for key in ("rel", "type", "hreflang", "title"):
            if spec.get(key):
                node.set(key, spec[key])
        if spec.get("length") and spec["length"] != "0":
            node.set("length", spec["length"])
    set_atom_text(element.find("title"), item.title)
    summary = element.find("summary")
    set_atom_text(summary, item.summary)
    if summary.get("type") != "html":
        summary.set("type", "text")
    return element


def _pretty(root: etree._Element) -> bytes:
    return etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=False)


def mark_references(document: bytes) -> bytes:
    """Write `&` as `&#x26;` where it starts a character reference in the text (`&amp;#x`):
    the same XML, but the W3C validator then sees that the reference is deliberate (RSS
    Profile) instead of warning that plain text holds HTML."""
    return document.replace(b"&amp;#x", b"&#x26;#x")


_RSS_CATEGORY = re.compile(rb"(<category>)(.*?)(</category>)")


def profile_categories(document: bytes) -> bytes:
    """Write `&` and `<` in RSS categories as `&#x26;` and `&#x3C;`, as the RSS Profile asks
    of plain text: the same XML, and a reader still gets the category as it was written."""
    def encode(match: re.Match[bytes]) -> bytes:
        text = match.group(2).replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;")
        return match.group(1) + text + match.group(3)

    return _RSS_CATEGORY.sub(encode, document)


def _slice(document: bytes, tag: bytes, indent: bytes) -> bytes:
    """Cut the one pretty-printed `<tag>` element, with its indentation, out of `document`."""
    start = document.index(indent + b"<" + tag + b">")
    closing = indent + b"</" + tag + b">\n"
    return document[start : document.rindex(closing) + len(closing)]


def entry_fragments(item: FeedItem, formats: frozenset[str]) -> tuple[bytes, bytes]:
    """Return the serialised RSS `<item>` and Atom `<entry>` of `item` (empty for a format
    not in `formats`), from one feedgen entry."""
    entry = new_entry(item)
    rss = atom = b""
    if "rss" in formats:
        root = etree.Element("rss", nsmap=RSS_ENTRY_NSMAP)
        etree.SubElement(root, "channel").append(entry.rss_entry())
        rss = profile_categories(mark_references(_slice(_pretty(root), b"item", b"    ")))
    if "atom" in formats:
        root = etree.Element("feed", nsmap=ATOM_ENTRY_NSMAP)
        root.append(atom_entry_element(entry, item))
        atom = mark_references(_slice(_pretty(root), b"entry", b"  "))
    return rss, atom


def base_generator(site: Site, page: FeedPage, fmt: str, updated: datetime) -> FeedGenerator:
    """Return a generator holding a document's head: everything but the entries. `updated`
    is the newest update of its entries.

    Links are added self first and alternate last, because feedgen's RSS channel `<link>` is
    whatever `link()` saw last.
    """
    config = site.config
    feed = page.feed
    file_name = {"rss": config.feeds.rss, "atom": config.feeds.atom}[fmt]
    media_type = MEDIA_TYPES[fmt]
    fg = FeedGenerator()
    fg.register_extension("media", MediaExtension, None, atom=True, rss=True)
    fg.register_extension("dc", DcExtension, None, atom=False, rss=True)
    fg.id(feed.id)
    # Atom texts are fixed up in `atom_head`; RSS channel texts may be read as HTML.
    fg.title(rss_text(feed.title) if fmt == "rss" else feed.title)
    fg.description(rss_text(feed.description) if fmt == "rss" else feed.description)
    fg.language(config.site.language)
    fg.generator("syndicate", version=__version__)
    fg.docs(RSS_DOCS)
    fg.updated(updated)
    fg.author(name=clean_line(config.site.publisher or config.site.title), uri=site.base_url)
    if site.logo is not None:
        fg.logo(site.logo.url)
    if site.favicon is not None:
        fg.icon(site.favicon.url)
    fg.link(href=site.url(file_path(feed, file_name, page.number)), rel="self", type=media_type)
    archive_links = []
    if page.is_archive:
        archive_links.append(("current", 0))
    if page.older:
        archive_links.append(("prev-archive", page.older))
    if page.newer:
        archive_links.append(("next-archive", page.newer))
    if archive_links:
        fg.register_extension("history", HistoryExtension, None, atom=True, rss=True)
        for rel, number in archive_links:
            href = site.url(file_path(feed, file_name, number))
            if fmt == "rss":
                fg.history.link(rel, href, media_type)
            else:
                fg.link(href=href, rel=rel, type=media_type)
        # RFC 5005 archives are marked; an archive with no neighbour is left unmarked,
        # because Atom validators take a marked archive without prev/next as incomplete.
        if page.is_archive and (page.older or page.newer):
            fg.history.mark_archive()
    fg.link(href=feed.page_url, rel="alternate", type="text/html")
    return fg


def atom_head(fg: FeedGenerator, feed_title: str, description: str) -> bytes:
    """Return the Atom head, with title and subtitle marked as HTML where they look like
    markup (feedgen cannot set their type)."""
    head = fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    if not (looks_like_markup(feed_title) or looks_like_markup(description)):
        return head
    root = etree.fromstring(head)
    set_atom_text(root.find(f"{{{ATOM_NS}}}title"), feed_title)
    set_atom_text(root.find(f"{{{ATOM_NS}}}subtitle"), description)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def assemble(head: bytes, closing: bytes, entries: list[bytes], stylesheet: str) -> bytes:
    """Splice serialised entries into a document head before `closing`, and link the
    XSLT stylesheet (if any) right after the XML declaration."""
    if not head.endswith(closing):  # pragma: no cover - a feedgen upgrade changed its output
        raise RuntimeError("unexpected feedgen output: cannot place the entries")
    document = head[: -len(closing)] + b"".join(entries) + closing
    if stylesheet:
        declaration, _, rest = document.partition(b"\n")
        pi = f'<?xml-stylesheet type="text/xsl" href="{stylesheet}"?>'.encode()
        document = declaration + b"\n" + pi + b"\n" + rest
    return document


def stylesheet_href(site: Site) -> str:
    """Return the site-absolute path of the XSLT stylesheet, or "" when it is switched off."""
    if not site.config.feeds.stylesheet:
        return ""
    return urlsplit(site.url("feed.xsl")).path
