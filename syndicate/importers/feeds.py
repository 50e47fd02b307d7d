"""Read RSS 2.0 (and 1.0), Atom 1.0 and JSON Feed 1.x items as records.

Mapping: guid / atom:id / id -> id; pubDate / published / date_published -> published;
updated / date_modified -> updated; dc:creator, author -> authors; the first category (or
JSON Feed tag) -> section, the rest -> tags; content:encoded / content / content_html ->
body, else description / summary / content_text; media:content, enclosure, image -> images.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element, tostring

from .. import text
from .common import (
    NAMESPACES,
    Item,
    child_text,
    dimension,
    format_date,
    local_name,
    looks_like_image,
    ns,
    parse_date,
    record_id,
    slug_from_link,
)

ATOM = ns("atom")
MEDIA = ns("media")


def rss_items(root: Element) -> list[Item]:
    """Return the items of an RSS 2.0 (or RSS 1.0 / RDF) document."""
    channel = root.find("channel")
    if channel is None:
        channel = root.find("rss1:channel", NAMESPACES)
    elements = root.findall("channel/item") or root.findall("rss1:item", NAMESPACES)
    items = []
    for index, element in enumerate(elements, 1):
        items.append(_rss_item(element, index, channel))
    return items


def _rss_item(element: Element, index: int, channel: Element | None) -> Item:
    title = text.html_to_text(child_text(element, "title") or child_text(element, "rss1:title"))
    item = Item(label=f'item {index} "{title[:60]}"' if title else f"item {index}")
    link = child_text(element, "link") or child_text(element, "rss1:link")
    guid = child_text(element, "guid") or element.get(ns("rdf") + "about", "")
    dates = [child_text(element, "pubDate"), child_text(element, "dc:date")]
    published = next((d for d in map(parse_date, dates) if d), None)
    if published is None and any(dates):
        item.note("published", f'"{next(d for d in dates if d)}" is not a date')
    content = child_text(element, "content:encoded")
    description = child_text(element, "description") or child_text(element, "rss1:description")
    body, summary = (content, description) if content else (description, "")
    authors: list[dict[str, str]] = [{"name": creator.text.strip()}
                                     for creator in element.findall("dc:creator", NAMESPACES)
                                     if creator.text and creator.text.strip()]
    for author in element.findall("author"):
        parsed = _rss_author(author.text or "")
        if parsed and parsed["name"] not in {a["name"] for a in authors}:
            authors.append(parsed)
    categories = [c.text.strip() for c in element.findall("category") if c.text and c.text.strip()]
    categories += [c.text.strip() for c in element.findall("dc:subject", NAMESPACES)
                   if c.text and c.text.strip()]
    images = _media_images(element)
    for enclosure in element.findall("enclosure"):
        url = enclosure.get("url", "")
        if url and looks_like_image(url, enclosure.get("type", "")):
            images.append({"src": url})
        elif url:
            item.note("enclosure", f"{url} is not an image; not imported")
    if element.find("comments") is not None:
        item.note("comments", "comment links are not imported")
    item.record = _record(title, guid, link, published, None, authors, categories, body, "html",
                          summary, images, item)
    return item


def _rss_author(value: str) -> dict[str, str] | None:
    """Read RSS `<author>`: "email (Name)", "Name <email>", an email or a name."""
    value = value.strip()
    match = re.fullmatch(r"(\S+@\S+)\s*\((.+)\)", value) or re.fullmatch(
        r"(.+?)\s*<(\S+@\S+)>", value)
    if match:
        first, second = match.groups()
        email, name = (first, second) if "@" in first else (second, first)
        return {"name": name.strip(), "email": email}
    if "@" in value and " " not in value:
        return {"name": value.split("@")[0], "email": value}
    return {"name": value} if value else None


def atom_items(root: Element) -> list[Item]:
    """Return the entries of an Atom 1.0 feed; entries without authors take the feed's."""
    feed_authors = _atom_authors(root)
    items = []
    for index, entry in enumerate(root.findall(f"{ATOM}entry"), 1):
        items.append(_atom_entry(entry, index, feed_authors))
    return items


