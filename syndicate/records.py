"""Find, read and check article records (`*.json`, `*.md` with TOML front matter).

Every problem in every file is collected, one line each, and a bad record is left out
rather than stopping the build. Nothing here trusts what a record says.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import text
from .config import Config, utf8_error
from .errors import ConfigError, Problem
from .media import MediaResolver
from .model import Article, Author, replace_article
from .recordcache import Entry, images_unchanged, parse_many
from .sources import MISSING, FileState, file_state, scan_record_files

if TYPE_CHECKING:
    from .bodies import BodyShelf
    from .inputs import RecordListing

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KNOWN_FIELDS = {
    "id", "title", "published", "updated", "section", "authors", "summary", "body",
    "body_format", "images", "tags", "priority", "slug", "canonical_url", "draft", "related",
}
MAX_TITLE = 500
MAX_SECTION = 100
MAX_SUMMARY = 1000
MAX_ID = 200
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))?"
)
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


@dataclass
class LoadResult:
    """The articles that passed (drafts included, marked), every problem met, and each
    file's parse result for the record cache."""

    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files_read: int = 0
    entries: dict[str, Entry] = field(default_factory=dict)
    reused: int = 0
    # The shown paths of entries parsed anew, or reused though their file was touched (same
    # bytes, new state): their cache shards are saved again, so that the next build neither
    # parses nor hashes them again.
    changed: set[str] = field(default_factory=set)


def load_records(config: Config, *, cache: dict[str, Entry] | None = None,
                 jobs: int = 1, bodies: BodyShelf | None = None,
                 listing: RecordListing | None = None) -> LoadResult:
    """Read every record file below the records folder and return articles plus problems.

    Files whose entry in `cache` still holds are not parsed again; the rest are parsed over
    `jobs` processes. The result is the same either way. With `bodies`, every article's
    body is kept there rather than in memory (syndicate.bodies). With a `listing` (taken by
    syndicate.inputs for the build's input key, a moment earlier) the files and their states
    come from there: what changes after it was taken shows as a change to the next build.
    """
    result = LoadResult()
    root = config.records_dir
    shown_root = config.content.dir
    if not root.is_dir():
        # Building an empty site here would delete every page a previous build wrote.
        raise ConfigError([Problem(config.source, "[content] dir",
                                   f'records folder "{shown_root}" does not exist')])
    # Plain strings, not Paths, while the files are checked: at 100,000 records making
    # and stat'ing Path objects took twice as long as the system calls themselves.
    if listing is None:
        files = [(path, shown) for path, shown, _ in
                 scan_record_files(root, shown_root, result.problems)]
    else:
        files = listing.files
        result.problems.extend(listing.problems)
    result.files_read = len(files)
    misses = []
    cache = cache or {}
    for number, (path, shown) in enumerate(files):
        entry, refreshed = cache.get(shown), False
        if entry is not None:
            state = listing.state(number) if listing is not None else file_state(path)
            entry, refreshed = _still_valid(root, path, entry, state)
        if entry is not None and bodies is not None and not bodies.holds(entry):
            entry = None
        if entry is None:
            misses.append((Path(path), shown))
        else:
            result.entries[shown] = entry
            if refreshed:
                result.changed.add(shown)
    result.reused = len(result.entries)
    for shown, entry in parse_many(config, misses, jobs):
        # Kept as each arrives: the parent never holds every body at once.
        result.entries[shown] = bodies.keep(shown, entry) if bodies else entry
        result.changed.add(shown)
    if bodies:
        bodies.finish()
    for _, shown in files:
        entry = result.entries[shown]
        result.problems.extend(entry.problems)
        if entry.article is not None:
            result.articles.append(entry.article)
    return result


def _still_valid(records: Path, path: str, entry: Entry,
                 state: FileState) -> tuple[Entry | None, bool]:
    """Return the cached entry if the file, in `state` (and its local images, below the
    `records` folder) did not change, and whether its recorded state had to be brought up to
    date."""
    if state == MISSING:
        return None, False
    refreshed = state != (entry.size, entry.mtime_ns, entry.ctime_ns, entry.inode)
    if refreshed:
        # Touched: an edit that kept the size and put the mtime back still moves the ctime,
        # and a fresh clone resets every mtime. The bytes decide.
        if state[0] != entry.size or _file_digest(path) != entry.digest:
            return None, False
        entry.mtime_ns, entry.ctime_ns, entry.inode = state[1:]
    return (entry if images_unchanged(records, entry) else None), refreshed


