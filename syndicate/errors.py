"""The exception family and the one-line problem reports that every stage shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "notice"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input, reported as `where: field: message`.

    `where` is a file path as the user wrote it (or `config.toml: [table]`), `field` the record
    field or TOML key. An error drops the record (or fails the config); a warning keeps it,
    with the field dropped or mended; a notice (an unknown field) is shown only under --strict.
    """

    where: str
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        field = f"{self.field}: " if self.field else ""
        return f"{self.where}: {field}{self.message}"


class SyndicateError(Exception):
    """Base of every error that the CLI shows as `Error: ...` instead of a traceback."""


class ConfigError(SyndicateError):
    """The config file is missing, unreadable or invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RecordError(SyndicateError):
    """Records had problems and the build was asked to be strict about them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the records (--strict)")


class BuildError(SyndicateError):
    """Rendering or writing could not complete; `out/` was left as it was."""


def visible(problems: list[Problem], *, strict: bool) -> list[Problem]:
    """Return the problems to show: notices only under --strict."""
    return [p for p in problems if strict or p.severity != "notice"]
