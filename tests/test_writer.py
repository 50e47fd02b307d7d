"""The writer: atomic, unchanged files untouched, stale files removed, strangers' files kept."""

from __future__ import annotations

import errno
import json
import os
import stat
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.errors import BuildError
from syndicate.model import Artifact
from syndicate.recycle import POOL_DIR
from syndicate.writer import (
    JOURNAL,
    MANIFEST,
    TEMP_DIR,
    Writer,
    build_lock,
    check_path,
    json_in_parts,
)


def art(path: str, data: str) -> Artifact:
    return Artifact(path, data.encode())


def test_writes_files_with_mode_0644_and_reports(tmp_path):
    out = tmp_path / "out"
    old_umask = os.umask(0o077)
    try:
        report = Writer(out).commit([art("a/index.html", "A"), art("b.xml", "B")])
    finally:
        os.umask(old_umask)
    assert report.written == ["a/index.html", "b.xml"]
    assert (out / "a/index.html").read_text() == "A"
    assert stat.S_IMODE((out / "b.xml").stat().st_mode) == 0o644
    assert not list((out / TEMP_DIR).iterdir())


def test_unchanged_files_are_not_rewritten_and_keep_their_mtime(tmp_path):
    out = tmp_path / "out"
    Writer(out).commit([art("a.html", "A"), art("b.html", "B")])
    os.utime(out / "a.html", ns=(1_000_000_000, 1_000_000_000))
    before = (out / "a.html").stat().st_mtime_ns
    report = Writer(out).commit([art("a.html", "A"), art("b.html", "B2")])
    assert report.unchanged == ["a.html"] and report.written == ["b.html"]
    assert (out / "a.html").stat().st_mtime_ns == before


def test_stale_files_are_removed_but_foreign_files_are_kept(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "CNAME").write_text("news.example.org")
    Writer(out).commit([art("old/deep/page.html", "x"), art("keep.html", "k")])
    report = Writer(out).commit([art("keep.html", "k")])
    assert report.removed == ["old/deep/page.html"]
    assert not (out / "old").exists(), "empty folders left by removed files go too"
    assert (out / "CNAME").read_text() == "news.example.org"


def test_unsafe_paths_and_duplicates_are_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "out"
    for bad in ["../escape.html", "/etc/passwd", "a/../../b", "a\\b", "a\x00b", "", "a//b",
                "CON", "x/aux.txt", MANIFEST, "c:/x", f"{TEMP_DIR}/1.tmp"]:
        with pytest.raises(BuildError):
            Writer(out).commit([art("fine.html", "f"), art(bad, "x")])
    with pytest.raises(BuildError, match=r'two outputs write "same\.html"'):
        Writer(out).commit([art("same.html", "1"), art("same.html", "2")])
    assert not out.exists() or not (out / "fine.html").exists()
    assert not (tmp_path / "escape.html").exists()


def test_symlinked_folder_inside_out_cannot_lead_outside(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "world")
    with pytest.raises(BuildError, match="outside"):
        Writer(out).commit([art("world/index.html", "x")])
    assert not list(elsewhere.iterdir())
    # Deeper down, below folders already checked, and one that links inside out/.
    os.unlink(out / "world")
    (out / "world" / "2026").mkdir(parents=True)
    os.symlink(elsewhere, out / "world" / "2026" / "03")
    (out / "inside").mkdir()
    os.symlink(out / "inside", out / "world" / "here")
    with pytest.raises(BuildError, match="outside"):
        Writer(out).commit([art("world/a.html", "a"), art("world/here/b.html", "b"),
                            art("world/2026/03/story/index.html", "x")])
    assert not list(elsewhere.iterdir())
    Writer(out).commit([art("world/a.html", "a"), art("world/here/b.html", "b")])
    assert (out / "inside" / "b.html").read_text() == "b"
    # Nor may the writer's own files (caches, the stamp).
    os.symlink(elsewhere, out / ".syndicate-cache")
    with pytest.raises(BuildError, match="outside"):
        Writer(out).save_bookkeeping(".syndicate-cache/records/00.pickle", b"cache")
    assert not list(elsewhere.iterdir())


