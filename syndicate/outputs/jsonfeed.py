"""JSON Feed 1.1 documents, as plain JSON from the same model as RSS and Atom.

Top level: version, title, home_page_url, feed_url, description, language, favicon,
authors, and `next_url` to the next older RFC 5005-style archive page. Items: id, url, title,
content_html, summary, image, date_published, date_modified, authors, tags. Keys keep a
fixed order and each item is serialised once per render (`FeedEntries`). Reads `[feeds] json`
and `[site]`.
"""

from __future__ import annotations

import math
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from ..site import Site
from ..text import clean_line
from ..xmlutil import w3c_datetime
from .feedmodel import FeedItem, FeedPage, file_path

if TYPE_CHECKING:
    from .feedentries import FeedEntries

VERSION = "https://jsonfeed.org/version/1.1"
INDENT = 2
ITEMS_CLOSING = b"\n" + b" " * INDENT + b"]\n}\n"


def item_object(item: FeedItem) -> dict[str, Any]:
    """Return the JSON Feed item for `item`."""
    data: dict[str, Any] = {
        "id": item.id,
        "url": item.url,
        "title": item.title,
        "content_html": item.content_html,
        "summary": item.summary,
    }
    if item.image is not None:
        data["image"] = item.image.url
    data["date_published"] = w3c_datetime(item.published)
    data["date_modified"] = w3c_datetime(item.updated)
    data["authors"] = [{"name": a.name, "url": a.url} for a in item.authors]
    data["tags"] = list(item.categories)
    return data


def _dumps(value: Any, level: int = 0) -> str:
    """Return what json.dumps(value, ensure_ascii=False, indent=INDENT) returns, for the JSON
    values feeds hold (dicts with string keys, lists, tuples, strings, numbers, booleans, None).

    json.dumps writes indented JSON with its pure-Python encoder, which makes a cycle of
    closures at every call. A build pauses and freezes the cyclic collector while it plans
    and commits (syndicate.collector), so each call's cycle stayed until the build ended:
    about 1 KB for every item and document of every JSON feed (27 MB of a 10,000-story
    one-process build). This recursion leaves no cycles, and strings go through the same C
    escaping as json.dumps's."""
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float_text(value)
    inner = "\n" + " " * (INDENT * (level + 1))
    outer = "\n" + " " * (INDENT * level)
    if isinstance(value, dict):
        if not value:
            return "{}"
        fields = [f"{encode_basestring(_key(key))}: {_dumps(item, level + 1)}"
                  for key, item in value.items()]
        return "{" + inner + ("," + inner).join(fields) + outer + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[" + inner + ("," + inner).join(_dumps(item, level + 1) for item in value) \
            + outer + "]"
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"keys must be str, not {type(key).__name__}")
    return key


def _float_text(number: float) -> str:
    """Spell a float as json.dumps does (its defaults allow NaN and the infinities)."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return float.__repr__(number)


def serialised_item(item: FeedItem) -> bytes:
    """Return `item` serialised (UTF-8) and indented for a document's `items` array."""
    pad = " " * (2 * INDENT)
    # JSON strings never hold a raw newline, so every line is a line of structure.
    lines = _dumps(item_object(item)).split("\n")
    return "\n".join(pad + line for line in lines).encode("utf-8")


def document(site: Site, page: FeedPage, cache: FeedEntries) -> bytes:
    """Return one JSON Feed document: the page's articles, newest first."""
    config = site.config
    feed = page.feed
    head: dict[str, Any] = {
        "version": VERSION,
        "title": feed.title,
        "home_page_url": feed.page_url,
        "feed_url": site.url(file_path(feed, config.feeds.json)),
        "description": feed.description,
        "language": config.site.language,
    }
    if site.favicon is not None:
        head["favicon"] = site.favicon.url
    publisher = clean_line(config.site.publisher or config.site.title)
    head["authors"] = [{"name": publisher, "url": site.base_url}]
    if page.older:
        head["next_url"] = site.url(file_path(feed, config.feeds.json, page.older))
    # Serialise the head with an empty items array, then put the cached items in it.
    text = _dumps({**head, "items": []})
    if not page.articles:
        return (text + "\n").encode("utf-8")
    if not text.endswith('"items": []\n}'):  # pragma: no cover - json changed its layout
        raise RuntimeError("unexpected JSON layout")
    items = b",\n".join([cache(article).json for article in page.articles])
    return b"".join([text[: -len("[]\n}")].encode("utf-8"), b"[\n", items, ITEMS_CLOSING])
