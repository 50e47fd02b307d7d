"""One SMTP connection (STARTTLS, implicit TLS or plain on loopback), the rate limit and backoff.

`Connection.deliver` runs MAIL, RCPT and DATA itself rather than through smtplib.sendmail,
so that the caller can journal the moment just before the end of the data is written: until
then a dropped connection means "not delivered", after it "probably delivered".
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..config import SmtpConfig

LOOPBACK_NAMES = ("localhost", "localhost.")


@dataclass(frozen=True)
class Reply:
    """The server's answer to one delivery attempt."""

    code: int
    text: str

    @property
    def accepted(self) -> bool:
        return 200 <= self.code < 300

    @property
    def transient(self) -> bool:
        return 400 <= self.code < 500

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


class ConnectFailed(Exception):
    """Connecting, STARTTLS or login failed; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Dropped(Exception):
    """The connection broke mid-transaction; `after_end` if "." had already been written."""

    def __init__(self, message: str, *, after_end: bool) -> None:
        super().__init__(message)
        self.after_end = after_end


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine without a DNS lookup (RFC 6761 localhost names)."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith((".localhost", ".localhost.")):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


class Connection:
    """A logged-in SMTP session; open() it, deliver() messages, close() it."""

    def __init__(self, settings: SmtpConfig, password: str,
                 context: ssl.SSLContext | None) -> None:
        self.settings = settings
        self.password = password
        self.context = context
        self.smtp: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def open(self) -> None:
        """Connect, secure and log in; raise ConnectFailed."""
        settings = self.settings
        try:
            if settings.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port,
                                                      timeout=settings.timeout,
                                                      context=self.context)
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        except smtplib.SMTPConnectError as exc:
            raise ConnectFailed(f"{self.where} refused the session: {exc.smtp_code} "
                                f"{_text(exc.smtp_error)}",
                                permanent=exc.smtp_code >= 500) from None
        except ssl.SSLError as exc:
            raise ConnectFailed(self._tls_problem(exc), permanent=True) from None
        except OSError as exc:
            raise ConnectFailed(f"cannot connect to {self.where}: {exc}", permanent=False) from None
        self.smtp = smtp
        # "." goes in its own small write after the journal entry; without NODELAY, Nagle's
        # algorithm holds it back until the server's delayed ACK (40 ms a message).
        with contextlib.suppress(OSError, AttributeError):
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._greet(smtp)
        except ConnectFailed:
            self.abort()
            raise

    def _greet(self, smtp: smtplib.SMTP) -> None:
        settings = self.settings
        try:
            smtp.ehlo_or_helo_if_needed()
            if settings.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise ConnectFailed(f"{self.where} does not offer STARTTLS; check [smtp] port "
                                        'and security ("tls" for port 465)', permanent=True)
                smtp.starttls(context=self.context)
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise ConnectFailed(f"{self.where} refused the login of {settings.username!r}: "
                                f"{exc.smtp_code} {_text(exc.smtp_error)}",
                                permanent=exc.smtp_code >= 500) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ConnectFailed(f"{self.where}: {exc}", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            raise ConnectFailed(f"{self.where} replied {exc.smtp_code} {_text(exc.smtp_error)}",
                                permanent=exc.smtp_code >= 500) from None
        except ssl.SSLError as exc:
            raise ConnectFailed(self._tls_problem(exc), permanent=True) from None
        except OSError as exc:  # includes SMTPServerDisconnected
            raise ConnectFailed(f"{self.where} dropped the connection while greeting: {exc}",
                                permanent=False) from None

    def _tls_problem(self, exc: ssl.SSLError) -> str:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return (f"the certificate of {self.where} is not trusted ({exc.verify_message}); "
                    "if the server uses a private CA, name its certificate in [smtp] ca_file")
        hint = ""
        if self.settings.security == "tls":
            hint = '; security = "tls" needs a port that speaks TLS at once (465)'
        return f"TLS with {self.where} failed: {exc.reason or exc}{hint}"

    def deliver(self, sender: str, recipient: str, data: bytes,
                before_end: Callable[[], None]) -> Reply:
        """Send one message; call `before_end` just before writing "."; raise Dropped."""
        smtp = self.smtp
        assert smtp is not None
        options = ["BODY=8BITMIME"] if not data.isascii() and smtp.has_extn("8bitmime") else []
        ended = False
        try:
            code, text = smtp.mail(sender, options)
            if code == 250:
                code, text = smtp.rcpt(recipient)
            if code in (250, 251):
                code, text = smtp.docmd("DATA")
            if code != 354:
                return self._refused(code, text)
            smtp.send(_dot_stuff(data))
            before_end()
            smtp.send(b".\r\n")
            ended = True
            code, text = smtp.getreply()
        except OSError as exc:  # SMTPServerDisconnected, a reset, a timeout
            self.abort()
            raise Dropped(f"connection to {self.where} lost: {exc}", after_end=ended) from None
        if code == 421:
            self.abort()
        return Reply(code, _text(text))

    def _refused(self, code: int, text: bytes) -> Reply:
        """End a refused transaction with RSET (or drop the connection after a 421)."""
        smtp = self.smtp
        assert smtp is not None
        if code == 421:  # the server is closing the connection
            self.abort()
        else:
            try:
                smtp.rset()
            except OSError:
                self.abort()
        return Reply(code, _text(text))

    @property
    def is_open(self) -> bool:
        return self.smtp is not None

    def close(self) -> None:
        """Say QUIT and close."""
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except OSError:
                smtp.close()

    def abort(self) -> None:
        """Close without QUIT: the session is broken, and a late reply must not be waited for."""
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            smtp.close()


def _dot_stuff(data: bytes) -> bytes:
    """Double each line-leading "." (RFC 5321 4.5.2) and end with CRLF."""
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class RateLimiter:
    """Space message starts at least 1/rate seconds apart; clock and sleep are injectable."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_second
        self.clock = clock
        self.sleep = sleep
        self.next_start: float | None = None

    def wait(self) -> None:
        now = self.clock()
        if self.next_start is not None and now < self.next_start:
            self.sleep(self.next_start - now)
            now = self.next_start
        self.next_start = now + self.interval


def backoff(retry: int, first_delay: float, limit: float = 300.0) -> float:
    """Seconds to wait before retry number `retry` (1, 2, ...): first_delay, doubled each time."""
    return min(first_delay * 2 ** (retry - 1), limit)
