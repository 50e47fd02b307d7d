"""Render deferred artifacts over several processes.

Outputs are pure functions of the frozen Site, so workers forked after the Site is built
share it copy-on-write and receive only ranges of indices; they send back the bytes of each
artifact (and where its splice region lies), a few ranges ahead of the parent at most.
Results arrive in the order asked, so the output never depends on the number of workers.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import gc
import itertools
import multiprocessing
import multiprocessing.pool
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from . import collector
from .model import Artifact, Staged
from .outputs import LazyMap, MapAll, MapStream, Started, StartMap, map_in_order
from .writer import RenderMany, Stage

# Below this many artifacts a pool costs more than it saves.
MIN_PARALLEL = 64
# Below this many items of planning work (related stories for each article, say), likewise.
MIN_PARALLEL_MAP = 1000
_WORK: Callable[[int], Any] | None = None
_STOP: Any = None  # the pool's shared flag: true once the parent stops the map
# How long a stopped map's workers get to end on their own before they are killed.
STOP_GRACE_SECONDS = 30.0


def default_jobs() -> int:
    """Return the number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def forking() -> bool:
    """Whether workers can be forked (and so share the parent's heap)."""
    return "fork" in multiprocessing.get_all_start_methods()


@contextlib.contextmanager
def forked_pool(jobs: int,
                work: Callable[[int], Any] | None = None) -> Iterator[multiprocessing.pool.Pool]:
    """Run a pool of `jobs` forked workers that share this process's heap (and do `work`
    in _work_range).

    The heap is frozen for the collector first (syndicate.collector): a collection in a
    worker writes to every object it visits, which would copy the parent's memory into each
    worker page by page.
    Leaving normally lets the workers finish on their own (terminating a worker that holds
    the task queue's lock would leave its siblings waiting for it forever); leaving on an
    error terminates them.
    """
    pool = _PoolMap.fork(jobs, work)
    try:
        yield pool.pool
    except BaseException:
        pool.end(finished=False)
        raise
    pool.end(finished=True)


class _PoolMap:
    """A forked pool, with the collector frozen while it lives, and maybe a map under way
    (see syndicate.outputs.StartMap)."""

    def __init__(self, pool: multiprocessing.pool.Pool, frozen: contextlib.ExitStack,
                 stop: Any) -> None:
        self.pool = pool
        self._frozen = frozen
        self._stop = stop
        self._chunks: multiprocessing.pool.MapResult | None = None

    @classmethod
    def fork(cls, jobs: int, work: Callable[[int], Any] | None) -> _PoolMap:
        frozen = contextlib.ExitStack()
        frozen.enter_context(collector.frozen())
        try:
            context = multiprocessing.get_context("fork")
            # A flag in shared memory: workers read it before each item, without a lock.
            stop = context.RawValue(ctypes.c_bool, False)
            # Forked, the workers get `work` as it is: it is never pickled.
            pool = context.Pool(jobs, initializer=_start_worker, initargs=(work, stop))
        except BaseException:
            frozen.close()
            raise
        return cls(pool, frozen, stop)

    def start(self, count: int, chunk: int) -> _PoolMap:
        self._chunks = self.pool.map_async(
            _work_range, [(start, min(count, start + chunk)) for start in range(0, count, chunk)],
            chunksize=1)
        return self

    def result(self) -> list[Any]:
        assert self._chunks is not None
        try:
            chunks = self._chunks.get()
        except BaseException:
            self.end(finished=False)
            raise
        self.end(finished=True)
        return list(itertools.chain.from_iterable(chunks))

    def cancel(self) -> None:
        self.end(finished=False)

    def end(self, finished: bool) -> None:
        """Let the workers finish their work, or (not `finished`) skip what is left of it.

        Either way they end on their own. Pool.terminate() kills them wherever they are: one
        killed while it sends a result holds the result queue's lock for ever, and the pool
        then waits for that lock while it shuts down (a cancelled map of large results hung
        so, one time in a few). It is only the last resort, for workers stuck in one item.
        """
        try:
            self.pool.close()
            if finished:
                self.pool.join()
            else:
                self._stop.value = True
                joining = threading.Thread(target=self.pool.join, daemon=True)
                joining.start()
                joining.join(STOP_GRACE_SECONDS)
        finally:
            self.pool.terminate()
            self._frozen.close()


def _start_worker(work: Callable[[int], Any] | None, stop: Any) -> None:
    global _WORK, _STOP
    if work is not None:
        _WORK = work
    _STOP = stop
    # The parent may have paused its collector (syndicate.collector) while it forked: what
    # it makes lives until the build ends, but a worker's objects (one page's rendering, say)
    # are garbage soon after, some of it in cycles.
    gc.enable()
    # Pool.terminate() ends workers with SIGTERM. A handler inherited from the parent (the
    # preview server's, or an embedding application's) could keep one alive, waiting on the
    # task queue's lock, and the build that failed would never return.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _work_range(bounds: tuple[int, int]) -> list[Any]:
    """Do the work for each index in range(*bounds); once the parent stopped the map (see
    _PoolMap.end), return what is done: nobody takes the result."""
    assert _WORK is not None and _STOP is not None
    done = []
    for index in range(*bounds):
        if _STOP.value:
            break
        done.append(_WORK(index))
    return done


