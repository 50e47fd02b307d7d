"""The digest .eml through a real SMTP conversation: smtplib to an aiosmtpd server on
127.0.0.1, and what the server receives is the file, byte for byte."""

from __future__ import annotations

import smtplib
import socket
from datetime import date
from email import message_from_bytes, policy

import pytest
from test_digest import small_site

from syndicate.build import write_digest

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller",
                                          reason="aiosmtpd is not installed (pip install aiosmtpd)")


class Collector:
    """An aiosmtpd handler that keeps every envelope it is given."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = Collector()
    controller = aiosmtpd_controller.Controller(handler, hostname="127.0.0.1", port=free_port(),
                                                server_hostname="localhost")
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def test_what_arrives_is_the_eml_byte_for_byte(mini_site, smtp_server):
    controller, handler = smtp_server
    config = small_site(mini_site)
    write_digest(config, day=date(2026, 3, 15))
    raw = (config.parent / "out/digest/2026-03-15.eml").read_bytes()
    message = message_from_bytes(raw, policy=policy.SMTP)
    with smtplib.SMTP(controller.hostname, controller.port, "localhost", timeout=10) as client:
        refused = client.send_message(message)
    assert refused == {}
    (envelope,) = handler.envelopes
    assert envelope.mail_from == "newsletter@mini.example.com"
    assert envelope.rcpt_tos == ["subscriber@example.invalid"]
    # The data as the server's DATA handler got it (dot-unstuffed, before any Received:
    # header a delivery agent would add).
    assert envelope.original_content == raw
    received = message_from_bytes(envelope.original_content, policy=policy.default)
    assert received["Message-ID"] == message["Message-ID"]
    assert [p.get_content_type() for p in received.iter_parts()] == ["text/plain", "text/html"]


def test_sending_the_raw_bytes_arrives_unchanged_too(mini_site, smtp_server):
    controller, handler = smtp_server
    config = small_site(mini_site)
    write_digest(config, day=date(2026, 3, 15))
    raw = (config.parent / "out/digest/2026-03-15.eml").read_bytes()
    with smtplib.SMTP(controller.hostname, controller.port, "localhost", timeout=10) as client:
        client.sendmail("newsletter@mini.example.com", ["reader@example.org"], raw)
    (envelope,) = handler.envelopes
    assert envelope.original_content == raw
