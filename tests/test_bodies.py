"""Article bodies kept on disk beside the record cache: read back exactly, never trusted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syndicate import records
from syndicate.blobstore import STORE_DIR, BlobStore
from syndicate.bodies import SHELF, BodyShelf
from syndicate.build import build, load
from syndicate.config import load_config
from syndicate.errors import BuildError, RecordError


def in_order(work, count):
    return (work(index) for index in range(count))


def bodies_folder(out: Path) -> Path:
    return out / STORE_DIR / SHELF


def data_files(out: Path) -> list[Path]:
    return sorted(bodies_folder(out).glob("*.bin"))


def published(out: Path) -> dict[str, bytes]:
    """Every file the build published (its bookkeeping left out)."""
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*"))
            if path.is_file() and not path.relative_to(out).parts[0].startswith(".syndicate")}


def remove_published(out: Path) -> None:
    """Delete what the last build published, so that the next one renders it all again."""
    for name in published(out):
        (out / name).unlink()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The shown path of every record file parsed from now on (in this process)."""
    seen: list[str] = []
    parse = records.parse_file

    def counting(config, path, shown):
        seen.append(shown)
        return parse(config, path, shown)

    monkeypatch.setattr(records, "parse_file", counting)
    return seen


def test_a_build_holds_no_body_in_memory_and_reads_each_back_exactly(fixture_copy, tmp_path):
    config = fixture_copy("basic")
    (config.parent / "articles/world/picture.json").write_text(
        '{"title": "A picture in the body", "published": "2026-03-12T10:00:00Z", "body": '
        '"<p>Before.</p><img src=\\"https://img.example.org/a.jpg\\" alt=\\"Quay\\">"}',
        encoding="utf-8")
    inline = load(config, environ={}).site
    result = build(config, out_dir=str(tmp_path / "out"), environ={}, jobs=1)
    site = result.loaded.site
    kept = {article.id: article for article in site.articles}
    assert inline.articles and len(kept) == len(inline.articles)
    assert any(article.body_has_image for article in inline.articles)
    for article in inline.articles:
        copy = kept[article.id]
        assert copy.body_html == "" and copy.body_ref is not None
        assert site.body(copy) == article.body_html
        assert (copy.body_chars, copy.body_has_image) == (len(article.body_html),
                                                          "<img" in article.body_html)


def test_a_rebuild_parses_nothing_and_writes_no_body_again(fixture_copy, tmp_path, parses):
    config = fixture_copy("basic")
    out = tmp_path / "out"
    build(config, out_dir=str(out), environ={}, jobs=1)
    first, files = published(out), data_files(out)
    assert parses and len(files) == 1
    parses.clear()
    remove_published(out)
    build(config, out_dir=str(out), environ={}, jobs=1)
    assert parses == []
    assert data_files(out) == files
    assert published(out) == first


@pytest.mark.parametrize("damage", ["flip", "truncate", "remove"])
def test_damaged_bodies_are_parsed_again_and_the_output_is_unchanged(fixture_copy, tmp_path,
                                                                     parses, damage):
    config = fixture_copy("basic")
    out = tmp_path / "out"
    build(config, out_dir=str(out), environ={}, jobs=1)
    first = published(out)
    records_read = len(parses)
    for path in data_files(out):
        data = path.read_bytes()
        if damage == "flip":  # same length: found only by the digest, as a body is read
            path.write_bytes(bytes(byte ^ 0x55 for byte in data))
        elif damage == "truncate":
            path.write_bytes(data[: len(data) // 2])
        else:
            path.unlink()
    parses.clear()
    remove_published(out)
    build(config, out_dir=str(out), environ={}, jobs=1)
    assert published(out) == first
    # Parsed again while loading (the slots a short or missing file cannot hold), or when
    # read (a body that fails its digest): every body a page or feed entry shows.
    assert parses
    if damage == "remove":
        assert len(parses) == records_read


def test_a_damaged_body_whose_record_changed_since_fails_rather_than_mixing(fixture_copy,
                                                                            tmp_path):
    config = load_config(fixture_copy("basic"), out_dir=str(tmp_path / "out"))
    path = next(iter(sorted(config.records_dir.rglob("*.json"))))
    shown = f"{config.content.dir}/{path.relative_to(config.records_dir).as_posix()}"
    shelf = BodyShelf(BlobStore(config.out_dir, in_order), config)
    entry = shelf.keep(shown, records.parse_file(config, path, shown))
    shelf.finish()
    article = entry.article
    assert article is not None and article.body_html == "" and article.body_ref
    expected = records.parse_file(config, path, shown).article.body_html
    assert shelf.read(article) == expected
    # Damaged on disk: a fresh reader (as a later build is) parses the record again.
    [data_file] = data_files(config.out_dir)
    data_file.write_bytes(bytes(byte ^ 0x55 for byte in data_file.read_bytes()))
    assert BodyShelf(BlobStore(config.out_dir, in_order), config).read(article) == expected
    path.write_bytes(path.read_bytes() + b"\n")  # other bytes, the same record
    with pytest.raises(BuildError, match="changed while the site was building"):
        BodyShelf(BlobStore(config.out_dir, in_order), config).read(article)


def test_a_failed_build_removes_the_bodies_it_kept(mini_site, tmp_path):
    config = mini_site({
        "articles/good.json": '{"id": "good", "title": "Good", "published": '
                              '"2026-03-01T08:00:00Z", "section": "World", "body": "<p>Fine.</p>"}',
        "articles/bad.json": '{"id": "bad", "title": "", "section": "World"}',
    })
    out = tmp_path / "fresh-out"
    with pytest.raises(RecordError):
        build(config, out_dir=str(out), environ={}, strict=True, jobs=1)
    assert not out.exists()
    build(config, out_dir=str(out), environ={}, jobs=1)
    assert len(data_files(out)) == 1 and os.listdir(bodies_folder(out))
