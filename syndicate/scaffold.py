"""`syndicate init`: write a new site (a commented config, three example articles, an
empty templates folder) that builds as it is.

The config is written from the schema in syndicate/config.py, so it lists every key with its
default and documentation and can never drift from what `load_config` accepts.
"""

from __future__ import annotations

import json
import re
import struct
import textwrap
import zlib
from pathlib import Path
from typing import Any

from .config import reference
from .errors import SyndicateError

SITE_TITLE = "The Example Gazette"
SITE_URL = "https://news.example.com/"
# Keys init sets instead of leaving them at their (commented) defaults.
SET_KEYS: dict[tuple[str, str], Any] = {
    ("site", "title"): SITE_TITLE,
    ("site", "base_url"): SITE_URL,
    ("site", "description"): "Local news, written by people who live here.",
    ("content", "templates"): "templates",
}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_value(value: Any) -> str:
    """Return `value` as a TOML literal (the config schema uses only these types)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string: the same escapes, in the same quotes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(key)} = {toml_value(item)}" for key, item in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"no TOML form for {type(value).__name__}")  # pragma: no cover


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def config_toml() -> str:
    """Return a config.toml listing every key: set ones first-class, the rest commented out."""
    lines = [
        f"# config.toml for {SITE_TITLE}, written by `syndicate init`.",
        "# Every key is listed with its documentation and its default, commented out:",
        "# uncomment a line to change it. Only [site] title and base_url are required.",
        "# Relative paths resolve against this file's folder. Reference: docs/config.md.",
    ]
    table = ""
    for name, key, _kind, default, doc in reference():
        if name != table:
            table = name
            lines += ["", f"[{name}]"]
        lines += textwrap.wrap(doc, 96, initial_indent="# ",
                               subsequent_indent="# ", break_on_hyphens=False)
        if (name, key) in SET_KEYS:
            lines.append(f"{key} = {toml_value(SET_KEYS[name, key])}")
        else:
            lines.append(f"# {key} = {toml_value(default)}")
    return "\n".join(lines) + "\n"


def gradient_png(width: int, height: int, top: tuple[int, int, int],
                 bottom: tuple[int, int, int]) -> bytes:
    """Return a PNG of a vertical gradient: an example picture that needs no binary file."""
    rows = []
    for y in range(height):
        share = y / max(height - 1, 1)
        colour = bytes(round(a + (b - a) * share) for a, b in zip(top, bottom, strict=True))
        rows.append(b"\x00" + colour * width)  # filter byte 0, then RGB pixels

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


WELCOME_MD = """\
+++
id = "welcome"
title = "Welcome to your new newsroom site"
published = 2026-01-12T08:00:00Z
section = "News"
authors = ["The Editors"]
tags = ["Getting started"]
priority = 3
+++

This story is a Markdown record: TOML front matter between two `+++` lines, then the body.
Edit this file while `syndicate serve` runs and the page in your browser reloads by itself.

## What to try next

- Change the headline above and save.
- Add a file to `articles/`: a `.md` file like this one, or a `.json` file like the others.
- Run `syndicate check` to see every problem in every record, one line each.

