"""Markup the page templates cannot make safely themselves: the inlined stylesheet, JSON-LD
inside a script element, and record body HTML brought up to the AMP-lite image rules."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import jinja2
from markupsafe import Markup

CSS_BUDGET = 15_000
STYLESHEET = "site.css"

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_SPACE = re.compile(r"\s+")
_AROUND = re.compile(r"\s*([{};,])\s*")
_AFTER_COLON = re.compile(r":\s+")
_STYLE_END = re.compile(r"</(style)", re.IGNORECASE)
# Rules a site's stylesheet must not bring in (AMP-lite point 4 and 13).
_FORBIDDEN_CSS = {
    "!important": re.compile(r"!\s*important", re.IGNORECASE),
    "@import": re.compile(r"@import\b", re.IGNORECASE),
    "@font-face (web fonts)": re.compile(r"@font-face\b", re.IGNORECASE),
    "animation": re.compile(r"@keyframes\b|\banimation(-name)?\s*:\s*(?!none)", re.IGNORECASE),
}


def minify_css(source: str) -> str:
    """Drop comments and white space that CSS does not need (never inside calc's `a - b`)."""
    css = _SPACE.sub(" ", _COMMENT.sub("", source))
    css = _AFTER_COLON.sub(":", _AROUND.sub(r"\1", css))
    return css.replace(";}", "}").strip()


def stylesheet(env: jinja2.Environment, warn: Callable[[str], None]) -> Markup:
    """Return `site.css` (a site override first) minified, ready for the one <style>."""
    loader = env.loader
    assert loader is not None
    try:
        source, _, _ = loader.get_source(env, STYLESHEET)
    except jinja2.TemplateNotFound:
        warn(f"no {STYLESHEET} among the templates; pages have no styles")
        source = ""
    css = minify_css(source)
    for name, pattern in _FORBIDDEN_CSS.items():
        if pattern.search(css):
            warn(f"{STYLESHEET} uses {name}, which AMP-lite pages must not")
    if len(css.encode("utf-8")) > CSS_BUDGET:
        warn(f"{STYLESHEET} is {len(css.encode('utf-8'))} bytes minified; the budget is "
             f"{CSS_BUDGET}")
    # A literal "</style" would end the element early; CSS reads "<\/style" the same way.
    return Markup(_STYLE_END.sub(r"<\\/\1", css))


def json_for_script(data: Any) -> Markup:
    """Serialise `data` for a <script type="application/ld+json"> element.

    `<`, `>` and `&` become JSON escapes, so no value can close the element (`</script>`) or
    open a comment (`<!--`); JSON parsers read the escapes back as the same characters.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# nh3 writes tags in one canonical form: lowercase names, double-quoted values in which `"`
# is escaped (but `>` may appear), so this pattern finds each <img> and its attributes whole.
_IMG = re.compile(r'<img((?:\s+[a-z][a-z0-9_:.-]*(?:="[^"]*")?)*)\s*/?>', re.IGNORECASE)
_ATTRIBUTE = re.compile(r'([a-z][a-z0-9_:.-]*)(?:="([^"]*)")?', re.IGNORECASE)
_PIXELS = re.compile(r"[1-9][0-9]{0,4}")


def prepare_body(body_html: str, href: Callable[[str], str],
                 warn: Callable[[str], None]) -> Markup:
    """Return the sanitised body with every <img> meeting AMP-lite point 5.

    An image with integer width and height gets `decoding="async"` and `loading="lazy"` (the
    body never holds the lead image), and `alt=""` when it has none. An image without both
    sizes would shift the text as it loads, so it is replaced by its alt text, with a warning.
    """

    def fix(match: re.Match[str]) -> str:
        attributes = {name.lower(): value for name, value in _ATTRIBUTE.findall(match.group(1))}
        width, height = attributes.get("width", ""), attributes.get("height", "")
        if not (_PIXELS.fullmatch(width) and _PIXELS.fullmatch(height)):
            src = html.unescape(attributes.get("src", ""))
            warn(f'body image "{src[:80]}" has no integer width and height; replaced by its '
                 "alt text")
            return attributes.get("alt", "")
        attributes.setdefault("alt", "")
        if "src" in attributes:
            attributes["src"] = html.escape(href(html.unescape(attributes["src"])))
        attributes.pop("loading", None)
        attributes.pop("decoding", None)
        shown = " ".join(f'{name}="{value}"' for name, value in attributes.items())
        return f'<img {shown} decoding="async" loading="lazy">'

    return Markup(_IMG.sub(fix, body_html))
