"""`syndicate import`: turn a feed (RSS 2.0, Atom 1.0, JSON Feed) or a WordPress export into
article records, one pretty-printed `.json` file per item.

Importing is idempotent: the same source gives byte-identical files, an item whose id is
already in the folder keeps its file name, and a file with different content is only replaced
with `force`. Whatever could not be carried over is reported, one line per item and field.
XML is parsed with defusedxml, which refuses entity expansion and external entities.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import __version__, text
from ..errors import Problem, SyndicateError
from .common import Item, drop_lead_figure, parse_xml, title_from_text
from .feeds import atom_items, json_feed_items, rss_items
from .wxr import is_wxr, wxr_items

FORMATS = ("rss", "atom", "jsonfeed", "wxr")
MAX_DOWNLOAD = 200_000_000  # bytes; a WordPress export of a large archive is big, not endless
TIMEOUT = 30.0


@dataclass
class ImportResult:
    """What an import read, wrote and could not map."""

    source: str
    source_format: str = ""
    items: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # existing files with other content
    skipped: int = 0
    drafts: int = 0
    not_mapped: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """Whether some record was not written because its file holds something else."""
        return bool(self.kept)

    def summary(self) -> dict[str, Any]:
        return {"source": self.source, "format": self.source_format, "items": self.items,
                "written": len(self.written), "unchanged": len(self.unchanged),
                "kept": len(self.kept), "skipped": self.skipped, "drafts": self.drafts,
                "not_mapped": self.not_mapped}

    def summary_line(self) -> str:
        data = self.summary()
        kept = f", {data['kept']} kept (they differ; --force replaces them)" if data["kept"] \
            else ""
        return (f"syndicate: {data['items']} items read from {self.source} ({data['format']}): "
                f"{data['written']} written, {data['unchanged']} unchanged{kept}, "
                f"{data['skipped']} skipped, {data['drafts']} drafts; {data['not_mapped']} "
                "fields not mapped")


def read_source(source: str) -> bytes:
    """Return the bytes of a file, or of an http(s) URL (at most MAX_DOWNLOAD bytes)."""
    scheme = urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        request = urllib.request.Request(source, headers={
            "User-Agent": f"syndicate/{__version__} (import)",
            "Accept": "application/rss+xml, application/atom+xml, application/feed+json, "
                      "application/json, application/xml, text/xml, */*;q=0.5"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                data = response.read(MAX_DOWNLOAD + 1)
        except urllib.error.HTTPError as exc:
            raise SyndicateError(f"{source}: the server answered {exc.code} {exc.reason}") \
                from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise SyndicateError(f"{source}: cannot be fetched: {reason}") from None
        if len(data) > MAX_DOWNLOAD:
            raise SyndicateError(f"{source}: larger than {MAX_DOWNLOAD:,} bytes; download it "
                                 "and import the file")
        return data
    if scheme and len(scheme) > 1:  # "c:" is a Windows drive, not a scheme
        raise SyndicateError(f"{source}: only files and http(s) URLs can be imported")
    try:
        return Path(source).read_bytes()
    except FileNotFoundError:
        raise SyndicateError(f"{source}: file not found") from None
    except OSError as exc:
        raise SyndicateError(f"{source}: cannot be read: {exc.strerror or exc}") from None


def parse_source(data: bytes, shown: str, source_format: str = "auto") -> tuple[str, list[Item]]:
    """Return (format, items) of a source's bytes, detecting the format when asked."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if source_format == "jsonfeed" or (source_format == "auto" and head in (b"{", b"[")):
        return "jsonfeed", json_feed_items(_json_feed(data, shown))
    root = parse_xml(data, shown)
    name = root.tag.rsplit("}", 1)[-1]
    detected = {"rss": "rss", "RDF": "rss", "feed": "atom"}.get(name)
    if detected == "rss" and is_wxr(root):
        detected = "wxr"
    if source_format != "auto" and detected != source_format and not (
            source_format == "rss" and detected == "wxr"):
        raise SyndicateError(f"{shown}: is not {_format_name(source_format)} (its root element "
                             f"is <{name}>)")
    chosen = source_format if source_format != "auto" else detected
    if chosen is None:
        raise SyndicateError(f"{shown}: not a feed or a WordPress export (its root element is "
                             f"<{name}>); expected RSS, Atom, JSON Feed or WXR")
    reader = {"rss": rss_items, "atom": atom_items, "wxr": wxr_items}[chosen]
    return chosen, reader(root)


