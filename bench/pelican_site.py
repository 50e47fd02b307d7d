"""Convert a bench corpus into an equivalent Pelican site, for side-by-side build timings.

    python bench/pelican_site.py bench/corpus/10000 bench/work/10000/pelican/site

Writes pelicanconf.py, a minimal theme in theme/templates/ and one content file per record:
content/<section>/<id>.html (JSON records: HTML with <meta> metadata) or .md (Markdown
records: Pelican's `Key: value` metadata), with title, date, modified, category (the
section), tags, authors and the lead picture.

The site matches the issue 8 anchor: article pages with 5 related stories (the
pelican-related-posts plugin, shared tags) and 5 "latest in section", category, tag and
author pages paginated 20 a page, a home page, and RSS plus Atom feeds for the whole site,
each category, each tag and each author, 50 items each (FEED_MAX_ITEMS). Pelican's own
content cache is on (CACHE_CONTENT, LOAD_CONTENT_CACHE), so rebuilds get its incremental
path; a cold build removes the cache.
"""

# ruff: noqa: E501  (the layouts are data; their lines are as long as the markup needs)
from __future__ import annotations

import argparse
import html
import json
import shutil
import sys
from pathlib import Path

from records import load_record, record_paths, section_slug

FEED_ITEMS = 50
PER_PAGE = 20

SETTINGS = """\
SITENAME = "Benchmark Bulletin"
SITEURL = "https://bench.example.org"
FEED_DOMAIN = SITEURL
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
PATH = "content"
ARTICLE_PATHS = [""]
PAGE_PATHS = []
STATIC_PATHS = []
THEME = "theme"
PLUGINS = ["pelican.plugins.related_posts"]
RELATED_POSTS_MAX = 5

ARTICLE_URL = "{{category}}/{{date:%Y}}/{{date:%m}}/{{date:%d}}/{{slug}}/"
ARTICLE_SAVE_AS = ARTICLE_URL + "index.html"
CATEGORY_URL = "{{slug}}/"
CATEGORY_SAVE_AS = "{{slug}}/index.html"
TAG_URL = "tag/{{slug}}/"
TAG_SAVE_AS = "tag/{{slug}}/index.html"
AUTHOR_URL = "author/{{slug}}/"
AUTHOR_SAVE_AS = "author/{{slug}}/index.html"
DIRECT_TEMPLATES = ["index"]
ARCHIVES_SAVE_AS = TAGS_SAVE_AS = CATEGORIES_SAVE_AS = AUTHORS_SAVE_AS = ""
YEAR_ARCHIVE_SAVE_AS = MONTH_ARCHIVE_SAVE_AS = DAY_ARCHIVE_SAVE_AS = ""
DEFAULT_PAGINATION = {per_page}
PAGINATED_TEMPLATES = {{"tag": None, "category": None, "author": None}}
PAGINATION_PATTERNS = (
    (1, "{{url}}", "{{save_as}}"),
    (2, "{{base_name}}/page/{{number}}/", "{{base_name}}/page/{{number}}/index.html"),
)

FEED_MAX_ITEMS = {feed_items}
FEED_ALL_ATOM = "atom.xml"
FEED_ALL_RSS = "feed.xml"
CATEGORY_FEED_ATOM = "{{slug}}/atom.xml"
CATEGORY_FEED_RSS = "{{slug}}/feed.xml"
TAG_FEED_ATOM = "tag/{{slug}}/atom.xml"
TAG_FEED_RSS = "tag/{{slug}}/feed.xml"
AUTHOR_FEED_ATOM = "author/{{slug}}/atom.xml"
AUTHOR_FEED_RSS = "author/{{slug}}/feed.xml"
FEED_ATOM = FEED_RSS = TRANSLATION_FEED_ATOM = TRANSLATION_FEED_RSS = None

CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CONTENT_CACHING_LAYER = "reader"
CHECK_MODIFIED_METHOD = "mtime"
DELETE_OUTPUT_DIRECTORY = False
"""

