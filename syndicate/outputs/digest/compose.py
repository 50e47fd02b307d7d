"""Choose the digest's stories and render its HTML and plain-text parts.

The top stories come from `rank.top_stories` over the day's window; under each go up to
`[digest] related_count` related stories from `rank.related`. A story appears once per
digest: a related list never repeats a top story or a story already listed under another,
and never names a story published after the digest was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from urllib.parse import quote, unquote_plus, urlencode, urlsplit, urlunsplit

import jinja2

from ... import rank, text
from ...errors import BuildError
from ...model import Article, Image
from ...site import Site
from ...stories import MONTHS, long_date, story_card
from ...templating import pick
from ...templating import render as render_template
from .inline import inline_css
from .schedule import DigestDate, send_time, window_articles

# An e-mail shows a teaser, not the article; these bound each story's share of the size cap.
TITLE_LIMIT = 200
SUMMARY_LIMIT = 320
LEAD_IMAGE_WIDTH = 600
# Invisible characters after the preheader keep clients from filling the inbox preview
# with the body's first words.
PREHEADER_PADDING = "\u034f\u00a0" * 60


@dataclass(frozen=True)
class Entry:
    """One top story and the related stories listed under it."""

    article: Article
    related: tuple[Article, ...]


@dataclass(frozen=True)
class Plan:
    """What the digest for `day` carries, best first, before any is dropped for size."""

    day: date
    sent: datetime
    entries: tuple[Entry, ...]


def plan(site: Site, day: date) -> Plan:
    """Return the top stories of `day`'s window with their related stories."""
    config = site.config.digest
    sent = send_time(site, day)
    candidates = window_articles(site, day)
    # The window [start, end) is applied by `candidates`; rank's own window excludes its
    # start, so it is widened by an hour to keep a story published on the dot of start.
    top = rank.top_stories(site, now=sent.astimezone(timezone.utc),
                           window_hours=config.window_hours + 1, count=config.count,
                           candidates=candidates) if candidates else []
    shown = {article.id for article in top}
    entries = []
    for article in top:
        extra = related_before(site, article, sent, shown, config.related_count)
        shown.update(a.id for a in extra)
        entries.append(Entry(article, tuple(extra)))
    return Plan(day, sent, tuple(entries))


def related_before(site: Site, article: Article, sent: datetime, shown: set[str],
                   count: int) -> list[Article]:
    """Return up to `count` stories related to `article`, published before `sent` and not
    in `shown`, in rank order."""
    if count <= 0:
        return []
    asked = count + len(shown)
    while True:
        found = rank.related(site, article, count=asked)
        kept = [a for a in found if a.id not in shown and a.published < sent]
        if len(kept) >= count or len(found) < asked:
            return kept[:count]
        asked *= 2


def track(url: str, params: dict[str, str]) -> str:
    """Return `url` with the tracking `params` added to its query.

    The existing query is kept as written, except parameters that `params` sets anew.
    """
    if not params:
        return url
    parts = urlsplit(url)
    kept = [pair for pair in parts.query.split("&")
            if pair and unquote_plus(pair.split("=", 1)[0]) not in params]
    query = "&".join([*kept, urlencode(list(params.items()), quote_via=quote)])
    return urlunsplit(parts._replace(query=query))


def tracking_params(site: Site, day: date) -> dict[str, str]:
    """Return `[digest] tracking` with {date} replaced by the digest date."""
    return {key: value.replace("{date}", day.isoformat())
            for key, value in site.config.digest.tracking.items()}


@dataclass(frozen=True)
class EmailImage:
    url: str
    width: int
    height: int
    alt: str
    credit: str


@dataclass(frozen=True)
class RelatedLine:
    title: str
    url: str
    meta: str


@dataclass(frozen=True)
class Story:
    """A top story as the e-mail shows it; URLs carry the tracking parameters."""

    id: str
    title: str
    url: str
    section: str
    section_url: str
    summary: str
    meta: str
    image: EmailImage | None
    related: tuple[RelatedLine, ...]