When you are ready, replace these three stories with your own, or bring your archive over
with `syndicate import`.
"""


def example_records() -> dict[str, str]:
    """Return the two JSON example records, pretty-printed, by path."""
    harbour = {
        "id": "harbour-lights",
        "title": "Harbour lights switched on for the winter season",
        # A fixed slug keeps the page's URL when the headline is edited.
        "slug": "harbour-lights",
        "published": "2026-01-10T17:30:00Z",
        "section": "Local",
        "authors": [{"name": "Ada Brennan", "email": "ada@example.com"}],
        "summary": "Volunteers lit the old harbour lamps on Saturday evening, a week earlier "
                   "than last year.",
        "tags": ["Harbour", "Volunteers"],
        "priority": 5,
        "images": [{
            "src": "images/harbour-dusk.png",
            "alt": "A sky fading from deep blue to amber over the water.",
            "caption": "Dusk over the harbour, just before the lamps came on.",
            "credit": "Picture: The Example Gazette",
        }],
        "body": "<p>Forty volunteers gathered on the quay on Saturday to switch on the harbour "
                "lamps, which will stay lit every evening until the spring.</p>\n"
                "<p>The lamps were restored last year after a public appeal. \"People come down "
                "just to walk under them,\" said one of the organisers.</p>\n"
                "<p>This record is JSON with an HTML body. Its picture is a file next to it in "
                "<code>articles/images/</code>; syndicate reads its size and publishes it under "
                "<code>/media/</code>. Its <code>slug</code> keeps its URL when the headline "
                "changes.</p>",
    }
    council = {
        "id": "council-budget",
        "title": "Council sets out spending plans for the coming year",
        "published": "2026-01-11T12:00:00Z",
        "updated": "2026-01-11T15:45:00Z",
        "section": "Politics",
        "authors": ["Sam Okafor", "Ada Brennan"],
        "tags": ["Council", "Budget"],
        "priority": 4,
        "body_format": "markdown",
        "body": "The town council has published its draft budget, with more money for road "
                "repairs and the library, and a small rise in parking charges.\n\n"
                "Residents can comment on the plans until the end of the month.\n\n"
                "This record is JSON too, but its body is Markdown (`\"body_format\": "
                "\"markdown\"`). It was updated after it was published, so feeds and pages "
                "show both times.\n",
    }
    return {
        "articles/harbour-lights.json": json.dumps(harbour, indent=2, ensure_ascii=False) + "\n",
        "articles/council-budget.json": json.dumps(council, indent=2, ensure_ascii=False) + "\n",
    }


TEMPLATES_README = """\
# Template overrides

syndicate renders pages and the digest from built-in Jinja templates. A file in this folder
with the same name as a built-in template replaces it (config.toml says
`[content] templates = "templates"`). Start from the built-in one and change only the block
you need:

```jinja
{% extends "default:article.html" %}
{% block main %}
  <p class="notice">Our newsroom is on strike today.</p>
  {{ super() }}
{% endblock %}
```

`default:NAME` always means the built-in template, so an override can extend the template it
replaces. The most specific name wins: `article-sport.html` is used for articles in the
Sport section, then `article.html` for all others. The built-in templates, and the names
each page tries, are listed in docs/templates.md.

While `syndicate serve` runs, saving a template rebuilds the site, and a template error is
shown in the browser and in the terminal.
"""


def site_files() -> dict[str, bytes]:
    """Return every file `init` writes, by path relative to the new site's folder."""
    files: dict[str, str | bytes] = {
        "config.toml": config_toml(),
        "articles/welcome.md": WELCOME_MD,
        **example_records(),
        "articles/images/harbour-dusk.png": gradient_png(1200, 675, (22, 38, 74), (226, 150, 72)),
        "templates/README.md": TEMPLATES_README,
    }
    return {path: data if isinstance(data, bytes) else data.encode("utf-8")
            for path, data in files.items()}


def init_site(target: Path | str) -> list[str]:
    """Write a new site into `target`; return the paths written.

    Raise SyndicateError, writing nothing, if any of the files already exists.
    """
    root = Path(target)
    files = site_files()
    if root.exists() and not root.is_dir():
        raise SyndicateError(f"{root} is not a folder; nothing was written")
    for path in files:
        existing = root / path
        if existing.exists() or existing.is_symlink():
            raise SyndicateError(f"{existing} already exists; nothing was written "
                                 "(init only writes into a new or empty folder)")
    for path, data in files.items():
        destination = root / path
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            with destination.open("xb") as handle:  # "x": never clobber a file made since
                handle.write(data)
        except OSError as exc:
            raise SyndicateError(f"{destination}: {exc.strerror or exc}") from None
    return list(files)
