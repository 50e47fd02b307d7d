"""The outputs registry: each output is a module whose `render(site, ctx)` returns artifacts.

Outputs do no I/O, so each can be tested alone; the writer commits what they return.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import Problem

if TYPE_CHECKING:
    from ..model import Artifact
    from ..site import Site

# name -> module below syndicate.outputs; `[output] outputs` in config picks among them.
REGISTRY = {
    "sitemap": "sitemap",
    "pages": "pages",
    "digest": "digest",
    "feeds": "feeds",
}
# Outputs that run whatever the config says, because the others link to their files.
ALWAYS = {"media": "media"}
# Outputs whose earlier files later builds keep (an archive grows): name -> path prefix.
# A build writes the latest digest; the digests of earlier days stay in out/digest/.
ARCHIVES = {"digest": "digest/"}


def archived(names: list[str]) -> Callable[[str], bool]:
    """Return whether a stale file belongs to the archive of one of the outputs `names`."""
    prefixes = tuple(prefix for name, prefix in ARCHIVES.items() if name in names)
    return lambda path: path.startswith(prefixes)


# map_all(work, count) returns [work(0), ..., work(count - 1)], in that order.
MapAll = Callable[[Callable[[int], Any], int], list[Any]]


def map_in_order(work: Callable[[int], Any], count: int) -> list[Any]:
    return [work(index) for index in range(count)]


class Started(Protocol):
    """A map under way (see StartMap): `result()` waits for its list, `cancel()` drops it."""

    def result(self) -> list[Any]: ...

    def cancel(self) -> None: ...


@dataclass
class LazyMap:
    """A map made in this process when its result is asked for."""

    work: Callable[[int], Any]
    count: int

    def result(self) -> list[Any]:
        return map_in_order(self.work, self.count)

    def cancel(self) -> None:
        pass


# start_map(work, count) starts [work(0), ..., work(count - 1)], maybe in other processes, and
# returns at once: the caller goes on with other work and takes the list when it needs it.
StartMap = Callable[[Callable[[int], Any], int], Started]

# map_stream(work, count) yields work(0), ..., work(count - 1), in that order.
MapStream = Callable[[Callable[[int], Any], int], Iterator[Any]]

# stash(name, scope, keys, make) returns read, where read(index) == make(index): bytes that
# one output makes per item and reads again and again (an article's feed entries, say).
# `make` must be a pure function of `scope` and keys[index]: the build keeps the bytes on
# disk under them, across builds, and reads them back by offset (syndicate.blobstore)
# rather than holding them all in every process.
Stash = Callable[[str, str, Sequence[str], Callable[[int], bytes]], Callable[[int], bytes]]


def memory_stash(name: str, scope: str, keys: Sequence[str],
                 make: Callable[[int], bytes]) -> Callable[[int], bytes]:
    """A Stash that makes each item on first use and keeps it in this process."""
    made: dict[str, bytes] = {}

    def read(index: int) -> bytes:
        data = made.get(keys[index])
        if data is None:
            data = made[keys[index]] = make(index)
        return data

    return read


# previous(name, scope, key) returns the bytes a Stash kept for the last build under
# another key of the same name and scope, if any: what an output may update rather than
# make anew (syndicate.rankcache).
Previous = Callable[[str, str, str], "bytes | None"]


def no_previous(name: str, scope: str, key: str) -> bytes | None:
    return None


@dataclass
class RenderContext:
    """What outputs share besides the Site: the template environment, a problem sink, and
    `map_all`, which the build may spread over several processes (syndicate.parallel) for
    work that is pure and heavy, such as ranking every article (`start_map` likewise, while
    this process goes on), and `stash` for bytes made once per item and read many times,
    which the build keeps on disk."""

    templates: object | None = None
    problems: list[Problem] = field(default_factory=list)
    options: dict[str, object] = field(default_factory=dict)
    map_all: MapAll = map_in_order
    start_map: StartMap = LazyMap
    stash: Stash = memory_stash
    previous: Previous = no_previous

    def warn(self, where: str, message: str, what: str = "") -> None:
        self.problems.append(Problem(where, what, message, "warning"))


Renderer = Callable[["Site", RenderContext], "list[Artifact]"]


def renderer(name: str) -> Renderer:
    """Return the render function of the output called `name`."""
    module = importlib.import_module(f"{__name__}.{REGISTRY.get(name) or ALWAYS[name]}")
    return module.render


def render_outputs(site: Site, ctx: RenderContext, names: list[str]) -> list[Artifact]:
    """Run the named outputs in registry order and return all their artifacts."""
    artifacts: list[Artifact] = []
    for name in ALWAYS:
        artifacts.extend(renderer(name)(site, ctx))
    for name in REGISTRY:
        if name in names:
            artifacts.extend(renderer(name)(site, ctx))
    return artifacts