def _atom_authors(element: Element) -> list[dict[str, str]]:
    authors = []
    for author in element.findall(f"{ATOM}author"):
        person = {"name": child_text(author, "atom:name"),
                  "email": child_text(author, "atom:email"),
                  "url": child_text(author, "atom:uri")}
        if person["name"]:
            authors.append({k: v for k, v in person.items() if v})
    return authors


def _atom_text(element: Element | None) -> tuple[str, str]:
    """Return (markup or text, "html" or "text") of an Atom text construct."""
    if element is None:
        return "", "html"
    kind = element.get("type", "text")
    if kind == "xhtml":
        container = element.find(ns("xhtml") + "div")
        container = container if container is not None else element
        for node in container.iter():
            node.tag = local_name(node)
        inner = (container.text or "") + "".join(
            tostring(child, encoding="unicode", method="html") for child in container)
        return inner.strip(), "html"
    if kind in ("html", "text/html"):
        return (element.text or "").strip(), "html"
    return (element.text or "").strip(), "text"


def _atom_entry(entry: Element, index: int, feed_authors: list[dict[str, str]]) -> Item:
    title_markup, title_kind = _atom_text(entry.find(f"{ATOM}title"))
    title = text.html_to_text(title_markup) if title_kind == "html" else text.clean_line(
        title_markup)
    item = Item(label=f'entry {index} "{title[:60]}"' if title else f"entry {index}")
    link = ""
    images = _media_images(entry)
    for candidate in entry.findall(f"{ATOM}link"):
        rel = candidate.get("rel", "alternate")
        href = candidate.get("href", "")
        if rel == "alternate" and not link:
            link = href
        elif rel == "enclosure" and looks_like_image(href, candidate.get("type", "")):
            images.append({"src": href})
    published_text = child_text(entry, "atom:published")
    updated_text = child_text(entry, "atom:updated")
    published = parse_date(published_text) or parse_date(updated_text)
    updated = parse_date(updated_text)
    if published is None and (published_text or updated_text):
        item.note("published", f'"{published_text or updated_text}" is not an RFC 3339 date')
    content = entry.find(f"{ATOM}content")
    if content is not None and content.get("src"):
        item.note("content", f"out-of-line content ({content.get('src')}) is not fetched")
        content = None
    body, body_format = _atom_text(content)
    summary_markup, summary_kind = _atom_text(entry.find(f"{ATOM}summary"))
    summary = summary_markup
    if not body:
        body, body_format, summary = summary_markup, summary_kind, ""
    elif summary_kind == "text":
        summary = text.clean_line(summary_markup)
    categories = [c.get("label") or c.get("term", "") for c in entry.findall(f"{ATOM}category")]
    item.record = _record(title, child_text(entry, "atom:id"), link, published, updated,
                          _atom_authors(entry) or feed_authors, categories, body, body_format,
                          summary, images, item)
    return item


def json_feed_items(data: dict[str, Any]) -> list[Item]:
    """Return the items of a JSON Feed 1.0 or 1.1 document."""
    feed_authors = _json_authors(data)
    items = []
    for index, entry in enumerate(data.get("items") or [], 1):
        if not isinstance(entry, dict):
            items.append(Item(label=f"item {index}", skip="is not an object"))
            continue
        items.append(_json_item(entry, index, feed_authors))
    return items


