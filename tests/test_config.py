"""Config loading: every problem in one pass, pointing at the key, with hints."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.config import Config, load_config, reference
from syndicate.errors import ConfigError


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(p) for p in caught.value.problems]


def test_example_config_loads_and_resolves_paths_against_its_folder(tmp_path, monkeypatch):
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(tmp_path)
    config = load_config(root / "config.toml")
    assert config.site.title == "The Harbour Courier"
    assert config.records_dir == root / "articles"
    assert config.out_dir == root / "out"


def test_every_problem_is_reported_in_one_pass(tmp_path):
    shown = problems_of(tmp_path, """
[site]
title = "T"
base_url = "ftp://example.com"
timezone = "Mars/Olympus"
langauge = "en"

[feeds]
max_items = "ten"

[top]
gravity = -1

[sitemapz]
""")
    path = str(tmp_path / "config.toml")
    assert shown == [
        f'{path}: [sitemapz]: unknown table; did you mean "sitemap"?',
        f'{path}: [site] langauge: unknown key; did you mean "language"?',
        f"{path}: [site] base_url: must be an absolute http(s) URL",
        f'{path}: [site] timezone: "Mars/Olympus" is not an IANA time zone (for example '
        '"Europe/London")',
        f'{path}: [feeds] max_items: expected an integer, got "ten"',
        f"{path}: [top] gravity: must be 0 or more",
    ]


def test_required_keys(tmp_path):
    shown = problems_of(tmp_path, "[site]\ntitle = \"\"\n")
    path = str(tmp_path / "config.toml")
    assert shown == [f"{path}: [site] base_url: is required",
                     f"{path}: [site] title: must not be empty"]


def test_toml_syntax_error_shows_line_and_column(tmp_path):
    (message,) = problems_of(tmp_path, '[site]\ntitle = "T"\nbase_url = https://x\n')
    assert "TOML syntax error at line 3, column 12" in message
    assert "base_url = https://x" in message
    assert message.rstrip().endswith("^")


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"[site]\ntitle = \"\xff\"\n")
    with pytest.raises(ConfigError, match=r"is not valid UTF-8 \(line 2, byte 16\)"):
        load_config(bad)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("permalink", '"/{section}/{nope}/"', "unknown placeholder {nope}"),
    ("permalink", '"/{section}/"', "must contain {slug} or {id}"),
    ("permalink", '"{slug}"', "must start and end with /"),
    ("outputs", '["sitemap", "pdf"]', 'unknown output "pdf"'),
    ("tag_path", '"/tags/"', "must contain {tag}"),
])
def test_output_table_checks(tmp_path, key, value, message):
    (shown,) = problems_of(tmp_path, f'[site]\ntitle = "T"\nbase_url = "https://e.com/"\n'
                                     f"[output]\n{key} = {value}\n")
    assert message in shown


def test_wrong_shapes(tmp_path):
    shown = problems_of(tmp_path, '[site]\ntitle = "T"\nbase_url = "https://e.com/"\n'
                                  'feeds = 3\n[digest]\ntracking = {a = 1}\n'
                                  '[feeds]\nid_scheme = "uuid"\n')
    assert any("[digest] tracking: a: expected a string, got 1" in s for s in shown)
    assert any("[feeds] id_scheme: expected one of 'tag', 'url', 'id', got \"uuid\"" in s
               for s in shown)
    assert any("[site] feeds: unknown key" in s for s in shown)


def test_out_override_and_defaults(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[site]\ntitle = "T"\nbase_url = "https://e.com"\n', encoding="utf-8")
    config = load_config(path, out_dir=str(tmp_path / "elsewhere"))
    assert config.out_dir == tmp_path / "elsewhere"
    assert config.feeds.max_items == 50
    assert config.top.gravity == pytest.approx(1.8)
    assert isinstance(config, Config)


def test_every_key_has_documentation():
    rows = reference()
    assert rows, "the reference lists the config keys"
    for table, key, kind, _default, doc in rows:
        assert doc.strip(), f"[{table}] {key} has no documentation"
        assert kind
