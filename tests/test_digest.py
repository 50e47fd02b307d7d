"""The daily digest: which stories, the .eml's structure and headers, e-mail-safe HTML, the
plain-text part, the size cap, the date rules and `syndicate digest`'s files and exit codes."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import click
import cssutils
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from syndicate.build import build, load, write_digest
from syndicate.cli import EXIT_NO_NEWS, DigestDay, main
from syndicate.errors import ConfigError, RecordError
from syndicate.outputs.digest import compose, schedule
from syndicate.outputs.digest.inline import media_classes
from syndicate.templating import environment
from syndicate.writer import MANIFEST, STAMP

ONLY_DIGEST = '\n[output]\noutputs = ["sitemap", "digest"]\n'
TRACKING = {"utm_source": "newsletter", "utm_medium": "email",
            "utm_campaign": "digest-2026-03-15"}
SECTIONS = ("World", "Politics", "Business", "Sport", "Science", "Culture")


def record(slug: str, published: str, *, section: str = "World", priority: int = 1,
           tags: tuple[str, ...] = (), image: bool = False, summary: str = "",
           related: tuple[str, ...] = (), title: str = "") -> str:
    data: dict = {
        "id": slug, "title": title or f"Story {slug.replace('-', ' ')}",
        "published": published, "section": section, "authors": ["Ada Reporter"],
        "summary": summary or f"What happened in {slug}, in one sentence.",
        "body": f"<p>Body of {slug}.</p>", "tags": list(tags), "priority": priority,
        "related": list(related),
    }
    if image:
        data["images"] = [{"src": f"https://cdn.example.net/{slug}.jpg", "width": 1200,
                           "height": 675, "alt": f"Picture for {slug}",
                           "credit": "Picture: Agency"}]
    return json.dumps(data)


def small_site(mini_site, config_extra: str = "", extra: dict | None = None) -> Path:
    """Six stories in the window before 07:00 on 15 March, older ones sharing their tags."""
    files = {
        "articles/lead.json": record("lead", "2026-03-15T06:00:00Z", priority=9,
                                     tags=("Harbour", "Ferries"), image=True,
                                     related=("second", "future")),
        "articles/second.json": record("second", "2026-03-15T05:00:00Z", section="Politics",
                                       priority=5, tags=("Budget",)),
        "articles/third.json": record("third", "2026-03-14T20:00:00Z", section="Business",
                                      priority=3, tags=("Harbour",)),
        "articles/edge.json": record("edge", "2026-03-14T07:00:00Z", section="Sport",
                                     priority=2, tags=("Budget",)),
        "articles/late.json": record("late", "2026-03-15T07:00:00Z", section="Science",
                                     priority=9),
        "articles/old-harbour.json": record("old-harbour", "2026-03-12T09:00:00Z",
                                            tags=("Harbour", "Ferries")),
        "articles/old-ferries.json": record("old-ferries", "2026-03-11T09:00:00Z",
                                            tags=("Ferries",)),
        "articles/old-budget.json": record("old-budget", "2026-03-10T09:00:00Z",
                                           section="Politics", tags=("Budget",)),
        "articles/future.json": record("future", "2026-03-16T09:00:00Z", tags=("Harbour",)),
        "articles/too-early.json": record("too-early", "2026-03-14T06:59:00Z",
                                          section="Culture", priority=9),
    }
    files.update(extra or {})
    # Plenty of unrelated filler, so that no tag is on more than [related] max_tag_share.
    for number in range(30):
        files[f"articles/filler-{number}.json"] = record(
            f"filler-{number}", f"2026-02-{number % 28 + 1:02d}T12:00:00Z",
            section=SECTIONS[number % 6], tags=(f"Filler {number}",))
    return mini_site(files, ONLY_DIGEST + config_extra)


def busy_site(mini_site, count: int = 45, config_extra: str = "") -> Path:
    """`count` stories in one digest window, with long summaries and shared tags."""
    files = {}
    for number in range(count):
        minute = 30 + number * 29
        stamp = datetime(2026, 3, 14, 7, tzinfo=timezone.utc).timestamp() + minute * 60
        published = datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        files[f"articles/busy-{number:02d}.json"] = record(
            f"busy-{number:02d}", published, section=SECTIONS[number % 6],
            priority=number % 10, tags=(f"Topic {number % 9}", f"Theme {number % 7}"),
            image=number % 5 == 0,
            title=f"Busy day story number {number} about the harbour, the council and the weather",
            summary=("A long summary that says a great deal about what happened and why it "
                     "matters to readers in the port and beyond. ") * 5)
    for number in range(60):  # older coverage of the same topics, for the related lists
        files[f"articles/older-{number:02d}.json"] = record(
            f"older-{number:02d}", f"2026-03-{number % 12 + 1:02d}T10:{number:02d}:00Z",
            section=SECTIONS[number % 6], tags=(f"Topic {number % 9}", f"Theme {number % 7}"))
    return mini_site(files, ONLY_DIGEST + config_extra)


def message_of(out: Path, day: str = "2026-03-15") -> tuple[bytes, EmailMessage]:
    raw = (out / "digest" / f"{day}.eml").read_bytes()
    return raw, message_from_bytes(raw, policy=policy.default)


def parts(message: EmailMessage) -> tuple[EmailMessage, EmailMessage]:
    plain, rich = message.iter_parts()
    return plain, rich  # type: ignore[return-value]


def tree_of(markup: str):
    return lxml_html.document_fromstring(markup)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# --- which stories -------------------------------------------------------------------------

def test_window_is_send_at_minus_window_hours_half_open(mini_site):
    site = load(small_site(mini_site)).site
    chosen = {a.id for a in schedule.window_articles(site, date(2026, 3, 15))}
    # 07:00 on the 14th is in (start included), 07:00 on the 15th is the next day's.
    assert chosen == {"lead", "second", "third", "edge"}
    digest = compose.plan(site, date(2026, 3, 15))
    assert {entry.article.id for entry in digest.entries} == chosen
    assert digest.entries[0].article.id == "lead"
    assert digest.sent == datetime(2026, 3, 15, 7, tzinfo=timezone.utc)


def test_latest_day_is_the_next_send_that_carries_the_newest_article(mini_site):
    site = load(small_site(mini_site)).site
    # The newest article ("future", 09:00 on the 16th) is after send_at: the 17th's digest.
    assert schedule.latest_day(site) == date(2026, 3, 17)


@pytest.mark.parametrize(("published", "day"), [
    ("2026-03-15T06:59:59Z", date(2026, 3, 15)),
    ("2026-03-15T07:00:00Z", date(2026, 3, 16)),  # on the dot of send_at: the next day's
    ("2026-03-15T00:00:00Z", date(2026, 3, 15)),
])
def test_latest_day_around_send_at(mini_site, published, day):
    site = load(mini_site({"articles/a.json": record("a", published)}, ONLY_DIGEST)).site
    assert schedule.latest_day(site) == day


def test_window_across_daylight_saving_is_24_real_hours(mini_site):
    # British Summer Time starts at 01:00 UTC on 29 March 2026: send_at 07:00 is 06:00 UTC.
    config = mini_site({
        "articles/in.json": record("in", "2026-03-28T06:30:00Z"),
        "articles/out.json": record("out", "2026-03-28T05:30:00Z"),
    }, ONLY_DIGEST)
    text = config.read_text().replace('timezone = "UTC"', 'timezone = "Europe/London"')
    config.write_text(text)
    site = load(config).site
    assert [a.id for a in schedule.window_articles(site, date(2026, 3, 29))] == ["in"]
    result = write_digest(config, day=date(2026, 3, 29))
    assert not result.empty
    _, message = message_of(config.parent / "out", "2026-03-29")
    assert message["Date"] == "Sun, 29 Mar 2026 07:00:00 +0100"


def test_related_stories_never_repeat_and_never_come_from_the_future(mini_site):
    site = load(small_site(mini_site, "\n[digest]\nrelated_count = 3\n")).site
    digest = compose.plan(site, date(2026, 3, 15))
    top = {entry.article.id for entry in digest.entries}
    listed: list[str] = []
    for entry in digest.entries:
        assert len(entry.related) <= 3
        for article in entry.related:
            assert article.id not in top
            assert article.published < digest.sent
            listed.append(article.id)
    assert len(listed) == len(set(listed))
    lead = digest.entries[0]
    # "second" is pinned but is a top story; "future" is pinned but not yet published.
    assert [a.id for a in lead.related][:2] == ["old-harbour", "old-ferries"]


def test_related_count_zero_lists_none(mini_site):
    site = load(small_site(mini_site, "\n[digest]\nrelated_count = 0\n")).site
    assert all(not e.related for e in compose.plan(site, date(2026, 3, 15)).entries)


# --- the message ---------------------------------------------------------------------------

@pytest.fixture
def built(mini_site) -> Path:
    config = small_site(mini_site)
    result = write_digest(config, day=date(2026, 3, 15))
    assert not result.empty
    return config.parent / "out"


def test_eml_structure_and_encoding(built):
    raw, message = message_of(built)
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = parts(message)
    assert (plain.get_content_type(), rich.get_content_type()) == ("text/plain", "text/html")
    for part in (plain, rich):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    assert not message.defects and not plain.defects and not rich.defects
    lines = raw.split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert max(len(line) for line in lines) < 998
    assert raw.isascii()
    # The files on disk are the parts with LF line ends; on the wire the parts use CRLF.
    html_file = (built / "digest/2026-03-15.html").read_text("utf-8")
    assert rich.get_content().replace("\r\n", "\n") == html_file
    text_file = (built / "digest/2026-03-15.txt").read_text("utf-8")
    assert plain.get_content().replace("\r\n", "\n") == text_file


def test_eml_headers(built):
    _, message = message_of(built)
    assert message["From"] == "Mini Times <newsletter@mini.example.com>"
    assert message["To"] == "subscriber@example.invalid"
    assert "Reply-To" not in message
    assert message["Subject"] == "Mini Times: top stories for Sunday 15 March 2026"
    assert message["Date"] == "Sun, 15 Mar 2026 07:00:00 +0000"
    assert re.fullmatch(r"<digest-2026-03-15\.[0-9a-f]{16}@mini\.example\.com>",
                        message["Message-ID"])
    assert message["MIME-Version"] == "1.0"
    assert message["List-Unsubscribe"] == ("<https://mini.example.com/unsubscribe>, "
                                           "<mailto:unsubscribe@mini.example.com"
                                           "?subject=unsubscribe>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_headers_from_config_with_non_ascii_subject(mini_site):
    config = small_site(mini_site, """
