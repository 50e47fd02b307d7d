"""The build pipeline: load_config -> load_records -> build_site -> outputs -> writer."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import collector, parallel, rank, stamp
from .blobstore import BlobStore
from .bodies import BodyShelf
from .config import Config, load_config
from .errors import BuildError, Problem, RecordError
from .inputs import Inputs, RecordListing, gather
from .outputs import RenderContext, archived, render_outputs
from .progress import rendering_progress
from .recordcache import (
    CACHE_DIR,
    OLD_CACHE_FILE,
    CachedRecords,
    SpooledShards,
    dump_shards,
    load_cache,
    split_shards,
)
from .records import LoadResult, load_records
from .site import Site, build_site
from .sources import FileState
from .writer import Writer, WriteReport, build_lock


@dataclass
class Loaded:
    """A checked config and site, with every problem met on the way."""

    config: Config
    site: Site
    problems: list[Problem]
    files_read: int
    drafts: int
    records: LoadResult | None = None
    cache: CachedRecords | None = None  # the record cache as this build read it
    # Set by keep_for_commit: the record-cache shards to write, and the image files the
    # records named with their states (None if one changed while the build read it).
    shard_files: SpooledShards | None = None
    images: dict[str, FileState] | None = None

    @property
    def skipped(self) -> int:
        """How many record files were left out because of an error."""
        return len({p.where for p in self.problems if p.severity == "error"})

    @property
    def tally(self) -> stamp.Tally:
        """The counts the CLI reports (kept in the build stamp, to be reported again)."""
        return stamp.Tally(self.files_read, len(self.site.articles), self.skipped, self.drafts)


@dataclass
class BuildResult:
    """What a build did; `early` of its problems were found before rendering."""

    loaded: Loaded
    report: WriteReport = field(default_factory=WriteReport)
    early: int = 0

    @property
    def problems(self) -> list[Problem]:
        return self.loaded.problems

    @property
    def tally(self) -> stamp.Tally:
        return self.loaded.tally


def load(config_path: Path | str, *, out_dir: str | None = None,
         environ: Mapping[str, str] = os.environ, jobs: int = 1,
         use_cache: bool = False) -> Loaded:
    """Load and check the config and every record; raise ConfigError on a bad config.

    With `use_cache`, records parsed by an earlier build of the same out/ are reused.
    """
    return load_config_records(load_config(config_path, out_dir=out_dir), environ=environ,
                               jobs=jobs, use_cache=use_cache)


def load_config_records(config: Config, *, environ: Mapping[str, str] = os.environ,
                        jobs: int = 1, use_cache: bool = False,
                        store: BlobStore | None = None,
                        listing: RecordListing | None = None) -> Loaded:
    """Load and check every record of a loaded config (see `load`). With a `store`, the
    bodies are kept there, not in memory (syndicate.bodies); with a `listing`, the record
    files are those the input key saw."""
    with collector.paused():
        cache = load_cache(config) if use_cache else None
        bodies = BodyShelf(store, config) if store else None
        loaded = load_records(config, cache=cache.entries if cache else None, jobs=jobs,
                              bodies=bodies, listing=listing)
        site, problems = build_site(config, loaded.articles, environ,
                                    read_body=bodies.read if bodies else None)
    drafts = sum(1 for a in loaded.articles if a.draft)
    return Loaded(config, site, loaded.problems + problems, loaded.files_read, drafts, loaded,
                  cache)


def keep_for_commit(loaded: Loaded) -> None:
    """Serialise the record-cache shards this build will write (those that hold a record
    parsed anew or refreshed, or that gained or lost a record) and note the images the
    records named; then let go of the parse results. The site holds its own, placed copy of
    every article: at 100,000 articles the entries were 100 MB kept alive for the one or two
    shards an incremental build writes."""
    records = loaded.records
    if records is None:
        loaded.images = {}
        return
    shards = split_shards(records.entries)
    stale = (loaded.cache or CachedRecords()).stale_shards(shards, records.changed)
    loaded.shard_files = SpooledShards(loaded.config.out_dir)
    loaded.shard_files.add(dump_shards(loaded.config, shards, stale))
    loaded.images = stamp.used_images(entry.images for entry in records.entries.values())
    records.entries.clear()
    records.articles.clear()
    loaded.cache = None


def save_record_cache(loaded: Loaded, writer: Writer) -> None:
    """Keep this build's parse results for the next one (see keep_for_commit)."""
    if loaded.shard_files is None:
        return
    for name, data in loaded.shard_files:
        writer.save_bookkeeping(name, data)
    writer.remove_bookkeeping(f"{CACHE_DIR}/{OLD_CACHE_FILE}")


def strict_failures(problems: list[Problem]) -> list[Problem]:
    """Under --strict every problem fails the build, notices (unknown fields) included."""
    return list(problems)


def render(loaded: Loaded, store: BlobStore, jobs: int = 1) -> tuple[list, list[Problem]]:
    """Run the configured outputs over the site, their heavy planning over `jobs` processes
    and what they stash in `store`; return the artifacts and output warnings."""
    ctx = RenderContext(map_all=parallel.mapper(jobs), start_map=parallel.starter(jobs),
                        stash=store.stash, previous=store.previous)
    artifacts = render_outputs(loaded.site, ctx, loaded.config.output.outputs)
    return artifacts, ctx.problems


