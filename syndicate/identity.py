"""Caches keyed by an object's identity.

Config and Site are frozen but hold lists and dicts, so they cannot be dictionary keys. A value
derived from one of them (its template digest, its ranking index, its story cards) is cached by
id(); a weak reference proves that an entry belongs to this very object, and a finalizer drops
the entry when the object goes, so a later object that reuses the id never sees it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class IdentityCache(Generic[Value]):
    """Map live objects, by identity, to a value made once per object."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref, Value]] = {}
        self._lock = threading.Lock()

    def get(self, owner: object, make: Callable[[], Value]) -> Value:
        """Return the value for `owner`, making it with `make()` the first time."""
        entry = self._entries.get(id(owner))
        if entry is not None and entry[0]() is owner:
            return entry[1]
        with self._lock:
            entry = self._entries.get(id(owner))
            if entry is not None and entry[0]() is owner:
                return entry[1]
            value = make()
            self._entries[id(owner)] = (weakref.ref(owner), value)
            weakref.finalize(owner, self._entries.pop, id(owner), None)
            return value

    def forget(self, owner: object) -> None:
        """Drop the value made for `owner`, if any (made again if asked for again)."""
        with self._lock:
            entry = self._entries.get(id(owner))
            if entry is not None and entry[0]() is owner:
                del self._entries[id(owner)]
