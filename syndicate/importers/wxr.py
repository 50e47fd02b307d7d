"""Read a WordPress export (WXR 1.0 to 1.2) as records.

Posts become records; pages, attachments, menu items and revisions are skipped (each one
reported). Mapping: guid -> id (else wp:post_id); wp:post_name -> slug; wp:post_date_gmt
(else wp:post_date, in the site's time zone) -> published; wp:post_modified_gmt -> updated;
dc:creator and Co-Authors Plus terms -> authors (display names and e-mails); the first
category -> section, other categories and the post tags -> tags; content:encoded -> body
(paragraphs added as WordPress shows them); excerpt:encoded -> summary; the _thumbnail_id
attachment -> the lead image; wp:status other than publish -> draft.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

from .. import text
from .common import (
    NAMESPACES,
    Item,
    child_text,
    format_date,
    ns,
    paragraphs,
    parse_date,
    record_id,
)

_WP = re.compile(r"\{http://wordpress\.org/export/[0-9.]+/\}")
_EXCERPT = re.compile(r"\{http://wordpress\.org/export/[0-9.]+/excerpt/\}")
DRAFT_STATUSES = {"draft", "pending", "private", "future"}
_SHORTCODE = re.compile(r"\[(/?)([a-zA-Z][\w-]*)([^\]]*)\]")
_CAPTION = re.compile(r"\[caption[^\]]*\](.*?)\[/caption\]", re.DOTALL | re.IGNORECASE)


def is_wxr(root: Element) -> bool:
    """Whether an RSS document is a WordPress export (it uses the wp: namespace)."""
    return any(_WP.match(element.tag) for element in root.iter() if isinstance(element.tag, str))


def _normalise(root: Element) -> None:
    """Read every WXR version's namespaces as 1.2's (the fields this reads did not change)."""
    wp, excerpt = ns("wp"), ns("excerpt")
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = _WP.sub(wp, _EXCERPT.sub(excerpt, element.tag))


def _wp(element: Element, name: str) -> str:
    found = element.find(f"wp:{name}", NAMESPACES)
    return (found.text or "").strip() if found is not None else ""


def wxr_items(root: Element) -> list[Item]:
    """Return the posts of a WordPress export, and the other entries as skipped items."""
    _normalise(root)
    channel = root.find("channel")
    if channel is None:
        return []
    authors = {}
    for author in channel.findall("wp:author", NAMESPACES):
        login = _wp(author, "author_login")
        person = {"name": _wp(author, "author_display_name") or login,
                  "email": _wp(author, "author_email")}
        authors[login] = {k: v for k, v in person.items() if v}
    elements = channel.findall("item")
    attachments = {}
    for element in elements:
        if _wp(element, "post_type") == "attachment":
            attachments[_wp(element, "post_id")] = element
    return [_post(element, authors, attachments) for element in elements]


def _meta(element: Element) -> dict[str, str]:
    return {_wp(meta, "meta_key"): _wp(meta, "meta_value")
            for meta in element.findall("wp:postmeta", NAMESPACES)}


def _post(element: Element, authors: dict[str, dict[str, str]],
          attachments: dict[str, Element]) -> Item:
    post_id = _wp(element, "post_id")
    title = text.html_to_text(child_text(element, "title"))
    item = Item(label=f'post {post_id} "{title[:60]}"' if title else f"post {post_id}")
    kind = _wp(element, "post_type") or "post"
    status = _wp(element, "status")
    if kind != "post":
        item.skip = f"is a WordPress {kind}, not an article"
        return item
    if status in ("trash", "auto-draft", "inherit"):
        item.skip = f"has the status {status}"
        return item
    published = (parse_date(_wp(element, "post_date_gmt") + "Z")
                 if parse_date(_wp(element, "post_date_gmt")) else None)
    published = published or parse_date(_wp(element, "post_date"))
    published = published or parse_date(child_text(element, "pubDate"))
    updated = parse_date(_wp(element, "post_modified_gmt"))
    updated = parse_date(_wp(element, "post_modified_gmt") + "Z") if updated else None
    categories = [c for c in element.findall("category") if (c.text or "").strip()]
    # The byline: the post's author, then co-authors (the Co-Authors Plus plugin exports
    # them as terms of its "author" taxonomy).
    logins = [child_text(element, "dc:creator")]
    logins += [c.text.strip() for c in categories if c.get("domain") == "author"]
    byline: dict[str, dict[str, str]] = {}
    for login in filter(None, logins):
        person = authors.get(login) or {"name": login}
        byline.setdefault(person["name"], person)
    sections = [c.text.strip() for c in categories if c.get("domain") == "category"
                and c.get("nicename") != "uncategorized"]
    tags = [c.text.strip() for c in categories if c.get("domain") == "post_tag"]
    other = sorted({c.get("domain", "") for c in categories}
                   - {"category", "post_tag", "author"})
    for domain in other:
        item.note("category", f'terms of the taxonomy "{domain}" are not imported')
    body = _body(child_text(element, "content:encoded"), item)
    record: dict[str, Any] = {
        "id": record_id(child_text(element, "guid"), f"wp-{post_id}" if post_id else ""),
        "title": title,
        "body": body,
        "body_format": "html",
        "authors": list(byline.values()),
        "categories": sections[:1],
        "extra_tags": sections[1:] + tags,
        "summary": text.html_to_text(child_text(element, "excerpt:encoded")),
        "images": _thumbnail(element, attachments, item),
        "link": child_text(element, "link"),
        "slug": _slug(_wp(element, "post_name")),
    }
    if published is not None:
        record["published"] = format_date(published)
    if updated is not None and published is not None and published.tzinfo is not None \
            and updated > published:
        record["updated"] = format_date(updated)
    if status != "publish":
        record["draft"] = True
        if status in DRAFT_STATUSES - {"draft"}:
            item.note("status", f'"{status}" imported as a draft')
    if _wp(element, "post_password"):
        record["draft"] = True
        item.note("post_password", "password-protected; imported as a draft")
    comments = len(element.findall("wp:comment", NAMESPACES))
    if comments:
        item.note("comments", f"{comments} comment{'s' if comments != 1 else ''} not imported")
    custom = sorted(key for key in _meta(element) if key and not key.startswith("_"))
    for key in custom:
        item.note("postmeta", f'custom field "{key}" not imported')
    item.record = record
    return item


def _slug(post_name: str) -> str:
    from urllib.parse import unquote

    name = unquote(post_name).lower()
    if text.SLUG_PATTERN.fullmatch(name) and len(name) <= text.MAX_SLUG:
        return name
    return text.slugify(name)


def _body(content: str, item: Item) -> str:
    """Return a post's HTML as WordPress would show it: captions as figures, paragraphs."""

    def figure(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        image = re.match(r"(<a\b[^>]*>\s*<img\b[^>]*>\s*</a>|<img\b[^>]*>)", inner)
        if not image:
            return inner
        caption = inner[image.end():].strip()
        return f"<figure>{image.group(1)}<figcaption>{caption}</figcaption></figure>"

    body = _CAPTION.sub(figure, content)
    left = sorted({m.group(2) for m in _SHORTCODE.finditer(body) if not m.group(1)
                   and _looks_like_shortcode(m)})
    for name in left:
        item.note("body", f"shortcode [{name}] left as text")
    return paragraphs(body)


def _looks_like_shortcode(match: re.Match[str]) -> bool:
    """Tell `[gallery ids="1,2"]` from bracketed prose such as `[sic]` or `[1]`."""
    return bool(match.group(3).strip()) or match.group(2).lower() in {
        "gallery", "audio", "video", "playlist", "embed", "caption"}


def _thumbnail(element: Element, attachments: dict[str, Element], item: Item
               ) -> list[dict[str, Any]]:
    """Return the featured image: the attachment that `_thumbnail_id` names."""
    thumbnail_id = _meta(element).get("_thumbnail_id", "")
    if not thumbnail_id:
        return []
    attachment = attachments.get(thumbnail_id)
    if attachment is None:
        item.note("_thumbnail_id", f"attachment {thumbnail_id} is not in the export; "
                  "featured image not imported")
        return []
    url = _wp(attachment, "attachment_url") or child_text(attachment, "guid")
    image: dict[str, Any] = {"src": url}
    meta = _meta(attachment)
    size = re.search(r's:5:"width";i:(\d+);s:6:"height";i:(\d+);',
                     meta.get("_wp_attachment_metadata", ""))
    if size:
        image["width"], image["height"] = int(size.group(1)), int(size.group(2))
    caption = text.html_to_text(child_text(attachment, "excerpt:encoded"))
    alt = text.clean_line(meta.get("_wp_attachment_image_alt", ""))
    if caption:
        image["caption"] = caption
    if alt:
        image["alt"] = alt
    return [image]
