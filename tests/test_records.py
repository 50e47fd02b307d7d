"""Records: every class of bad input gets one clear line, and the rest still builds."""

from __future__ import annotations

import json
import os

import pytest

from syndicate.build import build, load

GOOD = json.dumps({"id": "good", "title": "A good story", "published": "2026-03-14T08:00:00Z",
                   "body": "<p>Fine.</p>"})


def record(**fields) -> str:
    base = {"title": "T", "published": "2026-03-14T08:00:00Z", "body": "<p>B</p>"}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None})


def lines(loaded) -> list[str]:
    return [str(p) for p in loaded.problems]


def test_valid_records_build_and_bad_ones_are_skipped_in_one_pass(mini_site, tmp_path):
    config = mini_site({
        "articles/good.json": GOOD,
        "articles/world/x.json": record(published="2020-02-30T10:00:00Z"),
        "articles/broken.json": '{"title": "oops",',
        "articles/latin1.json": b'{"title": "caf\xe9"}',
        "articles/array.json": "[1, 2]",
        "articles/open.md": "+++\ntitle = 'x'\npublished = 2026-03-14T08:00:00Z\nNo end\n",
        "articles/badtoml.md": "+++\ntitle = x\n+++\nbody\n",
        "articles/nofront.md": "Just text\n",
        "articles/types.json": record(title=42, body=["x"]),
        "articles/missing.json": json.dumps({"body": "<p>x</p>"}),
    })
    loaded = load(config)
    assert [a.id for a in loaded.site.articles] == ["good"]
    assert sorted(lines(loaded)) == [
        "articles/array.json: must hold one JSON object (an article), not a list",
        "articles/badtoml.md: front matter: invalid TOML: Invalid value (line 2, column 9)",
        "articles/broken.json: invalid JSON at line 1, column 18: Expecting property name "
        "enclosed in double quotes",
        "articles/latin1.json: is not valid UTF-8 (line 1, byte 14)",
        "articles/missing.json: published: is required",
        "articles/missing.json: title: is required",
        "articles/nofront.md: front matter: must start with a +++ line (TOML front matter)",
        "articles/open.md: front matter: no closing +++ line",
        "articles/types.json: body: expected a string, got a list",
        "articles/types.json: title: expected a string, got a number",
        'articles/world/x.json: published: "2020-02-30T10:00:00Z" is not a valid date-time',
    ]
    assert loaded.skipped == 9
    build(config, environ={})
    assert (tmp_path / "out" / "sitemap.xml").read_text().count("<url>") >= 2


def test_duplicate_ids_name_both_files(mini_site):
    config = mini_site({"articles/a.json": record(id="same", title="First"),
                        "articles/b.json": record(id="same", title="Second")})
    loaded = load(config)
    assert [a.title for a in loaded.site.articles] == ["First"]
    assert lines(loaded) == ['articles/b.json: id: "same" is already used by articles/a.json; '
                             "this record is skipped"]


def test_unknown_related_ids_and_drafts(mini_site):
    config = mini_site({
        "articles/a.json": record(id="a", title="A story", related=["b", "nope", "a"]),
        "articles/b.json": record(id="b", title="B story"),
        "articles/c.json": record(id="c", title="C story", draft=True),
        "articles/d.json": record(id="d", title="D story", related=["c"]),
    })
    loaded = load(config)
    assert sorted(a.id for a in loaded.site.articles) == ["a", "b", "d"]
    assert loaded.site.by_id["a"].related_ids == ("b",)
    assert sorted(lines(loaded)) == [
        "articles/a.json: related: \"nope\" is not a known record id; ignored",
        "articles/a.json: related: lists the article itself; ignored",
        "articles/d.json: related: \"c\" is a draft; ignored",
    ]
    assert loaded.drafts == 1


def test_naive_times_are_read_in_the_site_timezone(mini_site):
    config = mini_site({"articles/a.json": record(published="2026-07-01T09:00:00")},
                       config_extra="")
    text = config.read_text().replace('timezone = "UTC"', 'timezone = "Europe/Paris"')
    config.write_text(text)
    (article,) = load(config).site.articles
    assert article.published.isoformat() == "2026-07-01T09:00:00+02:00"


def test_offsets_are_kept_as_instants(mini_site):
    config = mini_site({"articles/a.json": record(published="2026-03-14T08:00:00-05:00",
                                                  updated="2026-03-14T14:00:00.5+00:00")})
    (article,) = load(config).site.articles
    assert article.published.utcoffset().total_seconds() == 0  # site zone is UTC
    assert article.published.hour == 13
    assert article.updated.microsecond == 500000


def test_updated_before_published_is_mended(mini_site):
    config = mini_site({"articles/a.json": record(updated="2026-03-13T08:00:00Z")})
    loaded = load(config)
    (article,) = loaded.site.articles
    assert article.updated == article.published
    assert lines(loaded) == ["articles/a.json: updated: is earlier than published; using "
                             "published"]


