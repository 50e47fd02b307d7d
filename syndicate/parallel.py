"""Render deferred artifacts over several processes.

Outputs are pure functions of the frozen Site, so workers forked after the Site is built
share it copy-on-write and receive only an index; each sends back the bytes of one artifact
(and where its splice region lies).
Results arrive in the order asked, so the output never depends on the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator

from .model import Artifact, Framed
from .writer import RenderMany, render_in_order

# Below this many artifacts a pool costs more than it saves.
MIN_PARALLEL = 64
_TASKS: list[Artifact] = []


def default_jobs() -> int:
    """Return the number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _render(index: int) -> Framed:
    return _TASKS[index].rendered()


def renderer(jobs: int) -> RenderMany:
    """Return a function that renders artifacts with up to `jobs` processes."""

    def render(artifacts: list[Artifact]) -> Iterator[tuple[Artifact, Framed]]:
        if jobs <= 1 or len(artifacts) < MIN_PARALLEL or "fork" not in \
                multiprocessing.get_all_start_methods():
            yield from render_in_order(artifacts)
            return
        global _TASKS
        _TASKS = artifacts
        try:
            chunk = max(1, min(64, len(artifacts) // (jobs * 8)))
            pool = multiprocessing.get_context("fork").Pool(jobs)
            try:
                results = pool.imap(_render, range(len(artifacts)), chunksize=chunk)
                yield from zip(artifacts, results, strict=True)
                # Let the workers finish on their own: terminating a worker that holds the
                # task queue's lock would leave its siblings waiting for it forever.
                pool.close()
                pool.join()
            finally:
                pool.terminate()
        finally:
            _TASKS = []

    return render