def test_a_corrupt_manifest_is_ignored_and_never_trusted(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("mine")
    (out / MANIFEST).write_text('{"version": 1, "files": {"precious.txt": "nonsense"')
    Writer(out).commit([art("a.html", "A")])
    (out / MANIFEST).write_text('{"version": 1, "files": {"../../etc/passwd": ["x", 1, 1]}}')
    report = Writer(out).commit([art("a.html", "A")])
    assert report.removed == []
    assert (out / "precious.txt").read_text() == "mine"


def test_a_build_killed_while_renaming_is_finished_by_the_next(tmp_path):
    out = tmp_path / "out"
    Writer(out).commit([art("a.html", "A"), art("b.html", "B")])
    manifest = (out / MANIFEST).read_bytes()
    # Killed after its journal and some renames, before its manifest: c.html is its own.
    (out / JOURNAL).write_text('{"version": 1, "written": ["a.html", "c.html", "../x"]}')
    (out / "a.html").write_text("A, half done")
    (out / "c.html").write_text("C")
    (out / TEMP_DIR / "3.tmp").write_text("partial")
    assert (out / MANIFEST).read_bytes() == manifest
    report = Writer(out).commit([art("a.html", "A")])
    assert report.written == ["a.html"] and sorted(report.removed) == ["b.html", "c.html"]
    assert (out / "a.html").read_text() == "A"
    assert sorted(p.name for p in out.iterdir() if p.name != POOL_DIR) == [
        MANIFEST, TEMP_DIR, "a.html"]
    assert not list((out / TEMP_DIR).iterdir())


def test_a_commit_writes_its_journal_before_renaming_and_removes_it_after(tmp_path, monkeypatch):
    out = tmp_path / "out"
    Writer(out).commit([art("a.html", "A")])
    seen = []
    rename = os.replace

    def watching(source, target):
        if str(target).endswith("b.html"):
            seen.append(json.loads((out / JOURNAL).read_text()))
        return rename(source, target)

    monkeypatch.setattr(os, "replace", watching)
    Writer(out).commit([art("a.html", "A"), art("b.html", "B")])
    assert seen == [{"version": 1, "written": ["b.html"]}]
    assert not (out / JOURNAL).exists()


def test_an_interrupted_build_is_finished_by_the_next(tmp_path):
    out = tmp_path / "out"
    Writer(out).commit([art("a.html", "A"), art("b.html", "B")])
    # Simulate a build killed mid-write by a version before the journal (it left the whole
    # manifest, marked pending) and a leftover temporary file.
    files, _ = Writer(out).read_manifest()
    (out / MANIFEST).write_text(json.dumps(
        {"version": 1, "pending": True, "files": {**files, "c.html": []}}))
    (out / TEMP_DIR / "7.tmp").write_text("partial")
    (out / "c.html").write_text("C")
    report = Writer(out).commit([art("a.html", "A")])
    assert sorted(report.removed) == ["b.html", "c.html"]
    assert sorted(p.name for p in out.iterdir() if p.name != POOL_DIR) == [
        MANIFEST, TEMP_DIR, "a.html"]
    assert not list((out / TEMP_DIR).iterdir())


def test_check_path_accepts_ordinary_paths():
    for good in ["index.html", "world/2026/03/14/slug/index.html", "media/images/a b.jpg",
                 "tag/x-1a2b/feed.xml"]:
        assert check_path(good) is None


def test_the_lock_makes_a_second_build_wait_or_fail(tmp_path):
    out = tmp_path / "out"
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with build_lock(out, timeout=5):
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    entered.wait(5)
    with pytest.raises(BuildError, match="another build is writing"), build_lock(out, 0.2):
        pass
    release.set()
    thread.join()
    with build_lock(out, timeout=1):
        pass


def deferred(path: str, text: str, fingerprint: str, calls: list[str]) -> Artifact:
    def render() -> bytes:
        calls.append(path)
        return text.encode()

    return Artifact(path, render=render, fingerprint=fingerprint)


def test_a_matching_fingerprint_skips_rendering(tmp_path):
    out, calls = tmp_path / "out", []
    Writer(out).commit([deferred("a.html", "A", "f1", calls),
                        deferred("b.html", "B", "f1", calls)])
    assert calls == ["a.html", "b.html"]
    calls.clear()
    report = Writer(out).commit([deferred("a.html", "A", "f1", calls),
                                 deferred("b.html", "B2", "f2", calls)])
    assert calls == ["b.html"]
    assert report.unchanged == ["a.html"] and report.written == ["b.html"]
    (out / "a.html").write_text("tampered")
    calls.clear()
    Writer(out).commit([deferred("a.html", "A", "f1", calls),
                        deferred("b.html", "B2", "f2", calls)])
    assert calls == ["a.html"], "a file changed behind the writer's back is rendered again"
    assert (out / "a.html").read_text() == "A"


def test_intact_files_are_checked_while_others_render_and_altered_ones_are_made_again(
        tmp_path):
    """The writer checks the files it presumes intact (their fingerprint matches) between
    the results of the renders it had to make: every altered one is made again, a deferred
    one rendered, a plain one written, and the report is as a one-by-one check gives."""
    out, calls = tmp_path / "out", []

    def artifacts(second: str = "") -> list[Artifact]:
        made = [deferred(f"d{n:02d}.html", f"D{n}", "f1", calls) for n in range(40)]
        made += [Artifact(f"p{n:02d}.txt", f"P{n}".encode(), fingerprint="f1")
                 for n in range(40)]
        return made + [deferred(f"z{n}.html", f"Z{n}{second}", f"f{second}", calls)
                       for n in range(3)]

    Writer(out).commit(artifacts())
    (out / "d07.html").write_text("tampered")
    (out / "d31.html").unlink()
    (out / "p05.txt").write_text("tampered")
    (out / "p33.txt").unlink()
    calls.clear()
    report = Writer(out).commit(artifacts("2"))
    assert sorted(calls) == ["d07.html", "d31.html", "z0.html", "z1.html", "z2.html"]
    assert report.written == ["d07.html", "d31.html", "p05.txt", "p33.txt",
                              "z0.html", "z1.html", "z2.html"]
    assert len(report.unchanged) == 76 and not report.removed
    assert (out / "d07.html").read_text() == "D7" and (out / "d31.html").read_text() == "D31"
    assert (out / "p05.txt").read_text() == "P5" and (out / "p33.txt").read_text() == "P33"
    calls.clear()
    again = Writer(out).commit(artifacts("2"))
    assert calls == [] and again.written == [] and len(again.unchanged) == 83


def test_a_render_that_fails_leaves_out_exactly_as_it_was(tmp_path):
    out = tmp_path / "out"
    Writer(out).commit([art("a.html", "A"), art("b.html", "B")])
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()
              if p.is_file()}

    def explode() -> bytes:
        raise BuildError("template error")

    with pytest.raises(BuildError):
        Writer(out).commit([art("a.html", "A2"), art("c.html", "C"),
                            Artifact("z.html", render=explode)])
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()
             if p.is_file()}
    assert after == before


