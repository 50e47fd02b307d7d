"""Incremental builds end byte-identical to a cold build, whatever changed in between."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import random
import shutil
from pathlib import Path

import pytest
from outputscan import published_files

from syndicate.build import build

CONFIG = """\
[site]
title = "Step Times"
base_url = "https://steps.example.com/"
timezone = "Europe/London"
{extra}
[content]
templates = "overrides"

[pages]
per_page = {per_page}

[feeds]
max_items = {max_items}
"""
SECTIONS = ["World", "Sport", "Science"]
# An override that reads `latest` outside `latest_html`: its pages must be rendered whole.
LATEST_TITLES = "<p>{{ latest.cards|map(attribute='story.title')|join(', ') }}</p>"
TAGS = ["Harbour", "Tides", "Ferries", "Council", "Weather", "Football"]


def record(rng: random.Random, index: int) -> dict:
    return {
        "id": f"s{index}", "title": f"Story {index} about {rng.choice(TAGS).lower()}",
        "published": f"2026-03-{1 + rng.randrange(14):02d}T{rng.randrange(24):02d}:"
                     f"{rng.randrange(60):02d}:00Z",
        "section": rng.choice(SECTIONS), "tags": rng.sample(TAGS, rng.randint(1, 3)),
        "authors": [rng.choice(["Ana Alves", "Ben Brook", "Cleo Castel"])],
        "priority": rng.randrange(5),
        "body": f"<p>Body of story {index}: {rng.random():.6f}</p>",
    }


class Site:
    """A mini-site on disk that the steps mutate."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root, self.rng, self.next_id = root, rng, 0
        self.settings = {"per_page": 3, "max_items": 4, "extra": ""}
        (root / "articles").mkdir(parents=True)
        (root / "overrides").mkdir()
        for _ in range(12):
            self.add()
        self.write_config()

    def write_config(self) -> None:
        (self.root / "config.toml").write_text(CONFIG.format(**self.settings), encoding="utf-8")

    def files(self) -> list[Path]:
        return sorted((self.root / "articles").glob("*.json"))

    def add(self) -> str:
        index, self.next_id = self.next_id, self.next_id + 1
        (self.root / "articles" / f"s{index}.json").write_text(
            json.dumps(record(self.rng, index)), encoding="utf-8")
        return f"add s{index}"

    def edit(self) -> str:
        path = self.rng.choice(self.files())
        data = json.loads(path.read_text())
        field = self.rng.choice(["title", "body", "tags", "section", "priority", "published"])
        replacement = record(self.rng, int(data["id"][1:]))
        data[field] = replacement[field]
        path.write_text(json.dumps(data), encoding="utf-8")
        return f"edit {path.stem}.{field}"

    def delete(self) -> str:
        files = self.files()
        if len(files) <= 3:
            return self.add()
        path = self.rng.choice(files)
        path.unlink()
        return f"delete {path.stem}"

    def configure(self) -> str:
        key = self.rng.choice(["per_page", "max_items", "extra"])
        if key == "extra":
            self.settings["extra"] = self.rng.choice(['description = "New words."', ""])
        else:
            self.settings[key] = self.rng.randint(2, 6)
        self.write_config()
        return f"config {key}"

    def template(self) -> str:
        override = self.root / "overrides" / "article.html"
        if override.exists() and self.rng.random() < 0.5:
            override.unlink()
            return "template removed"
        marker = self.rng.randrange(1000)
        # The latest list may be spliced into pages of the first override only: the others
        # show the latest headlines again, or the list twice.
        extra = self.rng.choice(["", LATEST_TITLES, "{{ latest_html }}"])
        override.write_text('{% extends "default:article.html" %}\n'
                            "{% block main %}<p>Override " + str(marker) + "</p>"
                            "{{ super() }}" + extra + "{% endblock %}\n", encoding="utf-8")
        return f"template {marker} {extra}"


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in published_files(out)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_builds_equal_cold_builds(tmp_path, seed):
    rng = random.Random(seed)
    site = Site(tmp_path / "site", rng)
    incremental = tmp_path / "incremental"
    build(site.root / "config.toml", out_dir=str(incremental), environ={}, jobs=1)
    steps = [site.add, site.edit, site.delete, site.configure, site.template]
    for number in range(10):
        done = rng.choice(steps)()
        build(site.root / "config.toml", out_dir=str(incremental), environ={}, jobs=1)
        cold = tmp_path / f"cold{number}"
        build(site.root / "config.toml", out_dir=str(cold), environ={}, jobs=1)
        assert_same_as_cold(incremental, cold, f"step {number} ({done})")
        shutil.rmtree(cold)


