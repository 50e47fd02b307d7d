"""Fingerprints for incremental builds: a digest of everything one artifact depends on.

An output that defers an artifact gives it a fingerprint built from `environment_digest` (the
package version, the whole config and every template file) and the keys of the articles and
lists it shows. When the fingerprint equals the one the writer recorded for the file already
in out/, the artifact is not rendered again. A fingerprint must therefore name every input:
a missed input means a stale page, which the incremental-equals-cold test exists to catch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import operator
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .config import Config
from .identity import IdentityCache
from .model import Article
from .sources import default_templates_dir

if TYPE_CHECKING:
    from .site import Site

_ENVIRONMENTS: IdentityCache[str] = IdentityCache()


def _folder_digest(folder: Path, into: hashlib._Hash) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            into.update(path.relative_to(folder).as_posix().encode() + b"\0")
            into.update(path.read_bytes() + b"\0")


def environment_digest(config: Config) -> str:
    """Digest what every artifact depends on: the version, the config and the templates."""
    return _ENVIRONMENTS.get(config, lambda: _environment_digest(config))


def _environment_digest(config: Config) -> str:
    # Where the config file and out/ are, and how --config was typed, appear only in problem
    # lines, never in an artifact: a build from another folder must not re-render everything.
    # What those places hold (records, templates, images) is keyed by content elsewhere.
    placeless = dataclasses.replace(config, root=Path("."), source="",
                                    output=dataclasses.replace(config.output, dir=""))
    hashed = hashlib.sha256(f"syndicate {__version__}\0{placeless!r}\0".encode())
    _folder_digest(default_templates_dir(), hashed)
    if config.content.templates:
        hashed.update(b"overrides\0")
        _folder_digest(config.path(config.content.templates), hashed)
    return hashed.hexdigest()


_RENDER_KEY = operator.attrgetter("render_key")


def keys(articles: Iterable[Article]) -> str:
    """Return what identifies the rendered form of the articles, in order: their
    `Article.render_key`s (all of one length) joined in one string, which a fingerprint
    takes in far fewer steps than a tuple of them."""
    return "".join(map(_RENDER_KEY, articles))


# Every render key is a sha256 hex digest (Article.render_key): this many characters.
KEY_SIZE = 64


_SITE_KEYS: IdentityCache[Any] = IdentityCache()


def listed_keys(site: Site, articles: Sequence[Article], places: Sequence[int]) -> bytes:
    """Return `key_bytes(articles)`, where `places` are the articles' places in
    site.articles (Term.places): gathered from one table of the site's keys, not read from
    each story again (the stories lie all over the heap: every term's keys, 600,000 at
    100,000 stories, took 0.3 s that way and take 0.03 s so)."""
    if articles is site.articles:
        return _site_keys(site).tobytes()
    if not articles or len(places) != len(articles):
        return key_bytes(articles)
    import numpy  # imported by the builds that rank every story anyway (syndicate.rankbatch)

    return _site_keys(site)[numpy.asarray(places, dtype=numpy.intp)].tobytes()


def _site_keys(site: Site) -> Any:
    import numpy

    return _SITE_KEYS.get(site, lambda: numpy.frombuffer(key_bytes(site.articles),
                                                          dtype=f"S{KEY_SIZE}"))


def key_bytes(articles: Iterable[Article]) -> bytes:
    """Return `keys(articles)` as ASCII bytes: a list's pages each fingerprint a slice of
    them (see `fingerprinter`), where each page joined its own keys, which a repr copied
    and an encode copied again (a term's pages and its feed's documents, 600,000 keys in
    all at 100,000 stories, some of them three times over)."""
    return keys(articles).encode("ascii")


# The environment digest of the config fingerprints last used: every artifact of a build
# asks for it, and one identity check is cheaper than the cache lookup.
_last_environment: tuple[Config, str] | None = None


def fingerprint(config: Config, *parts: object) -> str:
    """Return a digest of the environment and `parts` (tuples of strings, numbers, keys)."""
    return fingerprinter(config, *parts).hexdigest()


def fingerprinter(config: Config, *parts: object,
                  listed: bytes | memoryview | None = None) -> hashlib._Hash:
    """Return the hash `fingerprint` makes, not yet finished, for a caller that adds to it
    or copies it: one document in several formats hashes what they share once. `listed`,
    the `key_bytes` of the stories a document lists (or a slice of them), comes after the
    parts: their repr ends where it closes, and every key has KEY_SIZE characters."""
    global _last_environment
    last = _last_environment
    if last is None or last[0] is not config:
        last = _last_environment = (config, environment_digest(config))
    hashed = hashlib.sha256(last[1].encode())
    hashed.update(repr(parts).encode("utf-8", "surrogatepass"))
    if listed is not None:
        hashed.update(b"\0listed\0")
        hashed.update(listed)
    return hashed
