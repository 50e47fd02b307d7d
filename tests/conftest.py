"""Shared fixtures: the golden-file flag, mini-sites written from one string, and builds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true",
                     help="rewrite tests/golden/ from the current output instead of comparing")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


MINI_CONFIG = """\
[site]
title = "Mini Times"
base_url = "https://mini.example.com/"
timezone = "UTC"
"""


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.fixture
def mini_site(tmp_path: Path):
    """Return a function that writes a whole mini-site (config and records) and its config path.

    Like Hugo's txtar tests: `mini_site({"articles/a.json": "...", "config.toml": "..."})`.
    """

    def make(files: dict[str, str | bytes], config_extra: str = "") -> Path:
        files = dict(files)
        files.setdefault("config.toml", MINI_CONFIG + config_extra)
        write_files(tmp_path, files)
        (tmp_path / "articles").mkdir(exist_ok=True)
        return tmp_path / "config.toml"

    return make


@pytest.fixture
def fixture_copy(tmp_path: Path):
    """Return a function that copies a fixture site into tmp_path and returns its config path."""

    def copy(name: str = "basic") -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        return target / "config.toml"

    return copy


@pytest.fixture
def serialised_entries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Return a list that collects the id of every article whose feed entries are
    serialised from now on (in this process)."""
    from syndicate.outputs import feedentries

    made: list[str] = []
    serialise = feedentries.entry_fragments

    def counting(item, formats):
        made.append(item.key)
        return serialise(item, formats)

    monkeypatch.setattr(feedentries, "entry_fragments", counting)
    return made