def _string(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    return value.strip() if isinstance(value, str) else ""


def _json_authors(entry: dict[str, Any]) -> list[dict[str, str]]:
    people = entry.get("authors")
    if not isinstance(people, list):
        people = [entry["author"]] if isinstance(entry.get("author"), dict) else []  # JSON Feed 1.0
    authors = []
    for person in people:
        if isinstance(person, dict) and _string(person, "name"):
            author = {"name": _string(person, "name"), "url": _string(person, "url")}
            authors.append({k: v for k, v in author.items() if v})
    return authors


def _json_item(entry: dict[str, Any], index: int, feed_authors: list[dict[str, str]]) -> Item:
    title = text.clean_line(_string(entry, "title"))
    item = Item(label=f'item {index} "{title[:60]}"' if title else f"item {index}")
    published_text = _string(entry, "date_published")
    published = parse_date(published_text)
    if published is None and published_text:
        item.note("date_published", f'"{published_text}" is not an RFC 3339 date')
    updated = parse_date(_string(entry, "date_modified"))
    body, body_format = _string(entry, "content_html"), "html"
    if not body:
        body, body_format = _string(entry, "content_text"), "text"
    images: list[dict[str, Any]] = []
    for key in ("image", "banner_image"):
        if _string(entry, key):
            images.append({"src": _string(entry, key)})
    for attachment in entry.get("attachments") or []:
        if isinstance(attachment, dict) and _string(attachment, "url"):
            if looks_like_image(_string(attachment, "url"), _string(attachment, "mime_type")):
                images.append({"src": _string(attachment, "url")})
            else:
                item.note("attachments", f"{_string(attachment, 'url')} is not an image; "
                          "not imported")
    tags = [t for t in entry.get("tags") or [] if isinstance(t, str)]
    item.record = _record(title, _string(entry, "id") or str(entry.get("id") or ""),
                          _string(entry, "url"), published, updated,
                          _json_authors(entry) or feed_authors, tags, body, body_format,
                          _string(entry, "summary"), images, item)
    if _string(entry, "external_url"):
        item.note("external_url", "not imported (use --canonical to keep the item's url)")
    return item


def _media_images(element: Element) -> list[dict[str, Any]]:
    """Return Media RSS pictures: media:content (also inside media:group), with thumbnails
    of the same picture as smaller `sources`."""
    contents = element.findall(f"{MEDIA}content") + element.findall(f"{MEDIA}group/{MEDIA}content")
    images = []
    for content in contents:
        url = content.get("url", "")
        if not url or not looks_like_image(url, content.get("type", ""),
                                           content.get("medium", "")):
            continue
        image: dict[str, Any] = {"src": url}
        caption = child_text(content, "media:description") or child_text(element,
                                                                          "media:description")
        credit = child_text(content, "media:credit") or child_text(element, "media:credit")
        alt = child_text(content, "media:title")
        width, height = dimension(content.get("width")), dimension(content.get("height"))
        for key, value in (("caption", caption), ("credit", credit), ("alt", alt),
                           ("width", width), ("height", height)):
            if value:
                image[key] = text.html_to_text(value) if isinstance(value, str) else value
        images.append(image)
    thumbnail = element.find(f"{MEDIA}thumbnail")
    if images and thumbnail is not None and images[0].get("width"):
        width = dimension(thumbnail.get("width"))
        if thumbnail.get("url") and width and width < images[0]["width"]:
            images[0]["sources"] = [{"src": thumbnail.get("url"), "width": width},
                                    {"src": images[0]["src"], "width": images[0]["width"]}]
    return images


def _record(title: str, guid: str, link: str, published: Any, updated: Any,
            authors: list[dict[str, str]], categories: list[str], body: str, body_format: str,
            summary: str, images: list[dict[str, Any]], item: Item) -> dict[str, Any]:
    """Assemble the fields every feed format shares; the importer finishes the record."""
    record: dict[str, Any] = {
        "id": record_id(guid, link),
        "title": title,
        "body": body,
        "body_format": body_format,
        "authors": authors,
        "categories": [text.clean_line(c) for c in categories if text.clean_line(c)],
        "summary": text.html_to_text(summary) if summary else "",
        "images": _unique(images),
        "link": link,
        "slug": slug_from_link(link),
    }
    if published is not None:
        record["published"] = format_date(published)
    if updated is not None and (published is None or updated > published):
        record["updated"] = format_date(updated)
    return record


def _unique(images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the first (richest) entry for each picture: media:content before an enclosure."""
    seen: set[str] = set()
    kept = []
    for image in images:
        if image["src"] not in seen:
            seen.add(image["src"])
            kept.append(image)
    return kept
