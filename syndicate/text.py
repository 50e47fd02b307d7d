"""Text hygiene for untrusted record content: XML-safe text, slugs, sanitised HTML, summaries."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import nh3
from markdown_it import MarkdownIt

# Characters XML 1.0 forbids, lone surrogates (which JSON can smuggle in as \ud800), and the
# C1 controls and noncharacters that XML allows but the W3C validator warns about: one
# allow-list pattern, so that long bodies are scanned once.
_NOT_XML_SAFE = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufdcf\ufdf0-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """Remove characters that cannot appear in XML (control characters, lone surrogates)."""
    return _NOT_XML_SAFE.sub("", text)


def clean_line(text: str) -> str:
    """Return XML-safe text on one line, with runs of white space folded to one space."""
    return " ".join(xml_safe(text).split())


_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_SLUG = 80


# Names Windows refuses as files, whatever the extension: a site must survive being copied there.
_RESERVED_NAMES = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)")


def slugify(text: str, *, max_length: int = MAX_SLUG) -> str:
    """Return an ASCII slug of `text` (`[a-z0-9-]`), cut at a word; "" when nothing survives."""
    # Most texts given are slugs already (every record's, once parsed): those are their own
    # slug, and need neither the work below nor a place in its cache.
    if len(text) <= max_length and SLUG_PATTERN.fullmatch(text) \
            and not _RESERVED_NAMES.fullmatch(text):
        return text
    return _slugify(text, max_length)


@lru_cache(maxsize=65536)
def _slugify(text: str, max_length: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_JUNK.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut
    if _RESERVED_NAMES.fullmatch(slug):
        slug = "x-" + slug
    return slug


def slug_or_hash(text: str, fallback_seed: str) -> str:
    """Return slugify(text), or a stable `x-<hash>` when the text has no ASCII letters at all."""
    return slugify(text) or "x-" + hashlib.sha256(fallback_seed.encode("utf-8")).hexdigest()[:10]


# What a newsroom body may contain: prose, structure, links, figures and tables; no script,
# no forms, no embeds, no inline style (the pages keep one small stylesheet).
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dfn", "div",
    "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"lang", "dir"},
    "a": {"href", "title", "hreflang"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "img": {"src", "alt", "width", "height", "title"},
    "ol": {"start", "reversed"},
    "q": {"cite"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_URL_ATTRIBUTES = {"href", "src", "cite"}
_H1 = re.compile(r"<(/?)h1\b", re.IGNORECASE)


def sanitise_html(markup: str, base_url: str) -> str:
    """Return `markup` cleaned to the news allow-list, with every URL made absolute.

    A body `<h1>` becomes `<h2>`: the page's only `<h1>` is the headline.
    """

    def absolutise(element: str, attribute: str, value: str) -> str | None:
        if attribute in _URL_ATTRIBUTES:
            absolute = urljoin(base_url, value.strip())
            scheme = urlsplit(absolute).scheme.lower()
            return absolute if scheme in URL_SCHEMES else None
        if attribute in ("width", "height", "colspan", "rowspan", "start"):
            return value if value.isdigit() and len(value) < 6 else None
        return value

    cleaned = nh3.clean(
        _H1.sub(r"<\1h2", xml_safe(markup)),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
        attribute_filter=absolutise,
    )
    return cleaned.strip()


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def markdown_to_html(source: str) -> str:
    """Render CommonMark (plus tables and strikethrough) to HTML, not yet sanitised."""
    return _markdown().render(source)


def text_to_html(source: str) -> str:
    """Turn plain text into paragraphs: blank lines separate them, newlines become <br>."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", source.replace("\r\n", "\n"))]
    return "\n".join(
        "<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs if p
    )


def html_to_text(markup: str) -> str:
    """Return the text of an HTML fragment on one line, entities decoded."""
    text = nh3.clean(re.sub(r"<(br|/p|/li|/h\d)\b", r" \g<0>", markup), tags=set())
    return clean_line(html.unescape(text))


_FIRST_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.DOTALL | re.IGNORECASE)


def summarise(body_html: str, limit: int = 300) -> str:
    """Return the body's first paragraph as text, cut at a word near `limit` characters."""
    match = _FIRST_PARAGRAPH.search(body_html)
    text = html_to_text(match.group(1) if match else body_html)
    return truncate(text, limit)


def truncate(text: str, limit: int) -> str:
    """Cut `text` at the last word boundary before `limit` characters, adding an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–—") + "…"


_WORD = re.compile(r"\w+")


def normalise_title(title: str) -> str:
    """Return a headline reduced for duplicate detection: case, accents and punctuation gone."""
    if title.isascii():
        # No accents to fold: lowering and splitting into words gives the same, faster.
        return " ".join(_WORD.findall(title.lower()))
    folded = unicodedata.normalize("NFKD", title.casefold())
    return " ".join(_WORD.findall("".join(c for c in folded if not unicodedata.combining(c))))