def test_slugs_are_ascii_deterministic_and_collisions_resolved(mini_site):
    config = mini_site({
        "articles/a.json": record(id="a", title="Café crème: Zürich & Kraków!"),
        "articles/b.json": record(id="b", title="Cafe creme: Zurich & Krakow",
                                  published="2026-03-14T09:00:00Z"),
        "articles/c.json": record(id="c", title="Κομήτης"),
        "articles/d.json": record(id="d", slug="Bad Slug!"),
    })
    loaded = load(config)
    paths = {a.id: a.path for a in loaded.site.articles}
    assert paths["a"] == "news/2026/03/14/cafe-creme-zurich-krakow/index.html"
    assert paths["b"] == "news/2026/03/14/cafe-creme-zurich-krakow-2/index.html"
    assert paths["c"].startswith("news/2026/03/14/x-")
    assert paths["d"] == "news/2026/03/14/t/index.html"
    assert any("slug: \"Bad Slug!\" must be lower-case" in line for line in lines(loaded))
    assert any('b.json: slug: "/news/2026/03/14/cafe-creme-zurich-krakow/" is also the URL of '
               "articles/a.json" in line for line in lines(loaded))
    # The headline as duplicate checks compare it, made at parse and kept by the record cache.
    keys = {a.id: a.title_key for a in loaded.site.articles}
    assert keys["a"] == keys["b"] == "cafe creme zurich krakow"
    assert keys["c"] == "κομητησ"  # casefolded: a final sigma is a sigma
    assert {a.id: a.title_key for a in load(config, use_cache=True).site.articles} == keys


def test_xml_invalid_characters_are_removed_from_text(mini_site):
    config = mini_site({"articles/a.json": record(
        title="Bell\u0007 and \ud800 surrogate\u0085", summary="Tab\tok\x0b",
        body="<p>Null\u0000 byte</p>", tags=["Tag\u0001"])})
    (article,) = load(config).site.articles
    assert article.title == "Bell and surrogate"
    assert article.summary == "Tab ok"
    assert article.body_html == "<p>Null byte</p>"
    assert article.tags == ("Tag",)


def test_bodies_are_sanitised(mini_site):
    body = ('<p onclick="x()">Hi <a href="javascript:alert(1)">link</a>'
            '<a href="/local">rel</a></p><script>alert(1)</script><iframe src="//e"></iframe>'
            '<img src="data:text/html,x" onerror="y()"><h1>Sub</h1><form><input></form>'
            '<style>p{}</style><table><tr><td colspan="2">cell</td></tr></table>')
    config = mini_site({"articles/a.json": record(body=body)})
    (article,) = load(config).site.articles
    html = article.body_html
    for banned in ("onclick", "javascript:", "<script", "alert", "<iframe", "onerror",
                   "data:", "<h1", "<form", "<input", "<style"):
        assert banned not in html
    assert '<a href="https://mini.example.com/local">rel</a>' in html
    assert "<h2>Sub</h2>" in html
    assert '<td colspan="2">cell</td>' in html


def test_markdown_is_commonmark_and_sanitised(mini_site):
    config = mini_site({"articles/a.md": (
        "+++\ntitle = 'M'\npublished = 2026-03-14T08:00:00Z\n+++\n"
        "Some *emphasis* and [a link](https://e.com).\n\n<script>bad()</script>\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n")})
    (article,) = load(config).site.articles
    assert "<em>emphasis</em>" in article.body_html
    assert '<a href="https://e.com">a link</a>' in article.body_html
    assert "<script" not in article.body_html and "bad()" not in article.body_html
    assert "<td>1</td>" in article.body_html
    assert article.summary == "Some emphasis and a link."


def test_a_five_megabyte_body_is_fine_and_oversized_files_are_refused(mini_site):
    big = "<p>" + "word " * 1_000_000 + "</p>"
    config = mini_site({"articles/big.json": record(body=big),
                        "articles/huge.json": record(body="x" * 200)},
                       config_extra="[content]\nmax_file_bytes = 6_000_000\n")
    huge = config.parent / "articles/huge.json"
    huge.write_text(record(body="y" * 6_500_000))
    loaded = load(config)
    assert [a.source for a in loaded.site.articles] == ["articles/big.json"]
    size = huge.stat().st_size
    assert lines(loaded) == [f"articles/huge.json: file is {size:,} bytes, over the limit of "
                             "6,000,000 ([content] max_file_bytes)"]
    assert len(loaded.site.articles[0].summary) <= 300