def assert_same_as_cold(incremental: Path, cold: Path, step: str) -> None:
    got, want = tree(incremental), tree(cold)
    # Past days' digests are an archive that builds keep on purpose (docs/outputs.md);
    # everything else must be exactly the cold build.
    got = {p: d for p, d in got.items() if p in want or not p.startswith("digest/")}
    assert sorted(got) == sorted(want), f"{step}: the file sets differ"
    for path in want:
        assert got[path] == want[path], f"{step}: {path} differs"


def count_renders(monkeypatch) -> list[str]:
    """Return a list that collects the path of every deferred artifact rendered from now on."""
    from syndicate.model import Artifact

    rendered: list[str] = []
    original = Artifact.content

    def counting(self: Artifact) -> bytes:
        if self.render is not None:
            rendered.append(self.path)
        return original(self)

    monkeypatch.setattr(Artifact, "content", counting)
    return rendered


def test_a_second_build_renders_nothing(tmp_path, monkeypatch):
    site = Site(tmp_path / "site", random.Random(3))
    out = tmp_path / "out"
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    rendered = count_renders(monkeypatch)
    result = build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    assert result.report.written == []
    assert result.loaded.records.reused == result.loaded.records.files_read
    assert rendered == [], "unchanged deferred artifacts are not rendered again"


def test_spelling_the_config_path_another_way_renders_nothing(tmp_path, monkeypatch):
    """Where the config and out/ are, and how --config is typed, reach no artifact: a build
    from another folder (CI, `syndicate serve`) must not render everything again."""
    site = Site(tmp_path / "site", random.Random(5))
    out = tmp_path / "out"
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    before = tree(out)
    rendered = count_renders(monkeypatch)
    monkeypatch.chdir(site.root)
    result = build("config.toml", out_dir="../out", environ={}, jobs=1)
    assert result.report.written == []
    assert rendered == []
    assert tree(out) == before


def test_jobs_do_not_change_the_output(tmp_path, monkeypatch):
    from syndicate import parallel

    # Small enough for a test, yet ranked and rendered over two processes.
    monkeypatch.setattr(parallel, "MIN_PARALLEL_MAP", 10)
    site = Site(tmp_path / "site", random.Random(4))
    # Six tags are each on more than 20% of the stories: count them, or nothing is related.
    site.settings["extra"] = "[related]\nmax_tag_share = 1.0"
    site.write_config()
    for _ in range(60):
        site.add()
    build(site.root / "config.toml", out_dir=str(tmp_path / "one"), environ={}, jobs=1)
    build(site.root / "config.toml", out_dir=str(tmp_path / "two"), environ={}, jobs=2)
    one = tree(tmp_path / "one")
    assert sum(b"Related stories" in data for data in one.values()) > 50
    assert one == tree(tmp_path / "two")


def test_a_corrupt_or_foreign_cache_is_ignored(tmp_path):
    from syndicate.recordcache import MAGIC, SHARDS, shard_name

    site = Site(tmp_path / "site", random.Random(5))
    out = tmp_path / "out"
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    shards = [out / shard_name(number) for number in range(SHARDS)]
    good, intact = tree(out), [shard.read_bytes() for shard in shards]
    held = [len(pickle.loads(data[data.index(b"\n", len(MAGIC)) + 33:])) for data in intact]
    for damage in [lambda data: b"", lambda data: b"garbage",
                   lambda data: MAGIC + b"not-the-key\n", lambda data: data[:-10],
                   lambda data: data[:-1] + b"X"]:
        for shard, data in zip(shards, intact, strict=True):
            shard.write_bytes(damage(data))
        result = build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
        assert result.loaded.records.reused == 0
        assert tree(out) == good
        assert [shard.read_bytes() for shard in shards] == intact, "shards written again"
    # One damaged shard costs only its own records.
    number = max(range(SHARDS), key=held.__getitem__)
    shards[number].write_bytes(b"garbage")
    result = build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    assert result.loaded.records.reused == result.loaded.records.files_read - held[number]
    assert tree(out) == good


