"""The W3C Feed Validation Service's own code (w3c/feedvalidator), run offline over every RSS
and Atom document of the fixture site and of a site with archives: zero errors and zero
warnings. Skipped when the validator is not installed (tools/validate/setup.sh puts it in
$FEEDVALIDATOR_HOME, by default ~/.cache/syndicate-validate/feedvalidator)."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import pytest
from test_feeds import ATOM, fixture_feeds, render_feeds, story, xml


def validator_source() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = os.environ.get("FEEDVALIDATOR_HOME") or cache / "syndicate-validate" / "feedvalidator"
    return Path(home) / "src"


@pytest.fixture
def validate(monkeypatch):
    source = validator_source()
    if not (source / "feedvalidator" / "__init__.py").is_file():
        pytest.skip(f"the W3C feed validator is not installed at {source}")
    monkeypatch.syspath_prepend(str(source))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import feedvalidator
        from feedvalidator import compatibility
        from feedvalidator.formatter.text_plain import Formatter

    def run(data: bytes) -> list[str]:
        root = xml(data)
        parent = root.find("channel") if root.tag == "rss" else root
        base = next(link.get("href") for link in parent.iter(f"{ATOM}link")
                    if link.get("rel") == "self")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = feedvalidator.validateStream(io.BytesIO(data), firstOccurrenceOnly=0,
                                                  contentType=None, base=base)
        events = compatibility.AA(result["loggedEvents"])
        assert result.get("feedType"), "not recognised as a feed"
        return [Formatter([]).getMessage(event) for event in events]

    return run


def test_fixture_site_feeds_are_valid(fixture_copy, validate):
    files = fixture_feeds(fixture_copy)
    documents = [path for path in files if path.endswith(".xml")]
    assert len(documents) > 10
    for path in documents:
        assert validate(files[path]) == [], path


def test_archives_tags_authors_and_pictures_are_valid(mini_site, validate):
    picture = {"src": "https://img.example.com/p.jpg", "width": 1200, "height": 675,
               "alt": "Quay", "caption": "The quay at dawn.", "credit": "Picture: PA"}
    stories = {f"s{n}": story(f"s{n}", f"Story {n} & more", f"2026-03-{n:02d}T08:00:00Z",
                              tags=["Belarus", "Ports"], images=[picture] if n % 2 else [],
                              authors=["Ann Writer", "Bo Reporter"][: 1 + n % 2])
               for n in range(1, 10)}
    files = render_feeds(mini_site, stories, "[feeds]\nmax_items = 2\n")
    documents = [path for path in files if path.endswith(".xml")]
    assert any("/archive/" in path for path in documents)
    for path in documents:
        assert validate(files[path]) == [], path


def test_the_validator_can_fail(validate):
    broken = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>x</title>
<atom:link href="https://x.example/f" rel="self" type="application/rss+xml"/>
<link>/relative</link><description>d</description></channel></rss>"""
    assert any("link must be a full and valid URL" in message for message in validate(broken))
