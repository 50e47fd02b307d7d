"""Keep bytes that outputs make once per item on disk, across builds, and read them by offset.

An article's serialised feed entries (about 20 KB of full text in three formats) appear in
several documents: the site feed or its archive, its section's, each of its tags'. Held in
memory by every render process, they were the largest part of a big build's memory; made
anew in each process, they cost each process the time. The build's `BlobStore` is the
`stash` of its RenderContext (syndicate.outputs.Stash): the items no earlier build left are
made over the build's processes as it starts, appended to a data file, and every process
then reads each one with one `pread` when a document needs it. Only the offsets stay in
memory, and the operating system's page cache (not the processes) holds the bytes.

On disk, below `out/.syndicate-cache/blobs/<name>/`: `index` (the scope, then a checksum,
then {key: (data file, offset, length, digest)}) and numbered data files `<n>.bin`. A build
appends what it made to one new data file, and on commit writes the index of what it used,
copies the live items of a mostly dead data file into its own, and removes the data files
nothing names. Nothing is trusted: an index from another scope or version, a damaged one, or
one that other users could have written is ignored; an item whose bytes do not match its
digest, or whose data file is missing or foreign, is made again (`make` is pure, so the
result is the same).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .errors import BuildError
from .outputs import MapStream
from .recordcache import CACHE_DIR, trusted_file
from .writer import Writer, leads_outside

STORE_DIR = f"{CACHE_DIR}/blobs"
INDEX = "index"
# Bumped whenever the index changes shape, so that an older one is ignored, never misread.
MAGIC = b"syndicate-blobs 1\n"
# (data file number, offset, length, blake2b digest)
Slot = tuple[int, int, int, bytes]
# Data files kept before the live items of all but the largest are copied into one.
MAX_DATA_FILES = 8
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _checksum(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class Shelf:
    """One name's items: the slots the last build left, and what this build adds."""

    def __init__(self, folder: Path, scope: str, reuse: bool, out_dir: Path) -> None:
        self.folder = folder
        self.scope = scope
        self.out_dir = out_dir
        self.live: set[str] = set()
        self.pending: int | None = None  # the number of the data file this build writes
        self.pending_size = 0
        self._pending_fd: int | None = None
        self._fds: dict[int, int] = {}
        self._verified: set[str] = set()
        self.made_folders: list[Path] = []
        self.slots: dict[str, Slot] = self._readable(self._load_index()) if reuse else {}
        self.loaded = len(self.slots)

    # -- reading --------------------------------------------------------------------------

    def _load_index(self) -> dict[str, Slot]:
        path = self.folder / INDEX
        try:
            if not trusted_file(path.lstat()):
                return {}
            with path.open("rb") as handle:
                if handle.readline() != MAGIC or handle.readline().strip() != self.scope.encode():
                    return {}
                body = handle.read()
            checksum, payload = body[:32], body[32:]
            if hashlib.sha256(payload).digest() != checksum:
                return {}
            slots = pickle.loads(payload)
            if not isinstance(slots, dict) or not all(
                    isinstance(key, str) and _well_formed(slot) for key, slot in slots.items()):
                return {}
            return slots
        except Exception:  # a damaged index of any kind only costs the items it named
            return {}

    def _readable(self, slots: dict[str, Slot]) -> dict[str, Slot]:
        """Drop the slots whose data file is missing, foreign or too short (another build's
        sweep, a truncated copy): those items are made again and kept, rather than made
        again at every read of every later build."""
        sizes: dict[int, int] = {}
        for number in {slot[0] for slot in slots.values()}:
            fd = self._fd(number)
            sizes[number] = os.fstat(fd).st_size if fd is not None else -1
        return {key: slot for key, slot in slots.items()
                if slot[1] + slot[2] <= sizes[slot[0]]}

    def data_file(self, number: int) -> Path:
        return self.folder / f"{number}.bin"

    def _fd(self, number: int) -> int | None:
        fd = self._fds.get(number)
        if fd is None:
            try:
                fd = os.open(self.data_file(number), _OPEN_FLAGS)
            except OSError:
                return None
            if not trusted_file(os.fstat(fd)):
                os.close(fd)
                return None
            self._fds[number] = fd
        return fd

    def stored(self, key: str) -> bytes | None:
        """Return the bytes kept under `key`, or None when they are missing or damaged."""
        slot = self.slots.get(key)
        if slot is None:
            return None
        number, offset, length, digest = slot
        fd = self._fd(number)
        if fd is None:
            return None
        try:
            data = os.pread(fd, length, offset)
        except OSError:
            return None
        # Each process checks an item's digest on its first read only: an article is read
        # some twenty times (each document that lists it, in each format), and hashing it
        # every time would cost about what making it once does.
        if key not in self._verified:
            if len(data) != length or _checksum(data) != digest:
                return None
            self._verified.add(key)
        return data

    def reader(self, keys: Sequence[str], make: Callable[[int], bytes]) -> Callable[[int], bytes]:
        def read(index: int) -> bytes:
            data = self.stored(keys[index])
            return make(index) if data is None else data

        return read

    # -- writing --------------------------------------------------------------------------

    def _append(self, key: str, data: bytes) -> None:
        fd = self._pending_fd
        if fd is None:
            fd = self._pending_fd = self._open_pending()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        self.slots[key] = (self.pending, self.pending_size, len(data), _checksum(data))
        self._verified.add(key)
        self.pending_size += len(data)

    def _open_pending(self) -> int:
        """Open this build's data file for appending: a new one, the first time."""
        nofollow = getattr(os, "O_NOFOLLOW", 0)
        if self.pending is not None:
            return os.open(self.data_file(self.pending), os.O_WRONLY | os.O_APPEND | nofollow)
        # Checked before anything is made: a folder on the way may be a link out of out/.
        if leads_outside(self.out_dir, self.folder):
            raise BuildError(f"{self.folder} leads outside {self.out_dir} through a symbolic link")
        # Folders made here are removed again if the build fails (out/ itself, even).
        self.made_folders = [f for f in (self.folder, *self.folder.parents) if not f.exists()]
        self.folder.mkdir(parents=True, exist_ok=True)
        taken = set(self._numbers_on_disk())
        taken.update(slot[0] for slot in self.slots.values())
        number = max(taken, default=0) + 1
        while True:
            try:
                fd = os.open(self.data_file(number),
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL | nofollow, 0o644)
                break
            except FileExistsError:  # another build's file: take the next number
                number += 1
        os.fchmod(fd, 0o644)
        self.pending = number
        return fd

    def add(self, items: Iterable[tuple[str, bytes]]) -> None:
        for key, data in items:
            self._append(key, data)

    def _numbers_on_disk(self) -> list[int]:
        try:
            names = os.listdir(self.folder)
        except OSError:
            return []
        return [int(name[:-4]) for name in names
                if name.endswith(".bin") and name[:-4].isdigit()]

    def finish_writing(self) -> None:
        if self._pending_fd is not None:
            os.close(self._pending_fd)
            self._pending_fd = None

    @property
    def changed(self) -> bool:
        """Whether the index on disk no longer says what this build used."""
        return self.pending is not None or len(self.slots) != self.loaded

    def close(self) -> None:
        self.finish_writing()
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def discard(self) -> None:
        """Remove the data file this build wrote (the build failed)."""
        self.close()
        if self.pending is not None:
            self.data_file(self.pending).unlink(missing_ok=True)
            self.pending = None
        for folder in self.made_folders:  # deepest first
            try:
                folder.rmdir()
            except OSError:  # another build's files are in it
                break
        self.made_folders = []

    def compact(self) -> None:
        """Keep only the live items, and copy into this build's file those of a data file
        that is mostly dead (more than half of its bytes unused) and, once there are more
        than MAX_DATA_FILES, those of every file but the largest: each build that adds a
        story adds a small file, and a site built a thousand times must not keep a thousand."""
        self.slots = {key: slot for key, slot in self.slots.items() if key in self.live}
        live_bytes: dict[int, int] = {}
        for number, _, length, _ in self.slots.values():
            live_bytes[number] = live_bytes.get(number, 0) + length
        older = {number: used for number, used in live_bytes.items() if number != self.pending}
        largest = max(older, key=lambda number: (older[number], number), default=None)
        merge = len(older) > MAX_DATA_FILES
        for number, used in sorted(older.items()):
            try:
                size = self.data_file(number).stat().st_size
            except OSError:
                size = 0
            if used * 2 >= size and not (merge and number != largest):
                continue
            for key in sorted(k for k, slot in self.slots.items() if slot[0] == number):
                data = self.stored(key)
                if data is None:
                    del self.slots[key]
                else:
                    self._append(key, data)

    def index_bytes(self) -> bytes:
        payload = pickle.dumps(self.slots, protocol=pickle.HIGHEST_PROTOCOL)
        return (MAGIC + self.scope.encode() + b"\n" + hashlib.sha256(payload).digest()
                + payload)

    def sweep(self) -> None:
        """Remove the data files the index no longer names."""
        named = {slot[0] for slot in self.slots.values()}
        for number in self._numbers_on_disk():
            if number not in named:
                self.data_file(number).unlink(missing_ok=True)