def test_one_new_record_rewrites_one_cache_shard(tmp_path):
    from syndicate.recordcache import CACHE_DIR, OLD_CACHE_FILE, SHARDS, shard_name

    site = Site(tmp_path / "site", random.Random(9))
    out = tmp_path / "out"
    (out / CACHE_DIR).mkdir(parents=True)
    (out / CACHE_DIR / OLD_CACHE_FILE).write_bytes(b"an earlier version's cache")
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    assert not (out / CACHE_DIR / OLD_CACHE_FILE).exists()
    before = {number: (out / shard_name(number)).stat().st_mtime_ns for number in range(SHARDS)}
    site.add()
    result = build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    assert result.loaded.records.reused == result.loaded.records.files_read - 1
    after = {number: (out / shard_name(number)).stat().st_mtime_ns for number in range(SHARDS)}
    assert sum(before[number] != after[number] for number in range(SHARDS)) == 1



def test_a_format_7_cache_shard_is_read_and_written_again_in_the_current_format(tmp_path):
    from syndicate.recordcache import FORMAT_7, MAGIC, SHARDS, shard_name

    site = Site(tmp_path / "site", random.Random(9))
    out = tmp_path / "out"
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    older = next(number for number in range(SHARDS)
                 if len(pickle.loads(_payload(out / shard_name(number)))) > 0)
    shard = out / shard_name(older)
    shard.write_bytes(FORMAT_7 + shard.read_bytes()[len(MAGIC):])
    os.utime(shard, ns=(1, 1))
    before = {number: (out / shard_name(number)).stat().st_mtime_ns for number in range(SHARDS)}
    result = build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    assert result.loaded.records.reused == result.loaded.records.files_read  # none parsed
    assert shard.read_bytes().startswith(MAGIC)
    after = {number: (out / shard_name(number)).stat().st_mtime_ns for number in range(SHARDS)}
    assert [number for number in range(SHARDS) if before[number] != after[number]] == [older]


def _payload(shard: Path) -> bytes:
    data = shard.read_bytes()
    return data[data.index(b"\n", data.index(b"\n") + 1) + 33:]

def test_cache_shards_wait_for_the_commit_on_disk_not_in_memory(tmp_path, monkeypatch):
    import tempfile
    import tracemalloc

    from syndicate.recordcache import CACHE_DIR, SpooledShards, shard_name

    def shards():
        for number in range(4):
            yield shard_name(number), random.Random(number).randbytes(4 << 20)

    out = tmp_path / "out"
    (out / CACHE_DIR).mkdir(parents=True)
    spool = SpooledShards(out)
    tracemalloc.start()
    try:
        spool.add(shards())
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 1 << 20, f"{held} bytes of 16 MB of shards stayed in memory"
    assert list(spool) == list(shards())
    assert os.listdir(out / CACHE_DIR) == [], "the parked shards have a name in out/"
    spool.close()
    spool.close()
    assert list(spool) == []
    # Without a cache folder of its own in out/ (a first build, or a link leading out of
    # out/), nothing is parked anywhere: the shards are held.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / CACHE_DIR).symlink_to(elsewhere)
    for root in (tmp_path / "fresh", linked):
        spool = SpooledShards(root)
        spool.add(shards())
        assert list(spool) == list(shards())
        spool.close()
    assert os.listdir(elsewhere) == []
    # Nor when the folder refuses a temporary file.

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refused)
    spool = SpooledShards(out)
    spool.add(shards())
    assert list(spool) == list(shards())


