"""Small helpers for writing XML by hand where no library earns its place."""

from __future__ import annotations

from datetime import datetime, timezone
from xml.sax.saxutils import escape, quoteattr

from .text import xml_safe

__all__ = ["attr", "esc", "w3c_datetime"]


def esc(value: str) -> str:
    """Escape text for an XML element, dropping characters XML cannot hold."""
    return escape(xml_safe(value))


def attr(value: str) -> str:
    """Return a quoted, escaped XML attribute value."""
    return quoteattr(xml_safe(value))


def w3c_datetime(moment: datetime) -> str:
    """Return `moment` in UTC as `2026-03-14T07:30:00+00:00` (W3C Datetime, RFC 3339)."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()
