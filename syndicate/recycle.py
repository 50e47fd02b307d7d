"""Files a commit replaced, kept for the next commit to write into.

Renaming a new page over an old one is atomic, but the old file's last name goes with it,
and on a file system that frees blocks one file at a time (ext4 mounted with `discard`, as
on the benchmark VM) dropping it is most of the cost: 160-200 us a file, where the rename
itself takes 12 us. Creating the temporary file costs 25 us to over 1 ms, depending on what
the file system is doing. A new story rewrites every page of its section (their "Latest"
list), some 16,000 files at 100,000 stories, so those two costs made up most of such a
build's commit.

So the writer links each file it is about to replace into this pool (20 us), and stages the
next build's bytes by moving a pooled file to its temporary name and writing it from the
start (about 20 us for a page): no file is made or freed, and each page is still replaced
by one rename. The pool is bounded (LIMIT files), lives below out/ like the writer's other
bookkeeping (`.syndicate-*`, which deploys leave out), and holds earlier versions of pages.
A pooled file that is not a plain file with no other name (a killed commit can leave a link
to a live page) is never written: it is dropped.
"""

from __future__ import annotations

import contextlib
import os
import stat as stat_module

POOL_DIR = ".syndicate-recycled"
# Enough for the largest section's pages at 100,000 stories; at some 20 kB a page, 400 MB.
LIMIT = 20_000


class FilePool:
    """The pool of one out/ folder, as each process (forked workers too) sees it."""

    def __init__(self, out: str) -> None:
        self.folder = os.path.join(out, POOL_DIR)
        self._names: list[str] = []
        self._listed_by = 0  # the process that listed _names
        self._room: int | None = None  # what keep may still add, counted on first use
        self._kept = 0

    def start_commit(self) -> None:
        """Forget what was listed, and remove a pool that is not a plain folder (a link is
        never followed: the pool's files are moved and written)."""
        if os.path.islink(self.folder) or os.path.isfile(self.folder):
            os.unlink(self.folder)
        self._listed_by = 0
        self._room = None

    def open_reused(self, temp: str) -> int | None:
        """Move a pooled file to `temp` (a new name) and return it open for writing from its
        start, or None when the pool has none to give."""
        if self._listed_by != os.getpid():
            self._listed_by = os.getpid()
            self._names = self._listing()
            # Forked workers list the same files: each takes them from its own place on.
            if self._names:
                turn = os.getpid() % len(self._names)
                self._names = self._names[turn:] + self._names[:turn]
        while self._names:
            try:
                os.rename(os.path.join(self.folder, self._names.pop()), temp)
            except OSError:
                continue  # another process took it first
            handle = self._open_alone(temp)
            if handle is not None:
                return handle
        return None

    def keep(self, target: str) -> None:
        """Link the file at `target`, about to be replaced, into the pool while it has room."""
        if self._room is None:
            self._room = LIMIT - len(self._listing())
            os.makedirs(self.folder, exist_ok=True)
        if self._room <= 0:
            return
        for _ in range(3):  # a name a killed commit of a process with this id left
            self._kept += 1
            name = os.path.join(self.folder, f"{os.getpid()}-{self._kept}")
            try:
                os.link(target, name, follow_symlinks=False)
            except FileExistsError:
                continue
            except OSError:
                return  # gone, or on another file system: it is dropped as before
            self._room -= 1
            return

    def _listing(self) -> list[str]:
        """Return the pool's entries but folders (moved to a temporary name, a folder would
        stay there), sorted."""
        if os.path.islink(self.folder):
            return []
        try:
            with os.scandir(self.folder) as entries:
                return sorted(entry.name for entry in entries
                              if not entry.is_dir(follow_symlinks=False))
        except OSError:
            return []

    @staticmethod
    def _open_alone(path: str) -> int | None:
        """Open `path` for writing if it is a plain file with no other name, else drop it."""
        try:
            # O_NONBLOCK: a FIFO fails at once instead of waiting for a reader.
            handle = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(path)
            return None
        info = os.fstat(handle)
        if stat_module.S_ISREG(info.st_mode) and info.st_nlink == 1:
            return handle
        os.close(handle)
        with contextlib.suppress(OSError):
            os.unlink(path)
        return None
