"""A cache of the values used most recently, for per-article work that many artifacts share."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")

_MISSING = object()


class Recent(Generic[Key, Value]):
    """Map keys to values made on first use, keeping only the `size` used most recently.

    An unbounded cache of per-article results grows with the site in every render process;
    a bounded one costs a remake when a value is needed again after `size` others, so callers
    order their work to use a value while it is still here. Values must not depend on when
    they are made: dropping one may never change output.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a cache holds at least one value")
        self.size = size
        self.made = 0
        self._values: dict[Key, Value] = {}

    def get(self, key: Key, make: Callable[[], Value]) -> Value:
        """Return the value for `key`, made with `make()` unless it is still held."""
        values = self._values
        value = values.pop(key, _MISSING)
        if value is _MISSING:
            value = make()
            self.made += 1
            if len(values) >= self.size:
                del values[next(iter(values))]  # Dicts keep insertion order: the oldest use.
        values[key] = value  # type: ignore[assignment]
        return value  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._values)
