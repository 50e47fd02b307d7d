"""The send journal: one SQLite row per (message, recipient), written around each delivery.

States, in the order one delivery moves through them:
- `sending`: the SMTP transaction is open, but the end of the data (".") has not been
  written. A server discards such a transaction, so a rerun sends to this recipient again.
- `unconfirmed`: "." was written and the server's reply never arrived (the process was
  killed, or the connection dropped). The server has the whole message and almost always
  delivers it, so a rerun does not resend it (nobody twice) unless asked to with
  --resend-unconfirmed; the recipient's Message-ID is stable, so the receiving side can
  still spot that resend.
- `sent`: the server replied 250. A rerun skips the recipient.
- `failed`: a 5xx reply, or retries ran out; `reply` says why. A rerun tries again.

Every state change is committed before the next SMTP step, so a SIGKILL leaves at most one
row in `sending` or `unconfirmed`. Only `unconfirmed` is also synced to disk (the one write
that must survive a power cut: losing it would resend); a lost `sending` or `sent` falls back
to a state with the same outcome. That is one fsync per message. The journal is held in exclusive
locking mode, so a second `syndicate send` with the same journal stops instead of sending too.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import SyndicateError
from .errors import CannotStart

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    message_id TEXT NOT NULL,            -- the .eml's Message-ID
    recipient TEXT NOT NULL,             -- the address, lower case
    state TEXT NOT NULL CHECK (state IN ('sending', 'unconfirmed', 'sent', 'failed')),
    reply TEXT NOT NULL DEFAULT '',      -- the server's last reply, or what went wrong
    attempts INTEGER NOT NULL DEFAULT 0,
    recipient_message_id TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (message_id, recipient)
)
"""
STATES = ("sending", "unconfirmed", "sent", "failed")


class JournalError(SyndicateError):
    """A journal write failed mid-run."""


def journal_path(eml: Path) -> Path:
    """Return where the journal of `eml` lives: beside it, as `D.eml.journal.sqlite`."""
    return eml.with_name(eml.name + ".journal.sqlite")


class Journal:
    """The journal of one .eml; `states` maps each recipient (lower case) to its state."""

    def __init__(self, path: Path, shown: str, message_id: str, *, create: bool = True) -> None:
        self.message_id = message_id
        self.shown = shown
        self.connection: sqlite3.Connection | None = None
        self.states: dict[str, str] = {}
        if not create and not path.exists():
            return
        try:
            self.connection = _open(path, create=create)
            rows = self.connection.execute(
                "SELECT recipient, state FROM deliveries WHERE message_id = ?", (message_id,))
            self.states = dict(rows.fetchall())
        except sqlite3.OperationalError as exc:
            self.close()
            if "locked" in str(exc):
                raise CannotStart(f"{shown}: the journal is in use, by another `syndicate "
                                  "send` or a program reading it; wait for it to finish") from None
            raise CannotStart(f"{shown}: cannot open the journal: {exc}") from None
        except sqlite3.DatabaseError as exc:
            self.close()
            raise CannotStart(f"{shown}: not a send journal ({exc}); move it aside") from None

    def record(self, recipient: str, state: str, reply: str = "", *,
               attempt: bool = False, recipient_message_id: str = "") -> None:
        """Commit the recipient's new state before the caller takes its next SMTP step."""
        assert state in STATES
        self.states[recipient] = state
        if self.connection is None:
            return
        try:
            self._write(recipient, state, reply, attempt, recipient_message_id)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write the journal {self.shown}: {exc}") from None

    def _write(self, recipient: str, state: str, reply: str, attempt: bool,
               recipient_message_id: str) -> None:
        assert self.connection is not None
        durable = state == "unconfirmed"
        if durable:
            self.connection.execute("PRAGMA synchronous = FULL")
        self.connection.execute(  # autocommit: committed when it returns
            """INSERT INTO deliveries (message_id, recipient, state, reply, attempts,
                                       recipient_message_id)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (message_id, recipient) DO UPDATE SET
                   state = excluded.state, reply = excluded.reply,
                   attempts = attempts + excluded.attempts,
                   recipient_message_id = CASE WHEN excluded.recipient_message_id = ''
                       THEN recipient_message_id ELSE excluded.recipient_message_id END,
                   updated = excluded.updated""",
            (self.message_id, recipient, state, reply, int(attempt), recipient_message_id))
        if durable:
            self.connection.execute("PRAGMA synchronous = NORMAL")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _open(path: Path, *, create: bool) -> sqlite3.Connection:
    mode = "rwc" if create else "rw"
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=0,
                                 isolation_level=None)
    try:
        # Exclusive before WAL: no shared-memory index, and the lock is held until close.
        connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")  # safe from SIGKILL, not power cuts
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"written by a newer syndicate (version {version})")
        if create:
            connection.execute(SCHEMA)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except sqlite3.Error:
        connection.close()
        raise
    return connection