def mapper(jobs: int) -> MapAll:
    """Return a map_all (syndicate.outputs.MapAll) over up to `jobs` processes: each takes
    whole ranges of indices (four per process), so neighbours share what they touch."""

    def map_all(work: Callable[[int], Any], count: int) -> list[Any]:
        if jobs <= 1 or count < MIN_PARALLEL_MAP or not forking():
            return map_in_order(work, count)
        return list(_over_workers(jobs, work, count, -(-count // (jobs * 4))))

    return map_all


def starter(jobs: int) -> StartMap:
    """Return a start_map (syndicate.outputs.StartMap) over `jobs` forked workers, which
    take whole ranges of indices as map_all's do. The workers fork when it is called, so
    they see the heap as it is then. Unlike map_all and map_stream, this process does none
    of the map: it goes on with its own work while the workers do it."""

    def start_map(work: Callable[[int], Any], count: int) -> Started:
        if jobs <= 1 or count < MIN_PARALLEL_MAP or not forking():
            return LazyMap(work, count)
        return _PoolMap.fork(jobs, work).start(count, -(-count // (jobs * 4)))

    return start_map


def streamer(jobs: int, minimum: int | None = None) -> MapStream:
    """Return a map_stream (syndicate.outputs.MapStream) over up to `jobs` processes (with
    fewer than `minimum` items, default MIN_PARALLEL_MAP, in this one): the results arrive
    in order, one by one, so that the caller can put each away (on disk, say) instead of
    holding them all."""

    def map_stream(work: Callable[[int], Any], count: int) -> Iterator[Any]:
        least = MIN_PARALLEL_MAP if minimum is None else minimum
        if jobs <= 1 or count < least or not forking():
            yield from (work(index) for index in range(count))
            return
        yield from _over_workers(jobs, work, count, max(1, min(64, count // (jobs * 8))))

    return map_stream


def _over_workers(jobs: int, work: Callable[[int], Any], count: int,
                  chunk: int) -> Iterator[Any]:
    """Yield work(0), ..., work(count - 1) over `jobs` processes, `chunk` indices at a time:
    jobs - 1 forked workers, and this process between taking their results.

    On two cores, two workers and a parent that also runs made three busy processes: the
    parent waited its turn, and each worker copied the parent's heap as it read it (a cold
    build of 10,000 stories: 57.6 s and 333 MB of PSS with two workers, 52.7 s and 260 MB
    with one worker and the parent)."""
    with forked_pool(jobs - 1, work) as pool:
        yield from in_flight(pool, _work_range, count, chunk, (jobs - 1) * WINDOW,
                             here=lambda bounds: [work(index) for index in range(*bounds)])


# Chunks of work each worker may have done or under way before the parent takes the results;
# also how many chunks the parent may have done ahead of them.
WINDOW = 4


def in_flight(pool: multiprocessing.pool.Pool, work_range: Callable[[tuple[int, int]], list[Any]],
              count: int, chunk: int, window: int,
              here: Callable[[tuple[int, int]], list[Any]]) -> Iterator[Any]:
    """Yield work_range's results for range(count) in order, with at most `window` chunks
    sent out and not yet taken. Pool.imap keeps every result the caller has not taken yet:
    when the caller is slower than the workers (the writer hashes and stages every file),
    it held most of a build's rendered bytes.

    This process does the next chunk itself, with `here` (at most WINDOW of them ahead),
    whenever the oldest chunk sent out is not ready yet, instead of waiting for it."""
    starts = iter(range(0, count, chunk))
    pending: collections.deque[multiprocessing.pool.AsyncResult | list[Any]] = \
        collections.deque()
    sent = done_here = 0

    def bounds(start: int) -> tuple[int, int]:
        return (start, min(count, start + chunk))

    def send() -> None:
        nonlocal sent
        while sent < window and (start := next(starts, None)) is not None:
            pending.append(pool.apply_async(work_range, (bounds(start),)))
            sent += 1

    send()
    while pending:
        oldest = pending[0]
        if done_here < WINDOW and not isinstance(oldest, list) and not oldest.ready():
            start = next(starts, None)
            if start is not None:
                pending.append(here(bounds(start)))
                done_here += 1
                continue
        pending.popleft()
        if isinstance(oldest, list):
            results = oldest
            done_here -= 1
        else:
            results = oldest.get()
            sent -= 1
        send()
        yield from results


def renderer(jobs: int) -> RenderMany:
    """Return a function that renders and stages artifacts with up to `jobs` processes:
    the workers write the files themselves and send back only where they are."""
    stream = streamer(jobs, MIN_PARALLEL)

    def render(artifacts: list[Artifact], stage: Stage) -> Iterator[tuple[Artifact, Staged]]:
        results = stream(lambda index: stage(artifacts[index].rendered()), len(artifacts))
        yield from zip(artifacts, results, strict=True)

    return render