def _well_formed(slot: object) -> bool:
    return (isinstance(slot, tuple) and len(slot) == 4
            and all(type(part) is int and part >= 0 for part in slot[:3])
            and isinstance(slot[3], bytes))


class BlobStore:
    """The build's Stash: items kept below out/.syndicate-cache/blobs/, made over the build's
    processes (`map_stream`) when missing. `save` commits them with the build; `discard`
    removes what a failed build wrote."""

    def __init__(self, out_dir: Path, map_stream: MapStream, *, reuse: bool = True) -> None:
        self.out_dir = out_dir
        self.map_stream = map_stream
        self.reuse = reuse
        self.shelves: dict[str, Shelf] = {}

    def _folder(self, name: str) -> Path:
        if not name.isidentifier():
            raise ValueError(f"a stash name must be a plain word, not {name!r}")
        return self.out_dir / STORE_DIR / name

    def shelf(self, name: str, scope: str) -> Shelf:
        """Return the name's shelf for `scope` (what the last build left, if it had the same
        scope): for callers that have the bytes at hand rather than a `make`."""
        shelf = self.shelves.get(name)
        if shelf is None or shelf.scope != scope:
            if shelf is not None:
                shelf.discard()
            shelf = self.shelves[name] = Shelf(self._folder(name), scope, self.reuse,
                                               self.out_dir)
        return shelf

    def stash(self, name: str, scope: str, keys: Sequence[str],
              make: Callable[[int], bytes]) -> Callable[[int], bytes]:
        shelf = self.shelf(name, scope)
        first: dict[str, int] = {}
        missing = [index for index, key in enumerate(keys)
                   if key not in shelf.slots and first.setdefault(key, index) == index]
        if missing:
            made = self.map_stream(lambda number: make(missing[number]), len(missing))
            shelf.add(zip([keys[index] for index in missing], made, strict=True))
            shelf.finish_writing()
        shelf.live.update(keys)
        return shelf.reader(keys, make)

    def previous(self, name: str, scope: str, key: str) -> bytes | None:
        """Return what the last build kept on the name's shelf for `scope` under a key other
        than `key` (the first such key, if it kept several), or None."""
        shelf = self.shelf(name, scope)
        others = sorted(k for k in shelf.slots if k != key)
        return shelf.stored(others[0]) if others else None

    def save(self, writer: Writer) -> None:
        """Write each name's index of the items this build used, then drop the rest."""
        for name, shelf in self.shelves.items():
            shelf.compact()
            shelf.finish_writing()
            if shelf.changed:
                writer.save_bookkeeping(f"{STORE_DIR}/{name}/{INDEX}", shelf.index_bytes())
                shelf.sweep()
            shelf.close()

    def discard(self) -> None:
        for shelf in self.shelves.values():
            shelf.discard()


__all__ = ["STORE_DIR", "BlobStore", "Shelf"]
