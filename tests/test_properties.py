"""Property tests for everything parsed from users: slugs, front matter, records, dates."""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syndicate import text
from syndicate.config import config_from_dict
from syndicate.media import MediaResolver
from syndicate.records import (
    parse_datetime,
    parse_front_matter,
    parse_record,
    parse_record_bytes,
    split_front_matter,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG = config_from_dict({"site": {"title": "T", "base_url": "https://p.example.com/"}})
MEDIA = MediaResolver(CONFIG)
UTC = ZoneInfo("UTC")


@given(st.text())
def test_slugs_are_ascii_bounded_and_stable(title):
    slug = text.slugify(title)
    assert slug == text.slugify(title)
    assert slug == "" or text.SLUG_PATTERN.fullmatch(slug)
    assert len(slug) <= text.MAX_SLUG
    fallback = text.slug_or_hash(title, title)
    assert fallback and text.SLUG_PATTERN.fullmatch(fallback)


@given(st.one_of(st.text(), st.text(alphabet="abcnolprux019-", max_size=90)),
       st.integers(min_value=6, max_value=90))  # room for "x-" before a reserved name
@example("con", 80)
@example("lpt1", 6)
@example("a-" * 40 + "b", 80)
def test_a_slug_slugifies_to_itself_and_the_shortcut_for_slugs_changes_nothing(title, length):
    slug = text.slugify(title, max_length=length)
    assert slug == text._slugify(title, length), "the shortcut for slugs gave another slug"
    assert text.slugify(slug, max_length=length) == slug
    assert text.slugify(text.slug_or_hash(title, title)) == text.slug_or_hash(title, title)


@given(st.text(alphabet=st.characters(codec="ascii", categories=["Ll", "Nd"]), min_size=1,
               max_size=40))
def test_a_clean_slug_is_its_own_slug(word):
    assert text.slugify(word) == word


@given(st.text())
def test_xml_safe_text_is_always_xml(value):
    cleaned = text.xml_safe(value)
    from xml.sax.saxutils import escape

    from lxml import etree

    etree.fromstring(f"<a>{escape(cleaned)}</a>".encode())


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True),
                       st.one_of(st.text(), st.integers(), st.booleans(),
                                 st.lists(st.text(), max_size=3))),
       st.text())
def test_front_matter_round_trips(fields, body):
    front = "".join(f"{key} = {json.dumps(value)}\n" for key, value in fields.items()
                    if not isinstance(value, bool))
    source = f"+++\n{front}+++\n{body}"
    parts = split_front_matter(source)
    assert parts is not None
    assert parts[0] == front
    assert parts[1] == body
    data, _ = parse_front_matter(source, "x.md")
    if data is not None:
        assert data["body"] == body
        assert {k: v for k, v in data.items() if k not in ("body", "body_format")} == \
            tomllib.loads(front)


@given(st.text())
def test_front_matter_never_raises(source):
    data, problems = parse_front_matter(source, "x.md")
    assert (data is None) == bool([p for p in problems if p.severity == "error"])


@given(st.binary(max_size=300))
def test_record_bytes_never_raise(raw):
    for markdown in (True, False):
        data, problems = parse_record_bytes(raw, "x", markdown=markdown)
        assert data is not None or problems


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children,
                                                                      max_size=3),
    max_leaves=8,
)
FIELDS = ["id", "title", "published", "updated", "section", "authors", "summary", "body",
          "body_format", "images", "tags", "priority", "slug", "canonical_url", "draft",
          "related"]


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=150)
@given(st.dictionaries(st.sampled_from(FIELDS), json_values))
def test_any_record_gives_an_article_or_an_error_never_an_exception(data):
    article, problems = parse_record(data, "x.json", "x", CONFIG, MEDIA)
    if article is None:
        assert any(p.severity == "error" for p in problems)
    else:
        assert article.title and article.published.tzinfo is not None
        assert article.updated >= article.published
        assert "<script" not in article.body_html.lower()


@given(st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9998, 12, 30),
                    timezones=st.builds(lambda m: timezone(timedelta(minutes=m)),
                                        st.integers(-23 * 60 - 59, 23 * 60 + 59))))
def test_rfc3339_round_trips(moment):
    parsed = parse_datetime(moment.isoformat(), UTC)
    assert parsed == moment
    assert parsed.tzinfo is not None


@given(st.text(max_size=40))
def test_date_parser_never_raises_anything_but_value_error(value):
    with contextlib.suppress(ValueError):
        parse_datetime(value, UTC)


@given(st.integers(min_value=0, max_value=300), st.integers(min_value=1, max_value=25),
       st.integers(min_value=1, max_value=60))
def test_archive_pages_keep_their_stories_as_new_ones_arrive(count, per_page, added):
    from syndicate.outputs.pages import archive_bounds

    def archive_runs(newest_first: list[int]) -> list[list[int]]:
        return [newest_first[start:end]
                for start, end in archive_bounds(len(newest_first), per_page)]

    stories = list(range(count + added))  # oldest first; pages list them newest first
    before = archive_runs(stories[:count][::-1])
    after = archive_runs(stories[::-1])
    for runs, total in ((before, count), (after, count + added)):
        # Every story once; the first page holds per_page to 2 * per_page - 1 (all when
        # there are fewer), every archive page exactly per_page, page 1 the oldest.
        newest_first = [runs[0], *runs[:0:-1]]  # the first page, then page n down to 1
        assert [s for run in newest_first for s in run] == list(range(total))[::-1]
        assert len(runs[0]) == total if total < 2 * per_page else \
            per_page <= len(runs[0]) < 2 * per_page
        assert all(len(run) == per_page for run in runs[1:])
    # Archive page n (runs[n]) holds the same stories before and after.
    assert all(list(after[n]) == list(before[n]) for n in range(1, len(before)))


@given(st.lists(st.sampled_from(
    ["con", "CoM1", "lpt9.txt", "nul.html", "com12", "conx", "aux", "a", "index.html", "~-_",
     ".", "..", "", ".well-known", ".syndicate-cache", "x" * 255, "y" * 256, "é", "a:b",
     "a\\b", "tab\tx", "page", "3"]), min_size=1, max_size=4), st.text(max_size=2))
@example(["tag", "belarus", "page", "3", "index.html"], "")
@example(["x", "com1"], "")
def test_the_shortcut_for_plain_paths_agrees_with_checking_every_segment(segments, tail):
    from syndicate.writer import check_every_segment, check_path

    path = "/".join(segments) + tail
    assert check_path(path) == check_every_segment(path)


@given(st.integers(min_value=0, max_value=300), st.integers(min_value=1, max_value=25),
       st.booleans())
def test_feed_pages_are_the_spans_they_name_and_archives_count_from_the_oldest(
        count, max_items, archives):
    from syndicate.outputs.feedmodel import Feed, pages

    feed = Feed(kind="site", slug="", name="N", title="T", description="D", page_url="u",
                folder="/", id="i", articles=tuple(range(count))[::-1])  # newest first
    shown = pages(feed, max_items, archives)
    assert shown[0].articles == feed.articles[:max_items]
    oldest_first = feed.articles[::-1]
    for page in shown:
        start, end = page.span
        assert page.articles == feed.articles[start:end]
        if page.number:  # the n-th run of max_items from the oldest, newest first
            run = oldest_first[(page.number - 1) * max_items:page.number * max_items]
            assert page.articles == run[::-1]
