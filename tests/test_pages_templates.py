"""Pages on small sites: template lookup order, pagination, body images, safe JSON-LD,
feed links, byte-identical output, and sites with nothing in them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin

import lxml.html
import pytest

from syndicate import rank
from syndicate.build import build, load
from syndicate.errors import BuildError
from syndicate.outputs import RenderContext
from syndicate.outputs import pages as pages_output

OUTPUT = '\n[output]\noutputs = ["pages"]\n'


def story(number: int, section: str = "World", **fields) -> str:
    data = {"id": f"s{number}", "title": f"Story number {number}",
            "published": f"2026-03-{number + 1:02d}T08:00:00Z", "section": section,
            "authors": ["Matt Drake"], "tags": ["Harbour"], "body": f"<p>Body {number}.</p>"}
    data.update(fields)
    return json.dumps(data)


def render(config, environ: dict[str, str] | None = None) -> tuple[dict[str, bytes],
                                                                   RenderContext]:
    loaded = load(config, environ=environ or {})
    ctx = RenderContext()
    artifacts = pages_output.render(loaded.site, ctx)
    return {a.path: a.content() for a in artifacts}, ctx


def parse(data: bytes) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(data)


def test_template_lookup_order(mini_site):
    config = mini_site({
        "articles/w.json": story(1, "World"),
        "articles/s.json": story(2, "Sport"),
        "templates/article.html": '{% extends "default:article.html" %}{% block main %}'
                                  '<p id="override">site article</p>{{ super() }}{% endblock %}',
        "templates/article-world.html": '{% extends "default:article.html" %}'
                                        '{% block main %}<p id="world">world article</p>'
                                        "{{ super() }}{% endblock %}",
        "templates/list-tag.html": '{% extends "list.html" %}{% block main %}'
                                   '<p id="tag">tag list</p>{{ super() }}{% endblock %}',
    }, '\n[content]\ntemplates = "templates"\n' + OUTPUT)
    pages, _ = render(config)
    loaded = load(config, environ={})
    world, sport = (loaded.site.by_id[i] for i in ("s1", "s2"))
    world_page, sport_page = parse(pages[world.path]), parse(pages[sport.path])
    # Most specific name first: article-world.html, else the site's article.html.
    assert world_page.xpath('//p[@id="world"]') and not world_page.xpath('//p[@id="override"]')
    assert sport_page.xpath('//p[@id="override"]') and not sport_page.xpath('//p[@id="world"]')
    # `default:` reaches the package template, so the override keeps the whole page.
    assert sport_page.xpath("//h1")[0].text_content() == sport.title
    tag_page = parse(pages["tag/harbour/index.html"])
    assert tag_page.xpath('//p[@id="tag"]') and tag_page.xpath("//h1")
    assert not parse(pages["world/index.html"]).xpath('//p[@id="tag"]')


def test_undefined_names_fail_the_build_naming_the_template(mini_site):
    config = mini_site({
        "articles/w.json": story(1),
        "templates/article.html": "<p>{{ story.no_such_field }}</p>",
    }, '\n[content]\ntemplates = "templates"\n' + OUTPUT)
    with pytest.raises(BuildError) as caught:
        build(config, environ={})
    message = str(caught.value)
    assert "article.html" in message and "no_such_field" in message
    assert "articles/w.json" in message


@pytest.mark.parametrize(("template", "line", "reason"), [
    ("<p>\n{{ story.title }}\n{{ story.title|no_such_filter }}</p>", 3, "no_such_filter"),
    ("<p>\n\n\n{{ story.missing }}</p>", 4, "missing"),
    ("<p>\n{% if %}</p>", 2, "Expected an expression"),
])
def test_a_template_error_names_the_template_its_line_and_the_article(mini_site, template,
                                                                     line, reason):
    config = mini_site({
        "articles/w.json": story(1),
        "templates/article.html": template,
    }, '\n[content]\ntemplates = "templates"\n' + OUTPUT)
    with pytest.raises(BuildError) as caught:
        build(config, environ={}, jobs=1)
    message = str(caught.value)
    assert f"templates/article.html:{line}:" in message
    assert reason in message
    if reason == "missing":  # found while rendering; the others when the template compiles
        assert "(while rendering articles/w.json)" in message


def test_a_site_stylesheet_replaces_the_default_and_is_checked(mini_site):
    config = mini_site({
        "articles/w.json": story(1),
        "templates/site.css": "/* house style */ body { color: red !important; }\n"
                              "p::after { content: '</style><script>x</script>' }",
    }, '\n[content]\ntemplates = "templates"\n' + OUTPUT)
    pages, ctx = render(config)
    page = parse(pages["index.html"])
    (style,) = page.xpath("//style")
    assert style.text.startswith("body{color:red !important}")
    assert not page.xpath("//script[not(@type)]")
    assert any("!important" in p.message for p in ctx.problems)


def test_pagination_has_stable_urls_and_prev_next_links(mini_site):
    config = mini_site({f"articles/{n}.json": story(n) for n in range(1, 8)},
                       OUTPUT + "\n[pages]\nper_page = 2\n")
    pages, _ = render(config)
    base = "https://mini.example.com/world/"
    # Newest first: the first page, then the archive from its newest page to page 1.
    urls = [base, base + "page/2/", base + "page/1/"]
    paths = ["world/index.html", "world/page/2/index.html", "world/page/1/index.html"]
    assert "world/page/3/index.html" not in pages and "world/page/0/index.html" not in pages
    listed = []
    for number, path in enumerate(paths):
        page = parse(pages[path])
        assert page.xpath('//link[@rel="canonical"]/@href') == [urls[number]]
        prev_head = page.xpath('//link[@rel="prev"]/@href')
        next_head = page.xpath('//link[@rel="next"]/@href')
        assert prev_head == ([urls[number - 1]] if number else [])
        assert next_head == ([urls[number + 1]] if number < 2 else [])
        for rel, expected in (("prev", prev_head), ("next", next_head)):
            shown = [urljoin(urls[number], href)
                     for href in page.xpath(f'//nav//a[@rel="{rel}"]/@href')]
            assert shown == expected
        label = page.xpath('//nav[@class="pager"]/p/text()')
        assert label == ([f"Page {len(paths) - number}"] if number else [])
        listed.append(page.xpath('//article[contains(@class,"card")]/h3/a/text()'))
        assert len(page.xpath('//img[@fetchpriority="high"]')) <= 1
    assert listed == [[f"Story number {n}" for n in run] for run in ((7, 6, 5), (4, 3), (2, 1))]


@pytest.mark.parametrize("per_page", [1, 2, 3])
def test_a_new_story_changes_the_first_page_and_at_most_one_archive_page(mini_site, per_page):
    extra = OUTPUT + f"\n[pages]\nper_page = {per_page}\n"
    config = mini_site({"articles/1.json": story(1)}, extra)
    before, _ = render(config)
    for number in range(2, 12):
        config = mini_site({f"articles/{number}.json": story(number)}, extra)
        after, _ = render(config)
        archive = sorted((path for path in after if path.startswith("world/page/")),
                         key=lambda path: int(path.split("/")[-2]))
        changed = [path for path in archive if before.get(path) != after[path]]
        # A story never moves between archive pages: a new page appears when the first
        # page is full, and the page that was newest then links to it as the newer one.
        newest = [path for path in archive if path in before][-1:]
        assert set(changed) <= {*archive[-1:], *newest}, (number, changed)
        front = parse(after["world/index.html"])
        shown = len(front.xpath('//article[contains(@class,"card")]'))
        assert shown == (number if number < 2 * per_page else per_page + number % per_page)
        assert before["world/index.html"] != after["world/index.html"]
        before = after


def test_body_images_get_lazy_async_loading_or_are_replaced(mini_site):
    body = ('<p>Map: <img src="/maps/harbour.png" width="640" height="480" alt="Harbour map">'
            '</p><p><img src="https://cdn.example.net/x.png" alt="A chart with no size">'
            '<img src="https://cdn.example.net/y.png" width="100%" height="20"></p>')
    config = mini_site({"articles/w.json": story(1, body=body)}, OUTPUT)
    pages, ctx = render(config)
    loaded = load(config, environ={})
    page = parse(pages[loaded.site.articles[0].path])
    images = page.xpath('//div[@class="body"]//img')
    assert len(images) == 1
    (image,) = images
    assert image.get("decoding") == "async" and image.get("loading") == "lazy"
    assert (image.get("width"), image.get("height"), image.get("alt")) == ("640", "480",
                                                                             "Harbour map")
    assert image.get("src") == "../../../../../maps/harbour.png"
    assert "A chart with no size" in page.xpath('//div[@class="body"]')[0].text_content()
    warnings = [p.message for p in ctx.problems if p.field == "body"]
    assert len(warnings) == 2 and all("width and height" in w for w in warnings)


def test_headlines_cannot_break_out_of_the_json_ld(mini_site):
    title = 'Tricky </script><script>alert("x")</script> <!-- & done'
    config = mini_site({"articles/w.json": story(1, title=title)}, OUTPUT)
    pages, _ = render(config)
    for data in pages.values():
        page = parse(data)
        scripts = page.xpath("//script")
        assert [s.get("type") for s in scripts] == ["application/ld+json"]
        assert b"</script><script>" not in data.split(b"<body>")[0]
        assert b"<!--" not in data
    article = parse(pages[load(config, environ={}).site.articles[0].path])
    assert json.loads(article.xpath("//script")[0].text)["headline"] == title
    assert article.xpath("//h1")[0].text_content() == title


def test_feed_links_follow_the_feeds_config(mini_site):
    records = {"articles/w.json": story(1)}
    pages, _ = render(mini_site(records, OUTPUT))
    assert not parse(pages["index.html"]).xpath('//link[@rel="alternate"]')
    config = mini_site(records, '\n[output]\noutputs = ["pages", "feeds"]\n'
                                '\n[feeds]\nsections = false\nrss = "rss.xml"\n')
    pages, _ = render(config)
    article = parse(pages[load(config, environ={}).site.articles[0].path])
    links = [(link.get("type"), link.get("href"))
             for link in article.xpath('//link[@rel="alternate"]')]
    assert links == [("application/rss+xml", "https://mini.example.com/rss.xml"),
                     ("application/atom+xml", "https://mini.example.com/atom.xml"),
                     ("application/feed+json", "https://mini.example.com/feed.json")]
    config = mini_site(records, '\n[output]\noutputs = ["pages", "feeds"]\n'
                                '\n[feeds]\nformats = ["atom"]\n')
    pages, _ = render(config)
    section = parse(pages["world/index.html"])
    assert section.xpath('//link[@rel="alternate"]/@href') == [
        "https://mini.example.com/atom.xml", "https://mini.example.com/world/atom.xml"]


def test_no_favicon_means_an_empty_icon_link(mini_site):
    pages, _ = render(mini_site({"articles/w.json": story(1)}, OUTPUT))
    assert parse(pages["index.html"]).xpath('//link[@rel="icon"]/@href') == ["data:,"]


def test_an_empty_site_still_has_a_home_page(mini_site):
    pages, _ = render(mini_site({}, OUTPUT))
    assert list(pages) == ["index.html"]
    assert parse(pages["index.html"]).xpath("//h1")[0].text_content() == "Mini Times"


def test_home_falls_back_to_the_newest_when_no_story_is_recent(mini_site):
    records = {f"articles/{n}.json": story(n) for n in range(1, 4)}
    config = mini_site(records, OUTPUT + "\n[top]\nwindow_hours = 1\n")
    pages, _ = render(config)
    assert parse(pages["index.html"]).xpath("//section/h2/text()") == ["Top stories",
                                                                       "Latest news"]
    a_week_later = str(int(datetime(2026, 3, 11, tzinfo=timezone.utc).timestamp()))
    pages, _ = render(config, {"SOURCE_DATE_EPOCH": a_week_later})
    home = parse(pages["index.html"])
    assert home.xpath("//section/h2/text()") == ["Latest news"]
    assert home.xpath("//h3/a/text()")[0] == "Story number 3"
    assert len(home.xpath('//img[@fetchpriority="high"]')) <= 1


def test_builds_are_byte_identical_across_processes(mini_site, tmp_path):
    """Two builds in fresh interpreters with different hash seeds write the same bytes."""
    records = {f"articles/{n}.json": story(n, section=("World", "Sport")[n % 2],
                                           tags=["Harbour", "Ferries", f"T{n}"])
               for n in range(1, 6)}
    config = mini_site(records, OUTPUT)
    trees = []
    for seed in ("1", "2"):
        out = tmp_path / f"out-{seed}"
        code = ("import sys; from syndicate.build import build; "
                "build(sys.argv[1], out_dir=sys.argv[2], environ={})")
        subprocess.run([sys.executable, "-c", code, str(config), str(out)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        trees.append({p.relative_to(out).as_posix(): p.read_bytes()
                      for p in sorted(Path(out).rglob("*.html"))})
    assert trees[0] == trees[1]
    assert len(trees[0]) > 5


SHELL = "<main>{% block main %}{% endblock %}</main>"


@pytest.mark.parametrize(("templates", "splices"), [
    ({"page": "{{ latest_html }}"}, True),
    ({"page": '{% extends "shell" %}{% block main %}{{ latest_html -}}{% endblock %}'}, True),
    ({"page": '{% include "part" %}', "part": "<nav>{{ latest_html }}</nav>"}, True),
    ({"page": "{{ latest_html }}{{ latest_html }}"}, False),
    ({"page": "{% if latest_html %}<hr>{% endif %}{{ latest_html }}"}, False),
    ({"page": "{{ latest_html|upper }}"}, False),
    ({"page": "{{ latest_html }}{{ latest.heading }}"}, False),
    ({"page": '{% extends "shell" %}{% block main %}{{ latest_html }}{% endblock %}',
      "shell": "<title>{{ latest.cards|length }}</title>" + SHELL}, False),
    ({"page": "{% set latest_html = 'x' %}{{ latest_html }}"}, False),
    ({"page": "{% include which %}{{ latest_html }}"}, False),
    ({"page": '{% include "missing" %}{{ latest_html }}'}, False),
    ({"page": "{{ latest_html"}, False),
])
def test_the_latest_list_is_spliced_only_into_templates_that_show_it_once_as_it_is(
        templates, splices):
    """A template may have the latest list spliced in only when nothing else on the page can
    depend on it (docs/templates.md)."""
    import jinja2

    from syndicate.templating import output_once

    env = jinja2.Environment(loader=jinja2.DictLoader({"shell": SHELL, **templates}))
    assert output_once(env, "page", "latest_html", unread=("latest",)) is splices


def test_every_latest_list_links_its_sections_newest_from_its_own_folder(mini_site):
    # Pages of one section share a latest list, and each renders it once per folder: the
    # links must still be relative to each page, and the heading name its own section.
    files = {f"articles/w{n}.json": story(n, "World", published=f"202{n % 3 + 4}-0{n}-11T08:00:00Z")
             for n in range(1, 9)}
    files |= {f"articles/p{n}.json": story(n + 20, "Sport", id=f"p{n}",
                                           published=f"2026-03-0{n}T09:00:00Z")
              for n in range(1, 5)}
    files["articles/w9.json"] = story(9, "World", published="2026-03-09T10:00:00Z")
    config = mini_site(files, OUTPUT)
    pages, _ = render(config)
    site = load(config, environ={}).site
    folders = set()
    for article in site.articles:
        page = parse(pages[article.path])
        (nav,) = page.xpath('//nav[starts-with(@aria-label, "Latest")]')
        assert nav.get("aria-label") == f"Latest {article.section} News"
        shown = [urljoin(article.url, href) for href in nav.xpath(".//a/@href")]
        assert shown == [a.url for a in rank.latest_in_section(site, article)], article.id
        folders.add(article.url.rsplit("/", 2)[0])
    assert len(folders) > 8


def test_latest_lists_stay_right_when_one_story_lives_inside_anothers_folder(mini_site):
    # With ids as paths, "desk/late" is published inside "desk"'s folder. The older pages
    # share one latest list: on "desk"'s page it links into its own folder, and from the
    # pages beside it into "desk"; in either order, each page gets the markup it would get
    # alone (a build's bytes may not depend on the order its workers render pages in).
    ids = ["aaa", "desk", "mmm", "zzz", "desk/late", "news", "desk/late/night"]
    files = {f"articles/{n}.json": story(n + 1, "World", id=story_id)
             for n, story_id in enumerate(ids)}
    config = mini_site(files, '\n[output]\noutputs = ["pages"]\npermalink = "/{id}/"\n'
                       "\n[latest]\ncount = 3\n")
    site = load(config, environ={}).site
    assert site.by_id["desk/late"].url.endswith("/desk/late/")
    for order in (site.articles, site.articles[::-1]):
        maker = pages_output.PageMaker(site, RenderContext())
        for article in order:
            latest = rank.latest_in_section(site, article)
            markup = maker.latest_region(article, latest)
            alone = pages_output.PageMaker(site, RenderContext()).latest_region(article, latest)
            assert markup == alone, article.id
            shown = [urljoin(article.url, href) for href in parse(markup).xpath("//a/@href")]
            assert shown == [a.url for a in latest], article.id


def test_pick_takes_the_first_template_there_even_from_a_loader_that_cannot_list():
    import jinja2

    from syndicate.errors import BuildError
    from syndicate.templating import pick

    sources = {"b.html": "b", "c.html": "c"}
    listed = jinja2.Environment(loader=jinja2.DictLoader(sources))
    unlisted = jinja2.Environment(loader=jinja2.FunctionLoader(sources.get))
    for env in (listed, unlisted):
        assert pick(env, ["a.html", "b.html", "c.html"]).render() == "b"
        assert pick(env, ["c.html", "b.html"]).render() == "c"
        with pytest.raises(BuildError, match=r"no template found among a\.html, z\.html"):
            pick(env, ["a.html", "z.html"])
