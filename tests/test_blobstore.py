"""The build's stash: items made once, kept on disk across builds, never trusted blindly."""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.blobstore import INDEX, MAGIC, STORE_DIR, BlobStore
from syndicate.errors import BuildError
from syndicate.outputs.feedentries import Entry, decode, encode
from syndicate.writer import Writer


def in_order(work, count):
    return (work(index) for index in range(count))


class Maker:
    """make(index) for a list of keys, counting what it was asked for."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.made: list[str] = []

    def __call__(self, index: int) -> bytes:
        self.made.append(self.keys[index])
        return f"bytes of {self.keys[index]} ".encode() * (index + 3)


def stash_and_save(out: Path, keys: list[str], scope: str = "scope 1",
                   reuse: bool = True) -> tuple[Maker, list[bytes]]:
    store = BlobStore(out, in_order, reuse=reuse)
    maker = Maker(keys)
    read = store.stash("things", scope, keys, maker)
    values = [read(index) for index in range(len(keys))]
    store.save(Writer(out))
    return maker, values


def expected(keys: list[str]) -> list[bytes]:
    return [Maker(keys)(index) for index in range(len(keys))]


def folder(out: Path) -> Path:
    return out / STORE_DIR / "things"


def data_files(out: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder(out)) if name.endswith(".bin"))


def test_items_are_made_once_and_read_back_by_later_builds(tmp_path):
    keys = [f"k{n}" for n in range(20)]
    first, values = stash_and_save(tmp_path, keys)
    assert first.made == keys and values == expected(keys)
    second, again = stash_and_save(tmp_path, keys)
    assert second.made == [], "every item comes from disk"
    assert again == values
    third, _ = stash_and_save(tmp_path, [*keys, "new"])
    assert third.made == ["new"]


def test_a_key_repeated_in_one_build_is_made_once(tmp_path):
    maker, values = stash_and_save(tmp_path, ["a", "b", "a"])
    assert maker.made == ["a", "b"]
    assert values[2] == values[0]


def test_another_scope_makes_everything_again_and_drops_the_old_files(tmp_path):
    keys = ["a", "b", "c"]
    stash_and_save(tmp_path, keys)
    before = data_files(tmp_path)
    maker, values = stash_and_save(tmp_path, keys, scope="scope 2")
    assert maker.made == keys and values == expected(keys)
    assert data_files(tmp_path) != before and len(data_files(tmp_path)) == 1
    assert stash_and_save(tmp_path, keys, scope="scope 2")[0].made == []
    assert stash_and_save(tmp_path, keys, reuse=False)[0].made == keys, "--no-cache"


@pytest.mark.parametrize("damage", ["flip", "truncate", "remove", "group-writable"])
def test_a_damaged_or_foreign_data_file_costs_only_a_new_make(tmp_path, damage):
    keys = [f"k{n}" for n in range(8)]
    stash_and_save(tmp_path, keys)
    (data,) = [folder(tmp_path) / name for name in data_files(tmp_path)]
    content = data.read_bytes()
    if damage == "flip":
        middle = len(content) // 2
        data.write_bytes(content[:middle] + bytes([content[middle] ^ 1]) + content[middle + 1:])
    elif damage == "truncate":
        data.write_bytes(content[:-5])
    elif damage == "remove":
        data.unlink()
    else:
        data.chmod(0o664)
    store = BlobStore(tmp_path, in_order)
    maker = Maker(keys)
    read = store.stash("things", "scope 1", keys, maker)
    assert [read(index) for index in range(len(keys))] == expected(keys)
    assert maker.made, "the damaged items were made again"
    if damage in ("flip", "truncate"):
        assert len(maker.made) == 1, "only the damaged item"


@pytest.mark.parametrize("damage", [
    lambda data: b"", lambda data: b"garbage", lambda data: data[:-3],
    lambda data: data[:-1] + bytes([data[-1] ^ 1]),
    lambda data: MAGIC + b"scope 1\n" + b"\0" * 32 + b"not a pickle",
])
def test_a_damaged_index_is_ignored(tmp_path, damage):
    keys = ["a", "b", "c"]
    stash_and_save(tmp_path, keys)
    index = folder(tmp_path) / INDEX
    index.write_bytes(damage(index.read_bytes()))
    maker, values = stash_and_save(tmp_path, keys)
    assert maker.made == keys and values == expected(keys)


def test_a_failed_build_leaves_the_store_as_it_was(tmp_path):
    stash_and_save(tmp_path, ["a", "b"])
    before = {p.name: p.read_bytes() for p in folder(tmp_path).iterdir()}
    store = BlobStore(tmp_path, in_order)
    store.stash("things", "scope 1", ["a", "b", "c"], Maker(["a", "b", "c"]))
    assert len(data_files(tmp_path)) == 2, "the new item went to a file of its own"
    store.discard()
    assert {p.name: p.read_bytes() for p in folder(tmp_path).iterdir()} == before


def test_dead_items_are_copied_out_and_their_file_removed(tmp_path):
    keys = [f"k{n}" for n in range(10)]
    stash_and_save(tmp_path, keys)
    assert data_files(tmp_path) == ["1.bin"]
    # Two of ten still used: the first file is mostly dead.
    maker, values = stash_and_save(tmp_path, ["k1", "k2", "new"])
    assert maker.made == ["new"]
    assert data_files(tmp_path) == ["2.bin"]
    later, again = stash_and_save(tmp_path, ["k1", "k2", "new"])
    assert later.made == [] and again == values
    assert again[:2] == expected(keys)[1:3]


def test_a_build_a_story_keeps_only_a_few_data_files(tmp_path):
    from syndicate.blobstore import MAX_DATA_FILES

    keys = [f"k{n}" for n in range(30)]
    stash_and_save(tmp_path, keys)
    for number in range(3 * MAX_DATA_FILES):
        keys.append(f"new{number}")
        maker, values = stash_and_save(tmp_path, keys)
        assert maker.made == [keys[-1]]
        assert values == expected(keys)
        assert len(data_files(tmp_path)) <= MAX_DATA_FILES + 1
    assert "1.bin" in data_files(tmp_path), "the big first file is never copied"


def test_two_builds_at_once_each_get_the_right_bytes(tmp_path):
    """Stashing happens before the build lock: one build's commit may sweep away the data
    file of another still rendering. That costs the other a new make, never wrong bytes."""
    keys = ["a", "b", "c"]
    first, second = BlobStore(tmp_path, in_order), BlobStore(tmp_path, in_order)
    read_first = first.stash("things", "scope 1", keys, Maker(keys))
    second_maker = Maker(keys)
    read_second = second.stash("things", "scope 1", keys, second_maker)
    first.save(Writer(tmp_path))
    assert [read_second(index) for index in range(3)] == expected(keys)
    second.save(Writer(tmp_path))
    assert [read_first(index) for index in range(3)] == expected(keys)
    remade, values = stash_and_save(tmp_path, keys)
    assert values == expected(keys)
    assert remade.made == keys, "the swept file's items are made and kept again"
    assert stash_and_save(tmp_path, keys)[0].made == [], "whole again after one more build"


def test_a_folder_that_leads_outside_out_is_refused(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    out = tmp_path / "out"
    (out / STORE_DIR).parent.mkdir(parents=True)
    (out / STORE_DIR).symlink_to(outside, target_is_directory=True)
    store = BlobStore(out, in_order)
    with pytest.raises(BuildError, match="symbolic link"):
        store.stash("things", "scope 1", ["a"], Maker(["a"]))
    assert list(outside.iterdir()) == [], "nothing is made outside out/"


def test_one_new_story_makes_one_feed_entry(tmp_path, serialised_entries):
    from test_incremental import Site

    from syndicate.build import build

    site = Site(tmp_path / "site", random.Random(7))
    out = tmp_path / "out"
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    made = serialised_entries
    assert len(made) == 12, "the cold build made every entry"
    made.clear()
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    assert made == []
    site.add()
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    assert made == ["s12"]


timestamps = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 1, 1),
                          timezones=st.just(timezone.utc))


@given(timestamps, st.binary(), st.binary(), st.binary())
def test_a_feed_entry_survives_the_round_trip_through_bytes(updated, rss, atom, json):
    entry = Entry(updated, rss, atom, json)
    assert decode(encode(entry)) == entry


def test_a_feed_entry_whose_lengths_do_not_add_up_is_refused():
    data = encode(Entry(datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(0), b"r", b"a",
                        b"j"))
    with pytest.raises(ValueError):
        decode(data + b"x")


def test_a_build_that_fails_after_making_entries_leaves_them_out(tmp_path, monkeypatch):
    from test_incremental import Site

    from syndicate.build import build

    site = Site(tmp_path / "site", random.Random(8))
    out = tmp_path / "out"
    build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    store = out / STORE_DIR / "feed_entries"
    before = {p.name: p.read_bytes() for p in store.iterdir()}
    site.add()

    def failing(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(Writer, "commit", failing)
    with pytest.raises(RuntimeError):
        build(site.root / "config.toml", out_dir=str(out), environ={}, jobs=1)
    assert {p.name: p.read_bytes() for p in store.iterdir()} == before
