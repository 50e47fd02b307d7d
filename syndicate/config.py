"""Load `config.toml` into a frozen, typed `Config`, reporting every problem in one pass.

The schema is the dataclasses below; each field's `doc` is also the config reference
(`docs/config.md` is generated from it). Unknown keys are errors with a "did you mean" hint.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import re
import sys
import types
import typing
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from .errors import ConfigError, Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

Check = Callable[[Any], "str | None"]


def opt(default: Any, doc: str, check: Check | None = None) -> Any:
    """Declare a config key with its default, its documentation and an optional check."""
    if isinstance(default, (list, dict)):
        def factory(value: Any = default) -> Any:
            return type(value)(value)

        return field(default_factory=factory, metadata={"doc": doc, "check": check})
    return field(default=default, metadata={"doc": doc, "check": check})


def _http_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an absolute http(s) URL"
    return None


def _optional_http_url(value: str) -> str | None:
    return _http_url(value) if value else None


def _timezone(value: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f'"{value}" is not an IANA time zone (for example "Europe/London")'
    return None


def _language(value: str) -> str | None:
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
        return f'"{value}" is not a BCP 47 language tag (for example "en-GB")'
    return None


def _positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _non_negative(value: float) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _share(value: float) -> str | None:
    return None if 0 < value <= 1 else "must be greater than 0 and at most 1"


def _clock(value: str) -> str | None:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        return f'"{value}" is not a time of day as HH:MM'
    return None


def _permalink(value: str) -> str | None:
    if not value.startswith("/") or not value.endswith("/"):
        return "must start and end with /"
    unknown = set(re.findall(r"{(\w*)}", value)) - PERMALINK_FIELDS
    if unknown:
        choices = ", ".join(sorted(PERMALINK_FIELDS))
        return f"unknown placeholder {{{sorted(unknown)[0]}}}; use {choices}"
    if "{slug}" not in value and "{id}" not in value:
        return "must contain {slug} or {id} so that every article gets its own page"
    return None


def _site_path(*required: str) -> Check:
    def check(value: str) -> str | None:
        if not value.startswith("/"):
            return "must start with /"
        for name in required:
            if "{" + name + "}" not in value:
                return f"must contain {{{name}}}"
        return None

    return check


def _file_name(value: str) -> str | None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
        return "must be a plain file name"
    return None


def _mailbox(value: str) -> str | None:
    """Accept "Name <user@example.org>" or "user@example.org"; empty means the default."""
    if not value:
        return None
    name, addr = parseaddr(value)
    try:
        valid = "@" in addr and bool(Address(display_name=name, addr_spec=addr).domain)
    except (ValueError, IndexError, HeaderParseError):
        valid = False
    return None if valid else f'"{value}" is not an e-mail address like "News <news@example.org>"'


def _required_mailbox(value: str) -> str | None:
    return _mailbox(value) if value else "must not be empty"


def _mailto(value: str) -> str | None:
    address = value.removeprefix("mailto:").split("?", 1)[0]
    return _mailbox(address) if value else None


def _subject(value: str) -> str | None:
    try:
        value.format(site="Site", date=datetime.date(2026, 1, 31), lead="Lead")
    except KeyError as exc:
        return f"unknown placeholder {{{exc.args[0]}}}; use {{site}}, {{date}} or {{lead}}"
    except (ValueError, IndexError, AttributeError, TypeError) as exc:
        return f"is not a valid template ({exc}); use {{site}}, {{date}} or {{lead}}"
    return None


def _tag_authority(value: str) -> str | None:
    # RFC 4151: a lower-case DNS name or e-mail address, a comma, and YYYY[-MM[-DD]].
    if value and not re.fullmatch(r"([a-z0-9._-]+@)?[a-z0-9.-]+,\d{4}(-\d{2}(-\d{2})?)?", value):
        return f'"{value}" is not a tag: authority such as "example.org,2026"'
    return None


def _feed_formats(value: list[str]) -> str | None:
    unknown = [name for name in value if name not in ("rss", "atom", "json")]
    if unknown:
        return f'unknown feed format "{unknown[0]}"; choose from rss, atom, json'
    return None


PERMALINK_FIELDS = {"section", "yyyy", "mm", "dd", "slug", "id"}
OUTPUT_NAMES = ("sitemap", "pages", "digest", "feeds")


def _outputs(value: list[str]) -> str | None:
    unknown = [name for name in value if name not in OUTPUT_NAMES]
    if unknown:
        return f'unknown output "{unknown[0]}"; choose from {", ".join(OUTPUT_NAMES)}'
    return None


@dataclass(frozen=True)
class SiteConfig:
    title: str = opt("", "The site's name, shown in pages, feeds and the digest. Required.")
    base_url: str = opt("", "Absolute URL the site is served from. Required.", _http_url)
    language: str = opt("en", "BCP 47 language of the content (`<html lang>`, feeds).", _language)
    timezone: str = opt("UTC", "IANA time zone; naive record times are read in it.", _timezone)
    description: str = opt("", "One sentence about the site, for feeds and the home page.")
    default_section: str = opt("News", "Section of records that name none.")
    publisher: str = opt("", "Publisher's name for structured data; default: the title.")
    logo: str = opt("", "Publisher logo: a path below the records folder or an absolute URL.")
    logo_width: int = opt(600, "Logo width in pixels.", _positive)
    logo_height: int = opt(60, "Logo height in pixels.", _positive)
    favicon: str = opt("", "Icon: a path below the records folder or an absolute URL.")


@dataclass(frozen=True)
class ContentConfig:
    dir: str = opt("articles", "Records folder, relative to config.toml. Searched recursively.")
    templates: str = opt("", "Folder of template overrides, relative to config.toml; empty: none.")
    max_file_bytes: int = opt(10_000_000, "Record files larger than this are refused.", _positive)
    max_tags: int = opt(50, "Tags beyond this many on one record are dropped with a warning.",
                        _positive)


@dataclass(frozen=True)
class OutputConfig:
    dir: str = opt("out", "Output folder, relative to config.toml.")
    outputs: list[str] = opt(list(OUTPUT_NAMES), "Which outputs run.", _outputs)
    permalink: str = opt("/{section}/{yyyy}/{mm}/{dd}/{slug}/",
                         "Article URL pattern: {section} {yyyy} {mm} {dd} {slug} {id}.",
                         _permalink)
    section_path: str = opt("/{section}/", "URL of a section's pages and feeds.",
                            _site_path("section"))
    tag_path: str = opt("/tag/{tag}/", "URL of a tag's pages and feeds.", _site_path("tag"))
    author_path: str = opt("/author/{author}/", "URL of an author's pages and feeds.",
                           _site_path("author"))
    media_path: str = opt("/media/", "Where local images are copied.", _site_path())
    lock_timeout: float = opt(60.0, "Seconds to wait for another build of the same out/.",
                              _non_negative)


@dataclass(frozen=True)
class SitemapConfig:
    news_hours: int = opt(48, "The news sitemap lists articles this many hours before the newest.",
                          _positive)


@dataclass(frozen=True)
class FeedsConfig:
    site: bool = opt(True, "Feeds for the whole site.")
    sections: bool = opt(True, "Feeds for each section.")
    tags: bool = opt(True, "Feeds for each tag.")
    authors: bool = opt(True, "Feeds for each author.")
    max_items: int = opt(50, "Items per feed (archives hold the rest).", _positive)
    full_content: bool = opt(True, "Add the full sanitised HTML beside the summary.")
    rss: str = opt("feed.xml", "RSS 2.0 file name in each feed folder.", _file_name)
    atom: str = opt("atom.xml", "Atom 1.0 file name in each feed folder.", _file_name)
    json: str = opt("feed.json", "JSON Feed 1.1 file name in each feed folder.", _file_name)
    id_scheme: Literal["tag", "url", "id"] = opt(
        "tag", 'Entry ids: "tag" (RFC 4151 from the record id), "url", or "id" as it is.')
    tag_authority: str = opt("", 'Authority for tag: ids, e.g. "example.org,2026"; default: '
                                 'the base URL\'s host and the fixed date 2000 ("example.org,'
                                 '2000"), so ids never change as articles come and go.',
                             _tag_authority)
    formats: list[str] = opt(["rss", "atom", "json"], 'Feed formats written: "rss", "atom", '
                             '"json".', _feed_formats)
    ttl: int = opt(30, "RSS <ttl> in minutes.", _positive)
    update_period: Literal["hourly", "daily", "weekly", "monthly", "yearly"] = opt(
        "hourly", "sy:updatePeriod.")
    update_frequency: int = opt(1, "sy:updateFrequency.", _positive)
    archives: bool = opt(True, "Write RFC 5005 archive documents for older items.")
    stylesheet: bool = opt(True, "Link an XSLT so that a feed opened in a browser reads as a page.")


@dataclass(frozen=True)
class PagesConfig:
    per_page: int = opt(20, "Stories per archive page of a list (the first page shows the "
                                "newest, up to twice as many).", _positive)


@dataclass(frozen=True)
class TopConfig:
    window_hours: float = opt(24.0, "Candidates are published this many hours before now.",
                              _positive)
    count: int = opt(10, "How many top stories.", _positive)
    priority_weight: float = opt(0.5, "w_p in (1 + w_p * priority) / (age_hours + 2) ** gravity.",
                                 _non_negative)
    gravity: float = opt(1.8, "How fast stories sink with age (Hacker News uses 1.8).",
                         _non_negative)
    max_per_section: int = opt(3, "At most this many top stories from one section.", _positive)


@dataclass(frozen=True)
class RelatedConfig:
    count: int = opt(5, "Related stories per article.", _non_negative)
    weight_tags: float = opt(1.0, "Weight of each shared tag, times its idf.", _non_negative)
    weight_section: float = opt(0.5, "Added when the section is shared.", _non_negative)
    half_life_days: float = opt(30.0, "The recency factor halves over this many days.", _positive)
    threshold: float = opt(0.5, "Candidates scoring below this are dropped.", _non_negative)
    include_newer: bool = opt(True, "Whether stories newer than the article may appear.")
    max_tag_share: float = opt(0.2, "Tags on more than this share of articles are ignored.",
                               _share)
    max_candidates_per_tag: int = opt(
        200, "Nearest stories in time considered per tag, and for the section.", _positive)


@dataclass(frozen=True)
class LatestConfig:
    count: int = opt(5, '"Latest in section" stories per article.', _non_negative)


@dataclass(frozen=True)
class DigestConfig:
    send_at: str = opt("07:00", "Digest time of day (site time zone); the window ends here.",
                       _clock)
    window_hours: float = opt(24.0, "Articles published this many hours before send_at.",
                              _positive)
    count: int = opt(8, "Top stories in the digest.", _positive)
    related_count: int = opt(3, "Related stories under each top story.", _non_negative)
    subject: str = opt("{site}: top stories for {date:%A %-d %B %Y}",
                       "Subject template: {site}, {date}, {lead} (the lead headline).", _subject)
    from_address: str = opt("", 'From, e.g. "The Courier <news@example.org>"; default: '
                                "newsletter@ the site's domain.", _mailbox)
    to: str = opt("subscriber@example.invalid", "To; `syndicate send` replaces it per recipient.",
                  _required_mailbox)
    reply_to: str = opt("", "Reply-To; empty: none.", _mailbox)
    tracking: dict[str, str] = opt(
        {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "digest-{date}"},
        "Query parameters added to every link; {date} is the digest date.")
    unsubscribe_url: str = opt("", "One-click unsubscribe URL (https); default: base_url + "
                                   "unsubscribe.", _optional_http_url)
    unsubscribe_mailto: str = opt("", "Unsubscribe address; default: unsubscribe@ the domain.",
                                  _mailto)
    warn_bytes: int = opt(90_000, "Warn when the HTML part is larger.", _positive)
    max_bytes: int = opt(102_000, "Drop stories until the HTML part is smaller (Gmail clips).",
                         _positive)


@dataclass(frozen=True)
class SmtpConfig:
    host: str = opt("localhost", "SMTP server.")
    port: int = opt(587, "SMTP port.", _positive)
    security: Literal["starttls", "tls", "none"] = opt("starttls", "Transport security.")
    username: str = opt("", "Login name; empty: no login.")
    password_env: str = opt("SYNDICATE_SMTP_PASSWORD",
                            "Environment variable holding the password (never the file).")
    token_secret_env: str = opt("SYNDICATE_TOKEN_SECRET",
                                "Environment variable holding the unsubscribe-token secret.")
    timeout: float = opt(30.0, "Seconds before a connection attempt gives up.", _positive)
    rate: float = opt(10.0, "Messages per second at most.", _positive)
    max_retries: int = opt(4, "Retries after a 4xx reply or a dropped connection.",
                           _non_negative)
    retry_delay: float = opt(1.0, "Seconds before the first retry; each later retry waits twice "
                                  "as long.", _non_negative)
    ca_file: str = opt("", "PEM file of CA certificates to trust instead of the system's "
                           "(relative to config.toml); empty: the system's.")


@dataclass(frozen=True)
class Config:
    site: SiteConfig = field(default_factory=SiteConfig)
    content: ContentConfig = field(default_factory=ContentConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    sitemap: SitemapConfig = field(default_factory=SitemapConfig)
    feeds: FeedsConfig = field(default_factory=FeedsConfig)
    pages: PagesConfig = field(default_factory=PagesConfig)
    top: TopConfig = field(default_factory=TopConfig)
    related: RelatedConfig = field(default_factory=RelatedConfig)
    latest: LatestConfig = field(default_factory=LatestConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    # Where the config file lives; relative paths resolve against its folder.
    root: Path = field(default=Path("."), metadata={"internal": True})
    source: str = field(default="config.toml", metadata={"internal": True})

    def path(self, relative: str) -> Path:
        """Resolve a path from the config against the config file's folder."""
        return (self.root / relative).resolve()

    @property
    def records_dir(self) -> Path:
        return self.path(self.content.dir)

    @property
    def out_dir(self) -> Path:
        return self.path(self.output.dir)