def _format_name(source_format: str) -> str:
    return {"rss": "RSS", "atom": "an Atom feed", "wxr": "a WordPress export (WXR)"}.get(
        source_format, source_format)


def _json_feed(data: bytes, shown: str) -> dict[str, Any]:
    try:
        feed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise SyndicateError(f"{shown}: not a JSON Feed: {exc}") from None
    version = feed.get("version", "") if isinstance(feed, dict) else ""
    if not (isinstance(version, str) and version.startswith("https://jsonfeed.org/version/")):
        raise SyndicateError(f"{shown}: not a JSON Feed (no \"version\": "
                             "\"https://jsonfeed.org/version/1.1\")")
    return feed


def finish(item: Item, *, section: str | None, canonical: bool) -> None:
    """Turn an importer's fields into a record: section and tags, fallbacks, no empties."""
    record = item.record
    categories = record.pop("categories", [])
    extra_tags = record.pop("extra_tags", [])
    link = record.pop("link", "")
    if section:
        record["section"] = section
        tags = [c for c in categories if c != section] + extra_tags
    else:
        record["section"] = categories[0] if categories else ""
        tags = categories[1:] + extra_tags
    record["tags"] = list(dict.fromkeys(tags))
    if canonical and link:
        record["canonical_url"] = link
    if not record.get("title"):
        plain = record.get("summary") or text.html_to_text(record.get("body", ""))
        record["title"] = title_from_text(plain)
        item.note("title", "none in the source; made from the start of the text")
    if not record.get("body") and record.get("summary"):
        record["body"], record["body_format"] = record["summary"], "text"
        item.note("body", "none in the source; the summary is the body")
    images = record.get("images") or []
    urls = {image["src"] for image in images[:1]}
    urls |= {source["src"] for image in images[:1] for source in image.get("sources", [])}
    if record.get("body_format") == "html":
        record["body"] = drop_lead_figure(record.get("body", ""), urls)
    for index, image in enumerate(images):
        if not (image.get("width") and image.get("height")):
            item.note(f"images[{index}]", f"{image['src']}: no width and height in the source; "
                      "add them, or the build leaves the picture out")
    if record.get("body_format") == "html":
        record.pop("body_format")
    if not record.get("id"):
        seed = f"{record.get('title')}|{record.get('published')}"
        record["id"] = "import-" + hashlib.sha256(seed.encode()).hexdigest()[:24]
        item.note("id", "no guid, id or link in the source; made one from the title and date")
    if not record.get("published"):
        item.skip = "has no publication date"
    elif not record.get("body"):
        item.skip = "has no body"
    for key in [k for k, v in record.items() if v in ("", [], None)]:
        del record[key]


def import_source(source: str, to_dir: Path | str, *, source_format: str = "auto",
                  force: bool = False, section: str | None = None,
                  canonical: bool = False) -> ImportResult:
    """Import every item of `source` (a file or an http(s) URL) into `to_dir`."""
    from .files import RecordFiles

    if source_format not in ("auto", *FORMATS):
        raise SyndicateError(f'unknown format "{source_format}"; use auto or '
                             f"{', '.join(FORMATS)}")
    data = read_source(source)
    chosen, items = parse_source(data, source, source_format)
    result = ImportResult(source=source, source_format=chosen, items=len(items))
    files = RecordFiles(Path(to_dir))
    for item in items:
        if not item.skip:
            finish(item, section=section, canonical=canonical)
        where = f"{source}: {item.label}"
        if item.skip:
            result.skipped += 1
            result.problems.append(Problem(where, "", f"{item.skip}; skipped", "warning"))
            continue
        result.not_mapped += len(item.notes)
        for field_name, message in item.notes:
            result.problems.append(Problem(where, field_name, message, "warning"))
        result.drafts += bool(item.record.get("draft"))
        outcome, path = files.save(item.record, force=force)
        getattr(result, outcome).append(path)
        if outcome == "kept":
            result.problems.append(Problem(os.path.join(str(to_dir), path), "",
                                           "exists with different content; kept (--force "
                                           "replaces it)", "error"))
    return result
