"""A build in which nothing changed is skipped (the build stamp), and any change to what a
build reads makes the next one real again, ending byte-identical to a cold build."""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from outputscan import published_files

from syndicate.cli import main
from syndicate.stamp import MAGIC
from syndicate.writer import STAMP

EXTRA_CONFIG = '\n[content]\ntemplates = "overrides"\n'
OVERRIDE = ('{% extends "default:article.html" %}\n'
            "{% block main %}<p>Override {{ 1 }}</p>{{ super() }}{% endblock %}\n")
# A warning (priority), a notice (unknown field, shown only under --strict), an error (date)
# and an image path that does not exist yet.
PROBLEMS = {
    "articles/world/loud.json": json.dumps({
        "id": "loud", "title": "Loud", "published": "2026-03-12T08:00:00Z", "priority": 11,
        "colour": "red", "body": "<p>Loud.</p>",
        "images": [{"src": "images/later.png", "alt": "Later", "width": 16, "height": 9}]}),
    "articles/world/bad.json": json.dumps({
        "title": "Bad", "published": "2020-02-30T08:00:00Z", "body": "<p>x</p>"}),
}
UNSET = {"SOURCE_DATE_EPOCH": None}


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env or UNSET, catch_exceptions=False)


def build_json(config: Path, *args: str, env: dict | None = None) -> dict:
    result = run("build", "--config", str(config), "--json", *args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in published_files(out)}


def untimed(output: str) -> str:
    return re.sub(r"in \d+\.\d\d s", "in _ s", output)


@pytest.fixture
def site(fixture_copy) -> Path:
    """The basic fixture with a template override and records that have problems."""
    config = fixture_copy("basic")
    root = config.parent
    with config.open("a", encoding="utf-8") as handle:
        handle.write(EXTRA_CONFIG)
    (root / "overrides").mkdir()
    (root / "overrides" / "article.html").write_text(OVERRIDE, encoding="utf-8")
    for name, text in PROBLEMS.items():
        (root / name).write_text(text, encoding="utf-8")
    return config


def test_a_second_build_is_skipped_and_says_what_a_real_one_says(site, monkeypatch):
    first = run("build", "--config", str(site))
    assert first.exit_code == 0 and "priority: 11 is outside" in first.output
    real = run("build", "--config", str(site), "--no-cache")
    real_json = build_json(site, "--no-cache")
    assert real_json["up_to_date"] is False and real_json["written"] == 0

    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a skipped build loads nothing")

    monkeypatch.setattr("syndicate.build.load_config_records", no_loading)
    skipped = run("build", "--config", str(site))
    assert skipped.exit_code == 0
    assert untimed(skipped.output) == untimed(real.output)
    assert re.search(r"1 skipped.*; 0 files written, \d+ unchanged, 0 removed", skipped.output)
    skipped_json = build_json(site)
    assert skipped_json.pop("up_to_date") is True
    real_json.pop("up_to_date")
    skipped_json.pop("seconds"), real_json.pop("seconds")
    assert skipped_json == real_json
    quiet = run("build", "--config", str(site), "-q")
    assert quiet.output == real.output.rsplit("syndicate: ", 1)[0]
    assert "nothing changed since the last build" in run("build", "--config", str(site),
                                                         "-v").output


def test_no_cache_always_builds(site):
    build_json(site)
    assert build_json(site, "--no-cache")["up_to_date"] is False
    assert build_json(site)["up_to_date"] is True


def _edit_record_keeping_size_and_mtime(root: Path, out: Path) -> None:
    path = root / "articles" / "world" / "border.json"
    info = path.stat()
    path.write_bytes(path.read_bytes().replace(b"nine hours", b"nine weeks"))
    assert path.stat().st_size == info.st_size
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # only the ctime tells