def test_a_build_makes_the_ranking_index_once_and_lets_it_go_before_the_commit(
        tmp_path, monkeypatch):
    # The index is the largest thing planning makes (80 MB at 100,000 stories); the plans
    # hold every related list, so the commit must neither keep it nor make it again.
    from syndicate import rank, writer

    made, loaded_sites, held = [], [], []
    real_index, real_commit = rank._build_index, writer.Writer.commit

    def build_index(site):
        made.append(site)
        return real_index(site)

    def commit(self, *args, **kwargs):
        held.append(id(loaded_sites[-1]) in rank._INDEXES._entries)
        return real_commit(self, *args, **kwargs)

    monkeypatch.setattr(rank, "_build_index", build_index)
    monkeypatch.setattr(writer.Writer, "commit", commit)
    site = Site(tmp_path / "site", random.Random(11))
    out = tmp_path / "out"
    for change in (None, site.add, site.edit):
        if change:
            change()
        made.clear()
        build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=2,
              on_loaded=lambda loaded: loaded_sites.append(loaded.site))
        assert len(made) == 1 and made[0] is loaded_sites[-1]
    assert held == [False, False, False]
    build(site.root / "config.toml", out_dir=str(tmp_path / "cold"), environ={}, jobs=1)
    assert_same_as_cold(out, tmp_path / "cold", "after the edit")


def test_the_record_cache_sees_an_image_appear_and_an_edit_that_keeps_the_mtime(tmp_path):
    site = Site(tmp_path / "site", random.Random(6))
    story = site.root / "articles" / "s0.json"
    data = json.loads(story.read_text())
    data["images"] = [{"src": "later.png", "alt": "Later"}]
    story.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    first = build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    assert any("later.png" in str(p) for p in first.problems), "missing image: a warning"
    # A PNG header is all the build reads for the size.
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x09" + b"\0" * 16
    (site.root / "articles" / "later.png").write_bytes(png)
    info = story.stat()
    story.write_bytes(story.read_bytes().replace(b"Body of", b"Text of"))
    os.utime(story, ns=(info.st_atime_ns, info.st_mtime_ns))  # same size and mtime
    again = build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    assert again.loaded.records.reused == again.loaded.records.files_read - 1
    assert not any("later.png" in str(p) for p in again.problems)
    build(site.root / "config.toml", out_dir=str(tmp_path / "cold"), environ={}, jobs=1)
    assert tree(out) == tree(tmp_path / "cold")


def test_a_new_story_is_spliced_into_its_sections_pages(tmp_path, monkeypatch):
    """A new World story changes "Latest World News" on every World page: the writer
    replaces that list in the pages it wrote before, and renders only the new story's page."""
    from syndicate.outputs.pages import PageMaker

    site = Site(tmp_path / "site", random.Random(7))
    for _ in range(20):
        site.add()
    out = tmp_path / "out"
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    world = sorted(p.relative_to(out).as_posix() for p in out.glob("world/2026/*/*/*/index.html"))
    assert len(world) >= 5
    fresh = record(site.rng, 99) | {
        "id": "fresh", "title": "A story about nothing else", "section": "World",
        "published": "2026-03-20T09:00:00Z", "tags": ["Lighthouses"]}
    (site.root / "articles" / "fresh.json").write_text(json.dumps(fresh), encoding="utf-8")

    calls: dict[str, list[str]] = {"whole": [], "spliced": []}

    def counting(method: str, kind: str) -> object:
        original = getattr(PageMaker, method)

        def count(self, article, *args):
            calls[kind].append(article.id)
            return original(self, article, *args)
        return count

    for method, kind in (("article_html", "whole"), ("latest_region", "spliced")):
        monkeypatch.setattr(PageMaker, method, counting(method, kind))
    result = build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)

    assert calls["whole"] == ["fresh"]
    assert len(calls["spliced"]) == len(world)
    assert set(world) <= set(result.report.written)
    monkeypatch.undo()
    build(site.root / "config.toml", out_dir=str(tmp_path / "cold"), environ={}, jobs=1)
    assert_same_as_cold(out, tmp_path / "cold", "after the new story")


