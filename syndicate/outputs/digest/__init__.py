"""The daily e-mail digest: `digest/D.html` (CSS inlined), `digest/D.txt` (plain text) and
`digest/D.eml` (multipart/alternative, ready to send), for one date D in the site's zone.

The digest for D covers the articles published in the `[digest] window_hours` before
`[digest] send_at` on D: up to `[digest] count` top stories (`rank.top_stories`, with
`[top]` weights), each with up to `[digest] related_count` related stories (`rank.related`).
D is `ctx.options["digest_date"]` when given (`syndicate digest --date`), else the day of the
next send after the newest article (see `schedule.latest_day`). A day with no new stories
gives no files. When the HTML would reach `[digest] max_bytes`, the lowest-ranked stories
are dropped until it fits, with a warning; above `[digest] warn_bytes` it warns too (so
`--strict` fails). Reads `[digest]`, `[site]`, `[top]`, `[related]` and `[content] templates`.
Earlier digests are an archive: later builds keep them (see `outputs.ARCHIVES`).
"""

from __future__ import annotations

from datetime import date

import jinja2

from ...model import Artifact
from ...site import Site
from ...templating import environment
from .. import RenderContext
from .compose import Plan, Rendered, plan, render_parts
from .message import build_message, envelope
from .schedule import latest_day, wall_clock_today

FOLDER = "digest/"
OPTION = "digest_date"


def render(site: Site, ctx: RenderContext) -> list[Artifact]:
    day = ctx.options.get(OPTION) or latest_day(site)
    if not isinstance(day, date):
        return []
    return render_day(site, ctx, day)


def resolve_day(site: Site, day: date | str | None) -> date | None:
    """Return the digest date: `day` itself, the latest digest's for None (None when there
    are no articles), or the wall clock's date in the site's zone for "today"."""
    if day is None:
        return latest_day(site)
    if day == "today":
        return wall_clock_today(site)
    if isinstance(day, date):
        return day
    raise ValueError(f"not a digest date: {day!r}")


def render_day(site: Site, ctx: RenderContext, day: date) -> list[Artifact]:
    """Return the digest files for `day`, or nothing when it has no new stories."""
    digest = plan(site, day)
    if not digest.entries:
        return []
    env = ctx.templates if isinstance(ctx.templates, jinja2.Environment) else None
    rendered = fit(site, ctx, env or environment(site.config), digest)
    if rendered is None:
        return []
    html = rendered.html.encode("utf-8")
    config = site.config.digest
    name = f"{FOLDER}{day.isoformat()}"
    size = part_size(rendered.html)
    if size > config.warn_bytes:
        ctx.warn(f"{name}.html", f"the HTML part is {size:,} bytes, over "
                 f"{config.warn_bytes:,}; Gmail clips messages at about 102 KB",
                 "[digest] warn_bytes")
    unsubscribe = envelope(site).unsubscribe_url
    if not unsubscribe.startswith("https://"):
        ctx.warn(site.config.source, f'"{unsubscribe}" is not https, which one-click '
                 "unsubscribe (RFC 8058) requires", "[digest] unsubscribe_url")
    eml = build_message(site, day=day, sent=digest.sent, subject=rendered.subject,
                        text=rendered.text, html=rendered.html,
                        story_ids=[s.id for s in rendered.stories])
    return [
        Artifact(f"{name}.html", html, "text/html; charset=utf-8"),
        Artifact(f"{name}.txt", rendered.text.encode("utf-8"), "text/plain; charset=utf-8"),
        Artifact(f"{name}.eml", eml, "message/rfc822"),
    ]


def part_size(html: str) -> int:
    """Return the size of the HTML part as a mail client decodes it: UTF-8, CRLF line ends."""
    return len(html.encode("utf-8")) + html.count("\n")


def fit(site: Site, ctx: RenderContext, env: jinja2.Environment,
        digest: Plan) -> Rendered | None:
    """Render with as many stories as fit under `[digest] max_bytes`, best ranked first;
    None (with a warning) when not even one story fits: one outsized record must not stop
    the build."""
    limit = site.config.digest.max_bytes
    unsubscribe = envelope(site).unsubscribe_url
    total = len(digest.entries)
    renders: dict[int, Rendered] = {}
    sizes: dict[int, int] = {}

    def fits(count: int) -> bool:
        renders[count] = render_parts(site, env, digest, count, unsubscribe)
        sizes[count] = part_size(renders[count].html)
        return sizes[count] < limit

    if fits(total):
        return renders[total]
    # Each story adds about as many bytes as the next, so the size is nearly a line in the
    # count: guess where it crosses the limit through the last two sizes measured (the first
    # guess through the origin), then step inside the interval (low fits, high does not);
    # after three guesses halve the interval instead, which bounds the number of renders.
    low, high, guesses = 0, total, 0
    measured = [(0, 0), (total, sizes[total])]
    while high - low > 1:
        guesses += 1
        (a, size_a), (b, size_b) = measured[-2:]
        if guesses > 3 or size_a == size_b:
            guess = (low + high) // 2
        else:
            guess = b + (limit - 1 - size_b) * (b - a) // (size_b - size_a)
        guess = min(max(guess, low + 1), high - 1)
        if fits(guess):
            low = guess
        else:
            high = guess
        measured.append((guess, sizes[guess]))
    where = f"{FOLDER}{digest.day.isoformat()}.html"
    if low == 0:
        ctx.warn(where, f"even with one story the HTML part is at least {limit:,} bytes; no "
                 "digest was written", "[digest] max_bytes")
        return None
    ctx.warn(where, f"with all {total} stories the HTML part would be {sizes[total]:,} bytes; "
             f"the {total - low} lowest-ranked were left out to stay under {limit:,}",
             "[digest] max_bytes")
    return renders[low]
