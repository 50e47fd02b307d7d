"""Reuse parsed records across builds, and parse the rest over several processes.

The cache lives in `out/.syndicate-cache/records/` (nothing is ever written outside out/),
split by a hash of each record's path into SHARDS files, so that a build that parsed a few
records anew rewrites a few shards, not the whole archive's. An entry is reused when the
file's size, mtime, ctime and inode are unchanged, or, when they changed (a fresh clone
resets every mtime), when the file's bytes hash the same, and when every local image path it
named is unchanged too (or still missing). The cache is keyed by the package version and the
config that parsing reads; a shard from another version or config, a damaged one, or one
that other users could have written is ignored, never trusted: its records are parsed again.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat as stat_module
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from . import __version__, parallel
from .config import Config
from .errors import Problem
from .model import Article
from .sources import FileState, file_state
from .writer import leads_outside

CACHE_DIR = ".syndicate-cache"
SHARD_DIR = "records"
SHARDS = 64
# The single file that earlier versions kept: removed when the shards are written.
OLD_CACHE_FILE = "records.pickle"
# Bumped whenever Entry changes shape or what it holds (5: a record with no slug holds the
# one derived from its title; 6: articles hold their normalised headline; 7: authors,
# pictures and body references are slotted), so that an older cache is ignored, never
# misread.
MAGIC = b"syndicate-records 8\n"
# Format 7 holds the same entries, its authors, images and body references pickled through
# the dataclasses' __setstate__ (a quarter slower to read than format 8's constructor calls,
# syndicate.model): such a shard is read, and written again in format 8 by the same build.
FORMAT_7 = b"syndicate-records 7\n"
# Below this many files to parse, a pool costs more than it saves.
MIN_PARALLEL = 400


@dataclass
class Entry:
    """One record file's parse result and what it was parsed from."""

    size: int
    mtime_ns: int
    digest: str
    article: Article | None
    problems: list[Problem]
    # (local path, its state when the record was parsed) for every image path it named.
    images: list[tuple[str, FileState]] = field(default_factory=list)
    ctime_ns: int = -1
    inode: int = -1


def cache_key(config: Config) -> str:
    """Digest what parsing depends on: the version, [site], [content] and the media path."""
    text = f"{__version__}\0{config.site!r}\0{config.content!r}\0{config.output.media_path}\0"
    text += str(config.records_dir)
    return hashlib.sha256(text.encode()).hexdigest()


def shard_of(shown: str) -> int:
    """Return the shard that holds the entry of the record file shown as `shown`."""
    return zlib.crc32(shown.encode("utf-8", "surrogatepass")) % SHARDS


def shard_name(number: int) -> str:
    """Return the shard's path below out/."""
    return f"{CACHE_DIR}/{SHARD_DIR}/{number:02d}.pickle"


@dataclass
class CachedRecords:
    """The cached entries by shown path, and for each shard the paths it held when read
    (None when it was missing, damaged or foreign)."""

    entries: dict[str, Entry] = field(default_factory=dict)
    shards: list[frozenset[str] | None] = field(default_factory=lambda: [None] * SHARDS)

    def stale_shards(self, shards: list[dict[str, Entry]], changed: set[str]) -> list[int]:
        """Return the numbers of the shards to write, given this build's entries by shard
        (split_shards) of which those named in `changed` were parsed anew or had their
        file state refreshed."""
        touched = {shard_of(shown) for shown in changed}
        return [number for number, entries in enumerate(shards)
                if number in touched or self.shards[number] != entries.keys()]


def split_shards(entries: dict[str, Entry]) -> list[dict[str, Entry]]:
    """Return the entries by shard."""
    shards: list[dict[str, Entry]] = [{} for _ in range(SHARDS)]
    for shown, entry in entries.items():
        shards[shard_of(shown)][shown] = entry
    return shards


def load_cache(config: Config) -> CachedRecords:
    """Return the entries of every trustworthy shard."""
    cached = CachedRecords()
    key = cache_key(config).encode()
    for number in range(SHARDS):
        loaded = _load_shard(config.out_dir / shard_name(number), key)
        if loaded is not None:
            entries, current = loaded
            cached.entries.update(entries)
            if current:  # else it counts as missing: stale, and written again
                cached.shards[number] = frozenset(entries)
    return cached