def test_optional_field_problems_keep_the_record(mini_site):
    config = mini_site({"articles/a.json": record(
        priority=42, tags="notalist", authors=[{"name": "A", "url": "javascript:x"}, 7],
        canonical_url="not a url", images=[{"src": "missing.jpg"}, {"src": "ftp://x/y.jpg"},
                                           {"src": "https://e.com/i.jpg", "width": 10}],
        extra_field=1)})
    loaded = load(config)
    (article,) = loaded.site.articles
    assert article.priority == 10
    assert article.tags == ()
    assert [a.name for a in article.authors] == ["A"] and article.authors[0].url == ""
    assert article.canonical_url == ""
    assert article.images == ()
    shown = lines(loaded)
    assert "articles/a.json: priority: 42 is outside 0 to 10; using 10" in shown
    assert "articles/a.json: images[2].height: missing; image ignored (pages need its size)" \
        in shown
    assert "articles/a.json: extra_field: unknown field; kept and ignored" in shown
    assert {p.severity for p in loaded.problems} == {"warning", "notice"}


def test_thousands_of_tags_are_trimmed(mini_site):
    config = mini_site({"articles/a.json": record(tags=[f"t{i}" for i in range(3000)])})
    loaded = load(config)
    assert len(loaded.site.articles[0].tags) == 50
    assert lines(loaded) == ["articles/a.json: tags: 3,000 tags; kept the first 50 "
                             "([content] max_tags)"]


def test_hidden_files_and_symlinks_outside_are_not_followed(mini_site, tmp_path):
    outside = tmp_path.parent / (tmp_path.name + "-outside.json")
    outside.write_text(record(title="Secret"))
    config = mini_site({"articles/.hidden.json": record(title="Hidden"),
                        "articles/_draft/x.json": record(title="Underscore"),
                        "articles/a.json": record(title="Visible")})
    os.symlink(outside, tmp_path / "articles" / "link.json")
    os.symlink(tmp_path.parent, tmp_path / "articles" / "dirlink")
    loaded = load(config)
    assert [a.title for a in loaded.site.articles] == ["Visible"]
    assert sorted(lines(loaded)) == [
        "articles/dirlink: is a symbolic link to a folder; not followed",
        "articles/link.json: is a symbolic link to a file outside the records folder; "
        "not followed",
    ]


def test_record_files_are_listed_folder_files_first_then_subfolders_by_name(tmp_path):
    from syndicate.sources import find_record_files

    for name in ["b.json", "a.md", "z/y.json", "z/a/b.json", "m/n.json", "m/x.txt", "c.json",
                 "_skip/d.json", "m/.e.json"]:
        (tmp_path / "r" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "r" / name).write_text("{}")
    os.symlink(tmp_path / "r" / "m", tmp_path / "r" / "link")
    problems: list = []
    found = [shown for _, shown in find_record_files(tmp_path / "r", "docs/", problems)]
    assert found == ["docs/a.md", "docs/b.json", "docs/c.json", "docs/m/n.json",
                     "docs/z/y.json", "docs/z/a/b.json"]
    assert [str(p) for p in problems] == ["docs/link: is a symbolic link to a folder; "
                                          "not followed"]


def test_local_images_are_sized_from_the_file(mini_site):
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x2c\x00\x00\x00\xc8"
           b"\x08\x02\x00\x00\x00")
    config = mini_site({"articles/pic.png": png,
                        "articles/a.json": record(images=[{"src": "pic.png", "alt": "A"}]),
                        "articles/b.json": record(title="Escape",
                                                  images=[{"src": "../config.toml"}])})
    loaded = load(config)
    by_title = {a.title: a for a in loaded.site.articles}
    image = by_title["T"].images[0]
    assert (image.width, image.height, image.length) == (300, 200, len(png))
    assert image.url == "https://mini.example.com/media/pic.png"
    assert by_title["Escape"].images == ()


@pytest.mark.parametrize("value", ["2026-13-01T00:00:00Z", "2026-03-14", "yesterday",
                                   "0999-01-01T00:00:00Z", "2026-03-14T25:00:00Z",
                                   "2026-03-14T08:00:00+24:00", 1710403200])
def test_bad_dates_are_errors(mini_site, value):
    config = mini_site({"articles/a.json": record(published=value)})
    loaded = load(config)
    assert loaded.site.articles == ()
    (problem,) = loaded.problems
    assert problem.field == "published" and problem.severity == "error"


def test_replace_article_is_dataclasses_replace_without_the_cached_render_key():
    import dataclasses

    from conftest import ROOT

    from syndicate.build import load
    from syndicate.model import replace_article

    site = load(ROOT / "config.toml", environ={}).site
    article = site.articles[0]
    key = article.render_key  # cached in the instance, and derived from `url`
    moved = replace_article(article, url=article.url + "moved/", slug="moved")
    assert moved == dataclasses.replace(article, url=article.url + "moved/", slug="moved")
    assert moved.render_key != key and article.render_key == key
    with pytest.raises(TypeError):
        replace_article(article, no_such_field=1)
