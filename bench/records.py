"""Read the records that bench/corpus.py writes, for the Hugo and Pelican converters.

A record comes back as a dict with the corpus fields (id, title, published, updated?, section,
authors, tags, priority, images, related?) plus `body` and `body_format` ("html" for JSON
records, whose body is HTML; "markdown" for the Markdown ones, whose body follows the
TOML front matter).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import tomllib

RECORD_SUFFIXES = (".json", ".md")


def load_record(path: Path) -> dict:
    """Parse one corpus record file."""
    return parse_record(path.read_text(encoding="utf-8"), path.suffix)


def parse_record(text: str, suffix: str) -> dict:
    """Parse the text of a record file whose name ends in `suffix` (.json or .md)."""
    if suffix == ".json":
        return {**json.loads(text), "body_format": "html"}
    _, front, body = text.split("+++\n", 2)
    return {**tomllib.loads(front), "body": body, "body_format": "markdown"}


def record_paths(articles: Path) -> Iterator[Path]:
    """Yield the record files below `articles` in a stable order."""
    for path in sorted(articles.rglob("*")):
        if path.suffix in RECORD_SUFFIXES and path.is_file():
            yield path


def section_slug(record: dict) -> str:
    return record["section"].lower().replace(" ", "-")
