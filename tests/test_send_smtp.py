"""`syndicate send` against a real aiosmtpd server on 127.0.0.1 that each test starts and steers:
delivery to 500, a dropped connection, a server that goes away, SIGKILL mid-run, 451 and 550
replies, a reply lost after the end of the data, and STARTTLS with a CA the test makes."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import email
import email.policy
import ipaddress
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from test_send import ENV, UNSUBSCRIBE, make_eml, site, token_of, write_config, write_csv

from syndicate.config import load_config
from syndicate.mail import send

__all__ = ["site"]  # the fixture, shared with test_send.py
ROOT = Path(__file__).resolve().parent.parent
MESSAGE_ID = "<digest-2026-03-15@mini.example.com>"


@dataclass
class Received:
    rcpt_tos: list[str]
    data: bytes
    tls: bool

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every message and can refuse, stall or drop on cue."""

    rcpt_reply: Callable[[str], str | None] = lambda address: None
    rcpt_delay: float = 0.0
    data_delay: float = 0.0
    drop_after: int = 0            # close the connection at the MAIL after this many messages
    go_away: bool = False          # ... and stop listening, as a crashed server would
    drop_before_reply: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    rcpt_attempts: collections.Counter = field(default_factory=collections.Counter)
    sessions: int = 0
    controller: Controller | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not session.ssl:
            self.sessions += 1
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.drop_after and len(self.received) >= self.drop_after:
            self.drop_after = 0
            if self.go_away and self.controller is not None:
                self.controller.server.close()
            server.transport.close()
            return "421 4.3.0 going away"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts[address] += 1
        await asyncio.sleep(self.rcpt_delay)
        reply = self.rcpt_reply(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # Like a real MTA, the server owns the message once the end of the data is in.
        with self.lock:
            self.received.append(Received(list(envelope.rcpt_tos), envelope.original_content,
                                          session.ssl is not None))
        if set(envelope.rcpt_tos) & self.drop_before_reply:
            server.transport.close()
        await asyncio.sleep(self.data_delay)
        return "250 2.0.0 queued"

    def recipients(self) -> list[str]:
        return [address for message in self.received for address in message.rcpt_tos]


@pytest.fixture
def smtp_server():
    """Start aiosmtpd controllers on free loopback ports; stop them after the test."""
    started: list[Controller] = []

    def start(handler: Recorder | None = None, **kwargs) -> tuple[Recorder, int]:
        handler = handler or Recorder()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        handler.controller = controller
        controller.start()
        started.append(controller)
        return handler, port

    yield start
    for controller in started:
        controller.stop()


def subscribers(count: int) -> list[tuple[str, str]]:
    names = ["Zoë Ó Súilleabháin", "Ada Lovelace", "Li, Wei", "Grace Hopper"]
    return [(f"reader{n:03d}@example.org", f"{names[n % 4]} {n}") for n in range(count)]


def assert_each_once_with_own_copy(server: Recorder, rows: list[tuple[str, str]],
                                   *, allowed_missing: set[str] = frozenset()) -> None:
    """Every listed address got exactly one message, addressed to them with a valid token."""
    delivered = server.recipients()
    duplicates = [a for a, n in collections.Counter(delivered).items() if n > 1]
    assert duplicates == []
    ids = [m.message["Message-ID"] for m in server.received]
    assert len(ids) == len(set(ids))
    expected = {address for address, _ in rows}
    assert expected - set(delivered) <= set(allowed_missing)
    assert set(delivered) <= expected
    names = dict(rows)
    for received in server.received:
        (address,) = received.rcpt_tos
        message = received.message
        (to,) = message["To"].addresses
        assert (to.addr_spec, to.display_name) == (address, names[address])
        link = message["List-Unsubscribe"].split(",")[0].strip("<> ")
        assert link.startswith(UNSUBSCRIBE + "?")
        query = parse_qs(urlsplit(link).query)
        assert query == {"e": [address], "t": [token_of(address)]}
        assert link.replace("&", "&amp;") in message.get_body(("html",)).get_content()
        assert link in message.get_body(("plain",)).get_content()


def journal_rows(site) -> dict[str, tuple[str, str, int]]:
    with contextlib.closing(sqlite3.connect(site.journal)) as db:
        rows = db.execute("SELECT recipient, state, reply, attempts FROM deliveries "
                          "WHERE message_id = ?", (MESSAGE_ID,)).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def test_a_dropped_connection_is_retried_and_resumed_in_the_same_run(site, smtp_server):
    server, port = smtp_server(Recorder(drop_after=25))
    site.config = write_config(site.folder, port)
    rows = subscribers(60)
    result = site.send("--to", str(site.csv(rows)))
    assert result.exit_code == 0, result.output
    assert "60 sent, 0 skipped as already sent, 0 failed" in result.stdout
    assert_each_once_with_own_copy(server, rows)
    assert server.sessions == 2


def test_500_recipients_a_server_gone_after_137_then_a_second_run_sends_the_rest(site, smtp_server):
    first, port = smtp_server(Recorder(drop_after=137, go_away=True))
    site.config = write_config(site.folder, port)
    rows = subscribers(500)
    csv = site.csv(rows)
    result = site.send("--to", str(csv))
    assert result.exit_code == 4
    assert len(first.received) == 137
    assert "137 sent, 0 skipped as already sent, 1 failed, 0 invalid" in result.stdout
    assert f"stopped: cannot connect to 127.0.0.1:{port}" in result.stderr
    assert "362 recipients not attempted; run the same command again" in result.stderr
    states = collections.Counter(state for state, _, _ in journal_rows(site).values())
    assert states == {"sent": 137, "failed": 1}

    second, port = smtp_server()
    site.config = write_config(site.folder, port)
    result = site.send("--to", str(csv))
    assert result.exit_code == 0, result.output
    assert "363 sent, 137 skipped as already sent, 0 failed" in result.stdout
    both = Recorder(received=first.received + second.received)
    assert len(both.received) == 500
    assert_each_once_with_own_copy(both, rows)
    assert {state for state, _, _ in journal_rows(site).values()} == {"sent"}
    # A third run has nothing left to send, and does not even connect.
    sessions = second.sessions
    third = site.send("--to", str(csv))
    assert third.exit_code == 0
    assert third.stdout == (
        f"journal: {site.eml}.journal.sqlite\n"
        "syndicate: 0 sent, 500 skipped as already sent, 0 failed, 0 invalid; "
        f"journal {site.eml}.journal.sqlite\n")
    assert (len(second.received), second.sessions) == (363, sessions)


def kill_mid_run(site, csv: Path, server: Recorder, ready: Callable[[], bool]) -> dict:
    """Run `syndicate send` in a subprocess, SIGKILL it once `ready()`, return in-flight rows."""
    earlier = journal_rows(site) if site.journal.exists() else {}
    env = {**os.environ, "SYNDICATE_TOKEN_SECRET": ENV["SYNDICATE_TOKEN_SECRET"]}
    process = subprocess.Popen(
        [sys.executable, "-m", "syndicate.cli", "send", str(site.eml), "--to", str(csv),
         "--config", str(site.config), "-q"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    time.sleep(0.1)  # let the server finish (or drop) the transaction it was in
    rows = journal_rows(site)
    in_flight = {r: state for r, (state, _, _) in rows.items()
                 if state != "sent" and rows[r] != earlier.get(r)}
    assert len(in_flight) <= 1  # every step is journalled before the next one is taken
    delivered = set(server.recipients())
    for recipient, state in in_flight.items():
        # "sending": "." was never written, so the server dropped the message and a rerun
        # must send it; "unconfirmed": "." was written, the server has it, a rerun must not.
        assert (state, recipient in delivered) in {("sending", False), ("unconfirmed", True)}
    return in_flight


def test_sigkill_mid_run_then_a_rerun_completes_with_no_duplicate(site, smtp_server):
    slow, port = smtp_server(Recorder(rcpt_delay=0.02, data_delay=0.02))
    site.config = write_config(site.folder, port)
    rows = subscribers(60)
    csv = site.csv(rows)
    # Killed while the server holds the 10th message before its reply: most likely
    # "unconfirmed". Then killed while the server sits on the RCPT of the 21st: "sending".
    first = kill_mid_run(site, csv, slow, lambda: len(slow.received) >= 10)
    second = kill_mid_run(site, csv, slow, lambda: len(slow.received) >= 20 and
                          sum(slow.rcpt_attempts.values()) > len(slow.received))
    assert 20 <= len(slow.received) < 60
    assert set(first.values()) | set(second.values()) <= {"sending", "unconfirmed"}

    fast, port = smtp_server()
    site.config = write_config(site.folder, port)
    result = site.send("--to", str(csv))
    assert result.exit_code == 0, result.output
    # Nobody twice, nobody missed.
    both = Recorder(received=slow.received + fast.received)
    assert_each_once_with_own_copy(both, rows)
    assert len(both.received) == 60
    assert {state for state, _, _ in journal_rows(site).values()} <= {"sent", "unconfirmed"}


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def test_451_is_retried_with_backoff_and_then_delivered(site, smtp_server):
    refusals = collections.Counter({"reader003@example.org": 2, "reader007@example.org": 1,
                                    "reader009@example.org": 99})

    def greylist(address: str) -> str | None:
        if refusals[address] > 0:
            refusals[address] -= 1
            return "451 4.7.1 Greylisted, try again later"
        return None

    server, port = smtp_server(Recorder(rcpt_reply=greylist))
    site.config = write_config(site.folder, port)
    rows = subscribers(10)
    sleep = FakeSleep()
    report = send(load_config(site.config), str(site.eml), str(site.csv(rows)),
                  environ=ENV, sleep=sleep)
    assert (report.sent, report.exit_code) == (9, 4)
    assert [str(p) for p in report.failed] == [
        "reader009@example.org: gave up after 4 attempts: 451 4.7.1 Greylisted, try again later"]
    assert server.rcpt_attempts["reader003@example.org"] == 3
    assert server.rcpt_attempts["reader009@example.org"] == 4  # max_retries = 3
    backoffs = [s for s in sleep.calls if s >= 0.001]
    assert backoffs == [0.001, 0.002, 0.001, 0.001, 0.002, 0.004]
    assert_each_once_with_own_copy(server, rows, allowed_missing={"reader009@example.org"})
    assert journal_rows(site)["reader003@example.org"][::2] == ("sent", 3)


def test_550_is_recorded_and_reported_not_retried(site, smtp_server):
    def no_such_user(address: str) -> str | None:
        return "550 5.1.1 <nobody@example.org>: no such user" if "nobody" in address else None

    server, port = smtp_server(Recorder(rcpt_reply=no_such_user))
    site.config = write_config(site.folder, port)
    rows = [("ada@example.org", "Ada"), ("nobody@example.org", "No One"), ("bo@example.org", "")]
    csv = site.csv(rows)
    result = site.send("--to", str(csv))
    assert result.exit_code == 4
    assert result.stderr == ("nobody@example.org: 550 5.1.1 <nobody@example.org>: "
                             "no such user\n")
    assert "2 sent, 0 skipped as already sent, 1 failed, 0 invalid" in result.stdout
    assert server.rcpt_attempts["nobody@example.org"] == 1
    assert journal_rows(site)["nobody@example.org"] == (
        "failed", "550 5.1.1 <nobody@example.org>: no such user", 1)
    # A rerun (after the list or the server is fixed) tries the failed recipient again only.
    again = site.send("--to", str(csv), "--json")
    assert again.exit_code == 4
    assert '"sent": 0, "skipped": 2' in again.stdout
    assert server.rcpt_attempts["nobody@example.org"] == 2
    assert len(server.received) == 2


def test_a_reply_lost_after_the_data_is_unconfirmed_and_not_resent(site, smtp_server):
    server, port = smtp_server(Recorder(drop_before_reply={"reader002@example.org"}))
    site.config = write_config(site.folder, port)
    rows = subscribers(5)
    csv = site.csv(rows)
    result = site.send("--to", str(csv))
    assert result.exit_code == 0, result.output
    assert "4 sent, 0 skipped as already sent, 0 failed, 0 invalid, 1 unconfirmed" in \
        result.stdout
    assert "reader002@example.org: unconfirmed" in result.stderr
    assert len(server.received) == 5
    assert journal_rows(site)["reader002@example.org"][0] == "unconfirmed"
    again = site.send("--to", str(csv))
    assert "0 sent, 4 skipped as already sent, 0 failed, 0 invalid, 1 unconfirmed" in \
        again.stdout
    assert len(server.received) == 5
    # On request it goes again, with the same Message-ID, so the receiver can drop it.
    server.drop_before_reply.clear()
    forced = site.send("--to", str(csv), "--resend-unconfirmed")
    assert "1 sent, 4 skipped as already sent" in forced.stdout
    first, resent = [m for m in server.received if m.rcpt_tos == ["reader002@example.org"]]
    assert first.message["Message-ID"] == resent.message["Message-ID"]


def test_a_journal_that_cannot_be_written_stops_the_run_before_the_end_of_data(
        site, smtp_server, monkeypatch):
    from syndicate.mail import journal

    real_write = journal.Journal._write

    def failing_write(self, recipient, state, *args):
        if recipient == "reader002@example.org" and state == "unconfirmed":
            raise sqlite3.OperationalError("disk I/O error")
        real_write(self, recipient, state, *args)

    monkeypatch.setattr(journal.Journal, "_write", failing_write)
    server, port = smtp_server()
    site.config = write_config(site.folder, port)
    rows = subscribers(5)
    report = send(load_config(site.config), str(site.eml), str(site.csv(rows)), environ=ENV)
    assert (report.sent, report.not_attempted, report.exit_code) == (2, 3, 4)
    assert report.stopped.startswith(f"cannot write the journal {site.eml}.journal.sqlite: "
                                     "disk I/O error; check reader002@example.org by hand")
    time.sleep(0.1)
    # Without "." the server dropped the message in flight; QUIT was not taken as its text.
    assert server.recipients() == ["reader000@example.org", "reader001@example.org"]


def make_ca(folder: Path) -> tuple[Path, Path, Path]:
    """Write a CA certificate and a server certificate for 127.0.0.1 and localhost."""
    crypto = pytest.importorskip("cryptography")
    del crypto
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool):
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                  critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       issuer_key.public_key()), critical=False))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False).add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("syndicate test CA", ca_key, "syndicate test CA", ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = certificate("127.0.0.1", server_key, "syndicate test CA", ca_key, ca=False)
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return paths


def test_starttls_with_a_private_ca_and_a_login(site, smtp_server):
    import ssl

    _, certificate, key = make_ca(site.folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"pa55 word", handled=False)

    server, port = smtp_server(Recorder(), tls_context=context, require_starttls=True,
                               authenticator=authenticator, auth_required=True)
    login = 'username = "mailer"\n'
    site.config = write_config(site.folder, port, login + 'ca_file = "ca.pem"\n', "starttls")
    rows = subscribers(3)
    csv = site.csv(rows)
    env = {**ENV, "SYNDICATE_SMTP_PASSWORD": "pa55 word"}
    result = site.send("--to", str(csv), env=env)
    assert result.exit_code == 0, result.output
    assert [m.tls for m in server.received] == [True, True, True]
    assert logins == [(b"mailer", b"pa55 word")]
    assert_each_once_with_own_copy(server, rows)

    # Without the CA the certificate is not trusted, and nothing is sent.
    site.config = write_config(site.folder, port, login, "starttls")
    other = write_csv(site.folder / "other.csv", [("new@example.org", "New")])
    untrusted = site.send("--to", str(other), env=env)
    assert untrusted.exit_code == 5
    assert f"the certificate of 127.0.0.1:{port} is not trusted" in untrusted.stderr
    assert "[smtp] ca_file" in untrusted.stderr
    # A wrong password is refused at the login, before any message.
    site.config = write_config(site.folder, port, login + 'ca_file = "ca.pem"\n', "starttls")
    refused = site.send("--to", str(other), env={**env, "SYNDICATE_SMTP_PASSWORD": "nope"})
    assert refused.exit_code == 5
    assert f"127.0.0.1:{port} refused the login of 'mailer': 535" in refused.stderr
    assert len(server.received) == 3


def test_implicit_tls(site, smtp_server):
    import ssl

    _, certificate, key = make_ca(site.folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    server, port = smtp_server(Recorder(), ssl_context=context)
    site.config = write_config(site.folder, port, 'ca_file = "ca.pem"\n', "tls")
    rows = subscribers(2)
    result = site.send("--to", str(site.csv(rows)))
    assert result.exit_code == 0, result.output
    assert_each_once_with_own_copy(server, rows)
    # Plain SMTP on a TLS port is a TLS error, stated as such.
    _, port = smtp_server()
    site.config = write_config(site.folder, port, 'ca_file = "ca.pem"\n', "tls")
    result = site.send("--to", str(write_csv(site.folder / "b.csv", [("b@example.org", "")])))
    assert result.exit_code == 5
    assert f"TLS with 127.0.0.1:{port} failed" in result.stderr


def test_a_server_without_starttls_is_refused_when_starttls_is_configured(site, smtp_server):
    server, port = smtp_server()
    site.config = write_config(site.folder, port, security="starttls")
    result = site.send("--to", str(site.csv([("ada@example.org", "Ada")])))
    assert result.exit_code == 5
    assert f"127.0.0.1:{port} does not offer STARTTLS" in result.stderr
    assert server.received == []


def test_the_eml_fixture_matches_the_digest_shape(tmp_path):
    message = email.message_from_bytes(make_eml(tmp_path / "D.eml").read_bytes(),
                                       policy=email.policy.SMTP)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Message-ID"] == MESSAGE_ID
