"""`syndicate send` without a mail server: config, recipients CSV, personal copies, dry run,
start-up refusals (exit code 5), the rate limit and backoff."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import itertools
import json
import socket
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate import cli
from syndicate.config import load_config
from syndicate.errors import ConfigError
from syndicate.mail.errors import CannotStart
from syndicate.mail.journal import Journal
from syndicate.mail.message import load_digest, personalise, unsubscribe_link, unsubscribe_token
from syndicate.mail.recipients import Recipient, normalise_address, parse_recipients
from syndicate.mail.smtp import RateLimiter, backoff

SECRET = "test-secret-for-tokens"
UNSUBSCRIBE = "https://mini.example.com/unsubscribe"
ENV = {"SYNDICATE_TOKEN_SECRET": SECRET, "SYNDICATE_SMTP_PASSWORD": None}
CONFIG = """\
[site]
title = "Mini Times"
base_url = "https://mini.example.com/"

[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
rate = 100000.0
retry_delay = 0.001
max_retries = 3
timeout = 5.0
"""


def make_eml(path: Path, encoding: str = "quoted-printable") -> Path:
    """Write a digest shaped like out/digest/D.eml: multipart/alternative, policy.SMTP."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "Mini Times <newsletter@mini.example.com>"
    message["To"] = "subscriber@example.invalid"
    message["Subject"] = "Mini Times: top stories for Sunday 15 March 2026"
    message["Date"] = "Sun, 15 Mar 2026 07:00:00 +0000"
    message["Message-ID"] = "<digest-2026-03-15@mini.example.com>"
    message["List-Unsubscribe"] = f"<{UNSUBSCRIBE}>, <mailto:unsubscribe@mini.example.com>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(
        "Mini Times - top stories\n\nHarbour wall repaired: the café reopens\n"
        "https://mini.example.com/news/harbour/\n\n"
        f"Unsubscribe: {UNSUBSCRIBE}\nHelp: {UNSUBSCRIBE}-help\n", cte=encoding)
    message.add_alternative(
        '<!DOCTYPE html><html lang="en"><body><h1>Mini Times</h1>'
        '<p><a href="https://mini.example.com/news/harbour/">Harbour wall repaired: the café '
        f'reopens</a></p><p><a href="{UNSUBSCRIBE}">Unsubscribe</a> · '
        f'<a href="{UNSUBSCRIBE}?utm_source=newsletter">tracked</a></p></body></html>\n',
        subtype="html", cte=encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(message.as_bytes())
    return path


def write_config(folder: Path, port: int = 1, extra: str = "", security: str = "none") -> Path:
    path = folder / "config.toml"
    text = CONFIG.format(port=port).replace('"none"', f'"{security}"') + extra
    path.write_text(text, encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[tuple[str, str]], header: str = "email,name") -> Path:
    lines = [header] + [f'{address},"{name}"' for address, name in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def site(tmp_path: Path):
    """A config, an .eml and a writer of recipient lists, all in tmp_path."""

    class Site:
        folder = tmp_path
        eml = make_eml(tmp_path / "out" / "digest" / "2026-03-15.eml")
        config = write_config(tmp_path)
        journal = tmp_path / "out" / "digest" / "2026-03-15.eml.journal.sqlite"

        def csv(self, rows: list[tuple[str, str]], name: str = "subscribers.csv") -> Path:
            return write_csv(tmp_path / name, rows)

        def send(self, *args: str, env: dict | None = None):
            return CliRunner().invoke(
                cli.main, ["send", str(self.eml), "--config", str(self.config), *args],
                env=ENV if env is None else env, catch_exceptions=False)

    return Site()


def token_of(address: str) -> str:
    return hmac.new(SECRET.encode(), address.lower().encode(), hashlib.sha256).hexdigest()


def test_a_password_in_the_config_file_is_refused(site):
    site.config.write_text(CONFIG.format(port=25) + 'password = "hunter2"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(site.config)
    assert [str(p) for p in raised.value.problems] == [
        f"{site.config}: [smtp] password: a password must not be in the config file; put it in "
        "an environment variable and name that variable in password_env (default "
        "SYNDICATE_SMTP_PASSWORD)"]
    result = site.send("--to", str(site.csv([("ada@example.org", "Ada")])))
    assert result.exit_code == 5
    assert "password_env" in result.stderr and "nothing was sent" in result.stderr
    assert not site.journal.exists()


def test_invalid_rows_are_reported_by_line_and_duplicates_sent_once():
    text = ("\ufeffEmail, Name\n"
            "ada@example.org,Ada Lovelace\n"
            "not-an-address,Nobody\n"
            '"grace@example.org","Grace\nHopper"\n'      # a quoted name over two lines
            "\n"
            "ADA@Example.ORG,Ada again\n"
            ",Empty\n"
            "two@@example.org,x\n"
            "zoë@example.org,Zoë\n"
            "bob@bücher.example,Bob\n"
            "eve@localhost,Eve\n")
    listed = parse_recipients(text, "subscribers.csv")
    assert [(r.email, r.name, r.line) for r in listed.recipients] == [
        ("ada@example.org", "Ada Lovelace", 2),
        ("grace@example.org", "Grace Hopper", 4),
        ("bob@xn--bcher-kva.example", "Bob", 11),
    ]
    assert [str(p) for p in listed.invalid] == [
        'subscribers.csv: line 3: "not-an-address": not an email address (needs exactly one @)'
        "; skipped",
        "subscribers.csv: line 8: no email address; skipped",
        'subscribers.csv: line 9: "two@@example.org": not an email address (needs exactly one '
        "@); skipped",
        'subscribers.csv: line 10: "zoë@example.org": non-ASCII before the @ needs SMTPUTF8, '
        "which syndicate does not use; skipped",
        'subscribers.csv: line 12: "eve@localhost": "localhost" is not a valid domain name; '
        "skipped",
    ]
    assert [str(p) for p in listed.duplicates] == [
        "subscribers.csv: line 7: ADA@example.org is a duplicate of line 2; sent once"]


@pytest.mark.parametrize(("text", "message"), [
    ("name,address\nAda,ada@example.org\n",
     'subscribers.csv: line 1: the header row must name an "email" column, as in "email,name"'),
    ("", 'subscribers.csv: no header row; the first line must be "email,name"'),
    ('email,name\nbob@example.org,Bob\n"ada@example.org,Ada\n',
     "subscribers.csv: line 3: not valid CSV: unexpected end of data"),
])
def test_an_unusable_csv_stops_before_anything(text, message):
    with pytest.raises(CannotStart) as raised:
        parse_recipients(text, "subscribers.csv")
    assert str(raised.value).startswith(message)


addresses = st.one_of(
    st.sampled_from(["ada@example.org", "ADA@EXAMPLE.ORG", "a.b+c@sub.example.co.uk"]),
    st.text(max_size=30),
    st.builds(lambda a, b: f"{a}@{b}", st.text(max_size=8), st.text(max_size=12)))
rows = st.lists(st.tuples(addresses, st.text(max_size=20)), max_size=12)


@settings(max_examples=60, deadline=None)
@given(rows)
def test_any_csv_gives_unique_valid_recipients_or_line_reports(rows):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "name"])
    writer.writerows(rows)
    try:
        listed = parse_recipients(buffer.getvalue(), "s.csv")
    except CannotStart:
        return  # e.g. a NUL or a lone carriage return: reported, never a crash
    keys = [r.key for r in listed.recipients]
    assert len(keys) == len(set(keys))
    for recipient in listed.recipients:
        assert normalise_address(recipient.email)[0] == recipient.email
        assert "\n" not in recipient.name and "\r" not in recipient.name
    total = len(io.StringIO(buffer.getvalue(), newline="").readlines())  # as csv counts
    for problem in listed.invalid + listed.duplicates:
        assert 2 <= int(problem.field.split()[1]) <= total


@pytest.mark.parametrize("encoding", ["quoted-printable", "base64", "8bit"])
def test_each_copy_has_its_own_to_message_id_and_unsubscribe_link(site, encoding):
    make_eml(site.eml, encoding)
    digest = load_digest(site.eml, "D.eml")
    zoe = Recipient("zoe.o+news@example.org", 'Zoë "Z" O\'Brien, Jr', 2)
    link = unsubscribe_link(UNSUBSCRIBE, zoe.email, unsubscribe_token(SECRET, zoe.email))
    raw = personalise(digest, zoe, link, UNSUBSCRIBE)
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    # The header stays literal: no RFC 2047 encoded words inside the URL.
    assert f"List-Unsubscribe: <{link}>, <mailto:unsubscribe@mini.example.com>".encode() in raw
    copy = email.message_from_bytes(raw, policy=email.policy.default)
    (to,) = copy["To"].addresses
    assert (to.display_name, to.addr_spec) == ('Zoë "Z" O\'Brien, Jr', "zoe.o+news@example.org")
    assert copy["Subject"] == "Mini Times: top stories for Sunday 15 March 2026"
    assert copy["Message-ID"].startswith("<digest-2026-03-15.")
    assert copy["Message-ID"].endswith("@mini.example.com>")
    assert copy["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    query = parse_qs(urlsplit(link).query)
    assert query == {"e": ["zoe.o+news@example.org"], "t": [token_of("zoe.o+news@example.org")]}
    assert link.startswith(UNSUBSCRIBE + "?e=zoe.o%2Bnews%40example.org&t=")
    text = copy.get_body(("plain",))
    html = copy.get_body(("html",))
    plain = text.get_content().replace("\r\n", "\n")
    assert f"Unsubscribe: {link}\n" in plain
    assert f"Help: {UNSUBSCRIBE}-help\n" in plain  # a longer URL is not touched
    assert f'href="{link.replace("&", "&amp;")}"' in html.get_content()
    assert f'href="{UNSUBSCRIBE}?utm_source=newsletter"' in html.get_content()
    assert "the café reopens" in html.get_content() and "the café reopens" in plain
    original = email.message_from_bytes(site.eml.read_bytes(), policy=email.policy.default)
    for part, before in zip((text, html), (original.get_body(("plain",)),
                                           original.get_body(("html",))), strict=True):
        # 8bit becomes quoted-printable, so that no server needs 8BITMIME.
        assert part["Content-Transfer-Encoding"] == encoding.replace("8bit", "quoted-printable")
        assert ("MIME-Version" in part) == ("MIME-Version" in before)  # none added
    assert raw.isascii()
    # The original is untouched, and a second recipient gets a different Message-ID.
    other = personalise(digest, Recipient("bo@example.org", "", 3), link, UNSUBSCRIBE)
    assert email.message_from_bytes(other, policy=email.policy.default)["Message-ID"] != \
        copy["Message-ID"]
    assert b"subscriber@example.invalid" in site.eml.read_bytes()


def test_a_name_cannot_inject_headers(site):
    rows = "email,name\nmal@example.org,\"Mal\r\nBcc: victim@example.org\"\n"
    (recipient,) = parse_recipients(rows, "s.csv").recipients
    raw = personalise(load_digest(site.eml, "D.eml"), recipient, "https://x.example/u", "")
    copy = email.message_from_bytes(raw, policy=email.policy.default)
    assert copy["Bcc"] is None
    assert copy["To"].addresses[0].display_name == "Mal Bcc: victim@example.org"


def test_dry_run_connects_to_nothing_and_writes_nothing(site):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    site.config = write_config(site.folder, listener.getsockname()[1])
    csv = site.csv([("ada@example.org", "Ada Lovelace"), ("bob@example.org", ""),
                    ("broken", "X")])
    with listener:
        result = site.send("--to", str(csv), "--dry-run", env={})
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert result.exit_code == 0
    assert result.stdout == (
        "would send to Ada Lovelace <ada@example.org>\n"
        "would send to bob@example.org\n"
        "syndicate: dry run: 2 would be sent, 0 skipped as already sent, 1 invalid; "
        "nothing was sent\n")
    assert "SYNDICATE_TOKEN_SECRET" in result.stderr  # a real send would refuse: said up front
    assert sorted(p.name for p in site.eml.parent.iterdir()) == ["2026-03-15.eml"]


def test_json_dry_run(site):
    csv = site.csv([("ada@example.org", "Ada")])
    data = json.loads(site.send("--to", str(csv), "--dry-run", "--json").stdout)
    assert data["ok"] is True and data["exit_code"] == 0 and data["dry_run"] is True
    assert data["would_send"] == ["would send to Ada <ada@example.org>"]
    assert data["journal"] == f"{site.eml}.journal.sqlite"


def test_a_missing_token_secret_stops_a_real_send(site):
    result = site.send("--to", str(site.csv([("ada@example.org", "Ada")])), env={})
    assert result.exit_code == 5
    assert result.stderr == (
        "Error: the environment variable SYNDICATE_TOKEN_SECRET (the unsubscribe-token secret, "
        "named by [smtp] token_secret_env) is not set; nothing was sent\n")


def test_a_login_needs_its_password_variable(site):
    site.config = write_config(site.folder, 25, 'username = "mailer"\n')
    result = site.send("--to", str(site.csv([("ada@example.org", "Ada")])))
    assert result.exit_code == 5
    assert "SYNDICATE_SMTP_PASSWORD (the SMTP password of mailer" in result.stderr


def test_plain_smtp_is_for_localhost_only(site):
    csv = str(site.csv([("ada@example.org", "Ada")]))
    site.config.write_text(CONFIG.format(port=25).replace("127.0.0.1", "mail.example.org")
                           + 'username = "mailer"\n', encoding="utf-8")
    result = site.send("--to", csv, "--dry-run", env={"SYNDICATE_SMTP_PASSWORD": "pw"})
    assert result.exit_code == 5
    assert 'security: "none" would send the password of \'mailer\' unencrypted' in result.stderr
    # Without a login it is allowed (a relay on a trusted network), with a warning.
    site.config.write_text(CONFIG.format(port=25).replace("127.0.0.1", "mail.example.org"),
                           encoding="utf-8")
    result = site.send("--to", csv, "--dry-run")
    assert result.exit_code == 0
    assert "unencrypted to mail.example.org" in result.stderr


def test_no_server_at_all_is_exit_code_5(site):
    with socket.socket() as probe:  # a port with nothing listening on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site.config = write_config(site.folder, port)
    result = site.send("--to", str(site.csv([("ada@example.org", "Ada")])))
    assert result.exit_code == 5
    assert result.stderr.startswith(f"Error: cannot connect to 127.0.0.1:{port}: ")
    assert result.stdout == f"journal: {site.eml}.journal.sqlite\n"


@pytest.mark.parametrize(("make", "message"), [
    (lambda site: site.eml.unlink(), "file not found (build the digest first)"),
    (lambda site: site.eml.write_bytes(b"no headers, just text\n"), "not an email message"),
    (lambda site: site.eml.write_bytes(b"Subject: hi\n\ntext\n"), "has no usable From"),
    (lambda site: site.config.write_text(CONFIG.format(port=25).replace('"none"', '"tls"')
                                         + 'ca_file = "ca.pem"\n'),
     '[smtp] ca_file: "ca.pem" not found'),
    (lambda site: (site.folder / "subscribers.csv").write_bytes(b"email,name\n\xff@x.org,A\n"),
     "subscribers.csv: line 2: is not valid UTF-8 (byte 11)"),
])
def test_unreadable_inputs_stop_with_exit_code_5(site, make, message):
    csv = site.csv([("ada@example.org", "Ada")])
    site.config.write_text(CONFIG.format(port=25).replace('"none"', '"starttls"'))
    make(site)
    result = site.send("--to", str(csv))
    assert result.exit_code == 5
    assert message in result.stderr and result.stdout == ""


def test_a_journal_in_use_by_another_run_stops_this_one(site):
    csv = site.csv([("ada@example.org", "Ada")])
    holder = Journal(site.journal, "j", "<digest-2026-03-15@mini.example.com>")
    try:
        result = site.send("--to", str(csv))
    finally:
        holder.close()
    assert result.exit_code == 5
    assert "the journal is in use, by another `syndicate send`" in result.stderr


def test_the_cli_documents_the_exit_codes_it_uses():
    assert (cli.EXIT_SEND_FAILED, cli.EXIT_CANNOT_START) == (4, 5)
    help_text = CliRunner().invoke(cli.main, ["send", "--help"]).output
    for line in ("0  every recipient was sent to", "4  some recipients failed",
                 "5  could not start"):
        assert line in help_text
    assert "4 `syndicate send`" in (cli.__doc__ or "") and "5 `syndicate send`" in cli.__doc__


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_rate_limit_spaces_message_starts():
    fake = FakeTime()
    limiter = RateLimiter(4.0, fake.clock, fake.sleep)
    starts = []
    for index in range(6):
        if index == 3:
            fake.now += 1.0  # a slow server: no wait needed after it
        limiter.wait()
        starts.append(fake.now)
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(starts)]
    assert gaps == [0.25, 0.25, 1.0, 0.25, 0.25]
    assert fake.sleeps == [0.25, 0.25, 0.25, 0.25]


def test_backoff_doubles_up_to_a_limit():
    assert [backoff(n, 0.5) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff(30, 1.0) == 300.0
