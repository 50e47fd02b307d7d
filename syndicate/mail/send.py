"""Deliver the digest to every recipient once, resuming from the journal after any stop."""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config, SmtpConfig
from ..errors import Problem
from .errors import CannotStart
from .journal import Journal, JournalError, journal_path
from .message import (
    Digest,
    Personaliser,
    load_digest,
    recipient_message_id,
    unsubscribe_link,
    unsubscribe_token,
)
from .recipients import Recipient, read_recipients
from .smtp import ConnectFailed, Connection, Dropped, RateLimiter, backoff, is_loopback

# kind ("info", "warning" or "error") and one line of text, shown as the run goes.
Notify = Callable[[str, str], None]
DRY_RUN_SECRET = "dry-run"


@dataclass
class SendReport:
    """What one run did; `exit_code` is 0 when nobody is left unserved, else 4."""

    journal: str
    dry_run: bool = False
    sent: int = 0
    skipped: int = 0
    failed: list[Problem] = field(default_factory=list)
    invalid: list[Problem] = field(default_factory=list)
    duplicates: list[Problem] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    not_attempted: int = 0
    stopped: str = ""
    would_send: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 4 if self.failed or self.not_attempted else 0


def unsubscribe_base(config: Config) -> str:
    """Return `[digest] unsubscribe_url`, by default base_url + "unsubscribe"."""
    return config.digest.unsubscribe_url or config.site.base_url.rstrip("/") + "/unsubscribe"


def security_warnings(config: Config) -> list[str]:
    """Refuse a password over plain SMTP to another host; warn about plain SMTP without one."""
    smtp = config.smtp
    if smtp.security != "none" or is_loopback(smtp.host):
        return []
    where = f"{config.source}: [smtp] security"
    if smtp.username:
        raise CannotStart(f'{where}: "none" would send the password of {smtp.username!r} '
                          f'unencrypted to {smtp.host}; use "starttls" or "tls" (plain SMTP is '
                          "for localhost only)")
    return [f'{where}: "none" sends every subscriber\'s address and copy unencrypted to '
            f'{smtp.host}; use "starttls" or "tls" unless it is a relay on a trusted network']


def tls_context(config: Config) -> ssl.SSLContext | None:
    """Return a verifying TLS context (trusting [smtp] ca_file if set), or None for "none"."""
    smtp = config.smtp
    if smtp.security == "none":
        return None
    cafile = None
    if smtp.ca_file:
        cafile = config.path(smtp.ca_file)
        if not cafile.is_file():
            raise CannotStart(f'{config.source}: [smtp] ca_file: "{smtp.ca_file}" not found')
    try:
        return ssl.create_default_context(cafile=str(cafile) if cafile else None)
    except (ssl.SSLError, OSError) as exc:
        raise CannotStart(f"{config.source}: [smtp] ca_file: not a PEM certificate file "
                          f"({exc})") from None


def _secret(environ: Mapping[str, str], name: str, what: str, key: str, dry_run: bool,
            report: SendReport) -> str:
    value = environ.get(name, "")
    if not value:
        message = f"the environment variable {name} ({what}, named by [smtp] {key}) is not set"
        if not dry_run:
            raise CannotStart(message)
        report.warnings.append(f"{message}; a real send would refuse to start")
    return value