def build(config_path: Path | str, *, out_dir: str | None = None, strict: bool = False,
          environ: Mapping[str, str] = os.environ,
          on_loaded: Callable[[Loaded], None] | None = None,
          jobs: int | None = None, progress: bool = False, use_cache: bool = True,
          inputs: Inputs | None = None) -> BuildResult:
    """Build the site with `jobs` processes (default: one per core). Nothing in out/ changes
    unless every output rendered; under `strict`, nothing is written if any problem was
    found. Afterwards out/ holds the build stamp (syndicate.stamp) for the next build.

    `inputs` are the config and input key from `syndicate.inputs.gather`, when the caller
    already has them (it checked the stamp); `use_cache=False` parses every record anew.
    """
    jobs = jobs or parallel.default_jobs()
    # The key is taken before anything is read, so that what changes during the build
    # shows as a change to the next one.
    inputs = inputs or gather(config_path, out_dir=out_dir, environ=environ)
    store = BlobStore(inputs.config.out_dir, parallel.streamer(jobs), reuse=use_cache)
    saved = False
    loaded: Loaded | None = None
    # What is loaded lives until the build ends: the collector need not walk it again.
    with collector.frozen():
        try:
            loaded = load_config_records(inputs.config, environ=environ, jobs=jobs,
                                         use_cache=use_cache, store=store,
                                         listing=inputs.listing)
            early = len(loaded.problems)
            if on_loaded:
                on_loaded(loaded)
            if strict and strict_failures(loaded.problems):
                raise RecordError(loaded.problems)
            keep_for_commit(loaded)
            report = _render_and_write(loaded, inputs, store, strict=strict, jobs=jobs,
                                       progress=progress, early=early)
            saved = True
        finally:
            if loaded is not None and loaded.shard_files is not None:
                loaded.shard_files.close()
            if not saved:
                store.discard()
    return BuildResult(loaded, report, early)


def _render_and_write(loaded: Loaded, inputs: Inputs, store: BlobStore, *, strict: bool,
                      jobs: int, progress: bool, early: int) -> WriteReport:
    try:
        # Planning makes every artifact and fingerprint, all of them kept until the commit
        # ends: with the collector on, its full collections walked them again and again
        # (17 of them, 2.4 s of a 100,000-story add-one build).
        with collector.paused():
            artifacts, output_problems = render(loaded, store, jobs)
    except RecursionError:
        raise BuildError("rendering recursed too deeply") from None
    rank.release_index(loaded.site)  # the plans hold every related list
    loaded.problems.extend(output_problems)
    if strict and output_problems:
        raise RecordError(loaded.problems)
    out = loaded.config.out_dir
    with build_lock(out, loaded.config.output.lock_timeout):
        writer = Writer(out)
        render_many = parallel.renderer(jobs)
        if progress:
            render_many = rendering_progress(render_many)
        with collector.paused():
            report = writer.commit(artifacts, keep=archived(loaded.config.output.outputs),
                                   render_many=render_many)
        save_record_cache(loaded, writer)
        store.save(writer)
        stamp.save(writer, inputs, loaded.images,
                   stamp.Replay(loaded.tally, list(loaded.problems), early,
                                len(report.written) + len(report.unchanged)))
    return report


@dataclass
class DigestResult:
    """What `syndicate digest` did; `day` is None when the site has no articles at all."""

    loaded: Loaded
    day: date | None
    report: WriteReport = field(default_factory=WriteReport)

    @property
    def problems(self) -> list[Problem]:
        return self.loaded.problems

    @property
    def empty(self) -> bool:
        """Whether the day had no new stories, so that nothing was written."""
        return not (self.report.written or self.report.unchanged)


def write_digest(config_path: Path | str, *, day: date | str | None = None,
                 out_dir: str | None = None, strict: bool = False,
                 environ: Mapping[str, str] = os.environ,
                 on_loaded: Callable[[Loaded], None] | None = None) -> DigestResult:
    """Write the digest for `day` to out/digest/ through the writer, adding its files and
    removing none. `day` defaults to the digest `build` writes; "today" is the wall clock's
    date in the site's zone. A day with no new stories writes nothing."""
    from .outputs.digest import OPTION, render, resolve_day

    loaded = load(config_path, out_dir=out_dir, environ=environ)
    if on_loaded:
        on_loaded(loaded)
    if strict and strict_failures(loaded.problems):
        raise RecordError(loaded.problems)
    chosen = resolve_day(loaded.site, day)
    if chosen is None:
        return DigestResult(loaded, None)
    ctx = RenderContext(options={OPTION: chosen})
    artifacts = render(loaded.site, ctx)
    loaded.problems.extend(ctx.problems)
    if strict and ctx.problems:
        raise RecordError(loaded.problems)
    unfit = [p for p in ctx.problems if p.field == "[digest] max_bytes" and not artifacts]
    if unfit:
        # A build only warns, but asked for this digest, there is nothing to send: fail.
        raise BuildError(str(unfit[0]))
    if not artifacts:
        return DigestResult(loaded, chosen)
    out = loaded.config.out_dir
    with build_lock(out, loaded.config.output.lock_timeout):
        report = Writer(out).commit(artifacts, keep=lambda path: True)
    return DigestResult(loaded, chosen, report)
