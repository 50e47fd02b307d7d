"""The real command: exact error text, exit codes, summaries, and what a second build does."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate import __version__
from syndicate.cli import _exit_status, main
from syndicate.writer import MANIFEST, STAMP

ROOT = Path(__file__).resolve().parent.parent
GOOD = json.dumps({"title": "Good", "published": "2026-03-14T08:00:00Z", "body": "<p>x</p>"})
BAD = json.dumps({"title": "Bad", "published": "2020-02-30T08:00:00Z", "body": "<p>x</p>"})


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert result.output == f"syndicate, version {__version__}\n"


def test_build_summary_and_a_second_build_writes_nothing(mini_site):
    config = mini_site({"articles/a.json": GOOD})
    first = run("build", "--config", str(config))
    assert first.exit_code == 0, first.output
    out = config.parent / "out"
    before = snapshot(out)
    files = len([p for p in before if not p.startswith(".syndicate")])
    assert files >= 2
    assert re.fullmatch(rf"syndicate: 1 records read, 0 skipped, 0 drafts; {files} files "
                        r"written, 0 unchanged, 0 removed in \d+\.\d\d s\n", first.output)
    second = run("build", "--config", str(config), "--json")
    data = json.loads(second.output)
    assert data["written"] == 0 and data["unchanged"] == files and data["ok"] is True
    after = snapshot(out)
    assert {k: v for k, v in after.items() if k != MANIFEST} == \
        {k: v for k, v in before.items() if k != MANIFEST}


def test_bad_records_are_reported_and_skipped_or_fail_under_strict(mini_site):
    config = mini_site({"articles/a.json": GOOD, "articles/bad.json": BAD})
    result = run("build", "--config", str(config), "-q")
    assert result.exit_code == 0
    assert result.output == ('articles/bad.json: published: "2020-02-30T08:00:00Z" is not a '
                             "valid date-time\n")
    out = config.parent / "out"
    before = snapshot(out)
    (config.parent / "articles" / "c.json").write_text(GOOD.replace("Good", "Newer"))
    strict = run("build", "--config", str(config), "--strict")
    assert strict.exit_code == 1
    assert strict.output == ('articles/bad.json: published: "2020-02-30T08:00:00Z" is not a '
                             "valid date-time\n"
                             "Error: 1 problem in the records (--strict); nothing was written\n")
    assert snapshot(out) == before, "a failed build leaves out/ exactly as it was"


def test_strict_reports_unknown_fields_which_a_normal_build_keeps_quiet(mini_site):
    config = mini_site({"articles/a.json": GOOD.replace('"title"', '"colour": "red", "title"')})
    assert run("build", "--config", str(config), "-q").output == ""
    result = run("build", "--config", str(config), "--strict", "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    assert data["problems"] == [{"file": "articles/a.json", "field": "colour",
                                 "message": "unknown field; kept and ignored",
                                 "severity": "notice"}]


def test_config_errors_are_one_line_each_and_exit_1(mini_site):
    config = mini_site({"config.toml": '[site]\ntitle = "T"\nbase_url = "example.com"\n'})
    result = run("build", "--config", str(config))
    assert result.exit_code == 1
    assert result.output == (f"Error: {config}: [site] base_url: must be an absolute http(s) "
                             "URL\n")
    config.write_text('[site]\ntitle = 1\nbase_url = "x"\n')
    result = run("check", "--config", str(config))
    assert result.exit_code == 1
    assert result.output == (f"{config}: [site] title: expected a string, got 1\n"
                             f"{config}: [site] base_url: must be an absolute http(s) URL\n"
                             f"Error: 2 problems in {config}\n")


def test_missing_config_and_usage_errors(tmp_path):
    result = run("build", "--config", str(tmp_path / "none.toml"))
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'none.toml'}: file not found\n"
    usage = run("build", "--frobnicate")
    assert usage.exit_code == 2
    assert usage.output.startswith("Usage: syndicate build [OPTIONS]\n")
    assert "Error: No such option '--frobnicate'" in usage.output


def test_check_writes_nothing_and_fails_on_errors(mini_site):
    config = mini_site({"articles/a.json": GOOD, "articles/bad.json": BAD})
    result = run("check", "--config", str(config))
    assert result.exit_code == 1
    assert result.output.endswith("syndicate: 2 records checked, 1 errors, 0 warnings\n")
    assert not (config.parent / "out").exists()
    (config.parent / "articles" / "bad.json").unlink()
    assert run("check", "--config", str(config)).exit_code == 0


def test_the_console_script_never_shows_a_traceback(tmp_path):
    (tmp_path / "config.toml").write_text('[site]\ntitle = "T"\nbase_url = "https://e.com"\n'
                                          '[content]\ndir = "missing"\n')
    process = subprocess.run([sys.executable, "-m", "syndicate.cli", "build"], cwd=tmp_path,
                             capture_output=True, text=True, check=False)
    assert process.returncode == 1
    assert "Traceback" not in process.stderr
    assert 'records folder "missing" does not exist' in process.stderr


def test_the_console_script_leaves_quickly_but_flushes_and_runs_exit_handlers(tmp_path):
    """run() ends the process without freeing the heap object by object, so it must say
    everything first: the build's JSON on a pipe, exit handlers, the exit status."""
    out = tmp_path / "out"
    # Buffered, as output to a pipe is unless the environment says otherwise.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    built = subprocess.run(
        [sys.executable, "-m", "syndicate.cli", "build", "--config",
         str(ROOT / "config.toml"), "--out", str(out), "--json"],
        capture_output=True, text=True, check=False, env=env)
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["written"] > 0 and (out / "index.html").is_file()
    script = ("import atexit, sys\n"
              "atexit.register(lambda: print('handled'))\n"
              "sys.argv = ['syndicate', *sys.argv[1:]]\n"
              "from syndicate.cli import run\n"
              "run()\n")
    version = subprocess.run([sys.executable, "-c", script, "--version"],
                             capture_output=True, text=True, check=False, env=env)
    assert version.returncode == 0
    assert version.stdout == f"syndicate, version {__version__}\nhandled\n"
    usage = subprocess.run([sys.executable, "-c", script, "no-such-command"],
                           capture_output=True, text=True, check=False, env=env)
    assert usage.returncode == 2 and "No such command" in usage.stderr
    assert usage.stdout == "handled\n"


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (3, 3), (256 + 5, 5),
                                              ("Error: bad", 1)])
