"""The bounded cache behind the feed entries: what it keeps, and that it never changes output."""

from __future__ import annotations

import pytest

from syndicate.build import load
from syndicate.outputs import RenderContext, feedmodel
from syndicate.outputs import feeds as feeds_output
from syndicate.recent import Recent


def test_keeps_the_values_used_most_recently() -> None:
    cache: Recent[str, str] = Recent(2)
    made: list[str] = []

    def get(key: str) -> str:
        return cache.get(key, lambda: made.append(key) or key.upper())

    assert [get("a"), get("b"), get("a"), get("c")] == ["A", "B", "A", "C"]
    assert len(cache) == 2
    get("a")  # Used after "b", so "b" went when "c" came.
    get("b")
    assert made == ["a", "b", "c", "b"]
    assert cache.made == 4


def test_holds_at_least_one_value() -> None:
    with pytest.raises(ValueError):
        Recent(0)


def _feed_documents(config_path) -> dict[str, bytes]:
    site = load(config_path).site
    return {a.path: a.content() for a in feeds_output.render(site, RenderContext())}


def test_feeds_are_the_same_whatever_the_cache_holds(fixture_copy, monkeypatch) -> None:
    config_path = fixture_copy("basic")
    text = config_path.read_text(encoding="utf-8")
    # Small pages with archives, so that every article is listed by several documents.
    config_path.write_text(text.replace("[feeds]", "[feeds]\nmax_items = 2\narchives = true", 1)
                           if "[feeds]" in text else text + "\n[feeds]\nmax_items = 2\n",
                           encoding="utf-8")
    roomy = _feed_documents(config_path)
    monkeypatch.setattr(feedmodel, "RECENT_ARTICLES", 1)
    tight = _feed_documents(config_path)
    assert len(roomy) > 20
    assert tight == roomy
