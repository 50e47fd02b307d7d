"""The outputs registry: each output is a module whose `render(site, ctx)` returns artifacts.

Outputs do no I/O, so each can be tested alone; the writer commits what they return.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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


@dataclass
class RenderContext:
    """What outputs share besides the Site: the template environment, a problem sink, and
    `map_all`, which the build may spread over several processes (syndicate.parallel) for
    work that is pure and heavy, such as ranking every article."""

    templates: object | None = None
    problems: list[Problem] = field(default_factory=list)
    options: dict[str, object] = field(default_factory=dict)
    map_all: MapAll = map_in_order

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