@pytest.mark.parametrize("extra", [LATEST_TITLES, "{{ latest_html }}"])
def test_a_template_that_shows_the_latest_list_otherwise_is_rendered_whole(tmp_path, extra):
    site = Site(tmp_path / "site", random.Random(8))
    (site.root / "overrides" / "article.html").write_text(
        '{% extends "default:article.html" %}{% block main %}{{ super() }}' + extra
        + "{% endblock %}", encoding="utf-8")
    out = tmp_path / "out"
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    for section in SECTIONS:
        site.add()
        story = max(site.files(), key=lambda path: int(path.stem[1:]))
        data = json.loads(story.read_text()) | {"section": section,
                                                "published": "2026-03-20T09:00:00Z"}
        story.write_text(json.dumps(data), encoding="utf-8")
        build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
        cold = tmp_path / f"cold-{section}"
        build(site.root / "config.toml", out_dir=str(cold), environ={}, jobs=1)
        assert_same_as_cold(out, cold, f"after a new {section} story")


def test_map_all_over_processes_keeps_the_order_and_the_results():
    from syndicate import parallel

    squares = parallel.mapper(2)(lambda index: (index, index * index), 5000)
    assert squares == [(index, index * index) for index in range(5000)]


def _in_a_worker(index: int) -> tuple[int, int]:
    import os

    return index, os.getpid()


def _fails_at_777(index: int) -> int:
    if index == 777:
        raise ValueError("777")
    return index


_DONE = None  # a shared count of the items _slow_and_large did, set before the workers fork


def _slow_and_large(index: int) -> bytes:
    import time

    _DONE.value += 1
    time.sleep(0.002)
    return b"x" * 100_000


def test_a_stopped_map_skips_the_rest_and_its_workers_end_on_their_own():
    # Killed while it sent a result, a worker held the result queue's lock for ever, and the
    # pool's shutdown waited on it: a cancelled map or a failed build hung now and then.
    import ctypes
    import multiprocessing

    from syndicate import parallel

    global _DONE
    _DONE = multiprocessing.get_context("fork").RawValue(ctypes.c_long, 0)
    for _ in range(3):
        _DONE.value = 0
        started = parallel.starter(2)(_slow_and_large, 3000)
        workers = list(started.pool._pool)
        started.cancel()
        assert [worker.exitcode for worker in workers] == [0, 0], "workers were killed"
        assert _DONE.value < 1500, "the workers went on with the map after it was stopped"
    assert not multiprocessing.active_children()
    # A consumer that stops taking a stream's results stops its workers the same way.
    stream = parallel.streamer(2)(_slow_and_large, 3000)
    next(stream)
    stream.close()
    assert not multiprocessing.active_children()


def test_a_started_map_runs_in_workers_while_the_parent_goes_on_and_ends_them_always():
    import multiprocessing
    import os

    from syndicate import parallel

    parent = os.getpid()
    started = parallel.starter(2)(_in_a_worker, 3000)
    assert multiprocessing.active_children(), "the workers run before the result is asked"
    results = started.result()
    assert [index for index, _ in results] == list(range(3000))
    assert parent not in {pid for _, pid in results}
    assert not multiprocessing.active_children()
    parallel.starter(2)(_in_a_worker, 3000).cancel()
    assert not multiprocessing.active_children(), "a cancelled map ends its workers"
    failing = parallel.starter(2)(_fails_at_777, 3000)
    with pytest.raises(ValueError, match="777"):
        failing.result()
    assert not multiprocessing.active_children()
    lazy = parallel.starter(1)(_in_a_worker, 3000)
    assert not multiprocessing.active_children()
    assert lazy.result() == [(index, parent) for index in range(3000)]


def test_a_stream_over_processes_keeps_the_order_and_the_parent_does_its_share():
    import os
    import time

    from syndicate import parallel

    parent = os.getpid()

    def work(index: int) -> tuple[int, bool]:
        if os.getpid() != parent:
            time.sleep(0.001)  # the worker is slow: the parent takes chunks meanwhile
        return index, os.getpid() != parent

    results = list(parallel.streamer(2)(work, 3000))
    assert [index for index, _ in results] == list(range(3000))
    in_worker = [elsewhere for _, elsewhere in results]
    assert in_worker[0], "the first chunk goes to the worker before this process takes any"
    assert not all(in_worker), "this process did none of the work"


