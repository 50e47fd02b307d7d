"""Pages: the AMP-lite HTML site (docs: /work/shared/spec/amp-lite.md).

Writes `index.html` (the home page: top stories, then the newest), one `index.html` per
article at its permalink, and for every section, tag and author `{path}index.html` (the
newest stories), with its archive at `{path}page/N/index.html` (page 1 the oldest).
Reads `[site]`, `[content] templates`, `[output]` (paths, and `outputs` to see whether
feeds exist), `[pages] per_page`, `[feeds]` (file names and which feeds are written) and,
through syndicate.rank, `[top]`, `[related]` and `[latest]`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cached_property, partial

import jinja2
from markupsafe import Markup

from ... import rank, rankcache
from ...incremental import KEY_SIZE, fingerprint, fingerprinter, keys, listed_keys
from ...model import Article, Artifact, Framed, Splice, Term
from ...site import Site
from ...stories import story_card
from ...templating import environment, output_once, pick
from ...templating import render as render_template
from .. import RenderContext, Started
from . import head as heads
from .markup import prepare_body, stylesheet
from .views import (
    LEAD_SIZES,
    Card,
    FolderLinks,
    Group,
    Linker,
    LinkList,
    Listing,
    NavLink,
    Pager,
    card,
    image_view,
    link_card,
)

HTML_TYPE = "text/html; charset=utf-8"
# (related, latest: places in site.articles; fingerprint but the latest list; fingerprint)
ArticlePlan = tuple[tuple[int, ...], tuple[int, ...], str, str]
# AMP-lite point 12: the document, without images, stays under this many bytes.
HTML_BUDGET = 100_000
KIND_LABELS = {"section": "Section", "tag": "Topic", "author": "Author"}
# Rendered latest lists a PageMaker keeps (see PageMaker.latest_html): a section's pages
# come in path order, so a folder's pages follow one another.
_LATEST_MEMO_SIZE = 1024


class PageMaker:
    """Render every page of one site with one template environment and stylesheet."""

    def __init__(self, site: Site, ctx: RenderContext) -> None:
        self.site = site
        self.ctx = ctx
        templates = ctx.templates
        if not isinstance(templates, jinja2.Environment):
            templates = environment(site.config)
            ctx.templates = templates
        self.env: jinja2.Environment = templates
        self.css = stylesheet(self.env, self._warn_site)
        self.sections = {term.slug: term for term in site.sections}
        self._splices: dict[str, bool] = {}
        self._latest_markup: dict[tuple[str, tuple[str, ...], str],
                                  tuple[str, frozenset[str]]] = {}

    def _warn_site(self, message: str) -> None:
        self.ctx.warn("templates", message)

    def chrome(self, href: Callable[[str], str], current: str = "",
               state: str = "page") -> dict[str, object]:
        """Return what the masthead and footer show on every page."""
        site = self.site
        return {
            "title": site.config.site.title,
            "description": site.config.site.description,
            "publisher": heads.publisher_name(site),
            "year": site.now.year,
            "home_href": href(site.base_url),
            "sections": tuple(NavLink(term.name, href(term.url),
                                           state if term.url == current else "")
                              for term in site.sections),
        }

    def html(self, template: jinja2.Template, where: str, **context: object) -> bytes:
        """Render one page. No warnings here: deferred pages render in other processes."""
        return render_template(template, where, lang=self.site.config.site.language,
                               **context).encode("utf-8")

    @cached_property
    def common_key(self) -> tuple:
        """What every page shows besides its own content, for fingerprints (made once: every
        page's fingerprint holds it)."""
        site = self.site
        return (tuple((t.name, t.url) for t in site.sections), site.now.year,
                repr(site.logo), repr(site.favicon))

    @cached_property
    def article_hasher(self) -> hashlib._Hash:
        """The start of every article page's fingerprint: what all of them show (each page
        copies it, where each hashed the repr of the chrome's key again)."""
        return fingerprinter(self.site.config, "article", self.common_key)

    def check_articles(self) -> None:
        """Report, in this process, what rendering the article pages would warn about: a
        body over the AMP-lite budget, and what is wrong with a body's pictures."""
        limit = HTML_BUDGET * 0.8
        for article in self.site.articles:
            if article.body_chars > limit:
                self.ctx.warn(article.source, f"body is {article.body_chars:,} bytes; its "
                              f"page will not stay under the AMP-lite budget of "
                              f"{HTML_BUDGET:,}", "body")
            if article.body_has_image:
                prepare_body(self.site.body(article), str,
                             lambda message, at=article.source: self.ctx.warn(at, message,
                                                                              "body"))

    # Articles -------------------------------------------------------------------------

    def plan_articles(self) -> Started:
        """Start working out what each article's page shows and its fingerprints, over
        ctx.start_map's processes (ranking is most of a build's planning), while this process
        goes on with other pages; report here what rendering the pages would warn about."""
        site, articles = self.site, self.site.articles
        # Made here, before the workers fork, so that they share them: the ranking index,
        # the chrome's key, the config's environment digest (which fingerprint keeps) and
        # every article's render key (each worker made most of them again: 2 s of CPU at
        # 100,000 articles; this process needs them all later anyway).
        rank.prepare(site)
        self.article_hasher  # noqa: B018 - made now, to be shared
        keys(articles)
        related_lists = self.related_lists()
        plans = self.ctx.start_map(
            lambda index: self.plan(index, related_lists[index]), len(articles))
        try:
            self.check_articles()
        except BaseException:
            plans.cancel()
            raise
        return plans

    def article_pages(self, planning: Started) -> list[Artifact]:
        """Return every article's page, once `planning` (plan_articles) is done: only the
        artifacts are made here."""
        articles = self.site.articles
        pages = []
        for article, (related, latest, rest, whole) in zip(articles, planning.result(),
                                                           strict=True):
            related_articles = [articles[index] for index in related]
            latest_articles = [articles[index] for index in latest]
            pages.append(Artifact(
                article.path, media_type=HTML_TYPE, fingerprint=whole,
                render=partial(self.article_html, article, related_articles, latest_articles),
                splice=Splice(rest, partial(self.latest_region, article, latest_articles))))
        return pages

    def related_lists(self) -> list[tuple[int, ...]]:
        """Return each article's related stories, by place in site.articles. They are kept
        in the build's stash under a digest of everything ranking reads, with what tells
        which of them a change to the site can touch (syndicate.rankcache): a build that
        moved, retagged or renamed no story (a body edit, a template change) reads them
        back, and one that added or changed a few ranks only the stories near those."""
        site = self.site
        scope = rank.settings_digest(site)
        stories = rank.story_digests(site)
        key = rank.inputs_digest(site, stories)

        def rank_all(_: int) -> bytes:
            return rankcache.rank_all(site, stories, self.ctx.previous("related", scope, key),
                                      self.ctx.map_all)

        return rankcache.lists(self.ctx.stash("related", scope, [key], rank_all)(0))

    def plan(self, index: int, related_places: tuple[int, ...]) -> ArticlePlan:
        """Return the article's related (given) and latest stories (by their place in
        site.articles), the fingerprint of its page but the latest list, and the whole
        page's fingerprint."""
        site = self.site
        article = site.articles[index]
        related = [site.articles[place] for place in related_places]
        latest_places = rank.latest_places(site, index)
        section_term = self.sections.get(article.section_slug)
        # Every new story of a section changes the latest list on all of the section's pages,
        # and nothing else on them: the rest of the page has a fingerprint of its own, so
        # that the writer can splice the new list into the page it wrote before.
        hashed = self.article_hasher.copy()
        hashed.update(repr((article.render_key, keys(related), (section_term.name, section_term.url)
                            if section_term else None)).encode("utf-8", "surrogatepass"))
        rest = hashed.hexdigest()
        return (related_places, latest_places, rest,
                fingerprint(site.config, rest, keys(map(site.articles.__getitem__, latest_places))))

    def latest_list(self, article: Article, latest_articles: list[Article]) -> LinkList:
        return LinkList(f"Latest {article.section} News",
                        tuple(link_card(self.site, a) for a in latest_articles))

    def latest_html(self, article: Article, latest_articles: list[Article],
                    href: Linker) -> str:
        """Render the latest list alone, as the page shows it in `{{ latest_html }}`.

        Every page of a section shows the same newest stories, and relative links that
        leave a page's folder read the same from every folder beside it (a day's folder,
        under dated permalinks): one rendering serves them all, so a new story re-renders
        the list once per folder, not once for each of the thousands of pages that show it."""
        parent, _, name = href.folder.rpartition("/")
        key = (article.section, tuple(a.id for a in latest_articles), parent)
        kept = self._latest_markup.get(key)
        if kept is not None and name not in kept[1]:
            return kept[0]
        links = FolderLinks(href)
        markup = render_template(self.env.get_template("partials/related.html"),
                                 "partials/related.html",
                                 links=self.latest_list(article, latest_articles), href=links)
        if links.portable:
            if len(self._latest_markup) >= _LATEST_MEMO_SIZE:
                self._latest_markup.clear()
            self._latest_markup[key] = (markup, frozenset(links.siblings))
        return markup

    def latest_region(self, article: Article, latest_articles: list[Article]) -> bytes:
        """The article page's splice region: its latest list (see Splice)."""
        return self.latest_html(article, latest_articles,
                                Linker(self.site, article.url)).encode("utf-8")

    def splices(self, template: jinja2.Template) -> bool:
        """Whether the latest list can be spliced into pages of this article template: it
        shows `{{ latest_html }}` once and nothing else about the list."""
        name = template.name or ""
        if name not in self._splices:
            self._splices[name] = bool(name) and output_once(
                self.env, name, "latest_html", unread=("latest",))
        return self._splices[name]

    def article_html(self, article: Article, related_articles: list[Article],
                     latest_articles: list[Article]) -> Framed:
        site = self.site
        href = Linker(site, article.url)
        story = story_card(site, article)
        section_term = self.sections.get(article.section_slug)
        related = LinkList("Related stories",
                           tuple(link_card(site, a) for a in related_articles))
        latest = self.latest_list(article, latest_articles)
        latest_html = self.latest_html(article, latest_articles, href)
        lead = image_view(article.lead_image, LEAD_SIZES) if article.lead_image else None
        pictures = tuple(image_view(image, LEAD_SIZES) for image in article.images[1:])

        head = heads.Head(
            title=f"{article.title} – {site.config.site.title}",
            description=article.summary,
            canonical=article.canonical,
            icon=heads.icon(site, href),
            feeds=heads.feed_links(site, section_term),
            meta=heads.article_meta(site, story),
            json_ld=heads.article_json_ld(site, story, article.images),
            css=self.css,
        )
        template = pick(self.env, [f"article-{article.section_slug}.html", "article.html"])
        data = self.html(template, article.source, head=head, href=href,
                         chrome=self.chrome(href, section_term.url if section_term else "", "true"),
                         story=story, lead=lead, pictures=pictures,
                         body=prepare_body(site.body(article), href, _ignore),
                         related=related, latest=latest, latest_html=Markup(latest_html))
        region = latest_html.encode("utf-8")
        at = data.find(region) if region and self.splices(template) else -1
        if at < 0 or data.find(region, at + 1) >= 0:
            return Framed(data)
        return Framed(data, (at, at + len(region)))

    # Lists ----------------------------------------------------------------------------

    def listing_page(self, template: jinja2.Template, *, path: str, url: str, title: str,
                     description: str, listing: Listing, term: Term | None = None,
                     prev_url: str = "", next_url: str = "") -> bytes:
        site = self.site
        href = Linker(site, url)
        first = next((c for g in listing.groups for c in g.cards), None)
        image = first.story.image if first is not None else None
        head = heads.Head(
            title=title, description=description, canonical=url, icon=heads.icon(site, href),
            feeds=heads.feed_links(site, term),
            meta=heads.list_meta(site, title, description, url, image),
            json_ld=heads.list_json_ld(site, listing, url, description),
            css=self.css, prev_url=prev_url, next_url=next_url,
        )
        current = term.url if term is not None and term.kind == "section" else ""
        return self.html(template, path, head=head, href=href,
                         chrome=self.chrome(href, current, "page" if url == current else "true"),
                         listing=listing)

    def home(self) -> Artifact:
        site = self.site
        per_page = site.config.pages.per_page
        top = rank.top_stories(site)
        shown = {a.id for a in top}
        newest = [a for a in site.articles if a.id not in shown][:per_page]
        groups = []
        if top:
            groups.append(Group("Top stories", _cards(site, top, lead=True)))
        if newest:
            # Under the top stories the newest are headlines only: the page stays light.
            groups.append(Group("Latest news", _cards(site, newest, lead=not top),
                                compact=bool(top)))
        title = site.config.site.title
        description = site.config.site.description or f"The latest news from {title}."
        listing = Listing(heading=title, label="", intro="", groups=tuple(groups),
                          heading_hidden=True)
        template = pick(self.env, ["home.html", "list.html"])
        return Artifact("index.html", self.listing_page(
            template, path="index.html", url=site.base_url, title=title,
            description=description, listing=listing), HTML_TYPE)

    def term_pages(self, term: Term) -> list[Artifact]:
        site = self.site
        bounds = archive_bounds(len(term.articles), site.config.pages.per_page)
        runs = [term.articles[start:end] for start, end in bounds]
        listed = memoryview(listed_keys(site, term.articles, term.places))
        urls = [page_url(site, term, number) for number in range(len(runs))]
        template = pick(self.env, [f"list-{term.kind}-{term.slug}.html",
                                   f"list-{term.kind}.html", "list.html"])
        title = site.config.site.title
        description = {
            "section": f"The latest {term.name} news from {title}.",
            "tag": f"Stories about {term.name} from {title}.",
            "author": f"Stories by {term.name} for {title}.",
        }[term.kind]
        artifacts = []
        for number, (run, (start, end)) in enumerate(zip(runs, bounds, strict=True)):
            pager = _pager(urls, number)
            artifacts.append(Artifact(
                page_path(site, term, number), media_type=HTML_TYPE,
                render=partial(self.term_page_html, template, term, number, run, urls[number],
                               pager, description),
                # What a page shows: its own stories and links, never how many pages there
                # are, so that a new story leaves every archive page as it was.
                fingerprint=fingerprinter(
                    site.config, "list", self.common_key, term.kind, term.slug, term.name,
                    term.url, number, urls[number],
                    pager and (pager.number, pager.newer, pager.older),
                    listed=listed[start * KEY_SIZE:end * KEY_SIZE]).hexdigest()))
        return artifacts

    def term_page_html(self, template: jinja2.Template, term: Term, number: int,
                       run: Sequence[Article], url: str, pager: Pager | None,
                       description: str) -> bytes:
        site = self.site
        title = site.config.site.title
        page_title = f"{term.name} – {title}"
        if number:
            page_title = f"{term.name} – page {number} – {title}"
        listing = Listing(heading=term.name, label=KIND_LABELS[term.kind], intro="",
                          groups=(Group(_group_heading(term, number),
                                        _cards(site, run, lead=not number)),),
                          pager=pager)
        return self.listing_page(
            template, path=page_path(site, term, number), url=url,
            title=page_title, description=description, listing=listing, term=term,
            prev_url=pager.newer if pager else "", next_url=pager.older if pager else "")


def archive_bounds(count: int, per_page: int) -> list[tuple[int, int]]:
    """Split a newest-first list of `count` stories into its first page and its archive
    pages: return where each starts and ends in the list.

    Archive page n (from 1) holds the n-th run of `per_page` stories counted from the
    oldest, so a new story never moves a story from one archive page to another (as the
    feeds' archive pages, RFC 5005): it changes the first page alone, and every `per_page`
    stories one page more. The first page holds the rest, the newest: from `per_page` to
    2 * `per_page` - 1 stories (all of them when there are fewer).
    """
    archived = max(0, count // per_page - 1)
    front = count - archived * per_page
    return [(0, front)] + [(front + (archived - number) * per_page,
                            front + (archived - number + 1) * per_page)
                           for number in range(1, archived + 1)]


def _pager(urls: list[str], number: int) -> Pager | None:
    """Return the links of page `number` of `urls` (0 the first page, then page 1, the
    oldest, to the newest archive page)."""
    archived = len(urls) - 1
    if not archived:
        return None
    if not number:
        return Pager(0, older=urls[archived])
    return Pager(number, newer=urls[number + 1] if number < archived else urls[0],
                 older=urls[number - 1] if number > 1 else "")


def _ignore(message: str) -> None:
    """Warnings from rendering are reported by PageMaker.check_articles instead."""


def _group_heading(term: Term, number: int) -> str:
    words = {"section": "Latest stories", "tag": "Stories", "author": "Stories"}[term.kind]
    return f"{words}, page {number}" if number else words


def _cards(site: Site, articles: Sequence[Article], *, lead: bool) -> tuple[Card, ...]:
    return tuple(card(site, article, lead=lead and index == 0)
                 for index, article in enumerate(articles))


def page_path(site: Site, term: Term, number: int = 0) -> str:
    """Return the file of a term's first page (`number` 0), `world/index.html`, or of its
    archive page `number`, `world/page/3/index.html` (page 1 holds the oldest stories)."""
    folder = term.path.lstrip("/")
    return folder + (f"page/{number}/index.html" if number else "index.html")


def page_url(site: Site, term: Term, number: int = 0) -> str:
    return site.url(f"{term.path}page/{number}/") if number else term.url


def render(site: Site, ctx: RenderContext) -> list[Artifact]:
    maker = PageMaker(site, ctx)
    # The list pages are made while other processes plan the article pages.
    planning = maker.plan_articles()
    try:
        lists = [maker.home()]
        for kind in ("section", "tag", "author"):
            for term in site.terms(kind):
                lists.extend(maker.term_pages(term))
    except BaseException:
        planning.cancel()
        raise
    return _unique(maker.article_pages(planning) + lists, ctx)


def _unique(artifacts: list[Artifact], ctx: RenderContext) -> list[Artifact]:
    """Keep the first page written to each path (articles, then home, then term pages)."""
    seen: dict[str, Artifact] = {}
    for artifact in artifacts:
        if artifact.path in seen:
            ctx.warn("[output]", f'two pages would be written to "{artifact.path}"; kept the '
                     "first")
            continue
        seen[artifact.path] = artifact
    return list(seen.values())
