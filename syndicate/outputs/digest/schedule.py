"""When a digest is sent and which articles it covers, in the site's time zone.

The digest for day D is sent at `[digest] send_at` on D and covers the articles published in
the `[digest] window_hours` before that moment: [send time - window, send time). Arithmetic is
done in UTC, so a window that spans a daylight-saving change is still exactly that many hours.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from ...model import Article
from ...site import Site
from ...stories import MONTHS, WEEKDAYS


def send_time(site: Site, day: date) -> datetime:
    """Return the digest time for `day`: `[digest] send_at` on that day, in the site's zone.

    A send_at that a daylight-saving change skips on that day moves forward with the clock.
    """
    hour, minute = (int(part) for part in site.config.digest.send_at.split(":"))
    wall = datetime.combine(day, time(hour, minute), tzinfo=site.zone)
    return wall.astimezone(timezone.utc).astimezone(site.zone)


def window(site: Site, day: date) -> tuple[datetime, datetime]:
    """Return the [start, end) of the digest for `day`, both in UTC."""
    end = send_time(site, day).astimezone(timezone.utc)
    return end - timedelta(hours=site.config.digest.window_hours), end


def window_articles(site: Site, day: date) -> list[Article]:
    """Return the articles the digest for `day` covers, newest first."""
    start, end = window(site, day)
    return [a for a in site.articles if start <= a.published.astimezone(timezone.utc) < end]


def latest_day(site: Site) -> date | None:
    """Return the day of the next digest that carries the newest article, or None.

    That is what a newsroom expects `syndicate build` to show: the digest the next morning's
    send will carry. An article published at or after send_at belongs to the next day's digest.
    It depends on the records only, never on the wall clock.
    """
    if not site.articles:
        return None
    newest = max(a.published for a in site.articles).astimezone(site.zone)
    day = newest.date()
    if newest >= send_time(site, day):
        day += timedelta(days=1)
    return day


def wall_clock_today(site: Site) -> date:
    """Return today's date in the site's zone: only for the explicit `--date today`."""
    return datetime.now(site.zone).date()


class DigestDate(date):
    """The digest date for templates: `{date:%A %-d %B %Y}` formats in English whatever the
    machine's locale, and `%-d`, `%-m` work on every platform."""

    def __format__(self, spec: str) -> str:
        if not spec:
            return self.isoformat()
        names = {"A": WEEKDAYS[self.weekday()], "a": WEEKDAYS[self.weekday()][:3],
                 "B": MONTHS[self.month - 1], "b": MONTHS[self.month - 1][:3],
                 "-d": str(self.day), "-m": str(self.month), "e": f"{self.day:>2}",
                 "%": "%%"}

        def english(match: re.Match[str]) -> str:
            return names.get(match.group(1), match.group(0))

        return self.strftime(re.sub(r"%(-?[A-Za-z%])", english, spec))

    @classmethod
    def of(cls, day: date) -> DigestDate:
        return cls(day.year, day.month, day.day)