def trusted_file(info: os.stat_result) -> bool:
    """Whether a cache file is a regular file of this user that no one else may write."""
    return (stat_module.S_ISREG(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & (stat_module.S_IWGRP | stat_module.S_IWOTH))


def _load_shard(path: Path, key: bytes) -> tuple[dict[str, Entry], bool] | None:
    """Return the shard's entries and whether it is in the current format, or None."""
    try:
        if not trusted_file(path.lstat()):
            return None
        with path.open("rb") as handle:
            magic = handle.readline()
            if magic not in (MAGIC, FORMAT_7) or handle.readline().strip() != key:
                return None
            body = handle.read()
        checksum, payload = body[:32], body[32:]
        if hashlib.sha256(payload).digest() != checksum:
            return None
        entries = pickle.loads(payload)
        if not isinstance(entries, dict) or not all(
                isinstance(shown, str) and isinstance(entry, Entry)
                for shown, entry in entries.items()):
            return None
        return entries, magic == MAGIC
    except Exception:  # a damaged shard of any kind is simply rebuilt
        return None


def dump_shards(config: Config, shards: list[dict[str, Entry]],
                numbers: list[int]) -> Iterator[tuple[str, bytes]]:
    """Yield the path below out/ and the bytes of each shard in `numbers`."""
    header = MAGIC + cache_key(config).encode() + b"\n"
    for number in numbers:
        payload = pickle.dumps(shards[number], protocol=pickle.HIGHEST_PROTOCOL)
        yield shard_name(number), header + hashlib.sha256(payload).digest() + payload


class SpooledShards:
    """Serialised shards parked until the commit writes them, in an unnamed temporary file
    below out/.syndicate-cache/ (it vanishes with the process, whatever ends the build): a
    cold build of 100,000 records makes 120 MB of shards, which in memory stayed through
    rendering and the commit, the build's peak. Without a cache folder inside out/ to park
    them in, they are held in memory."""

    def __init__(self, out_dir: Path) -> None:
        folder = out_dir / CACHE_DIR
        self._file: IO[bytes] | None = None
        if folder.is_dir() and not leads_outside(out_dir, folder):
            try:
                self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (see close)
            except OSError:  # a folder this user may not write to: the writer will say so
                self._file = None
        self._held: list[tuple[str, bytes]] = []
        self._places: list[tuple[str, int, int]] = []

    def add(self, shards: Iterable[tuple[str, bytes]]) -> None:
        for name, data in shards:
            if self._file is None:
                self._held.append((name, data))
            else:
                self._places.append((name, self._file.tell(), len(data)))
                self._file.write(data)

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        """Yield each shard's name and bytes, one shard in memory at a time."""
        yield from self._held
        if self._file is None:
            return
        self._file.flush()
        for name, offset, length in self._places:
            self._file.seek(offset)
            data = self._file.read(length)
            # Cut short, a shard is not written: the one on disk stays, and its entries are
            # checked against the record files as ever.
            if len(data) == length:
                yield name, data

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._held, self._places = [], []


def images_unchanged(records: Path, entry: Entry) -> bool:
    """Whether every image path the record named below the `records` folder is as it was
    (still missing if missing)."""
    return all(file_state(records / local) == state for local, state in entry.images)


_JOB: tuple[Config, list[tuple[Path, str]]] | None = None


def _parse_one(index: int) -> tuple[str, Entry]:
    from .records import parse_file

    assert _JOB is not None
    config, files = _JOB
    path, shown = files[index]
    return shown, parse_file(config, path, shown)


def parse_many(config: Config, files: list[tuple[Path, str]],
               jobs: int) -> Iterator[tuple[str, Entry]]:
    """Parse record files, over `jobs` processes when there are enough of them."""
    global _JOB
    _JOB = (config, files)
    try:
        if jobs <= 1 or len(files) < MIN_PARALLEL or not parallel.forking():
            for index in range(len(files)):
                yield _parse_one(index)
            return
        chunk = max(1, min(200, len(files) // (jobs * 8)))
        with parallel.forked_pool(jobs) as pool:
            yield from pool.imap(_parse_one, range(len(files)), chunksize=chunk)
    finally:
        _JOB = None