def _edit_record_bumping_mtime(root: Path, out: Path) -> None:
    path = root / "articles" / "world" / "border.json"
    info = path.stat()
    path.write_bytes(path.read_bytes().replace(b"nine hours", b"five hours"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def _add_record(root: Path, out: Path) -> None:
    (root / "articles" / "world" / "new.json").write_text(json.dumps({
        "id": "new", "title": "New", "published": "2026-03-15T08:00:00Z",
        "body": "<p>New.</p>"}), encoding="utf-8")


def _delete_record(root: Path, out: Path) -> None:
    (root / "articles" / "world" / "plain.json").unlink()


def _change_config(root: Path, out: Path) -> None:
    config = root / "config.toml"
    config.write_text(config.read_text().replace("A tiny site", "A small site"))


def _change_template(root: Path, out: Path) -> None:
    (root / "overrides" / "article.html").write_text(OVERRIDE.replace("{{ 1 }}", "{{ 2 }}"))


def _add_template(root: Path, out: Path) -> None:
    (root / "overrides" / "partials").mkdir()
    (root / "overrides" / "partials" / "byline.html").write_text("<p>By the desk</p>\n")


def _delete_output(root: Path, out: Path) -> None:
    (out / "index.html").unlink()


def _edit_output(root: Path, out: Path) -> None:
    page = out / "feed.xml"
    page.write_bytes(page.read_bytes().replace(b"Fixture", b"Fixturf"))


def _resize_image(root: Path, out: Path) -> None:
    image = root / "articles" / "images" / "market.png"
    data = bytearray(image.read_bytes())
    data[16:24] = struct.pack(">II", 320, 180)  # the PNG header's width and height
    image.write_bytes(bytes(data))


def _create_missing_image(root: Path, out: Path) -> None:
    logo = root / "articles" / "images" / "logo.png"
    (root / "articles" / "images" / "later.png").write_bytes(logo.read_bytes())


def _change_logo(root: Path, out: Path) -> None:
    logo = root / "articles" / "images" / "logo.png"
    logo.write_bytes(logo.read_bytes() + b"\0")


CHANGES = [_edit_record_keeping_size_and_mtime, _edit_record_bumping_mtime, _add_record,
           _delete_record, _change_config, _change_template, _add_template, _delete_output,
           _edit_output, _resize_image, _create_missing_image, _change_logo]


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__.strip("_"))
def test_a_change_makes_the_build_real_and_equal_to_a_cold_one(site, tmp_path, change):
    root, out = site.parent, site.parent / "out"
    build_json(site)
    assert build_json(site)["up_to_date"] is True
    change(root, out)
    assert build_json(site)["up_to_date"] is False
    cold = tmp_path / "cold"
    build_json(site, "--out", str(cold))
    got, want = tree(out), tree(cold)
    # Past days' digests are an archive that builds keep on purpose (docs/outputs.md).
    got = {p: d for p, d in got.items() if p in want or not p.startswith("digest/")}
    assert sorted(got) == sorted(want)
    for path in want:
        assert got[path] == want[path], f"{path} differs from a cold build"
    assert build_json(site)["up_to_date"] is True, "the real build kept a new stamp"


def test_the_loader_takes_the_records_the_key_saw_and_the_next_build_sees_a_later_edit(
        site, tmp_path):
    """A build lists and stat's the record files once, for its input key, and the loader
    takes them from there: the listing's warnings are reported once, and a record edited
    after the key was taken makes the next build real, ending as a cold build would."""
    from syndicate.build import build
    from syndicate.inputs import gather

    root, out = site.parent, site.parent / "out"
    (root / "articles" / "linked").symlink_to(root / "articles" / "world")
    build_json(site)
    inputs = gather(site)
    _edit_record_bumping_mtime(root, out)
    result = build(site, inputs=inputs, environ={}, jobs=1)
    linked = [p for p in result.problems if p.where.endswith("articles/linked")]
    assert len(linked) == 1 and "not followed" in linked[0].message
    assert build_json(site)["up_to_date"] is False
    build_json(site, "--out", str(tmp_path / "cold"))
    assert tree(out) == tree(tmp_path / "cold")
    assert b"five hours" in b"".join(tree(out).values())


def test_source_date_epoch_is_part_of_the_key(site, tmp_path):
    out = site.parent / "out"
    build_json(site)
    epoch = {"SOURCE_DATE_EPOCH": "1773500000"}
    assert build_json(site, env=epoch)["up_to_date"] is False
    build_json(site, "--out", str(tmp_path / "cold"), env=epoch)
    assert tree(out) == tree(tmp_path / "cold")
    assert build_json(site, env=epoch)["up_to_date"] is True
    assert build_json(site)["up_to_date"] is False


def test_other_out_folder_and_config_spelling_are_part_of_the_key(site, tmp_path,
                                                                  monkeypatch):
    build_json(site)
    # Problems name the config as it was given, so another spelling is another build.
    monkeypatch.chdir(site.parent)
    assert build_json(Path("config.toml"))["up_to_date"] is False
    assert build_json(Path("config.toml"))["up_to_date"] is True
    assert build_json(site, "--out", str(tmp_path / "other"))["up_to_date"] is False


def _reseal(stamp: bytes, header: dict) -> bytes:
    """Return `stamp` with its JSON header replaced and a valid checksum."""
    body = stamp[len(MAGIC) + 32:]
    header_size, paths_size = struct.unpack_from("<QQ", body)
    encoded = json.dumps(header).encode()
    body = struct.pack("<QQ", len(encoded), paths_size) + encoded + body[16 + header_size:]
    return MAGIC + hashlib.sha256(body).digest() + body


def test_a_damaged_or_foreign_stamp_is_ignored(site):
    out = site.parent / "out"
    build_json(site)
    stamp = out / STAMP
    good, files = stamp.read_bytes(), tree(out)
    header = json.loads(good[len(MAGIC) + 32 + 16:].split(b"}", 1)[0] + b"}")
    damages = [b"", b"garbage", MAGIC, good[:-9], good[:-1] + bytes([good[-1] ^ 1]),
               good.replace(MAGIC, b"syndicate-stamp 0\n"), good + b"\0" * 8,
               _reseal(good, {**header, "tally": [1, 2]}),
               _reseal(good, {**header, "problems": [["a", "b", "c", "fatal"]]}),
               _reseal(good, {**header, "early": 99}),
               _reseal(good, {"key": header["key"]})]
    for damage in damages:
        stamp.write_bytes(damage)
        assert build_json(site)["up_to_date"] is False, damage[:40]
        assert tree(out) == files
    stamp.chmod(0o666)  # others could have written it: never trusted
    assert build_json(site)["up_to_date"] is False
    assert build_json(site)["up_to_date"] is True


def test_strict_never_replays_a_build_that_had_problems(site, mini_site):
    build_json(site)
    strict = run("build", "--config", str(site), "--strict")
    assert strict.exit_code == 1
    assert "colour: unknown field" in strict.output and "nothing was written" in strict.output
    clean = mini_site({"articles/a.json": json.dumps({
        "title": "Good", "published": "2026-03-14T08:00:00Z", "body": "<p>x</p>"})})
    assert run("build", "--config", str(clean), "--strict", "-q").output == ""
    assert build_json(clean, "--strict")["up_to_date"] is True


def test_any_other_commit_to_out_forgets_the_stamp(site):
    out = site.parent / "out"
    build_json(site)
    assert (out / STAMP).is_file()
    digest = run("digest", "--config", str(site), "--date", "2026-03-10", "-q")
    assert digest.exit_code == 3, "no stories that day: nothing written, stamp kept"
    assert (out / STAMP).is_file()
    assert run("digest", "--config", str(site), "--date", "2026-03-15", "-q").exit_code == 0
    assert not (out / STAMP).exists()
    assert build_json(site)["up_to_date"] is False
