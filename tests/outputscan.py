"""Read a built out/ as its consumers do, and find anything that could run script there.

Pages are parsed by html5lib (as browsers parse), feeds by lxml and feedparser, e-mails by
Python's email package; HTML carried inside feeds and e-mails is parsed again, because feed
readers and mail clients render it.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import warnings
from pathlib import Path

import feedparser
import html5lib
from html5lib.constants import DataLossWarning
from lxml import etree

from syndicate.writer import BOOKKEEPING_PREFIX

BANNED_ELEMENTS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "form",
                   "input", "button", "textarea", "select"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "background", "poster",
                  "xlink:href", "srcset", "dynsrc", "lowsrc", "cite", "longdesc"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:image/svg+xml",
                     "livescript:")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f]+")
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


def published_files(out: Path) -> list[Path]:
    return [p for p in sorted(out.rglob("*")) if p.is_file()
            and not p.relative_to(out).as_posix().startswith(BOOKKEEPING_PREFIX)]


def html_findings(markup: str, where: str) -> list[str]:
    """Return every way `markup`, parsed as a browser would, could run script."""
    findings = []
    with warnings.catch_warnings():
        # html5lib warns when it renames an attribute lxml cannot hold; the name still counts.
        warnings.simplefilter("ignore", DataLossWarning)
        tree = html5lib.parse(markup, treebuilder="etree", namespaceHTMLElements=False)
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.rsplit("}", 1)[-1].lower()
        if tag == "script":
            if (element.get("type") or "").lower() != "application/ld+json":
                findings.append(f"{where}: <script> element")
            else:
                try:
                    json.loads(element.text or "")
                except ValueError:
                    findings.append(f"{where}: JSON-LD that does not parse")
        if tag in BANNED_ELEMENTS:
            findings.append(f"{where}: <{tag}> element")
        if tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            findings.append(f"{where}: <meta http-equiv=refresh>")
        for name, value in element.attrib.items():
            name = name.rsplit("}", 1)[-1].lower()
            if name.startswith("on"):
                findings.append(f"{where}: {name}= attribute on <{tag}>")
            compact = _INVISIBLE.sub("", value).lower()
            if name in URL_ATTRIBUTES and compact.startswith(DANGEROUS_SCHEMES):
                findings.append(f"{where}: {name}={value[:40]!r} on <{tag}>")
            if name == "style" and ("expression(" in compact or "javascript:" in compact):
                findings.append(f"{where}: scripted style on <{tag}>")
    return findings


def feed_findings(path: Path, where: str) -> list[str]:
    """Parse an XML feed strictly and with feedparser; scan the HTML it carries."""
    data = path.read_bytes()
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    parsed = feedparser.parse(data)
    findings = []
    if parsed.bozo:
        findings.append(f"{where}: feedparser bozo: {parsed.bozo_exception}")
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.text:
            continue
        carries_html = (element.tag in ("description", CONTENT)
                        or (element.tag in (f"{ATOM}content", f"{ATOM}summary", f"{ATOM}title")
                            and element.get("type") == "html"))
        if carries_html:
            findings.extend(html_findings(element.text, f"{where} <{element.tag}>"))
    return findings


def json_feed_findings(path: Path, where: str) -> list[str]:
    feed = json.loads(path.read_text("utf-8"))
    findings = []
    for index, item in enumerate(feed.get("items", [])):
        if "content_html" in item:
            findings.extend(html_findings(item["content_html"], f"{where} items[{index}]"))
    return findings


def eml_findings(path: Path, where: str) -> list[str]:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    findings = [f"{where}: MIME defect {d!r}" for d in message.defects]
    for part in message.walk():
        findings.extend(f"{where}: MIME defect {d!r}" for d in part.defects)
        if part.get_content_type() == "text/html":
            findings.extend(html_findings(part.get_content(), f"{where} text/html"))
    return findings


def scan(out: Path) -> tuple[list[str], dict[str, int]]:
    """Return (findings, how many files of each kind were read) for a whole out/."""
    findings: list[str] = []
    counts = {"html": 0, "feed": 0, "json": 0, "eml": 0, "other": 0}
    for path in published_files(out):
        where = path.relative_to(out).as_posix()
        suffix = path.suffix
        if suffix == ".html":
            counts["html"] += 1
            findings.extend(html_findings(path.read_text("utf-8"), where))
        elif suffix == ".xml" and b"<urlset" not in path.read_bytes()[:300] and \
                b"<sitemapindex" not in path.read_bytes()[:300]:
            counts["feed"] += 1
            findings.extend(feed_findings(path, where))
        elif suffix == ".json":
            counts["json"] += 1
            findings.extend(json_feed_findings(path, where))
        elif suffix == ".eml":
            counts["eml"] += 1
            findings.extend(eml_findings(path, where))
        else:
            if suffix in (".xml", ".opml", ".xsl"):
                etree.fromstring(path.read_bytes())
            counts["other"] += 1
    return findings, counts
