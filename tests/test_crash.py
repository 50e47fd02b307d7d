"""Crash safety and concurrent builds: SIGKILL at random points never leaves a partial file,
the next build repairs everything, and two builds of one out/ never interleave."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from outputscan import published_files

CONFIG = """\
[site]
title = "Crash Courier"
base_url = "https://crash.example.com/"
timezone = "UTC"
"""
SECTIONS = ["World", "Sport", "Business", "Science"]
TAGS = [f"Topic {i}" for i in range(30)]


def corpus(version: int, count: int = 120) -> dict[str, str]:
    """Return the records of one version of a mid-size site; version 2 edits, adds, drops."""
    rng = random.Random(7)
    records = {}
    for index in range(count):
        if version == 2 and index % 16 == 0:
            continue  # deleted in version 2
        body = " ".join(rng.choice(["harbour", "ferry", "council", "tide", "market", "vote"])
                        for _ in range(250))
        if version == 2 and index % 5 == 0:
            body = "Edited. " + body
        record = {
            "id": f"a{index}", "title": f"Story number {index}",
            "published": f"2026-02-{1 + index % 28:02d}T{index % 24:02d}:00:00Z",
            "section": SECTIONS[index % 4], "tags": rng.sample(TAGS, 3),
            "authors": [f"Reporter {index % 7}"], "body": f"<p>{body}</p>",
        }
        records[f"{SECTIONS[index % 4].lower()}/a{index}.json"] = json.dumps(record)
    if version == 2:
        for index in range(count, count + 8):
            records[f"world/new{index}.json"] = json.dumps({
                "id": f"new{index}", "title": f"Added story {index}",
                "published": "2026-03-01T09:00:00Z", "section": "World", "body": "<p>New</p>"})
    return records


def use(site: Path, version: int) -> None:
    articles = site / "articles"
    shutil.rmtree(articles, ignore_errors=True)
    for name, text in corpus(version).items():
        (articles / name).parent.mkdir(parents=True, exist_ok=True)
        (articles / name).write_text(text, encoding="utf-8")


def command(site: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "syndicate.cli", "build", "--config",
            str(site / "config.toml"), "--out", str(out), "-q", "--jobs", "1"]


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in published_files(out)}


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """Build each version cold once: the two states every file must match."""
    site = tmp_path_factory.mktemp("crash-site")
    (site / "config.toml").write_text(CONFIG, encoding="utf-8")
    refs = {}
    for version in (1, 2):
        use(site, version)
        out = site / f"ref{version}"
        started = time.monotonic()
        subprocess.run(command(site, out), check=True)
        refs[version] = (snapshot(out), time.monotonic() - started)
    return site, refs


@pytest.mark.slow
def test_sigkill_at_random_points_never_leaves_a_partial_file(references):
    site, refs = references
    out = site / "out"
    shutil.copytree(site / "ref1", out)
    # How long a switch between the versions takes when nobody interrupts it: the kill
    # points are drawn from that span, so that they land in every stage of a build.
    use(site, 2)
    started = time.monotonic()
    subprocess.run(command(site, out), check=True)
    span = time.monotonic() - started
    use(site, 1)
    subprocess.run(command(site, out), check=True)
    rng = random.Random(20260314)
    kills = trials = 0
    while kills < 20 and trials < 60:
        trials += 1
        version = 2 if trials % 2 else 1
        use(site, version)
        process = subprocess.Popen(command(site, out), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, span))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        for path, data in snapshot(out).items():
            allowed = {refs[1][0].get(path), refs[2][0].get(path)}
            assert data in allowed, f"trial {trials}: {path} is neither version"
    assert kills >= 20, f"only {kills} of {trials} builds were killed mid-build"
    use(site, 2)
    subprocess.run(command(site, out), check=True)
    assert without_past_digests(snapshot(out), refs[2][0]) == refs[2][0], \
        "the next build repairs everything"


def without_past_digests(files: dict[str, bytes], reference: dict[str, bytes]) -> dict:
    """Drop the digests of other days, which builds keep on purpose as an archive."""
    return {p: d for p, d in files.items() if p in reference or not p.startswith("digest/")}


@pytest.mark.slow
def test_two_builds_at_once_do_not_interleave(references, tmp_path):
    site, refs = references
    use(site, 2)
    out = tmp_path / "out"
    first = subprocess.Popen(command(site, out))
    second = subprocess.Popen(command(site, out))
    assert first.wait() == 0 and second.wait() == 0
    assert without_past_digests(snapshot(out), refs[2][0]) == refs[2][0]


def test_a_second_build_gives_up_after_the_lock_timeout(references, tmp_path):
    from syndicate.writer import build_lock

    site, _ = references
    out = tmp_path / "out"
    config = tmp_path / "config.toml"
    config.write_text(CONFIG + f'[content]\ndir = "{site / "articles"}"\n'
                      "[output]\nlock_timeout = 0.3\n", encoding="utf-8")
    with build_lock(out, timeout=1):
        process = subprocess.run(
            [sys.executable, "-m", "syndicate.cli", "build", "--config", str(config), "--out",
             str(out)], capture_output=True, text=True, check=False)
    assert process.returncode == 1
    assert process.stderr == (f"Error: another build is writing {out} and did not finish "
                              "within 0.3 s ([output] lock_timeout)\n")


def test_a_lock_left_by_a_killed_build_is_not_stale(references, tmp_path):
    site, refs = references
    use(site, 2)
    out = tmp_path / "out"
    process = subprocess.Popen(command(site, out))
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    started = time.monotonic()
    subprocess.run(command(site, out), check=True)
    assert time.monotonic() - started < 60
    assert without_past_digests(snapshot(out), refs[2][0]) == refs[2][0]