def _file_digest(path: str) -> str:
    try:
        with open(path, "rb") as file:
            return hashlib.sha256(file.read()).hexdigest()[:24]
    except OSError:
        return ""


def parse_file(config: Config, path: Path, shown: str) -> Entry:
    """Read and check one record file; never raises on bad input."""
    try:
        info = path.stat()
        size, mtime_ns, ctime_ns, inode = (info.st_size, info.st_mtime_ns, info.st_ctime_ns,
                                           info.st_ino)
    except OSError:
        size = mtime_ns = ctime_ns = inode = -1
    data, problems, digest = read_record_file(path, shown, config.content.max_file_bytes)
    article = None
    media = MediaResolver(config)
    if data is not None:
        default_id = path.relative_to(config.records_dir).with_suffix("").as_posix()
        article, more = parse_record(data, shown, default_id, config, media,
                                     markdown=path.suffix == ".md")
        problems.extend(more)
        if article is not None:
            article = replace_article(article, digest=digest)
    # Every image path the record named, found or not: creating a missing one changes the
    # record's warnings and pictures just as editing a found one does.
    return Entry(size, mtime_ns, digest, article, problems, sorted(media.probed.items()),
                 ctime_ns, inode)


def read_record_file(path: Path, shown: str,
                     max_bytes: int) -> tuple[dict[str, Any] | None, list[Problem], str]:
    """Return the record's fields (with the Markdown body under "body") or the problems,
    and a digest of the file's bytes."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return None, [Problem(shown, "", f"file is {size:,} bytes, over the limit of "
                                  f"{max_bytes:,} ([content] max_file_bytes)")], ""
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(shown, "", f"cannot be read: {exc.strerror or exc}")], ""
    data, problems = parse_record_bytes(raw, shown, markdown=path.suffix == ".md")
    return data, problems, hashlib.sha256(raw).hexdigest()[:24]


def parse_record_bytes(raw: bytes, shown: str,
                       *, markdown: bool) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Decode and parse one record file's bytes; never raises on bad input."""
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(shown, "", utf8_error(raw, exc))]
    source = source.removeprefix("\ufeff")
    if markdown:
        return parse_front_matter(source, shown)
    try:
        data = json.loads(source)
    except json.JSONDecodeError as exc:
        return None, [Problem(shown, "", f"invalid JSON at line {exc.lineno}, column "
                              f"{exc.colno}: {exc.msg}")]
    except RecursionError:
        return None, [Problem(shown, "", "invalid JSON: nested too deeply")]
    if not isinstance(data, dict):
        return None, [Problem(shown, "", "must hold one JSON object (an article), not "
                              + _type_name(data))]
    return data, []


def split_front_matter(source: str) -> tuple[str, str, int] | None:
    """Return (front matter, body, body's first line number), or None if unterminated.

    The file must open with a line `+++`; the next line that is exactly `+++` closes it.
    """
    lines = source.splitlines(keepends=True)
    if not lines or lines[0].strip() != "+++":
        raise ValueError("must start with a +++ line (TOML front matter)")
    for index in range(1, len(lines)):
        if lines[index].strip() == "+++":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    return None