[digest]
subject = "{lead} – {site}, {date:%a %-d %b}"
from_address = "Rédaction Mini <news@mini.example.com>"
reply_to = "desk@mini.example.com"
to = "Readers <readers@lists.example.com>"
unsubscribe_url = "https://lists.example.com/u?list=mini"
unsubscribe_mailto = "mailto:leave@lists.example.com"
""")
    write_digest(config, day=date(2026, 3, 15))
    raw, message = message_of(config.parent / "out")
    assert message["Subject"] == "Story lead – Mini Times, Sun 15 Mar"
    assert message["From"] == "Rédaction Mini <news@mini.example.com>"
    assert message["Reply-To"] == "desk@mini.example.com"
    assert message["To"] == "Readers <readers@lists.example.com>"
    assert message["List-Unsubscribe"] == ("<https://lists.example.com/u?list=mini>, "
                                           "<mailto:leave@lists.example.com?subject=unsubscribe>")
    assert raw.isascii()  # non-ASCII headers are RFC 2047 encoded words


@pytest.mark.parametrize(("key", "value", "message"), [
    ("subject", "{site} {when}", "unknown placeholder {when}"),
    ("from_address", "newsroom", 'is not an e-mail address'),
    ("to", "", "must not be empty"),
    ("unsubscribe_mailto", "mailto:nobody", "is not an e-mail address"),
])
def test_bad_digest_config_is_reported_at_the_key(mini_site, key, value, message):
    config = mini_site({}, f'\n[digest]\n{key} = "{value}"\n')
    with pytest.raises(ConfigError) as caught:
        load(config)
    assert f"[digest] {key}: " in str(caught.value)
    assert message in str(caught.value)


def test_html_keeps_only_media_rules_and_their_classes(built):
    markup = (built / "digest/2026-03-15.html").read_text("utf-8")
    assert markup.startswith("<!DOCTYPE html>\n")
    doc = tree_of(markup)
    styles = doc.xpath("//style")
    assert len(styles) == 1 and styles[0].getparent().tag == "head"
    sheet = cssutils.parseString(styles[0].text)
    media = cssutils.css.CSSRule.MEDIA_RULE
    assert [rule.type for rule in sheet] == [media, media]
    used = {name for value in doc.xpath("//@class") for name in value.split()}
    assert used and used <= media_classes(styles[0].text)
    assert not doc.xpath("//script|//link|//form|//input|//button|//select|//textarea")
    for style in doc.xpath("//@style"):
        assert not re.search(r"\b(position|flex[\w-]*|grid[\w-]*|gap)\s*:", style)
        assert not re.search(r"display\s*:\s*(flex|grid)", style)
    assert doc.xpath("//h2[1]")[0].get("style")  # the CSS was inlined


def test_html_layout_and_accessibility(built):
    doc = tree_of((built / "digest/2026-03-15.html").read_text("utf-8"))
    assert doc.get("lang") == "en"
    metas = {m.get("name"): m.get("content") for m in doc.xpath("//meta[@name]")}
    assert metas["color-scheme"] == "light dark"
    assert metas["supported-color-schemes"] == "light dark"
    tables = doc.xpath("//table")
    assert tables and all(t.get("role") == "presentation" for t in tables)
    assert doc.xpath("//table[@width='600']")
    preheader = doc.xpath("//body/div[1]")[0]
    assert "display:none" in preheader.get("style").replace(" ", "")
    assert preheader.text_content().startswith("Story lead")
    assert len(doc.xpath("//h1")) == 1
    assert [h.text_content() for h in doc.xpath("//h2")] == [
        "Story lead", "Story second", "Story third", "Story edge"]
    images = doc.xpath("//img")
    assert len(images) == 1  # only the lead story shows its picture
    for image in images:
        assert urlsplit(image.get("src")).scheme == "https"
        assert int(image.get("width")) == 600 and int(image.get("height")) == 338
        assert image.get("alt") == "Picture for lead"


def test_every_link_is_absolute_and_tracked(built):
    doc = tree_of((built / "digest/2026-03-15.html").read_text("utf-8"))
    links = [a.get("href") for a in doc.xpath("//a")]
    assert len(links) > 10
    unsubscribe = "https://mini.example.com/unsubscribe"
    assert links.count(unsubscribe) == 1
    for link in links:
        parts_ = urlsplit(link)
        assert parts_.scheme == "https" and parts_.netloc, link
        if link != unsubscribe:
            assert parts_.netloc == "mini.example.com"
            assert dict(parse_qsl(parts_.query)) == TRACKING, link
    text = (built / "digest/2026-03-15.txt").read_text("utf-8")
    for link in links:
        if "/story-" in link or link == unsubscribe:
            assert link in text


def test_track_keeps_the_existing_query_and_fragment():
    params = {"utm_source": "newsletter", "utm_campaign": "digest 1"}
    assert compose.track("https://x.org/a/?page=2&utm_source=old#top", params) == (
        "https://x.org/a/?page=2&utm_source=newsletter&utm_campaign=digest%201#top")
    assert compose.track("https://x.org/a/", {}) == "https://x.org/a/"


def test_plain_text_part_reads_in_72_columns(built):
    text = (built / "digest/2026-03-15.txt").read_text("utf-8")
    for line in text.splitlines():
        assert len(line) <= 72 or re.fullmatch(r"\s*https?://\S+", line), line
    for title in ("Story lead", "Story second", "Story third", "Story edge",
                  "Story old harbour"):
        assert title in text
    assert "Unsubscribe:\nhttps://mini.example.com/unsubscribe\n" in text


def test_text_part_is_not_html_escaped(mini_site):
    config = small_site(mini_site, extra={"articles/lead.json": record(
        "lead", "2026-03-15T06:00:00Z", priority=9, title="Fish & chips <cheaper> at \"Joe's\"")})
    write_digest(config, day=date(2026, 3, 15))
    out = config.parent / "out/digest"
    assert "1. Fish & chips <cheaper> at \"Joe's\"" in (out / "2026-03-15.txt").read_text()
    assert "Fish &amp; chips &lt;cheaper&gt;" in (out / "2026-03-15.html").read_text()


def test_the_same_input_gives_the_same_bytes(mini_site, tmp_path):
    config = small_site(mini_site)
    first = build(config, out_dir=str(tmp_path / "one"), environ={})
    build(config, out_dir=str(tmp_path / "two"), environ={})
    assert "digest/2026-03-17.eml" in first.report.written
    names = ("digest/2026-03-17.eml", "digest/2026-03-17.html", "digest/2026-03-17.txt")
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    again = build(config, out_dir=str(tmp_path / "one"), environ={})
    assert again.report.written == [] and again.report.removed == []


# --- size ----------------------------------------------------------------------------------

def test_busy_day_drops_the_lowest_ranked_stories_to_stay_under_the_cap(mini_site):
    config = busy_site(mini_site, 45, "\n[digest]\ncount = 45\n\n[top]\nmax_per_section = 45\n")
    site = load(config).site
    ranked = [e.article.title for e in compose.plan(site, date(2026, 3, 15)).entries]
    assert len(ranked) == 45
    result = write_digest(config, day=date(2026, 3, 15))
    warnings = [p for p in result.problems if p.field == "[digest] max_bytes"]
    assert len(warnings) == 1 and "lowest-ranked were left out" in warnings[0].message
    html_file = config.parent / "out/digest/2026-03-15.html"
    shown = [h.text_content() for h in tree_of(html_file.read_text()).xpath("//h2")]
    assert 10 < len(shown) < 45
    assert shown == [compose.text.truncate(t, compose.TITLE_LIMIT) for t in ranked[:len(shown)]]
    # Measured as a mail client decodes the part (CRLF line ends), the cap holds; with one
    # more story it would not.
    _, message = message_of(config.parent / "out")
    assert 90_000 < len(parts(message)[1].get_content().encode()) < 102_000
    bigger = compose.render_parts(site, environment(site.config),
                                  compose.plan(site, date(2026, 3, 15)), len(shown) + 1,
                                  "https://mini.example.com/unsubscribe")
    assert len(bigger.html.replace("\n", "\r\n").encode()) >= 102_000


def test_busy_day_with_the_default_count_fits_without_warnings(mini_site):
    config = busy_site(mini_site, 45)
    result = write_digest(config, day=date(2026, 3, 15))
    assert [p for p in result.problems if p.field.startswith("[digest]")] == []
    html_file = config.parent / "out/digest/2026-03-15.html"
    assert len(tree_of(html_file.read_text()).xpath("//h2")) == 8


def test_warn_bytes_warns_and_fails_a_strict_build(mini_site, tmp_path):
    config = small_site(mini_site, "\n[digest]\nwarn_bytes = 1000\n")
    result = build(config, out_dir=str(tmp_path / "out"), environ={})
    assert [p.field for p in result.problems] == ["[digest] warn_bytes"]
    with pytest.raises(RecordError):
        build(config, out_dir=str(tmp_path / "strict"), strict=True, environ={})
    assert not (tmp_path / "strict").exists()


def test_a_cap_too_small_for_one_story_is_a_clear_error(mini_site):
    config = small_site(mini_site, "\n[digest]\nmax_bytes = 5000\n")
    result = run("digest", "--config", str(config), "--date", "2026-03-15")
    assert result.exit_code == 1
    assert "[digest] max_bytes: even with one story the HTML part is at least 5,000 bytes" \
        in result.output
    assert not (config.parent / "out/digest").exists()
    built = build(config, environ={})
    assert [p.field for p in built.problems] == ["[digest] max_bytes"], "a build only warns"
    assert not (config.parent / "out/digest").exists()


# --- the command and the writer ------------------------------------------------------------

def test_no_new_stories_exits_3_and_writes_nothing(mini_site):
    config = small_site(mini_site)
    result = run("digest", "--config", str(config), "--date", "2026-03-06")
    assert result.exit_code == EXIT_NO_NEWS == 3
    assert result.output == "syndicate: no new stories for the digest of 2026-03-06; " \
                            "nothing written\n"
    assert not (config.parent / "out").exists()


def test_no_articles_at_all_exits_3(mini_site):
    config = mini_site({}, ONLY_DIGEST)
    result = run("digest", "--config", str(config))
    assert result.exit_code == 3
    assert "no new stories" in result.output


@pytest.mark.parametrize(("value", "message"), [
    ("2026-02-30", '"2026-02-30" is not a real date (YYYY-MM-DD)'),
    ("15/03/2026", '"15/03/2026" is not a date as YYYY-MM-DD, or "today"'),
    ("yesterday", '"yesterday" is not a date as YYYY-MM-DD, or "today"'),
])
def test_bad_date_is_a_usage_error(mini_site, value, message):
    config = small_site(mini_site)
    result = run("digest", "--config", str(config), "--date", value)
    assert result.exit_code == 2
    assert f"Error: Invalid value for '--date': {message}" in result.output


def test_date_today_reads_the_wall_clock_in_the_site_zone(mini_site, monkeypatch):
    config = small_site(mini_site)
    seen = []

    def fake_today(site):
        seen.append(site.zone.key)
        return date(2026, 3, 15)

    monkeypatch.setattr("syndicate.outputs.digest.wall_clock_today", fake_today)
    result = run("digest", "--config", str(config), "--date", "TODAY")
    assert result.exit_code == 0, result.output
    assert seen == ["UTC"]
    assert (config.parent / "out/digest/2026-03-15.eml").is_file()


def test_default_date_matches_the_build(mini_site, tmp_path):
    config = small_site(mini_site)
    result = run("digest", "--config", str(config), "--out", str(tmp_path / "cli"))
    assert result.exit_code == 0, result.output
    assert "syndicate: digest for 2026-03-17: " in result.output
    assert sorted(p.name for p in (tmp_path / "cli/digest").iterdir()) == [
        "2026-03-17.eml", "2026-03-17.html", "2026-03-17.txt"]


def test_digest_command_adds_files_and_removes_none(mini_site):
    config = small_site(mini_site)
    out = config.parent / "out"
    build(config, environ={})
    # The manifest changes, and the build stamp goes: it described out/ before the digest.
    before = {p.relative_to(out).as_posix(): p.stat().st_mtime_ns
              for p in out.rglob("*") if p.is_file() and p.name != MANIFEST
              and p.relative_to(out).as_posix() != STAMP}
    assert "sitemap.xml" in before and "digest/2026-03-17.eml" in before
    result = write_digest(config, day=date(2026, 3, 15))
    assert sorted(result.report.written) == [
        "digest/2026-03-15.eml", "digest/2026-03-15.html", "digest/2026-03-15.txt"]
    assert result.report.removed == []
    after = {p.relative_to(out).as_posix(): p.stat().st_mtime_ns
             for p in out.rglob("*") if p.is_file()}
    assert {k: v for k, v in after.items() if k in before} == before
    # The next build keeps both digests, and a later one keeps them as an archive.
    again = build(config, environ={})
    assert again.report.removed == [] and again.report.written == []
    newer = record("newer", "2026-03-18T08:00:00Z")
    (config.parent / "articles/newer.json").write_text(newer)
    later = build(config, environ={})
    assert "digest/2026-03-19.eml" in later.report.written
    assert not [p for p in later.report.removed if p.startswith("digest/")]
    assert (out / "digest/2026-03-15.eml").is_file() and (out / "digest/2026-03-17.eml").is_file()


def test_digests_go_when_the_digest_output_is_switched_off(mini_site):
    config = small_site(mini_site)
    build(config, environ={})
    write_digest(config, day=date(2026, 3, 15))
    config.write_text(config.read_text().replace('["sitemap", "digest"]', '["sitemap"]'))
    result = build(config, environ={})
    assert sorted(p for p in result.report.removed if p.startswith("digest/")) == [
        f"digest/{day}.{ext}" for day in ("2026-03-15", "2026-03-17")
        for ext in ("eml", "html", "txt")]


def test_digest_date_english_whatever_the_locale():
    day = schedule.DigestDate.of(date(2026, 3, 5))
    assert f"{day}" == "2026-03-05"
    assert f"{day:%A %-d %B %Y}" == "Thursday 5 March 2026"
    assert f"{day:%a %d %b, 100%%}" == "Thu 05 Mar, 100%"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_any_date_argument_parses_or_is_a_usage_error(value):
    try:
        parsed = DigestDay().convert(value, None, None)
    except click.BadParameter as exc:
        assert "YYYY-MM-DD" in exc.message
    else:
        assert parsed == "today" or parsed == date.fromisoformat(value.strip())