TEMPLATES = {
    "base.html": """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{% block title %}{{ SITENAME }}{% endblock %}</title>
<link rel="alternate" type="application/atom+xml" href="{{ FEED_DOMAIN }}/{{ FEED_ALL_ATOM }}">
<style>body{max-width:40rem;margin:auto;padding:0 1rem;font:1.1rem/1.5 Georgia,serif}
img{max-width:100%;height:auto}nav a{margin-right:.5rem}</style>
</head>
<body>
<header><a href="{{ SITEURL }}/">{{ SITENAME }}</a>
<nav>{% for category, _ in categories %}<a href="{{ SITEURL }}/{{ category.url }}">{{ category }}</a>{% endfor %}</nav>
</header>
<main>{% block content %}{% endblock %}</main>
</body>
</html>
""",
    "card.html": """\
<li><a href="{{ SITEURL }}/{{ item.url }}">{{ item.title }}</a>
<time datetime="{{ item.date.isoformat() }}">{{ item.locale_date }}</time>
<p>{{ item.summary|striptags|truncate(200) }}</p></li>
""",
    "article.html": """\
{% extends "base.html" %}
{% block title %}{{ article.title|striptags }} | {{ SITENAME }}{% endblock %}
{% block content %}
<article>
<h1>{{ article.title }}</h1>
<p>By {% for author in article.authors %}{% if not loop.first %}, {% endif %}<a href="{{ SITEURL }}/{{ author.url }}">{{ author }}</a>{% endfor %}
<time datetime="{{ article.date.isoformat() }}">{{ article.locale_date }}</time>
{% if article.modified %}(updated <time datetime="{{ article.modified.isoformat() }}">{{ article.locale_modified }}</time>){% endif %}</p>
{% if article.lead_src %}<figure><img src="{{ article.lead_src }}" width="{{ article.lead_width }}" height="{{ article.lead_height }}" alt="{{ article.lead_alt }}">
<figcaption>{{ article.lead_caption }} {{ article.lead_credit }}</figcaption></figure>{% endif %}
{{ article.content }}
<p>{% for tag in article.tags %}<a href="{{ SITEURL }}/{{ tag.url }}">{{ tag }}</a> {% endfor %}</p>
</article>
{% if article.related_posts %}<section><h2>Related</h2><ul>
{% for item in article.related_posts %}<li><a href="{{ SITEURL }}/{{ item.url }}">{{ item.title }}</a></li>
{% endfor %}</ul></section>{% endif %}
<section><h2>Latest in {{ article.category }}</h2><ul>
{% for category, items in categories if category == article.category %}{% for item in (items[:6]|reject("equalto", article)|list)[:5] %}<li><a href="{{ SITEURL }}/{{ item.url }}">{{ item.title }}</a></li>
{% endfor %}{% endfor %}</ul></section>
{% endblock %}
""",
    "listing.html": """\
{% extends "base.html" %}
{% block title %}{{ heading }} | {{ SITENAME }}{% endblock %}
{% block content %}
<h1>{{ heading }}</h1>
<ul>{% for item in articles_page.object_list %}{% include "card.html" %}{% endfor %}</ul>
<nav>{% if articles_page.has_previous() %}<a rel="prev" href="{{ SITEURL }}/{{ articles_previous_page.url }}">Newer</a>{% endif %}
{% if articles_page.has_next() %}<a rel="next" href="{{ SITEURL }}/{{ articles_next_page.url }}">Older</a>{% endif %}</nav>
{% endblock %}
""",
    "category.html": '{% set heading = category %}{% extends "listing.html" %}\n',
    "tag.html": '{% set heading = tag %}{% extends "listing.html" %}\n',
    "author.html": '{% set heading = author %}{% extends "listing.html" %}\n',
    "index.html": """\
{% extends "base.html" %}
{% block content %}
<h1>{{ SITENAME }}</h1>
<ul>{% for item in articles[:30] %}{% include "card.html" %}{% endfor %}</ul>
{% endblock %}
""",
    "page.html": '{% extends "base.html" %}\n',
}


def _lead(record: dict) -> dict[str, str]:
    images = record.get("images", [])
    if not images:
        return {}
    lead = images[0]
    return {f"lead_{key}": str(lead[key]) for key in ("src", "width", "height", "alt",
                                                       "caption", "credit") if key in lead}


def content_file(record: dict) -> tuple[Path, str]:
    """Return the content path (below the site) and text of one record."""
    metadata = {
        "title": record["title"],
        "date": record["published"],
        "category": record["section"],
        "tags": ", ".join(record["tags"]),
        "authors": ", ".join(record["authors"]),
        **({"modified": record["updated"]} if "updated" in record else {}),
        **_lead(record),
    }
    folder = Path("content") / section_slug(record)
    if record["body_format"] == "markdown":
        lines = [f"{key.title()}: {value}" for key, value in metadata.items()]
        return folder / f"{record['id']}.md", "\n".join(lines) + "\n\n" + record["body"]
    head = [f"<title>{html.escape(metadata.pop('title'))}</title>"]
    head += [f'<meta name="{key}" content="{html.escape(value)}">'
             for key, value in metadata.items()]
    text = ("<html>\n<head>\n" + "\n".join(head) + "\n</head>\n<body>\n" + record["body"]
            + "</body>\n</html>\n")
    return folder / f"{record['id']}.html", text


def write_site(corpus: Path, site: Path) -> int:
    """Write the Pelican site for the corpus below `site` (content/ is replaced); return the
    number of content files."""
    shutil.rmtree(site / "content", ignore_errors=True)
    shutil.rmtree(site / "theme", ignore_errors=True)
    count = 0
    for source in record_paths(corpus / "articles"):
        path, text = content_file(load_record(source))
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text, encoding="utf-8")
        count += 1
    for name, text in TEMPLATES.items():
        (site / "theme" / "templates" / name).parent.mkdir(parents=True, exist_ok=True)
        (site / "theme" / "templates" / name).write_text(text, encoding="utf-8")
    (site / "pelicanconf.py").write_text(
        SETTINGS.format(per_page=PER_PAGE, feed_items=FEED_ITEMS), encoding="utf-8")
    return count


def build_command(site: Path, out: Path, cache: Path) -> list[str]:
    """Return the build command; run it with `site` as the working directory."""
    pelican = Path(sys.executable).with_name("pelican")
    return [str(pelican) if pelican.exists() else "pelican", "content",
            "--settings", "pelicanconf.py", "--output", str(out.resolve()),
            "--extra-settings", f"CACHE_PATH={json.dumps(str(cache.resolve()))}", "--quiet"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("site", type=Path)
    args = parser.parse_args()
    print(f"{write_site(args.corpus, args.site)} content files in {args.site}")


if __name__ == "__main__":
    main()