def test_exit_status_is_what_sys_exit_would_give(code, status, capsys):
    assert _exit_status(code) == status
    assert capsys.readouterr().err == ("Error: bad\n" if isinstance(code, str) else "")


def test_example_site_builds_twice_identically(tmp_path):
    out1, out2 = tmp_path / "one", tmp_path / "two"
    for out in (out1, out2):
        result = run("build", "--config", str(ROOT / "config.toml"), "--out", str(out), "-q")
        assert result.exit_code == 0, result.output
    # The manifest and the build stamp record mtimes, so they differ from one out/ to another.
    one = {k: v[0] for k, v in snapshot(out1).items() if k not in (MANIFEST, STAMP)}
    two = {k: v[0] for k, v in snapshot(out2).items() if k not in (MANIFEST, STAMP)}
    assert one == two
    assert "sitemap.xml" in one and "news-sitemap.xml" in one


@pytest.mark.parametrize("epoch", ["1773500000", "1773600000"])
def test_source_date_epoch_is_the_only_clock(mini_site, epoch):
    from syndicate.build import load

    config = mini_site({"articles/a.json": GOOD})
    assert load(config, environ={"SOURCE_DATE_EPOCH": epoch}).site.now.timestamp() == int(epoch)
    assert load(config, environ={}).site.now.isoformat() == "2026-03-14T08:00:00+00:00"


def test_a_full_disk_is_reported_as_such_and_leaves_out_as_it_was(mini_site, monkeypatch):
    config = mini_site({"articles/a.json": GOOD})
    assert run("build", "--config", str(config), "-q").exit_code == 0
    out = config.parent / "out"
    before = snapshot(out)
    from syndicate.writer import Writer

    def full(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "out/.syndicate-tmp/1.tmp")

    monkeypatch.setattr(Writer, "_stage", full)
    record = config.parent / "articles/a.json"
    record.write_text(record.read_text().replace('"title": "', '"title": "New: '))
    result = run("build", "--config", str(config), "-q", "--jobs", "1")
    assert result.exit_code == 1
    assert result.output == ("Error: No space left on device: out/.syndicate-tmp/1.tmp (nothing "
                             "is wrong with the site: fix that and run again)\n")
    assert snapshot(out) == before