class _Done:
    """A pool's result, worked out when it was asked for; `ready` says what ready() says."""

    def __init__(self, value, ready):
        self.value, self.is_ready = value, ready

    def ready(self):
        return self.is_ready

    def get(self):
        return self.value


class _InlinePool:
    """A pool that does the work at once and notes the bounds of each chunk it was sent."""

    def __init__(self, sent, ready=True):
        self.sent, self.results_ready = sent, ready

    def apply_async(self, work, args):
        self.sent.append(args[0])
        return _Done(work(*args), self.results_ready)


def _never_here(bounds):
    raise AssertionError("a chunk was done here while the pool's oldest was ready")


def test_a_stream_with_one_worker_keeps_what_is_done_ahead_bounded():
    from syndicate import parallel

    sent: list[tuple[int, int]] = []
    here: list[tuple[int, int]] = []

    def do_here(bounds):
        here.append(bounds)
        return list(range(*bounds))

    taken = 0
    for number, value in enumerate(parallel.in_flight(
            _InlinePool(sent, ready=False), lambda bounds: list(range(*bounds)), 1000, 7, 3,
            here=do_here)):
        assert value == number
        taken += 1
        out = sum(stop - start for start, stop in sent + here) - taken
        assert out <= (1 + 3 + parallel.WINDOW) * 7, "a window sent, and WINDOW done here"
    assert taken == 1000
    assert sorted(sent + here) == [(start, min(1000, start + 7)) for start in range(0, 1000, 7)]
    assert here and sent


def test_workers_collect_their_garbage_while_the_parent_has_paused_its_collector():
    import gc
    import os

    from syndicate import collector, parallel

    parent = os.getpid()

    def work(index: int) -> tuple[bool, bool]:
        return gc.isenabled(), os.getpid() != parent

    with collector.frozen(), collector.paused():
        assert not gc.isenabled()
        results = list(parallel.streamer(2)(work, 2000))
    assert len(results) == 2000
    in_workers = [enabled for enabled, elsewhere in results if elsewhere]
    assert in_workers and all(in_workers)


def _ends_on_sigterm(index: int) -> tuple[bool, int]:
    import os
    import signal

    return signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, os.getpid()


def test_workers_end_on_sigterm_whatever_handler_the_parent_set():
    """A failed build terminates its pool with SIGTERM: a worker that inherited a handler
    which does not end it (here, one that ignores the signal) hung the build forever."""
    import os
    import signal

    from syndicate import parallel

    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        results = list(parallel.streamer(2)(_ends_on_sigterm, 2000))
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert len(results) == 2000
    in_workers = [ends for ends, pid in results if pid != os.getpid()]
    assert in_workers and all(in_workers)


def test_no_more_than_a_window_of_chunks_is_out_before_the_parent_takes_them():
    from syndicate import parallel

    sent: list[tuple[int, int]] = []
    taken = 0
    for number, value in enumerate(parallel.in_flight(
            _InlinePool(sent), lambda bounds: list(range(*bounds)), 1000, 7, 3,
            here=_never_here)):
        assert value == number
        taken += 1
        out = sum(stop - start for start, stop in sent) - taken
        assert out <= (1 + 3) * 7, "the chunk being handed out, and three more of seven"
    assert taken == 1000


def test_a_failure_in_a_worker_reaches_the_parent():
    from syndicate import parallel

    def work(index: int) -> int:
        if index == 2500:
            raise ValueError("story 2500 is broken")
        return index

    with pytest.raises(ValueError, match="2500"):
        list(parallel.streamer(2)(work, 3000))


