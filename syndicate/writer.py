"""The one place that writes `out/`.

Each file is replaced atomically (a temporary file in the same folder, then `os.replace`) with
mode 0644, the temporary file being one a commit replaced before where there is one
(syndicate.recycle); unchanged bytes are not rewritten; files a previous build wrote and no
artifact names now are removed; files the writer never wrote are never touched. A manifest
inside `out/` remembers what was written, and a lock keeps two builds of one `out/` apart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import hashlib
import itertools
import json
import os
import re
import stat as stat_module
import time
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from .errors import BuildError
from .model import Artifact, Framed, Staged
from .recycle import FilePool

MANIFEST = ".syndicate-manifest.json"
# Written before a commit renames anything, and removed once the manifest is saved: the files
# the commit may leave, so that a build killed in between is finished (its leftovers removed)
# by the next one. It lists only what changes, where a second copy of the whole manifest cost
# 0.4 s a build at 100,000 articles.
JOURNAL = ".syndicate-journal.json"
LOCK = ".syndicate-lock"
# Temporary files live in one folder of their own, so that a killed build never leaves a
# partial file beside the real ones; the next build empties it.
TEMP_DIR = ".syndicate-tmp"
BOOKKEEPING_PREFIX = ".syndicate"
# The build stamp (syndicate.stamp) describes out/ as one commit left it. A commit deletes it
# before it changes anything, so that it never outlives the files it describes.
STAMP = ".syndicate-cache/stamp"
_WINDOWS_RESERVED = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?", re.IGNORECASE)
# Paths check_path passes without looking at each segment: segments of 1 to 255 ASCII
# letters, digits and "._~-" that neither start with a dot nor name a Windows device (alone
# or before a dot). Nearly every path a build writes is one.
_PLAIN_SEGMENT = (r"(?!(?i:con|prn|aux|nul|com\d|lpt\d)(?:\.|/|\Z))"
                  r"[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,254}")
_PLAIN_PATH = re.compile(rf"{_PLAIN_SEGMENT}(?:/{_PLAIN_SEGMENT})*")


# What renders the deferred artifacts writes them too, with the writer's `stage`:
# render_many(artifacts, stage) yields (artifact, stage(artifact.rendered())) for each, in
# order, from whichever processes it uses.
Stage = Callable[[Framed], Staged]
RenderMany = Callable[[list[Artifact], Stage], Iterable[tuple[Artifact, Staged]]]


def render_in_order(artifacts: list[Artifact], stage: Stage) -> Iterator[tuple[Artifact, Staged]]:
    """Render and stage deferred artifacts one after another in this process."""
    for artifact in artifacts:
        yield artifact, stage(artifact.rendered())


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def check_path(path: str) -> str | None:
    """Return why `path` may not be written below out/, or None if it is safe."""
    if _PLAIN_PATH.fullmatch(path):
        return None
    return check_every_segment(path)


def check_every_segment(path: str) -> str | None:
    """check_path, without the shortcut for plain paths."""
    if not path or path.startswith("/") or "\\" in path or "\x00" in path or ":" in path:
        return "must be a relative path with no backslash, colon or NUL"
    parts = path.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            return "must not contain empty, '.' or '..' segments"
        if len(part.encode("utf-8")) > 255:
            return "has a segment longer than 255 bytes"
        if _WINDOWS_RESERVED.fullmatch(part):
            return f'uses the reserved name "{part}"'
    if parts[0].startswith(BOOKKEEPING_PREFIX):
        return "is reserved for the writer's own bookkeeping"
    return None


def check_artifacts(artifacts: Iterable[Artifact]) -> dict[str, Artifact]:
    """Index artifacts by path, refusing unsafe paths and two artifacts for one path."""
    by_path: dict[str, Artifact] = {}
    for artifact in artifacts:
        reason = check_path(artifact.path)
        if reason:
            raise BuildError(f'output path "{artifact.path[:200]}" {reason}')
        if artifact.path in by_path:
            raise BuildError(f'two outputs write "{artifact.path}"')
        by_path[artifact.path] = artifact
    return by_path


# Entries per part in json_in_parts: json.dumps holds several times its output while it
# works, so each part stays around a hundred kilobytes.
JSON_PART = 512


def json_in_parts(fields: dict[str, object], key: str, big: dict[str, list] | list[str],
                  part: int = JSON_PART) -> Iterator[bytes]:
    """Yield, `part` entries at a time, the bytes of json.dumps({**fields, key: big},
    sort_keys=True, separators=(",", ":")) for a big dict or a sorted list of strings: the
    manifest of a 100,000-article site is a 45 MB text, which made whole cost its size twice
    over at the end of the commit, when the build holds the most."""
    def dumps(value: object) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    if isinstance(big, dict):
        keys, brackets = sorted(big), "{}"

        def entries(names: list[str]) -> str:
            return dumps({name: big[name] for name in names})
    else:
        keys, brackets, entries = big, "[]", dumps
    names = sorted([*fields, key])
    at = names.index(key)
    head = dumps({name: fields[name] for name in names[:at]})[:-1]
    tail = dumps({name: fields[name] for name in names[at + 1:]})[1:]
    yield (head + ("," if at else "") + json.dumps(key) + ":" + brackets[0]).encode()
    for start in range(0, len(keys), part):
        yield (("," if start else "") + entries(keys[start:start + part])[1:-1]).encode()
    yield (brackets[1] + ("," if at < len(names) - 1 else "") + tail).encode()


def _recorded(known: list | None, fingerprint: str) -> bool:
    """Whether the manifest entry `known` records a file written for this fingerprint."""
    return bool(known) and len(known) >= 4 and known[3] == fingerprint  # type: ignore[arg-type]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _spliced(target: str, hashed: str, start: int, end: int, artifact: Artifact) -> Framed:
    """Return the file at `target` with bytes [start, end) replaced by the artifact's splice
    region; render the whole artifact instead unless the file still has the digest `hashed`
    (the manifest is a hint, never trusted with the bytes)."""
    assert artifact.splice is not None
    try:
        old = _read(target)
    except OSError:
        old = b""
    if end > len(old) or digest(old) != hashed:
        return artifact.rendered()
    region = artifact.splice.region()
    return Framed(old[:start] + region + old[end:], (start, start + len(region)))


def leads_outside(out_dir: Path | str, path: Path | str) -> bool:
    """Whether `path` (below out_dir, made or not) resolves outside out_dir through a
    symbolic link on the way."""
    real_out = os.path.realpath(out_dir)
    real = os.path.realpath(path)
    return real != real_out and not real.startswith(real_out + os.sep)


@contextlib.contextmanager
def build_lock(out_dir: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on `out/` for one build.

    The kernel releases a flock when its holder dies, so a killed build never leaves a stale
    lock: the lock file may remain, but nobody holds it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    handle = os.open(out_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise BuildError(f"another build is writing {out_dir} and did not finish "
                                     f"within {timeout:g} s ([output] lock_timeout)") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(handle)


class Writer:
    """Commit a build's artifacts to `out_dir`."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.temp_dir = out_dir / TEMP_DIR
        self._real_out = os.path.realpath(out_dir)
        # Per-file work joins plain strings: a Path per file costs more than its system call
        # when a build looks at 100,000 files.
        self._out = os.fspath(out_dir)
        self._temp = os.fspath(self.temp_dir)
        self._temp_count = 0
        self._pool = FilePool(self._out)
        # (temporary file, artifact path): the path's target is joined again at the rename,
        # rather than kept for every file the commit writes.
        self._staged: list[tuple[str, str]] = []
        self._checked_folders: set[str] = set()
        # The manifest's entries as the last commit saved them: {path: [hash, size, mtime_ns,
        # fingerprint]}, then [splice fingerprint, region start, region end] for a file with a
        # splice region (a kept file's entry may be shorter, from an interrupted build).
        self.files: dict[str, list] = {}
        # out/ opened while a commit runs: the files it checks are looked up from there, not
        # by their whole path (0.25 s of 177,000 checks at 100,000 articles).
        self._out_fd: int | None = None

    def read_manifest(self, checked: Container[str] = ()) -> tuple[dict[str, list], bool]:
        """Return ({path: [hash, size, mtime_ns]}, whether the last build was interrupted).
        A file an interrupted commit may have left is listed with an empty entry: the
        writer's own, its bytes unknown. Paths in `checked` passed check_path already (this
        build's artifacts: checking the 177,000 paths of a big site twice cost 0.2 s)."""
        try:
            data = json.loads((self.out_dir / MANIFEST).read_text("utf-8"))
            files = data["files"]
            if data.get("version") != 1 or not isinstance(files, dict):
                raise ValueError("foreign manifest")
            files = {p: v for p, v in files.items() if isinstance(v, list) and isinstance(p, str)
                     and (p in checked or check_path(p) is None)}
            pending = bool(data.get("pending"))
        except (OSError, ValueError, KeyError, TypeError):
            files, pending = {}, False
        left = self._read_journal()
        if left:
            files.update({path: [] for path in left})
        return files, pending or bool(left)

    def _read_journal(self) -> list[str]:
        try:
            data = json.loads((self.out_dir / JOURNAL).read_text("utf-8"))
            written = data["written"]
            if data.get("version") != 1 or not isinstance(written, list):
                return []
            return [p for p in written if isinstance(p, str) and check_path(p) is None]
        except (OSError, ValueError, KeyError, TypeError):
            return []

    def _save_manifest(self, files: dict[str, list]) -> None:
        # "pending" is read still: versions before the journal marked an interrupted
        # commit's manifest so.
        self._replace(self.out_dir / MANIFEST, json_in_parts(
            {"pending": False, "version": 1}, "files", files))

    def _stage(self, data: bytes | Iterable[bytes]) -> str:
        """Write `data` (bytes, or parts of them) to a temporary file in out/ and return its
        path: a file an earlier commit replaced (syndicate.recycle), else a new one. Render
        workers stage too (see stage), each under its own process id."""
        self._temp_count += 1
        temp = os.path.join(self._temp, f"{os.getpid()}-{self._temp_count}.tmp")
        handle = self._pool.open_reused(temp)
        reused = handle is not None
        if handle is None:
            handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                             0o644)
        try:
            os.fchmod(handle, 0o644)
            size = 0
            for part in [data] if isinstance(data, (bytes, bytearray, memoryview)) else data:
                view = memoryview(part)
                size += len(view)
                while view:
                    view = view[os.write(handle, view):]
            if reused:
                os.ftruncate(handle, size)  # it held an older, maybe longer file
        finally:
            os.close(handle)
        return temp

    def stage(self, framed: Framed) -> Staged:
        """Stage rendered bytes for the commit, in whichever process rendered them: the
        writer then only decides whether to keep them and renames them into place."""
        data = framed.data
        return Staged(self._stage(data), digest(data), len(data), framed.region)

    def _replace(self, target: str | Path, data: bytes | Iterable[bytes]) -> None:
        os.replace(self._stage(data), target)

    def _bookkeeping(self, name: str) -> Path:
        if not name.startswith(BOOKKEEPING_PREFIX) or ".." in name.split("/"):
            raise BuildError(f'"{name}" is not a bookkeeping path')
        return self.out_dir / name

    def save_bookkeeping(self, name: str, data: bytes) -> None:
        """Atomically write one of the writer's own files (a cache) below out/.syndicate-*."""
        target = self._bookkeeping(name)
        if leads_outside(self.out_dir, target.parent):
            raise BuildError(f"{target.parent} leads outside {self.out_dir} through a "
                             "symbolic link")
        target.parent.mkdir(parents=True, exist_ok=True)
        self.temp_dir.mkdir(exist_ok=True)
        self._replace(target, data)

    def remove_bookkeeping(self, name: str) -> None:
        """Remove one of the writer's own files below out/.syndicate-*, if it is there."""
        with contextlib.suppress(FileNotFoundError):
            self._bookkeeping(name).unlink()

    def _file(self, path: str) -> str:
        return os.path.join(self._out, path)

    def _target(self, path: str) -> str:
        target = self._file(path)
        self._check_folder(path.rpartition("/")[0], path)
        if os.path.islink(target):
            os.unlink(target)
        return target

    def _check_folder(self, folder: str, path: str) -> None:
        """Raise unless `folder` (below out/; "" is out/ itself) stays inside out/.

        Folders are checked top down, once per commit (under the build lock a folder stays
        as it was): one whose parent stays inside and which is not a symbolic link stays
        inside too, so it costs one lstat; only a link is resolved. A page per folder made
        resolving every folder's whole path (a system call per component) a second of a
        100,000-article build.
        """
        if not folder or folder in self._checked_folders:
            return
        self._check_folder(folder.rpartition("/")[0], path)
        where = self._file(folder)
        try:
            linked = stat_module.S_ISLNK(os.lstat(where).st_mode)
        except FileNotFoundError:
            linked = False  # the writer makes it, as a plain folder
        if linked and leads_outside(self._real_out, where):
            raise BuildError(f'output path "{path}" leads outside {self.out_dir} through '
                             "a symbolic link")
        self._checked_folders.add(folder)

    def commit(self, artifacts: Iterable[Artifact], keep: Callable[[str], bool] | None = None,
               render_many: RenderMany | None = None) -> WriteReport:
        """Write every artifact, skipping unchanged ones, then remove stale files.

        A deferred artifact whose fingerprint matches the intact file from the last build is
        not rendered at all; the others are rendered through `render_many` (which may use
        several processes) and written as their bytes arrive.

        A file written before that no artifact names now is stale, unless `keep(path)` is
        true: then it stays, and stays in the manifest (an archive such as past digests, or
        a partial commit such as `syndicate digest` that adds files and replaces no build).
        """
        by_path = check_artifacts(artifacts)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if os.stat in os.supports_dir_fd:
            self._out_fd = os.open(self._out, os.O_RDONLY | os.O_DIRECTORY)
        try:
            return self._commit(by_path, keep, render_many)
        finally:
            if self._out_fd is not None:
                os.close(self._out_fd)
                self._out_fd = None

    def _commit(self, by_path: dict[str, Artifact], keep: Callable[[str], bool] | None,
                render_many: RenderMany | None) -> WriteReport:
        report = WriteReport()
        self._clear_temporary_files()
        self._pool.start_commit()
        old, _ = self.read_manifest(by_path)
        new: dict[str, list] = {}
        deferred = []
        staged = self._staged = []
        self._checked_folders = set()
        # Files the manifest lists with the artifact's fingerprint are kept if out/ still
        # holds them as written; that check (a stat each) is made while the others render.
        presumed: list[str] = []
        render_many = render_many or render_in_order
        try:
            for path in sorted(by_path):
                artifact = by_path[path]
                known = old.get(path)
                if artifact.fingerprint and _recorded(known, artifact.fingerprint):
                    presumed.append(path)
                else:
                    self._make(artifact, known, deferred, new, report)
            checks = self._checking(presumed, old, new, report)
            per_result = len(presumed) // max(1, len(deferred))
            altered: list[str] = []
            for artifact, ready in render_many(deferred, self.stage):
                self._put_staged(artifact, ready, old.get(artifact.path), new, report)
                altered.extend(filter(None, itertools.islice(checks, per_result)))
            altered.extend(filter(None, checks))
            # Changed or gone since the last build wrote them: made after all.
            again: list[Artifact] = []
            for path in altered:
                self._make(by_path[path], old.get(path), again, new, report)
            for artifact, ready in render_many(again, self.stage):
                self._put_staged(artifact, ready, old.get(artifact.path), new, report)
        except BaseException:
            self._clear_temporary_files()
            raise
        self._checked_folders = set()  # no more targets to check
        # Everything rendered: only now does out/ change, one atomic rename per file. The
        # journal names every file this build may leave, so that a build killed from here
        # on is finished (and its leftovers removed) by the next one.
        self._forget_stamp()
        report.written.sort()
        self._replace(self.out_dir / JOURNAL, json_in_parts(
            {"version": 1}, "written", report.written))
        folder = None
        for temp, path in staged:
            target = self._file(path)
            replacing = path in old
            # Files come in path order, each folder's together: made once in a row, unless
            # the last build wrote there (16,000 such calls cost 0.4 s for nothing).
            if (here := os.path.dirname(target)) != folder:
                if not replacing:
                    os.makedirs(here, exist_ok=True)
                folder = here
            if replacing:  # kept for reuse, rather than freed by the rename
                self._pool.keep(target)
            try:
                os.replace(temp, target)
            except FileNotFoundError:  # its folder was removed since
                os.makedirs(here, exist_ok=True)
                os.replace(temp, target)
        for path in report.written:
            stat = os.stat(self._file(path))
            new[path][1:3] = [stat.st_size, stat.st_mtime_ns]
        for path in sorted(set(old) - set(new)):
            if keep is not None and keep(path):
                if (self.out_dir / path).is_file():
                    new[path] = old[path]
                continue
            target = self.out_dir / path
            if target.is_file() and not target.is_symlink():
                target.unlink()
                report.removed.append(path)
                self._prune_empty_folders(target.parent)
        self._save_manifest(new)
        (self.out_dir / JOURNAL).unlink(missing_ok=True)
        self.files = new
        self._clear_temporary_files()
        report.unchanged.sort()  # written was sorted for the journal
        return report

    def _make(self, artifact: Artifact, known: list | None, deferred: list[Artifact],
              new: dict[str, list], report: WriteReport) -> None:
        """Put the artifact's bytes in place now, or add it to `deferred` (to render, or to
        splice into the file the last build wrote) when it is a deferred one."""
        if artifact.render is not None:
            deferred.append(self._splicing(artifact, known) or artifact)
        else:
            self._put(artifact, artifact.rendered(), known, new, report)

    def _put(self, artifact: Artifact, framed: Framed, known: list | None,
             new: dict[str, list], report: WriteReport) -> None:
        """Stage the bytes for the artifact's path unless the file there already holds them
        (checked before staging, unlike _put_staged: copied media files are mostly
        unchanged, and staging each would write every picture at every build)."""
        data = framed.data
        hashed = digest(data)
        target = self._target(artifact.path)
        if self._unchanged(target, len(data), hashed, known, lambda: data):
            self._keep(artifact, target, hashed, framed.region, new, report)
        else:
            self._staged.append((self._stage(data), artifact.path))
            self._add(artifact, hashed, len(data), framed.region, new, report)

    def _put_staged(self, artifact: Artifact, staged: Staged, known: list | None,
                    new: dict[str, list], report: WriteReport) -> None:
        """Like _put, for bytes a renderer staged already (dropped if the file holds them)."""
        target = self._target(artifact.path)
        if self._unchanged(target, staged.size, staged.digest, known,
                           lambda: _read(staged.temp)):
            os.unlink(staged.temp)
            self._keep(artifact, target, staged.digest, staged.region, new, report)
        else:
            self._staged.append((staged.temp, artifact.path))
            self._add(artifact, staged.digest, staged.size, staged.region, new, report)

    @staticmethod
    def _splice_entry(artifact: Artifact, region: tuple[int, int] | None) -> list:
        if artifact.splice is not None and region is not None:
            return [artifact.splice.fingerprint, *region]
        return []

    def _keep(self, artifact: Artifact, target: str, hashed: str,
              region: tuple[int, int] | None, new: dict[str, list], report: WriteReport) -> None:
        report.unchanged.append(artifact.path)
        stat = os.stat(target)
        new[artifact.path] = [hashed, stat.st_size, stat.st_mtime_ns, artifact.fingerprint,
                              *self._splice_entry(artifact, region)]

    def _add(self, artifact: Artifact, hashed: str, size: int, region: tuple[int, int] | None,
             new: dict[str, list], report: WriteReport) -> None:
        report.written.append(artifact.path)
        new[artifact.path] = [hashed, size, 0, artifact.fingerprint,
                              *self._splice_entry(artifact, region)]

    def _checking(self, presumed: list[str], old: dict[str, list], new: dict[str, list],
                  report: WriteReport) -> Iterator[str | None]:
        """Check, one per step, that out/ still holds the files in `presumed` as the last
        build wrote them, keeping those that it does: each step yields None for a file kept,
        and the path of a file that must be made again."""
        for path in presumed:
            known = old[path]
            if self._on_disk(path, known):
                report.unchanged.append(path)
                new[path] = known
                yield None
            else:
                yield path

    def _on_disk(self, path: str, known: list) -> bool:
        """Whether the file at `path` has the size and mtime the manifest recorded."""
        try:
            if self._out_fd is None:
                stat = os.stat(self._file(path))
            else:
                stat = os.stat(path, dir_fd=self._out_fd)
        except OSError:
            return False
        return [stat.st_size, stat.st_mtime_ns] == known[1:3]

    def _splicing(self, artifact: Artifact, known: list | None) -> Artifact | None:
        """Return the artifact made by replacing its splice region in the file last written
        for it, when everything outside that region is unchanged; else None."""
        splice = artifact.splice
        if splice is None or not known or len(known) < 7 or known[4] != splice.fingerprint:
            return None
        start, end = known[5], known[6]
        if not (type(start) is int and type(end) is int and 0 <= start <= end <= known[1]):
            return None
        if not self._on_disk(artifact.path, known):
            return None
        return dataclasses.replace(artifact, render=partial(
            _spliced, self._file(artifact.path), known[0], start, end, artifact))

    @staticmethod
    def _unchanged(target: str, size: int, hashed: str, known: list | None,
                   data: Callable[[], bytes]) -> bool:
        """Whether the file at `target` holds the bytes `data()` (of that size and digest)."""
        try:
            stat = os.stat(target)
        except FileNotFoundError:
            return False
        if stat.st_size != size:
            return False
        if known and known[:3] == [hashed, stat.st_size, stat.st_mtime_ns]:
            return True
        return _read(target) == data()

    def _forget_stamp(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.out_dir / STAMP).unlink()

    def _prune_empty_folders(self, folder: Path) -> None:
        while folder != self.out_dir and self.out_dir in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _clear_temporary_files(self) -> None:
        if self.temp_dir.is_symlink() or self.temp_dir.is_file():
            self.temp_dir.unlink()
        self.temp_dir.mkdir(exist_ok=True)
        for leftover in self.temp_dir.iterdir():
            with contextlib.suppress(OSError):
                leftover.unlink()