REQUIRED = {("site", "title"), ("site", "base_url")}


def load_config(path: Path | str, *, out_dir: str | None = None) -> Config:
    """Read, check and return the config at `path`, or raise ConfigError with every problem."""
    path = Path(path)
    shown = str(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(shown, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(shown, "", utf8_error(raw, exc))]) from None
    except OSError as exc:
        raise ConfigError([Problem(shown, "", exc.strerror or str(exc))]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([Problem(shown, "", toml_error_message(exc, text))]) from None
    return config_from_dict(data, root=path.resolve().parent, source=shown, out_dir=out_dir)


def utf8_error(raw: bytes, exc: UnicodeDecodeError) -> str:
    """Say where a file stops being UTF-8: `is not valid UTF-8 (line 2, byte 16)`."""
    line = raw.count(b"\n", 0, exc.start) + 1
    return f"is not valid UTF-8 (line {line}, byte {exc.start})"


def toml_error_message(exc: Exception, text: str) -> str:
    """Render a TOML syntax error as `line L, column C: reason` plus the offending line."""
    line = getattr(exc, "lineno", None)
    col = getattr(exc, "colno", None)
    reason = getattr(exc, "msg", None) or re.sub(r" \(at .*\)$", "", str(exc))
    if line is None:
        match = re.search(r"at line (\d+), column (\d+)", str(exc))
        if match:
            line, col = int(match.group(1)), int(match.group(2))
    if line is None:
        return f"TOML syntax error: {reason}"
    lines = text.splitlines()
    shown = lines[line - 1] if 0 < line <= len(lines) else ""
    caret = " " * max((col or 1) - 1, 0) + "^"
    return f"TOML syntax error at line {line}, column {col}: {reason}\n    {shown}\n    {caret}"


def config_from_dict(data: dict[str, Any], *, root: Path = Path("."), source: str = "config.toml",
                     out_dir: str | None = None) -> Config:
    """Build a Config from parsed TOML, collecting every problem before raising."""
    problems: list[Problem] = []
    tables: dict[str, Any] = {}
    known = [f for f in dataclasses.fields(Config) if not f.metadata.get("internal")]
    names = [f.name for f in known]
    for key in sorted(set(data) - set(names)):
        problems.append(Problem(source, f"[{key}]", "unknown table" + _did_you_mean(key, names)))
    hints = typing.get_type_hints(Config)
    for table in known:
        raw = data.get(table.name, {})
        if not isinstance(raw, dict):
            problems.append(Problem(source, f"[{table.name}]", "must be a table"))
            raw = {}
        tables[table.name] = _load_table(hints[table.name], raw, table.name, source, problems)
    for table_name, key in sorted(REQUIRED):
        table_data = data.get(table_name)
        if not isinstance(table_data, dict) or key not in table_data:
            problems.append(Problem(source, f"[{table_name}] {key}", "is required"))
        elif table_data[key] == "":
            problems.append(Problem(source, f"[{table_name}] {key}", "must not be empty"))
    if problems:
        raise ConfigError(problems)
    config = Config(**tables, root=root, source=source)
    if out_dir is not None:
        output = dataclasses.replace(config.output, dir=str(Path(out_dir).resolve()))
        config = dataclasses.replace(config, output=output)
    return config


# Secrets never live in the config file, which ends up in git; say where they go instead.
SECRET_KEYS = {
    ("smtp", "password"): "a password must not be in the config file; put it in an environment "
                          "variable and name that variable in password_env (default "
                          "SYNDICATE_SMTP_PASSWORD)",
    ("smtp", "token_secret"): "a secret must not be in the config file; put it in an environment "
                              "variable and name that variable in token_secret_env (default "
                              "SYNDICATE_TOKEN_SECRET)",
}


def _did_you_mean(key: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def _load_table(cls: type, raw: dict[str, Any], table: str, source: str,
                problems: list[Problem]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for key in sorted(set(raw) - set(fields)):
        message = SECRET_KEYS.get((table, key)) or "unknown key" + _did_you_mean(key, list(fields))
        problems.append(Problem(source, f"[{table}] {key}", message))
    for name, spec in fields.items():
        if name not in raw:
            continue
        where = f"[{table}] {name}"
        error = type_error(raw[name], hints[name])
        if error:
            problems.append(Problem(source, where, error))
            continue
        value = raw[name]
        if hints[name] is float:
            value = float(value)
        check = spec.metadata.get("check")
        message = check(value) if check else None
        if message:
            problems.append(Problem(source, where, message))
            continue
        values[name] = value
    return cls(**values)


def describe(value: Any) -> str:
    """Name a TOML value's type and show it, as in `expected an integer, got "ten"`."""
    if isinstance(value, str):
        return f'"{value}"' if len(value) < 60 else f'"{value[:57]}..."'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return repr(value)


def type_error(value: Any, hint: Any) -> str | None:
    """Return why `value` does not fit the annotation `hint`, or None when it does."""
    origin = typing.get_origin(hint)
    if hint is bool:
        return None if isinstance(value, bool) else f"expected true or false, got {describe(value)}"
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"expected an integer, got {describe(value)}"
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"expected a number, got {describe(value)}"
    if hint is str:
        return None if isinstance(value, str) else f"expected a string, got {describe(value)}"
    if origin is Literal:
        choices = typing.get_args(hint)
        if value in choices:
            return None
        return f"expected one of {', '.join(repr(c) for c in choices)}, got {describe(value)}"
    if origin is list:
        if not isinstance(value, list):
            return f"expected an array, got {describe(value)}"
        (item,) = typing.get_args(hint)
        for index, element in enumerate(value):
            error = type_error(element, item)
            if error:
                return f"item {index + 1}: {error}"
        return None
    if origin is dict:
        if not isinstance(value, dict):
            return f"expected a table, got {describe(value)}"
        _, item = typing.get_args(hint)
        for key, element in value.items():
            error = type_error(element, item)
            if error:
                return f"{key}: {error}"
        return None
    if origin in (typing.Union, types.UnionType):  # pragma: no cover - no such fields yet
        errors = [type_error(value, arm) for arm in typing.get_args(hint)]
        return None if None in errors else errors[0]
    raise TypeError(f"unsupported config type {hint!r}")  # pragma: no cover


def reference() -> list[tuple[str, str, str, Any, str]]:
    """Return (table, key, type, default, doc) for every config key, for the docs."""
    rows = []
    for table in dataclasses.fields(Config):
        if table.metadata.get("internal"):
            continue
        cls = typing.get_type_hints(Config)[table.name]
        hints = typing.get_type_hints(cls)
        for spec in dataclasses.fields(cls):
            default = (spec.default if spec.default is not dataclasses.MISSING
                       else spec.default_factory())  # type: ignore[misc]
            rows.append((table.name, spec.name, _type_name(hints[spec.name]), default,
                         spec.metadata["doc"]))
    return rows


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return " | ".join(f'"{c}"' for c in typing.get_args(hint))
    if origin is list:
        return f"array of {_type_name(typing.get_args(hint)[0])}"
    if origin is dict:
        return f"table of {_type_name(typing.get_args(hint)[1])}"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}[hint]
