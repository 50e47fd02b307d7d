"""`syndicate init`: a new site that builds cleanly, a config written from the schema, and
never a clobbered file."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from syndicate.build import build, load
from syndicate.cli import main
from syndicate.config import load_config, reference
from syndicate.media import image_size
from syndicate.scaffold import SET_KEYS, site_files


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_init_writes_a_site_that_builds_without_a_single_problem(tmp_path):
    site = tmp_path / "paper"
    result = run("init", str(site))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"syndicate: 6 files written; next: cd {site} && syndicate serve")
    assert (site / "templates").is_dir() and (site / "templates" / "README.md").is_file()
    assert "{% extends \"default:article.html\" %}" in (site / "templates/README.md").read_text()

    loaded = load(site / "config.toml")
    assert [p for p in loaded.problems] == []
    assert sorted(a.id for a in loaded.site.articles) == ["council-budget", "harbour-lights",
                                                          "welcome"]
    sources = sorted(a.source.rsplit(".", 1)[1] for a in loaded.site.articles)
    assert sources == ["json", "json", "md"]
    pictured = [a for a in loaded.site.articles if a.images]
    assert len(pictured) == 1 and pictured[0].images[0].local == "images/harbour-dusk.png"
    assert image_size(site / "articles/images/harbour-dusk.png") == (1200, 675)

    result = build(site / "config.toml")
    assert result.problems == []
    assert (site / "out" / "media" / "images" / "harbour-dusk.png").is_file()


def test_the_config_lists_every_key_and_uncommented_gives_the_schema_defaults(tmp_path):
    text = site_files()["config.toml"].decode()
    for table, key, _, _, doc in reference():
        assert f"[{table}]" in text
        assert re.search(rf"^(# )?{key} = ", text, re.MULTILINE), f"[{table}] {key} missing"
        assert doc.split()[0] in text
    # Uncommenting every key must give exactly the defaults: the comments cannot drift.
    uncommented = re.sub(r"^# (\w+ = )", r"\1", text, flags=re.MULTILINE)
    (tmp_path / "config.toml").write_text(uncommented)
    (tmp_path / "articles").mkdir()
    config = load_config(tmp_path / "config.toml")
    for table, key, _, default, _ in reference():
        value = getattr(getattr(config, table), key)
        expected = SET_KEYS.get((table, key), default)
        assert value == expected, f"[{table}] {key}"


def test_init_refuses_to_overwrite_and_then_writes_nothing(tmp_path):
    site = tmp_path / "paper"
    (site / "articles").mkdir(parents=True)
    (site / "articles" / "welcome.md").write_text("mine")
    result = run("init", str(site))
    assert result.exit_code == 1
    assert result.output == (f"Error: {site / 'articles' / 'welcome.md'} already exists; "
                             "nothing was written (init only writes into a new or empty "
                             "folder)\n")
    assert tree(site) == {"articles/welcome.md": b"mine"}


def test_init_into_the_current_folder_twice(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = run("init")
    assert first.exit_code == 0
    assert first.output.splitlines()[-1] == "syndicate: 6 files written; next: syndicate serve"
    before = tree(tmp_path)
    second = run("init", "-q")
    assert second.exit_code == 1 and "config.toml already exists" in second.output
    assert tree(tmp_path) == before


def test_init_output_is_the_same_every_time(tmp_path):
    assert run("init", "-q", str(tmp_path / "a")).output == ""
    run("init", "-q", str(tmp_path / "b"))
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_build_says_what_it_is_doing_on_a_terminal_only(tmp_path):
    import os
    import pty
    import subprocess
    import sys

    assert run("init", "-q", str(tmp_path)).exit_code == 0
    command = [sys.executable, "-m", "syndicate.cli", "build", "--config",
               str(tmp_path / "config.toml")]
    main_fd, terminal = pty.openpty()
    try:
        finished = subprocess.run(command, stderr=terminal, stdout=subprocess.PIPE,
                                  text=True, timeout=120, check=True)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:  # the terminal's other end is closed: everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(main_fd)
    assert re.fullmatch(rb"syndicate: 3 records read in \d+\.\d\d s; rendering and "
                        rb"writing\.\.\.\r\n(\rrendering: [\d,]+/[\d,]+ \(\d+%\)\x1b\[K)+"
                        rb"\r\x1b\[K", shown)
    assert finished.stdout.startswith("syndicate: 3 records read, 0 skipped")
    piped = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert piped.stderr == "", "no progress when stderr is not a terminal"