def test_the_heap_stays_frozen_until_the_outermost_block_ends():
    import gc

    from syndicate import collector

    assert gc.get_freeze_count() == 0
    with collector.frozen():
        with collector.paused():
            assert not gc.isenabled()
            with collector.frozen():
                pass
            assert gc.get_freeze_count() > 0, "the inner block left the outer one's freeze"
        assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_related_lists_are_kept_until_a_story_moves_is_retagged_or_renamed(tmp_path,
                                                                           monkeypatch):
    from syndicate import rank, rankbatch, rankcache

    ranked: list[str] = []
    one, every = rankcache.rank_one, rankbatch.rank_every

    def counting(site, place):
        ranked.append(site.articles[place].id)
        return one(site, place)

    def counting_every(site, certify=False):
        # Many lists to rank (a cold build, or most of a small site's): all at once.
        ranked.extend(article.id for article in rank.index_of(site).articles)
        return every(site, certify)

    monkeypatch.setattr(rankcache, "rank_one", counting)
    monkeypatch.setattr(rankbatch, "rank_every", counting_every)
    site = Site(tmp_path / "site", random.Random(7))
    site.settings["extra"] = '\n[output]\noutputs = ["pages"]\n'
    site.write_config()
    out = tmp_path / "out"
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    assert len(ranked) == len(site.files())

    def change(field: str, value: object) -> list[str]:
        path = site.files()[0]
        data = json.loads(path.read_text())
        data[field] = value
        path.write_text(json.dumps(data), encoding="utf-8")
        ranked.clear()
        build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
        incremental = list(ranked)
        cold = tmp_path / "cold"
        build(site.root / "config.toml", out_dir=str(cold), environ={}, jobs=1)
        assert_same_as_cold(out, cold, f"{field} = {value!r}")
        shutil.rmtree(cold)
        return incremental

    assert change("body", "<p>Only the words changed.</p>") == []
    assert change("summary", "A new summary.") == []
    assert change("priority", 4) == []
    for field, value in [("title", "A new headline"), ("tags", ["Ferries", "Tides"]),
                         ("section", "Science"), ("published", "2026-03-20T10:00:00Z"),
                         ("related", ["s3"]), ("canonical_url", "https://elsewhere.example/a")]:
        # The story itself is ranked again, and the stories near it (in this small site,
        # most of them); assert_same_as_cold checks that every list is still right.
        assert "s0" in change(field, value), field
    site.settings["extra"] += "\n[related]\ncount = 3\n"
    site.write_config()
    ranked.clear()
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    assert len(ranked) == len(site.files())


def test_every_terms_keys_gathered_by_place_are_its_stories_keys(fixture_copy):
    from syndicate.build import load
    from syndicate.incremental import key_bytes, listed_keys

    site = load(fixture_copy()).site
    terms = site.sections + site.tags + site.authors
    assert terms and any(len(term.articles) > 1 for term in terms)
    for term in terms:
        assert len(term.places) == len(term.articles)
        assert [site.articles[place] for place in term.places] == list(term.articles)
        assert listed_keys(site, term.articles, term.places) == key_bytes(term.articles)
    assert listed_keys(site, site.articles, ()) == key_bytes(site.articles)
    # Without places (a list made some other way), the keys are read from the stories.
    some = site.articles[::2]
    assert listed_keys(site, some, ()) == key_bytes(some)


def test_small_values_unpickle_through_their_constructors_and_old_caches_still_load():
    import copyreg
    import io

    from syndicate.model import Author, BodyRef, Image, ImageSource

    values = [Author("Ana Alves", "ana-alves", "ana@example.com"), BodyRef("k", 12, True),
              Image("https://i.example/a.jpg", 640, 480, alt="A", sources=(
                  ImageSource("https://i.example/a-320.jpg", 320, "a-320.jpg"),))]
    for value in values:
        assert value.__reduce__() == (type(value), tuple(
            getattr(value, each.name) for each in dataclasses.fields(value)))
        assert pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL)) == value

    class OldWay(pickle.Pickler):  # as caches were written before: the dataclass state
        def reducer_override(self, obj):
            if type(obj) in {Author, BodyRef, Image, ImageSource}:
                return copyreg.__newobj__, (type(obj),), obj.__getstate__()
            return NotImplemented

    written = io.BytesIO()
    OldWay(written, pickle.HIGHEST_PROTOCOL).dump(values)
    assert b"__newobj__" not in written.getvalue()  # NEWOBJ opcodes, not a global lookup
    assert pickle.loads(written.getvalue()) == values
