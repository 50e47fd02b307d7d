"""Find the files a build reads (records, the bundled templates) and describe their state.

This module stays light (no parsing, no third-party imports): `syndicate.inputs` lists the
records with it before deciding whether a build is needed at all.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

from .errors import Problem

RECORD_SUFFIXES = (".json", ".md")
_name = operator.attrgetter("name")

# (size, mtime_ns, ctime_ns, inode) of a file, following symbolic links. Any write changes
# the ctime, even one that restores the bytes and the mtime, so equal states mean "not
# touched" and not merely "looks the same".
FileState = tuple[int, int, int, int]
MISSING: FileState = (-1, -1, -1, -1)


def file_state(path: str | Path) -> FileState:
    """Return the state of the file at `path`, or MISSING if it cannot be stat'ed."""
    try:
        return _state(os.stat(path))
    except (OSError, ValueError):
        return MISSING


def entry_state(entry: os.DirEntry[str]) -> FileState:
    """Return the state of a directory entry's file (the target of a symbolic link)."""
    try:
        return _state(entry.stat())
    except OSError:
        return MISSING


def _state(info: os.stat_result) -> FileState:
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino


def scan_record_files(root: Path, shown_root: str,
                      problems: list[Problem]) -> Iterator[tuple[str, str, os.DirEntry[str]]]:
    """Yield (file path, shown path, directory entry) for every record below `root`.

    The order is stable: a folder's files by name, then its subfolders by name. Names
    starting with `.` or `_` are skipped; symbolic links are never followed out of `root`,
    and a symbolic link to a folder is never followed at all (each is reported).
    """
    prefix = shown_root.rstrip("/") + "/"
    # One generator and a stack of folders still to read, rather than a generator per
    # folder: each of 100,000 files then passes through one frame, and the directory
    # entries of only one folder at a time are held.
    stack = [(str(root), "")]
    while stack:
        folder, relative = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=_name)
        except OSError:  # an unreadable folder is skipped, as os.walk does
            continue
        folders, files = [], []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:  # as os.walk does: what cannot be stat'ed is not a folder
                is_dir = False
            (folders if is_dir else files).append(entry)
        kept = []
        for entry in folders:
            if entry.name.startswith((".", "_")):
                continue
            if entry.is_symlink():
                problems.append(Problem(prefix + relative + entry.name, "", "is a symbolic "
                                        "link to a folder; not followed", "warning"))
                continue
            kept.append((entry.path, relative + entry.name + "/"))
        for entry in files:
            name = entry.name
            if name.startswith((".", "_")) or not name.endswith(RECORD_SUFFIXES):
                continue
            if entry.is_symlink() and not _inside(Path(entry.path).resolve(), root):
                problems.append(Problem(prefix + relative + name, "", "is a symbolic link "
                                        "to a file outside the records folder; not followed",
                                        "warning"))
                continue
            yield entry.path, prefix + relative + name, entry
        stack.extend(reversed(kept))  # the first subfolder on top: read next


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root.resolve())
    except ValueError:
        return False
    return True


def default_templates_dir() -> Path:
    """Return the built-in templates: inside the installed wheel, or the repo's `templates/`."""
    packaged = Path(str(files("syndicate"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def find_record_files(root: Path, shown_root: str,
                      problems: list[Problem]) -> Iterator[tuple[Path, str]]:
    """Yield (file, shown path) for every record below `root`, in `scan_record_files` order."""
    for path, shown, _ in scan_record_files(root, shown_root, problems):
        yield Path(path), shown
