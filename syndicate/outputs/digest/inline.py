"""Inline the digest's CSS into style attributes, the one thing e-mail clients reliably read.

premailer does the inlining; this module is its only caller, so its traps are handled once:
no network, `!important` kept (the @media overrides need it), an uppercase doctype (it drops a
lowercase one), cssutils' chatter silenced, and class names left behind only where an @media
rule still needs them.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import cssutils
from lxml import etree
from premailer import Premailer

DOCTYPE = "<!DOCTYPE html>"
_CLASS_SELECTOR = re.compile(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)")


def _silence_cssutils() -> None:
    # cssutils logs every property it does not know (mso-*, -webkit-*) as an error.
    logging.getLogger("CSSUTILS").setLevel(logging.CRITICAL)
    cssutils.log.setLevel(logging.CRITICAL)


@lru_cache(maxsize=8)
def media_classes(css: str) -> frozenset[str]:
    """Return the class names that the @media rules of `css` select on."""
    _silence_cssutils()
    names: set[str] = set()
    for rule in cssutils.parseString(css, validate=False):
        if rule.type == rule.MEDIA_RULE:
            for inner in rule.cssRules:
                if inner.type == inner.STYLE_RULE:
                    names.update(_CLASS_SELECTOR.findall(inner.selectorText))
    return frozenset(names)


def inline_css(html: str, css: str, base_url: str) -> str:
    """Return `html` with `css` inlined; only its @media rules stay, in a head <style>.

    `html` must start with an uppercase `<!DOCTYPE html>`. Class attributes survive only
    where an @media rule uses them, so the message carries no dead weight.
    """
    _silence_cssutils()
    inliner = Premailer(
        base_url=base_url,
        css_text=css,
        allow_network=False,
        strip_important=False,
        disable_validation=True,
        # Widths and heights are written as attributes by the template itself; premailer
        # would overwrite an image's height="315" with height="auto".
        disable_basic_attributes=["width", "height"],
        cssutils_logging_level=logging.CRITICAL,
    )
    inlined = inliner.transform(html, pretty_print=False)
    return prune_classes(inlined, media_classes(css))


def prune_classes(html: str, keep: frozenset[str]) -> str:
    """Drop every class name not in `keep`, and class attributes left empty."""
    tree = etree.fromstring(html, etree.HTMLParser()).getroottree()
    for element in tree.iter("*"):
        classes = element.get("class")
        if classes is None:
            continue
        kept = [name for name in classes.split() if name in keep]
        if kept:
            element.set("class", " ".join(kept))
        else:
            del element.attrib["class"]
    for style in tree.iter("style"):
        # cssutils pretty-prints the @media rules it leaves; the bytes count towards the cap.
        style.text = " ".join((style.text or "").split())
        style.attrib.pop("type", None)
    body = etree.tostring(tree.getroot(), method="html", encoding="unicode")
    return f"{DOCTYPE}\n{body}\n"
