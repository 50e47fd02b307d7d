"""Hostile input: whatever the records hold, the build neither crashes, nor lets script
through into a page, a feed or an e-mail, nor writes outside out/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from outputscan import published_files, scan

from syndicate.build import build

VECTORS = [line for line in (Path(__file__).parent / "data" / "xss-vectors.txt")
           .read_text("utf-8").splitlines() if line and not line.startswith("#")]
CONFIG = """\
[site]
title = "Hostile Herald"
base_url = "https://hostile.example.com/"
timezone = "UTC"
"""


def write_corpus(root: Path, records: dict[str, object]) -> Path:
    (root / "config.toml").write_text(CONFIG, encoding="utf-8")
    articles = root / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    for name, record in records.items():
        path = articles / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(record, bytes):
            path.write_bytes(record)
        else:
            path.write_text(json.dumps(record), encoding="utf-8")
    return root / "config.toml"


def everything_inside(root: Path) -> set[str]:
    """Return the top-level names in the site folder: nothing may appear beside out/."""
    return {p.name for p in root.iterdir()}


def vector_record(index: int, vector: str) -> dict:
    return {
        "id": f"v{index}",
        "title": f"Vector {index} {vector}",
        "published": f"2026-03-{1 + index % 28:02d}T08:{index % 60:02d}:00Z",
        "section": f"Sec {vector[:20]}",
        "summary": vector,
        "body": f"<p>Before</p>{vector}<p>After</p>",
        "authors": [{"name": f"Author {vector[:30]}", "url": vector if vector.startswith(
            "javascript") else f"https://a.example/{index}?x={vector[:20]}"}],
        "tags": [vector[:50], "Common"],
        "images": [{"src": vector if index % 2 else f"https://img.example/{index}.jpg",
                    "alt": vector, "caption": vector, "credit": vector,
                    "width": 800, "height": 450}],
    }


def test_owasp_vectors_never_reach_the_output(tmp_path):
    records = {f"v{i}.json": vector_record(i, v) for i, v in enumerate(VECTORS)}
    config = write_corpus(tmp_path, records)
    result = build(config, environ={})
    assert len(result.loaded.site.articles) == len(VECTORS), "every vector record still builds"
    findings, counts = scan(tmp_path / "out")
    assert findings == []
    assert counts["feed"] + counts["html"] + counts["json"] > 0 or counts["other"] > 0
    assert everything_inside(tmp_path) == {"config.toml", "articles", "out"}


ESCAPING_IDS = ["../../../etc/passwd", "/etc/passwd", "a\x00b", "x" * 5000, "CON", "..",
                ".", "a/../../b", "C:\\Windows\\system32", "~root", "%2e%2e%2f", "\u202eevil",
                "nul.txt", "a/b/c/d/e/f/g"]


def test_ids_and_slugs_built_to_escape_stay_inside_out(tmp_path):
    records = {}
    for index, record_id in enumerate(ESCAPING_IDS):
        records[f"e{index}.json"] = {"id": record_id, "title": f"Escape {index}",
                                     "published": "2026-03-14T08:00:00Z", "body": "<p>x</p>",
                                     "slug": record_id}
    config = write_corpus(tmp_path, records)
    (tmp_path / "config.toml").write_text(
        CONFIG + '[output]\npermalink = "/{section}/{id}/{slug}/"\n', encoding="utf-8")
    result = build(config, environ={})
    built = {a.id for a in result.loaded.site.articles}
    assert "x" * 5000 not in built  # over the id limit: reported and skipped
    assert len(built) == len(ESCAPING_IDS) - 1
    out = tmp_path / "out"
    for path in published_files(out):
        assert out in path.resolve().parents
    assert everything_inside(tmp_path) == {"config.toml", "articles", "out"}
    assert not (tmp_path.parent / "etc").exists()


text_trouble = st.sampled_from([
    "\x00\x01\x08\x0b\x0c\x1f", "\ud800 lone", "\udfff", "\u200f\u202e right-to-left",
    "e\u0301\u0301\u0301 combining", "emoji 🧨🇬🇧👩🏽‍💻", "]]>", "&amp; &lt; &#0; &bogus;",
    "<![CDATA[x]]>", "\u2028\u2029", "\ufffe\uffff", "x" * 100_000, "العربية", "\x85\x9f",
]) | st.text(max_size=60)
dates = st.sampled_from([
    "2026-03-14T08:00:00Z", "2026-02-30T08:00:00Z", "1000-01-01T00:00:00Z",
    "9998-12-31T23:59:59Z", "2026-03-14T08:00:00", "2026-03-14T08:00:00+14:00",
    "2026-03-14T08:00:00-12:00", "2026-03-14T08:00:00+05:45", "not a date", "",
    "2026-03-14T24:00:00Z",
])
wrong_types = st.one_of(st.none(), st.integers(), st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@st.composite
def hostile_record(draw: st.DrawFn, index: int) -> tuple[dict, bool]:
    """Return (record, whether it must build)."""
    valid = draw(st.booleans())
    record = {
        "id": f"r{index}",
        "title": draw(text_trouble) + f" #{index}",
        "published": "2026-03-14T08:00:00Z" if valid else draw(dates),
        "body": "<p>" + draw(text_trouble) + "</p>" + draw(st.sampled_from(VECTORS)),
        "summary": draw(text_trouble),
        "section": draw(text_trouble),
        "tags": draw(st.lists(text_trouble, max_size=4)),
        "authors": [draw(text_trouble) + " x"],
        "images": [{"src": "https://img.example/a.jpg", "alt": draw(text_trouble),
                    "caption": draw(text_trouble), "credit": draw(text_trouble),
                    "width": 10, "height": 10}],
    }
    if not valid:
        field = draw(st.sampled_from(["title", "body", "published", "tags", "images",
                                      "priority", "draft"]))
        record[field] = draw(wrong_types)
    return record, valid


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(st.data())
def test_generated_hostile_corpora(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("hostile")
    records, must_build = {}, set()
    for index in range(data.draw(st.integers(1, 6))):
        record, valid = data.draw(hostile_record(index))
        records[f"r{index}.json"] = record
        if valid:
            must_build.add(f"r{index}")
    config = write_corpus(root, records)
    result = build(config, environ={})
    built = {a.id for a in result.loaded.site.articles}
    assert must_build <= built
    findings, _ = scan(root / "out")
    assert findings == []
    assert everything_inside(root) == {"config.toml", "articles", "out"}


@pytest.mark.parametrize("raw", [
    b"\xff\xfe{\x00}", b'{"title": "t", "published": "2026-03-14T08:00:00Z", "body": "' +
    b"A" * 5_000_000 + b'"}', b"", b"null", b"[" * 100_000, b'{"title": "\\ud800"}',
])
def test_damaged_files_are_reported_not_raised(tmp_path, raw):
    config = write_corpus(tmp_path, {"bad.json": raw, "good.json": {
        "title": "Good", "published": "2026-03-14T08:00:00Z", "body": "<p>ok</p>"}})
    result = build(config, environ={})
    assert "good" in result.loaded.site.by_id
