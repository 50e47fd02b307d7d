"""`feeds.opml`: an OPML 2.0 subscription list of every feed, which a reader can import.

One outline per logical feed (RSS if written, else Atom, else JSON Feed), grouped as the
site, then Sections, Tags and Authors, in a fixed order. Reads `[feeds]` and `[site]`.
"""

from __future__ import annotations

from email.utils import format_datetime
from itertools import groupby

from ..site import Site
from ..text import clean_line
from ..xmlutil import attr, esc
from .feedmodel import Feed, file_path, utc

GROUPS = {"section": "Sections", "tag": "Tags", "author": "Authors"}
OUTLINE_TYPES = {"rss": "rss", "atom": "rss", "json": "rss"}


def document(site: Site, feeds: list[Feed]) -> bytes:
    """Return the OPML file listing `feeds`."""
    config = site.config
    formats = [fmt for fmt in ("rss", "atom", "json") if fmt in config.feeds.formats]
    names = {"rss": config.feeds.rss, "atom": config.feeds.atom, "json": config.feeds.json}
    newest = max((a.updated for a in site.articles), default=site.now)
    title = clean_line(config.site.title)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{esc(title)}: feeds</title>",
        f"    <dateCreated>{format_datetime(utc(newest))}</dateCreated>",
        f"    <ownerName>{esc(clean_line(config.site.publisher or title))}</ownerName>",
        "    <docs>http://opml.org/spec2.opml</docs>",
        "  </head>",
        "  <body>",
    ]

    def outline(feed: Feed, indent: str) -> str:
        fmt = formats[0]
        return (f"{indent}<outline type={attr(OUTLINE_TYPES[fmt])} text={attr(feed.name)} "
                f"title={attr(feed.title)} description={attr(feed.description)} "
                f"xmlUrl={attr(site.url(file_path(feed, names[fmt])))} "
                f"htmlUrl={attr(feed.page_url)} language={attr(config.site.language)}/>")

    if formats:
        for kind, group in groupby(feeds, key=lambda f: f.kind):
            if kind == "site":
                lines.extend(outline(feed, "    ") for feed in group)
                continue
            lines.append(f"    <outline text={attr(GROUPS[kind])}>")
            lines.extend(outline(feed, "      ") for feed in group)
            lines.append("    </outline>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")
