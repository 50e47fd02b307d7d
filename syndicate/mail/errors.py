"""Why a send could not start (exit code 5), as opposed to recipients that failed (exit code 4)."""

from __future__ import annotations

from ..errors import SyndicateError


class CannotStart(SyndicateError):
    """Nothing was sent: the config, an environment variable, the .eml, the CSV, the journal or
    the first connection to the server is not usable."""