def email_image(image: Image | None, title: str) -> EmailImage | None:
    """Return the lead picture at the column's width, from the source that is sharp on a
    2x screen but no larger than it needs to be."""
    if image is None or image.width <= 0 or image.height <= 0:
        return None
    candidates = [(image.width, image.url)] + [(s.width, s.url) for s in image.sources]
    sharp = sorted(c for c in candidates if c[0] >= 2 * LEAD_IMAGE_WIDTH)
    url = sharp[0][1] if sharp else max(candidates)[1]
    height = max(1, round(LEAD_IMAGE_WIDTH * image.height / image.width))
    return EmailImage(url=url, width=LEAD_IMAGE_WIDTH, height=height,
                      alt=text.clean_line(image.alt) or title, credit=text.clean_line(image.credit))


def short_date(moment: datetime, year: int) -> str:
    """Return "12 March", with the year only when it differs from the digest's."""
    shown = f"{moment.day} {MONTHS[moment.month - 1]}"
    return shown if moment.year == year else f"{shown} {moment.year}"


def story(site: Site, entry: Entry, params: dict[str, str], *, lead: bool, year: int) -> Story:
    card = story_card(site, entry.article)
    title = text.truncate(text.clean_line(card.title), TITLE_LIMIT)
    byline = f"By {card.byline}" if card.byline else ""
    return Story(
        id=entry.article.id,
        title=title,
        url=track(card.url, params),
        section=text.clean_line(card.section.text),
        section_url=track(card.section.url, params),
        summary=text.truncate(text.clean_line(card.summary), SUMMARY_LIMIT),
        meta=" · ".join(part for part in (byline, card.published_text) if part),
        image=email_image(card.image, title) if lead else None,
        related=tuple(
            RelatedLine(title=text.truncate(text.clean_line(a.title), TITLE_LIMIT),
                        url=track(a.url, params), meta=short_date(a.published, year))
            for a in entry.related),
    )


@dataclass(frozen=True)
class Rendered:
    """The digest's parts for a number of stories."""

    subject: str
    stories: tuple[Story, ...]
    html: str
    text: str


def subject_line(site: Site, day: date, lead: str) -> str:
    """Return `[digest] subject` filled in, on one line (a header cannot hold a newline)."""
    template = site.config.digest.subject
    try:
        subject = template.format(site=site.config.site.title, date=DigestDate.of(day),
                                  lead=lead)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        raise BuildError(f"{site.config.source}: [digest] subject: cannot fill in "
                         f'"{template}": {exc}') from None
    return " ".join(subject.split())


def hours_text(hours: float) -> str:
    return "24 hours" if hours == 24 else f"{hours:g} hour{'s' if hours != 1 else ''}"


def render_parts(site: Site, env: jinja2.Environment, digest: Plan, count: int,
                 unsubscribe_url: str) -> Rendered:
    """Render the HTML (CSS inlined) and text parts with the first `count` stories."""
    params = tracking_params(site, digest.day)
    stories = tuple(story(site, entry, params, lead=number == 0, year=digest.day.year)
                    for number, entry in enumerate(digest.entries[:count]))
    subject = subject_line(site, digest.day, stories[0].title)
    hours = site.config.digest.window_hours
    context = {
        "language": site.config.site.language,
        "subject": subject,
        "preheader": stories[0].title,
        "preheader_padding": PREHEADER_PADDING,
        "site_title": site.config.site.title,
        "site_host": site.domain,
        "home_url": track(site.base_url, params),
        "browser_url": track(site.url(f"digest/{digest.day.isoformat()}.html"), params),
        "unsubscribe_url": unsubscribe_url,
        "date_text": long_date(digest.sent),
        "strap": f"The top stories of the last {hours_text(hours)}",
        "window_text": hours_text(hours),
        "send_text": f"{digest.sent:%H:%M} {digest.sent.tzname() or ''}".strip(),
        "stories": stories,
        "day": digest.day,
        "sent": digest.sent,
    }
    markup = render_template(pick(env, ["digest.html"]), "digest.html", **context)
    css = render_template(pick(env, ["digest.css"]), "digest.css", **context)
    plain = render_template(pick(env, ["digest.txt"]), "digest.txt", **context)
    html = inline_css(markup, css, site.base_url)
    return Rendered(subject=subject, stories=stories, html=html, text=plain)
