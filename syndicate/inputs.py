"""The input key: one digest of everything a build reads, taken before the build reads it.

`syndicate build` compares it with the key the last build kept (syndicate.stamp) and skips a
build in which nothing changed. The key covers:

- the program: syndicate's version and source files, the Python version and the installed
  distributions (a library upgrade can change the output);
- the config file's resolved path and bytes, and the parsed config, which also holds the
  --config path as given (problems name it) and the resolved --out;
- the bundled templates and the `[content] templates` overrides;
- every record file the loader lists (syndicate.sources, the same rules) and the listing's
  warnings; the logo and favicon files; the site's time zone file;
- SOURCE_DATE_EPOCH, the only environment variable a build reads.

Files are described by their state (size, mtime, ctime, inode), not by their bytes. Any write
changes the ctime, so a file edited and edited back while a build read it (A, B, A) differs
from the key taken before the build; a digest of the bytes would match A and keep the output
made from B. Stat'ing is also what keeps 100,000 records cheap to check.

The image files records name are known only once the records are parsed: `Inputs.key` adds
their states to the digest (as the parse saw them when saving, as they are when checking).
"""

from __future__ import annotations

import hashlib
import os
import sys
import zoneinfo
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from . import __version__
from .config import Config, load_config
from .errors import Problem
from .sources import (
    FileState,
    default_templates_dir,
    entry_state,
    file_state,
    scan_record_files,
)

# Changing what the key covers changes this tag, so that no older key can ever match.
TAG = "syndicate-inputs 1"


@dataclass(frozen=True)
class RecordListing:
    """The record files as the key saw them: (file path, shown path) in the loader's order,
    each one's state, and the listing's warnings. The loader takes them from here instead of
    listing and stat'ing 100,000 files again (0.4 s)."""

    files: list[tuple[str, str]]
    states: array[int]  # four a file: size, mtime_ns, ctime_ns, inode
    problems: list[Problem]

    def state(self, number: int) -> FileState:
        """Return the state of files[number]."""
        size, mtime, ctime, inode = self.states[4 * number:4 * number + 4]
        return size, mtime, ctime, inode


@dataclass(frozen=True)
class Inputs:
    """A loaded config and the digest of every input known before loading.

    `digest` is "" when there is nothing to key (no records folder): such a build is never
    skipped, and it fails on its own. `listing` is what the digest covered of the records.
    """

    config: Config
    digest: str
    listing: RecordListing | None = field(default=None, compare=False, repr=False)

    def key(self, images: Mapping[str, FileState]) -> str:
        """Return the input key: the digest plus the states of the image files records name."""
        hashed = hashlib.sha256(self.digest.encode())
        _update(hashed, "\0".join(f"{local}\0{size}\0{mtime}\0{ctime}\0{inode}" for local,
                                  (size, mtime, ctime, inode) in sorted(images.items())))
        return hashed.hexdigest()


def gather(config_path: Path | str, *, out_dir: str | None = None,
           environ: Mapping[str, str] = os.environ) -> Inputs:
    """Load the config and digest every input of a build of it; raise ConfigError on a bad
    config. Reads no record, only their states."""
    config = load_config(config_path, out_dir=out_dir)
    if not config.records_dir.is_dir():
        return Inputs(config, "")
    hashed = hashlib.sha256(TAG.encode())
    _program(hashed)
    try:
        raw = Path(config_path).read_bytes()
    except OSError:
        raw = b""
    _update(hashed, "config", str(Path(config_path).resolve()), raw, repr(config))
    _update(hashed, "SOURCE_DATE_EPOCH", environ.get("SOURCE_DATE_EPOCH"))
    _update(hashed, "templates", _tree(default_templates_dir()))
    if config.content.templates:
        _update(hashed, "overrides", _tree(config.path(config.content.templates)))
    _site_files(hashed, config)
    listing = _records(hashed, config)
    return Inputs(config, hashed.hexdigest(), listing)


def _update(hashed: hashlib._Hash, *parts: object) -> None:
    # repr() quotes every string, so no two different part lists give the same text.
    hashed.update(repr(parts).encode("utf-8", "surrogatepass"))


def _program(hashed: hashlib._Hash) -> None:
    """Digest the code that builds: ours (by file state, for a working copy), Python's, and
    the installed distributions (their folder names carry their versions)."""
    package = Path(__file__).resolve().parent
    sources = [(path, state) for path, state in _tree(package) if path.endswith(".py")]
    installed: set[str] = set()
    for folder in sys.path:
        # Names only: the same distributions on another path (PYTHONPATH, the current
        # folder) are the same code, and should not make every build a real one.
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        installed.update(n for n in names if n.endswith((".dist-info", ".egg-info", ".pth")))
    _update(hashed, __version__, sys.version, sys.implementation.cache_tag, sources,
            sorted(installed))


def _tree(folder: Path) -> list[tuple[str, FileState]]:
    """Return (relative path, state) for every file below `folder`, sorted, following
    symbolic links as Jinja's loader does (each folder once, so a loop ends)."""
    found: list[tuple[str, FileState]] = []
    seen: set[tuple[int, int]] = set()

    def walk(path: str, relative: str) -> None:
        try:
            info = os.stat(path)
            if (info.st_dev, info.st_ino) in seen:
                return
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            return
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                walk(entry.path, relative + entry.name + "/")
            else:
                found.append((relative + entry.name, entry_state(entry)))

    walk(str(folder), "")
    return found


def _site_files(hashed: hashlib._Hash, config: Config) -> None:
    """Digest the logo and favicon files (their sizes are read) and the time zone's data."""
    for key in ("logo", "favicon"):
        src = getattr(config.site, key).strip()
        if src and not urlsplit(src).scheme and not src.startswith("/"):
            local = "/".join(PurePosixPath(src).parts)
            _update(hashed, key, local, file_state(config.records_dir / local))
    zone = config.site.timezone
    _update(hashed, "zone", zone, zoneinfo.TZPATH,
            [file_state(os.path.join(folder, zone)) for folder in zoneinfo.TZPATH])


def _records(hashed: hashlib._Hash, config: Config) -> RecordListing:
    """Digest the shown path and state of every record file, and the listing's warnings."""
    problems: list[Problem] = []
    files: list[tuple[str, str]] = []
    states = array("q")
    for path, shown, entry in scan_record_files(config.records_dir, config.content.dir,
                                                problems):
        files.append((path, shown))
        states.extend(entry_state(entry))
    # Shown paths hold no NUL, so joining with NUL is unambiguous. States are packed, not
    # formatted: turning 400,000 integers into text costs more than the rest.
    hashed.update("\0".join(shown for _, shown in files).encode("utf-8", "surrogatepass"))
    hashed.update(states.tobytes())
    _update(hashed, "listing", len(files), problems)
    return RecordListing(files, states, list(problems))
