"""Replaced files kept and written again: right bytes, never a live page, never outside out/."""

from __future__ import annotations

import os

from syndicate import recycle
from syndicate.model import Artifact
from syndicate.recycle import POOL_DIR
from syndicate.writer import TEMP_DIR, Writer


def commit(out, **pages: str) -> None:
    Writer(out).commit([Artifact(f"{name}.html", text.encode()) for name, text in pages.items()])


def pooled(out) -> list[str]:
    folder = out / POOL_DIR
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def test_a_replaced_page_is_kept_and_the_next_one_is_written_into_it(tmp_path):
    out = tmp_path / "out"
    commit(out, a="first version of a")
    first = os.stat(out / "a.html").st_ino
    commit(out, a="second, a longer version of a")
    assert [os.stat(out / POOL_DIR / name).st_ino for name in pooled(out)] == [first]
    second = os.stat(out / "a.html").st_ino
    commit(out, a="third")  # shorter than what the kept file held
    assert (out / "a.html").read_bytes() == b"third"
    assert os.stat(out / "a.html").st_ino == first  # written into the kept file
    assert os.stat(out / "a.html").st_mode & 0o777 == 0o644
    assert [os.stat(out / POOL_DIR / name).st_ino for name in pooled(out)] == [second]


def test_a_kept_file_that_is_still_a_page_is_never_written_into(tmp_path):
    out = tmp_path / "out"
    commit(out, a="a", b="b")
    # What a commit killed between keeping a.html and renaming over it leaves. (a.html is
    # checked before b.html is staged: written into, it would not be put right.)
    (out / POOL_DIR).mkdir(exist_ok=True)
    os.link(out / "a.html", out / POOL_DIR / "1-1")
    commit(out, a="a", b="b again")
    assert (out / "a.html").read_bytes() == b"a"
    assert (out / "b.html").read_bytes() == b"b again"
    assert os.stat(out / "a.html").st_nlink == 1


def test_links_fifos_and_a_linked_pool_are_dropped_and_never_followed(tmp_path):
    out = tmp_path / "out"
    outside = tmp_path / "outside.txt"
    outside.write_text("not mine")
    commit(out, a="a")
    (out / POOL_DIR).mkdir()
    os.symlink(outside, out / POOL_DIR / "link")
    os.mkfifo(out / POOL_DIR / "fifo")
    (out / POOL_DIR / "folder").mkdir()
    commit(out, a="a, then b")
    assert outside.read_text() == "not mine"
    assert (out / "a.html").read_bytes() == b"a, then b"
    assert "link" not in pooled(out) and "fifo" not in pooled(out)
    assert not list((out / TEMP_DIR).iterdir())
    os.rmdir(out / POOL_DIR / "folder")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "1-9").write_text("someone's file")
    for name in pooled(out):
        os.unlink(out / POOL_DIR / name)
    os.rmdir(out / POOL_DIR)
    os.symlink(elsewhere, out / POOL_DIR)
    commit(out, a="a, then c")
    commit(out, a="a, then d")
    assert sorted(os.listdir(elsewhere)) == ["1-9"]
    assert (elsewhere / "1-9").read_text() == "someone's file"
    assert not (out / POOL_DIR).is_symlink()
    assert (out / "a.html").read_bytes() == b"a, then d"


def test_the_pool_holds_at_most_its_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(recycle, "LIMIT", 2)
    out = tmp_path / "out"
    commit(out, **{f"p{n}": f"one {n}" for n in range(5)})
    commit(out, **{f"p{n}": f"two {n}" for n in range(5)})
    assert len(pooled(out)) == 2
    commit(out, **{f"p{n}": f"three {n}" for n in range(5)})
    assert len(pooled(out)) == 2
    assert [(out / f"p{n}.html").read_text() for n in range(5)] == [
        f"three {n}" for n in range(5)]
