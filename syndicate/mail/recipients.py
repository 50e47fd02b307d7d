"""Read the recipients CSV (UTF-8, header row `email,name`): check, normalise and de-duplicate."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problem
from .errors import CannotStart

# RFC 5321 dot-atom local parts; quoted local parts ("a b"@x) are legal but too rare to be worth
# the risk of mis-parsing them.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True)
class Recipient:
    """One subscriber: `email` is normalised (ASCII domain, lower case); `key` is the dedupe key."""

    email: str
    name: str
    line: int

    @property
    def key(self) -> str:
        return self.email.lower()

    @property
    def local_part(self) -> str:
        return self.email.rpartition("@")[0]

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


@dataclass
class RecipientList:
    recipients: list[Recipient] = field(default_factory=list)
    invalid: list[Problem] = field(default_factory=list)
    duplicates: list[Problem] = field(default_factory=list)


def normalise_address(text: str) -> tuple[str | None, str]:
    """Return (the address with an ASCII lower-case domain, "") or (None, why it is refused)."""
    address = text.strip()
    if not address:
        return None, "no email address"
    if any(char.isspace() for char in address) or any(char in address for char in '<>,;"()'):
        return None, "not a plain email address (write only the address, e.g. ada@example.org)"
    if address.count("@") != 1:
        return None, "not an email address (needs exactly one @)"
    local, domain = address.split("@")
    if not local or len(local) > 64:
        return None, "the part before @ must be 1 to 64 characters"
    if not local.isascii():
        return None, "non-ASCII before the @ needs SMTPUTF8, which syndicate does not use"
    if not _LOCAL_PART.fullmatch(local):
        return None, "the part before @ has characters or dots that an address cannot have"
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None, f'"{domain}" is not a valid domain name'
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None, f'"{domain}" is not a valid domain name'
    normalised = f"{local}@{ascii_domain}"
    if len(normalised) > 254:
        return None, "longer than 254 characters"
    return normalised, ""


def clean_name(text: str) -> str:
    """Collapse whitespace and drop control characters so a name cannot break the To header."""
    return " ".join(_CONTROL.sub(" ", text).split())


def read_recipients(path: Path, shown: str) -> RecipientList:
    """Read the CSV at `path`; raise CannotStart if it cannot be read or has no `email` column."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CannotStart(f"{shown}: file not found") from None
    except OSError as exc:
        raise CannotStart(f"{shown}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise CannotStart(f"{shown}: line {line}: is not valid UTF-8 (byte {exc.start})") from None
    return parse_recipients(text, shown)


def parse_recipients(text: str, shown: str) -> RecipientList:
    """Parse CSV text; report invalid rows and duplicates by line number and skip them."""
    result = RecipientList()
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    columns: dict[str, int] | None = None
    first_seen: dict[str, int] = {}
    last_line = 0
    try:
        for row in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = {name.strip().lower(): index for index, name in enumerate(row)}
                if "email" not in columns:
                    raise CannotStart(f'{shown}: line {line}: the header row must name an "email" '
                                      'column, as in "email,name"')
                continue
            _add_row(result, row, columns, line, shown, first_seen)
    except csv.Error as exc:
        raise CannotStart(f"{shown}: line {last_line + 1}: not valid CSV: {exc}") from None
    if columns is None:
        raise CannotStart(f'{shown}: no header row; the first line must be "email,name"')
    return result


def _add_row(result: RecipientList, row: list[str], columns: dict[str, int], line: int,
             shown: str, first_seen: dict[str, int]) -> None:
    where = f"line {line}"
    email_at, name_at = columns["email"], columns.get("name")
    given = row[email_at] if email_at < len(row) else ""
    address, reason = normalise_address(given)
    if address is None:
        shown_value = f'"{given.strip()[:80]}": ' if given.strip() else ""
        result.invalid.append(Problem(shown, where, f"{shown_value}{reason}; skipped"))
        return
    key = address.lower()
    if key in first_seen:
        result.duplicates.append(Problem(
            shown, where, f"{address} is a duplicate of line {first_seen[key]}; sent once",
            "notice"))
        return
    first_seen[key] = line
    name = clean_name(row[name_at]) if name_at is not None and name_at < len(row) else ""
    result.recipients.append(Recipient(address, name, line))