def parse_front_matter(source: str, shown: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse a Markdown record: TOML front matter between `+++` lines, then the body."""
    try:
        parts = split_front_matter(source)
    except ValueError as exc:
        return None, [Problem(shown, "front matter", str(exc))]
    if parts is None:
        return None, [Problem(shown, "front matter", "no closing +++ line")]
    front, body, _ = parts
    try:
        data = tomllib.loads(front)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if match:  # report the line in the file, not in the front matter
            line = int(match.group(1)) + 1
            message = message[: match.start()].strip() + f" (line {line}, column {match.group(2)})"
        return None, [Problem(shown, "front matter", f"invalid TOML: {message}")]
    problems = []
    if "body" in data:
        problems.append(Problem(shown, "body", "ignored in front matter; the body is the text "
                                "after the closing +++", "warning"))
    data["body"] = body
    data.setdefault("body_format", "markdown")
    return data, problems


def _type_name(value: Any) -> str:
    names = {str: "a string", bool: "true/false", int: "a number", float: "a number",
             list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _quote(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False, default=str)
    return shown if len(shown) <= 60 else shown[:57] + "..."


class _Checker:
    """Collects the problems of one record while its fields are converted."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.problems: list[Problem] = []
        self.fatal = False

    def error(self, field_name: str, message: str) -> None:
        self.fatal = True
        self.problems.append(Problem(self.shown, field_name, message))

    def warn(self, field_name: str, message: str) -> None:
        self.problems.append(Problem(self.shown, field_name, message, "warning"))

    def bounded(self, name: str, value: str, limit: int) -> str:
        """Return `value`, cut at a word to `limit` characters with a warning if longer."""
        if len(value) <= limit:
            return value
        self.warn(name, f"is {len(value):,} characters; cut to {limit}")
        return text.truncate(value, limit)

    def string(self, data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
        value = data.get(name)
        if value is None:
            if required:
                self.error(name, "is required")
            return None
        if not isinstance(value, str):
            (self.error if required else self.warn)(
                name, f"expected a string, got {_type_name(value)}" + ("" if required
                                                                       else "; ignored"))
            return None
        return value


def parse_datetime(value: Any, zone: ZoneInfo) -> datetime:
    """Return an aware datetime from an RFC 3339 string or a TOML datetime.

    A time with no offset is read in `zone`. Raises ValueError with the reason.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        raise ValueError(f'"{value.isoformat()}" has no time of day')
    elif isinstance(value, str):
        match = _RFC3339.fullmatch(value.strip())
        if not match:
            raise ValueError(f"{_quote(value)} is not an RFC 3339 date-time")
        year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
        fraction = match.group(7) or ""
        micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
        try:
            moment = datetime(year, month, day, hour, minute, second, micro)
        except ValueError:
            raise ValueError(f"{_quote(value)} is not a valid date-time") from None
        if match.group(8):
            moment = moment.replace(tzinfo=timezone.utc)
        elif match.group(9):
            hours, minutes = int(match.group(10)), int(match.group(11))
            if hours > 23 or minutes > 59:
                raise ValueError(f"{_quote(value)} has an impossible UTC offset")
            offset = timedelta(hours=hours, minutes=minutes)
            moment = moment.replace(tzinfo=timezone(-offset if match.group(9) == "-" else offset))
    else:
        raise ValueError(f"expected an RFC 3339 date-time string, got {_type_name(value)}")
    if not 1000 <= moment.year <= 9998:
        raise ValueError(f"{_quote(str(value))} is outside the years 1000 to 9998")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def parse_record(data: dict[str, Any], shown: str, default_id: str, config: Config,
                 media: MediaResolver,
                 *, markdown: bool = False) -> tuple[Article | None, list[Problem]]:
    """Check one record's fields and return the Article (None if it cannot be built)."""
    check = _Checker(shown)
    zone = ZoneInfo(config.site.timezone)

    for name in sorted(set(data) - KNOWN_FIELDS):
        check.problems.append(Problem(shown, name, "unknown field; kept and ignored", "notice"))

    record_id = check.string(data, "id")
    if record_id is not None:
        record_id = text.clean_line(record_id)
        if not record_id:
            check.error("id", "must not be empty")
        elif len(record_id) > MAX_ID:
            check.error("id", f"is {len(record_id)} characters, over the limit of {MAX_ID}")
    elif "id" not in data:
        record_id = default_id
    title = check.string(data, "title", required=True)
    if title is not None:
        title = text.clean_line(title)
        if not title:
            check.error("title", "must not be empty")
        else:
            title = check.bounded("title", title, MAX_TITLE)

    published = updated = None
    if "published" not in data:
        check.error("published", "is required")
    else:
        try:
            published = parse_datetime(data["published"], zone)
        except ValueError as exc:
            check.error("published", str(exc))
    if data.get("updated") is not None:
        try:
            updated = parse_datetime(data["updated"], zone)
        except ValueError as exc:
            check.warn("updated", f"{exc}; using published")
    if published and updated and updated < published:
        check.warn("updated", "is earlier than published; using published")
        updated = None

    draft = data.get("draft", False)
    if not isinstance(draft, bool):
        check.error("draft", f"expected true or false, got {_quote(draft)}")

    body_format = data.get("body_format", "html")
    if body_format not in ("html", "markdown", "text"):
        check.error("body_format", f'expected "html", "markdown" or "text", got '
                    f"{_quote(body_format)}")
    body = check.string(data, "body", required=True)
    body_html = ""
    if body is not None and not check.fatal:
        if body_format == "markdown":
            body = text.markdown_to_html(text.xml_safe(body))
        elif body_format == "text":
            body = text.text_to_html(text.xml_safe(body))
        body_html = text.sanitise_html(body, config.site.base_url)

    section = check.string(data, "section")
    section = text.clean_line(section or "") or config.site.default_section
    section = check.bounded("section", section, MAX_SECTION)
    if not text.slugify(section):
        check.warn("section", f"{_quote(section)} has no letters or digits a URL can use; "
                   f'using "{config.site.default_section}"')
        section = config.site.default_section

    summary = check.bounded("summary", text.clean_line(check.string(data, "summary") or ""),
                            MAX_SUMMARY)
    summary = summary or text.summarise(body_html)

    authors = _authors(data.get("authors"), check)
    tags = _tags(data.get("tags"), check, config.content.max_tags)
    priority = _priority(data.get("priority", 0), check)
    related = _related(data.get("related"), check)

    slug = check.string(data, "slug")
    if slug is not None and not text.SLUG_PATTERN.fullmatch(slug):
        check.warn("slug", f"{_quote(slug)} must be lower-case a-z, 0-9 and single hyphens; "
                   "derived from the title instead")
        slug = None
    elif slug is not None and len(slug) > text.MAX_SLUG:
        check.warn("slug", f"is over {text.MAX_SLUG} characters; derived from the title instead")
        slug = None

    canonical = check.string(data, "canonical_url") or ""
    if canonical and not re.fullmatch(r"https?://[^\s/]+\.[^\s]*", canonical):
        check.warn("canonical_url", f"{_quote(canonical)} is not an absolute http(s) URL; ignored")
        canonical = ""

    images = media.images(data.get("images"), check)

    if check.fatal or record_id is None or title is None or published is None:
        return None, check.problems
    article = Article(
        id=record_id, title=title, published=published, updated=updated or published,
        section=section, summary=summary, body_html=body_html, source=shown,
        authors=authors, images=images, tags=tags, priority=priority,
        # Derived here rather than at every build: the record cache keeps it.
        slug=slug or text.slug_or_hash(title, record_id), canonical_url=canonical,
        related_ids=related, draft=draft, title_key=text.normalise_title(title),
    )
    return article, check.problems


def _authors(value: Any, check: _Checker) -> tuple[Author, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list):
        check.warn("authors", f"expected a list of names or objects, got {_type_name(value)}; "
                   "ignored")
        return ()
    authors: dict[str, Author] = {}
    for index, item in enumerate(value):
        where = f"authors[{index}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            check.warn(where, f"expected a name or an object, got {_type_name(item)}; ignored")
            continue
        name = item.get("name")
        if not isinstance(name, str) or not text.clean_line(name):
            check.warn(f"{where}.name", "is required and must be a string; author ignored")
            continue
        name = text.truncate(text.clean_line(name), 200)
        email = item.get("email") or ""
        if email and not (isinstance(email, str) and _EMAIL.fullmatch(email)):
            check.warn(f"{where}.email", f"{_quote(email)} is not an e-mail address; ignored")
            email = ""
        url = item.get("url") or ""
        if url and not (isinstance(url, str) and re.fullmatch(r"https?://[^\s/]+[^\s]*", url)):
            check.warn(f"{where}.url", f"{_quote(url)} is not an absolute http(s) URL; ignored")
            url = ""
        slug = text.slug_or_hash(name, name)
        if slug not in authors:
            authors[slug] = Author(name=name, slug=slug, email=email, url=url)
    return tuple(authors.values())


def _tags(value: Any, check: _Checker, max_tags: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        check.warn("tags", f"expected a list of strings, got {_type_name(value)}; ignored")
        return ()
    tags: dict[str, str] = {}
    for index, item in enumerate(value):
        if not isinstance(item, str):
            check.warn(f"tags[{index}]", f"expected a string, got {_type_name(item)}; ignored")
            continue
        tag = text.truncate(text.clean_line(item), 100)
        if tag and text.slug_or_hash(tag, tag.casefold()) not in tags:
            tags[text.slug_or_hash(tag, tag.casefold())] = tag
    if len(tags) > max_tags:
        check.warn("tags", f"{len(tags):,} tags; kept the first {max_tags} "
                   "([content] max_tags)")
    return tuple(list(tags.values())[:max_tags])


def _priority(value: Any, check: _Checker) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        check.warn("priority", f"expected an integer from 0 to 10, got {_quote(value)}; using 0")
        return 0
    if not 0 <= value <= 10:
        clamped = min(max(value, 0), 10)
        check.warn("priority", f"{value} is outside 0 to 10; using {clamped}")
        return clamped
    return value


def _related(value: Any, check: _Checker) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        check.warn("related", "expected a list of record ids; ignored")
        return ()
    return tuple(dict.fromkeys(text.clean_line(item) for item in value if item.strip()))