def test_parallel_rendering_gives_the_same_files(tmp_path):
    from syndicate.parallel import MIN_PARALLEL, renderer

    artifacts = [Artifact(f"p/{i}.html", render=(lambda i=i: f"page {i}".encode()))
                 for i in range(MIN_PARALLEL * 2)]
    Writer(tmp_path / "one").commit(artifacts, render_many=renderer(1))
    Writer(tmp_path / "two").commit(artifacts, render_many=renderer(2))
    for i in range(MIN_PARALLEL * 2):
        assert (tmp_path / "one" / f"p/{i}.html").read_bytes() == \
            (tmp_path / "two" / f"p/{i}.html").read_bytes() == f"page {i}".encode()


def page(version: str, region: str, renders: list[str]) -> Artifact:
    """A deferred page "<head>{region}<tail {version}>" whose region can be spliced."""
    from syndicate.model import Framed, Splice

    def render() -> Framed:
        renders.append(region)
        data = f"<head>{region}<tail {version}>".encode()
        return Framed(data, (6, 6 + len(region)))

    return Artifact("p/index.html", render=render, fingerprint=f"{version}/{region}",
                    splice=Splice(version, lambda: region.encode()))


def test_a_changed_region_is_spliced_into_the_file_written_before(tmp_path):
    out, renders = tmp_path / "out", []
    Writer(out).commit([page("v1", "[one]", renders)])
    report = Writer(out).commit([page("v1", "[second]", renders)])
    assert report.written == ["p/index.html"]
    assert (out / "p/index.html").read_bytes() == b"<head>[second]<tail v1>"
    assert renders == ["[one]"], "the page itself was not rendered again"
    Writer(out).commit([page("v1", "[3]", renders)])
    assert (out / "p/index.html").read_bytes() == b"<head>[3]<tail v1>"
    Writer(out).commit([page("v2", "[3]", renders)])
    assert (out / "p/index.html").read_bytes() == b"<head>[3]<tail v2>"
    assert renders == ["[one]", "[3]"], "the rest of the page changed: rendered whole"


