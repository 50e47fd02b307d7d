"""Where imported records go: stable file names, byte-identical re-imports, no clobbering."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .. import text


def record_bytes(record: dict[str, Any]) -> bytes:
    """Serialise a record the one way an import always writes it."""
    return (json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


class RecordFiles:
    """The `.json` records below one folder, by id, and the names still free."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.by_id: dict[str, str] = {}
        self.taken: set[str] = set()
        if root.is_dir():
            self._index()

    def _index(self) -> None:
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            for name in sorted(files):
                if name.startswith((".", "_")) or not name.endswith(".json"):
                    continue
                path = Path(folder) / name
                relative = path.relative_to(self.root).as_posix()
                self.taken.add(relative)
                try:
                    data = json.loads(path.read_bytes())
                except (OSError, ValueError, RecursionError):
                    continue
                if isinstance(data, dict) and isinstance(data.get("id"), str):
                    self.by_id.setdefault(data["id"], relative)

    def name_for(self, record: dict[str, Any]) -> str:
        """Return the file a record goes to: its id's file if the folder has one, else
        `YYYY/slug.json`, with a short hash of the id when that name is taken."""
        if record["id"] in self.by_id:
            return self.by_id[record["id"]]
        year = record.get("published", "")[:4]
        folder = f"{year}/" if year.isdigit() else ""
        stem = record.get("slug") or text.slugify(record.get("title", "")) or "item"
        name = f"{folder}{stem}.json"
        if name in self.taken:
            suffix = hashlib.sha256(record["id"].encode()).hexdigest()[:8]
            name = f"{folder}{stem}-{suffix}.json"
        return name

    def save(self, record: dict[str, Any], *, force: bool) -> tuple[str, str]:
        """Write a record unless its file already holds it; return (outcome, file name),
        the outcome being "written", "unchanged" or "kept" (different content, no force)."""
        name = self.name_for(record)
        self.by_id[record["id"]] = name
        self.taken.add(name)
        data = record_bytes(record)
        target = self.root / name
        try:
            existing = target.read_bytes()
        except FileNotFoundError:
            existing = None
        except OSError:
            existing = b""
        if existing == data:
            return "unchanged", name
        if existing is not None and not force:
            return "kept", name
        _write(target, data)
        return "written", name


def _write(target: Path, data: bytes) -> None:
    """Replace `target` atomically, so that an interrupted import leaves no half a record."""
    from ..errors import SyndicateError

    temp = target.with_name(f".{target.name}.syndicate-tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise SyndicateError(f"{target}: cannot be written: {exc.strerror or exc}") from None