def send(config: Config, eml: str, recipients_csv: str, *, dry_run: bool = False,
         resend_unconfirmed: bool = False, environ: Mapping[str, str] = os.environ,
         notify: Notify = lambda kind, text: None, clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> SendReport:
    """Send the .eml at `eml` to each recipient in the CSV; raise CannotStart if nothing can be.

    With `dry_run`, connect to nothing and write nothing: list who would get the message.
    """
    report = SendReport(journal=eml + ".journal.sqlite", dry_run=dry_run)
    report.warnings.extend(security_warnings(config))
    digest = load_digest(Path(eml), eml)
    listed = read_recipients(Path(recipients_csv), recipients_csv)
    report.invalid, report.duplicates = listed.invalid, listed.duplicates
    smtp = config.smtp
    secret = _secret(environ, smtp.token_secret_env, "the unsubscribe-token secret",
                     "token_secret_env", dry_run, report)
    password = ""
    if smtp.username:
        password = _secret(environ, smtp.password_env, f"the SMTP password of {smtp.username}",
                           "password_env", dry_run, report)
    context = tls_context(config)
    journal = Journal(journal_path(Path(eml)), report.journal, digest.message_id,
                      create=not dry_run)
    for warning in report.warnings:
        notify("warning", warning)
    for problem in listed.invalid + listed.duplicates:
        notify("error" if problem.severity == "error" else "warning", str(problem))
    if not dry_run:
        notify("info", f"journal: {report.journal}")
    try:
        todo = _plan(listed.recipients, journal, resend_unconfirmed, report)
        base = unsubscribe_base(config)
        personaliser = Personaliser(digest, base)

        def message_for(recipient: Recipient) -> bytes:
            token = unsubscribe_token(secret or DRY_RUN_SECRET, recipient.email)
            return personaliser.copy_for(recipient, unsubscribe_link(base, recipient.email, token))

        if dry_run:
            for recipient in todo:
                message_for(recipient)  # a dry run still proves each copy can be made
                line = f"would send to {_shown(recipient)}"
                report.would_send.append(line)
                notify("info", line)
            return report
        limiter = RateLimiter(smtp.rate, clock, sleep)
        mailer = _Mailer(Connection(smtp, password, context), journal, limiter, smtp, sleep,
                         notify, report)
        try:
            mailer.send_all(digest, todo, message_for)
        except BaseException:
            mailer.connection.abort()  # never QUIT mid-DATA: the server would take it as text
            raise
        mailer.connection.close()
        notify("progress", f"{len(todo)}/{len(todo)}")
    finally:
        journal.close()
    return report


def _plan(recipients: list[Recipient], journal: Journal, resend_unconfirmed: bool,
          report: SendReport) -> list[Recipient]:
    todo = []
    for recipient in recipients:
        state = journal.states.get(recipient.key)
        if state == "sent":
            report.skipped += 1
        elif state == "unconfirmed" and not resend_unconfirmed:
            report.unconfirmed.append(recipient.email)
        else:
            todo.append(recipient)
    return todo


def _shown(recipient: Recipient) -> str:
    return f"{recipient.name} <{recipient.email}>" if recipient.name else recipient.email


class _Stop(Exception):
    """The server cannot be reached any more; the rest of the list waits for a rerun."""


@dataclass
class _Mailer:
    connection: Connection
    journal: Journal
    limiter: RateLimiter
    settings: SmtpConfig
    sleep: Callable[[float], None]
    notify: Notify
    report: SendReport
    connected_once: bool = False

    def send_all(self, digest: Digest, todo: list[Recipient],
                 message_for: Callable[[Recipient], bytes]) -> None:
        for index, recipient in enumerate(todo):
            self.notify("progress", f"{index}/{len(todo)}")
            try:
                self.send_one(digest, recipient, message_for(recipient))
            except _Stop as exc:
                attempted = self.journal.states.get(recipient.key) == "sending"
                if attempted:
                    self._fail(recipient, f"not sent: {exc}")
                self.report.not_attempted = len(todo) - index - int(attempted)
                self.report.stopped = str(exc)
                return
            except JournalError as exc:
                # Without the journal a rerun could send twice, so stop at once; without "."
                # the server drops the message in flight.
                self.connection.abort()
                self.report.not_attempted = len(todo) - index
                self.report.stopped = (f"{exc}; check {recipient.email} by hand before a rerun, "
                                       "it may have been delivered")
                return

    def send_one(self, digest: Digest, recipient: Recipient, data: bytes) -> None:
        """Deliver to one recipient, retrying 4xx replies and lost connections with backoff."""
        key = recipient.key
        message_id = recipient_message_id(digest.message_id, recipient)
        last_problem = ""
        for attempt in range(self.settings.max_retries + 1):
            if attempt:
                self.sleep(backoff(attempt, self.settings.retry_delay))
            problem = self._connect(final=attempt == self.settings.max_retries)
            if problem:
                last_problem = problem
                continue
            self.limiter.wait()
            self.journal.record(key, "sending", attempt=True, recipient_message_id=message_id)
            try:
                reply = self.connection.deliver(
                    digest.sender, recipient.email, data,
                    before_end=lambda: self.journal.record(key, "unconfirmed"))
            except Dropped as exc:
                if exc.after_end:
                    self.journal.record(key, "unconfirmed", str(exc))
                    self.report.unconfirmed.append(recipient.email)
                    self.notify("warning", f"{recipient.email}: unconfirmed, the whole message "
                                           f"was sent but no reply came ({exc}); not resent")
                    return
                last_problem = str(exc)
                continue
            if reply.accepted:
                self.journal.record(key, "sent", str(reply))
                self.report.sent += 1
                return
            last_problem = str(reply)
            if not reply.transient:
                self._fail(recipient, last_problem)
                return
        tries = self.settings.max_retries + 1
        self._fail(recipient, f"gave up after {tries} attempt{'s' * (tries > 1)}: {last_problem}")

    def _connect(self, *, final: bool) -> str:
        """Open the connection if needed; return a problem worth retrying, or raise to stop."""
        if self.connection.is_open:
            return ""
        try:
            self.connection.open()
        except ConnectFailed as exc:
            if not (exc.permanent or final):
                return str(exc)
            if not self.connected_once:
                raise CannotStart(str(exc)) from None
            raise _Stop(str(exc)) from None
        self.connected_once = True
        return ""

    def _fail(self, recipient: Recipient, reply: str) -> None:
        self.journal.record(recipient.key, "failed", reply)
        problem = Problem(recipient.email, "", reply)
        self.report.failed.append(problem)
        self.notify("error", str(problem))