def test_a_file_changed_behind_the_writers_back_is_rendered_whole_not_spliced(tmp_path):
    out, renders = tmp_path / "out", []
    Writer(out).commit([page("v1", "[one]", renders)])
    target = out / "p/index.html"
    before = target.stat()
    target.write_bytes(b"<HEAD>[one]<TAIL v1>")  # same size, and the same mtime below
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    Writer(out).commit([page("v1", "[two]", renders)])
    assert target.read_bytes() == b"<head>[two]<tail v1>"
    assert renders == ["[one]", "[two]"]


def test_render_workers_stage_the_files_and_a_failing_worker_leaves_out_as_it_was(
        tmp_path, monkeypatch):
    from syndicate.parallel import MIN_PARALLEL, renderer

    out = tmp_path / "out"
    artifacts = [Artifact(f"p/{i}.html", render=(lambda i=i: f"page {i}".encode()),
                          fingerprint="one") for i in range(MIN_PARALLEL * 2)]
    report = Writer(out).commit(artifacts, render_many=renderer(2))
    assert len(report.written) == MIN_PARALLEL * 2
    assert not list((out / TEMP_DIR).iterdir())
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    parent = os.getpid()
    real_stage = Writer._stage

    def stage_or_fail(self, data):
        if os.getpid() != parent and data == b"page 100 v2":  # in a worker only
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_stage(self, data)

    monkeypatch.setattr(Writer, "_stage", stage_or_fail)
    changed = [Artifact(a.path, render=(lambda i=i: f"page {i} v2".encode()), fingerprint="two")
               for i, a in enumerate(artifacts)]
    with pytest.raises(OSError, match="No space"):
        Writer(out).commit(changed, render_many=renderer(2))
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not list((out / TEMP_DIR).iterdir())


_NAMES = st.text(min_size=1, max_size=12)
_ENTRIES = st.lists(st.one_of(st.text(max_size=8), st.integers(-5, 2**62), st.booleans()),
                    max_size=7)


@settings(max_examples=200, deadline=None)
@given(fields=st.dictionaries(_NAMES, st.one_of(st.integers(), st.booleans(), _NAMES),
                              max_size=3),
       key=_NAMES, big=st.one_of(st.dictionaries(_NAMES, _ENTRIES, max_size=40),
                                 st.lists(_NAMES, max_size=40).map(sorted)),
       part=st.integers(1, 9))
def test_json_written_in_parts_is_what_json_dumps_writes(fields, key, big, part):
    # The manifest and the journal are written part by part (a big site's manifest is tens
    # of megabytes of text at the build's busiest moment); the bytes must not change.
    fields.pop(key, None)
    parts = list(json_in_parts(fields, key, big, part))
    whole = json.dumps({**fields, key: big}, sort_keys=True, separators=(",", ":"))
    assert b"".join(parts) == whole.encode()
    assert len(parts) >= len(big) // part


def test_a_folder_removed_since_the_last_build_is_made_again(tmp_path):
    out = tmp_path / "out"
    Writer(out).commit([art("a/one/index.html", "1"), art("a/two/index.html", "2"),
                        art("b/index.html", "B")])
    for page in ("a/one/index.html", "a/two/index.html", "b/index.html"):
        os.unlink(out / page)
    for folder in ("a/one", "a/two", "a", "b"):
        os.rmdir(out / folder)
    report = Writer(out).commit([art("a/one/index.html", "1"), art("a/two/index.html", "2+"),
                                 art("b/index.html", "B"), art("c/index.html", "C")])
    assert report.written == ["a/one/index.html", "a/two/index.html", "b/index.html",
                              "c/index.html"]
    assert [(out / p).read_text() for p in report.written] == ["1", "2+", "B", "C"]
