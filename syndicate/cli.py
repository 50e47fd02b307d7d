"""The `syndicate` command. Each command loads the config and calls one library function.

Exit codes: 0 done; 1 failed (or problems found under --strict); 2 usage error;
3 `syndicate digest` found no new stories for the day, so it wrote nothing (EXIT_NO_NEWS);
4 `syndicate send`: some recipients failed or were not attempted, rerun to continue
(EXIT_SEND_FAILED); 5 `syndicate send` could not start: bad config, missing environment
variable, unreadable .eml or CSV, journal in use, or no connection to the server at all
(EXIT_CANNOT_START).
"""

from __future__ import annotations

import atexit
import errno
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import date
from functools import wraps
from typing import TYPE_CHECKING, Any, NoReturn

import click

from . import __version__
from .errors import ConfigError, Problem, RecordError, SyndicateError, visible

if TYPE_CHECKING:
    from .build import Loaded
    from .stamp import Tally

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_NEWS = 3
EXIT_SEND_FAILED = 4
EXIT_CANNOT_START = 5

config_option = click.option(
    "--config", "config_path", default="config.toml", show_default=True,
    type=click.Path(dir_okay=False), help="The site's config file.")
out_option = click.option("--out", "out_dir", type=click.Path(file_okay=False),
                          help="Output folder (default: [output] dir in the config).")
strict_option = click.option("--strict", is_flag=True,
                             help="Fail on any problem in the records, warnings included.")
quiet_option = click.option("-q", "--quiet", is_flag=True, help="Print only problems.")
verbose_option = click.option("-v", "--verbose", is_flag=True,
                              help="Also print every file written or removed.")
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object for machines instead of text.")


def _colour(kind: str) -> dict[str, Any]:
    """Style a line by severity; click drops the colour when stderr is not a terminal."""
    plain = {"reset": False}  # secho would add a reset code even to unstyled text
    if os.environ.get("NO_COLOR"):
        return plain
    return {"error": {"fg": "red"}, "warning": {"fg": "yellow"}}.get(kind, plain)


def print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        click.secho(str(problem), err=True, **_colour(problem.severity))


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into `Error: ...` and exit code 1, never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            if len(exc.problems) == 1:
                raise click.ClickException(str(exc.problems[0])) from None
            print_problems(exc.problems)
            raise click.ClickException(
                f"{len(exc.problems)} problems in {exc.problems[0].where}") from None
        except RecordError as exc:
            print_problems(exc.problems)
            raise click.ClickException(str(exc)) from None
        except SyndicateError as exc:
            raise click.ClickException(str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:
            if exc.errno not in _MACHINE_ERRORS:
                raise _internal_error(exc) from None
            # The machine's fault, not the program's: a full disk, a read-only folder.
            where = f": {exc.filename}" if exc.filename else ""
            raise click.ClickException(
                f"{exc.strerror or exc}{where} (nothing is wrong with the site: fix that and "
                "run again)") from None
        except Exception as exc:  # the promise is no traceback, even for our own bugs
            raise _internal_error(exc) from None

    return wrapper


# Errors that say what to fix on the machine: reported as they are, not as our bug.
_MACHINE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                   errno.EMFILE, errno.ENFILE, errno.ENOMEM}


def _internal_error(exc: Exception) -> click.ClickException:
    if os.environ.get("SYNDICATE_DEBUG"):
        traceback.print_exc()
    return click.ClickException(
        f"internal error: {type(exc).__name__}: {exc} (set SYNDICATE_DEBUG=1 for the "
        "traceback, and please report it)")


@click.group(name="syndicate", context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="syndicate")
def main() -> None:
    """Turn a folder of article records into feeds, AMP-lite pages and an email digest."""


def summary(tally: Tally, problems: list[Problem], seconds: float, *, written: int = 0,
            unchanged: int = 0, removed: int = 0) -> dict[str, Any]:
    return {
        "records": tally.records,
        "published": tally.published,
        "skipped": tally.skipped,
        "drafts": tally.drafts,
        "errors": sum(1 for p in problems if p.severity == "error"),
        "warnings": sum(1 for p in problems if p.severity == "warning"),
        "written": written,
        "unchanged": unchanged,
        "removed": removed,
        "seconds": round(seconds, 3),
    }


@main.command("build")
@config_option
@out_option
@strict_option
@quiet_option
@verbose_option
@json_option
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Processes that render in parallel, this one included (default: one "
                   "per core). The output is the same whatever the number.")
@click.option("--no-cache", is_flag=True,
              help="Load, check and render everything again, even when nothing changed since "
                   "the last build; also parse every record and serialise every feed entry "
                   "anew. The output is the same.")
@handle_errors
def build_command(config_path: str, out_dir: str | None, strict: bool, quiet: bool,
                  verbose: bool, as_json: bool, jobs: int | None, no_cache: bool) -> None:
    """Build feeds, pages, sitemaps and the digest into the output folder.

    When nothing the build reads changed since the last one and the output folder is as it
    left it, nothing is loaded or rendered: the last build's summary and problems are
    printed again.
    """
    from .inputs import gather
    from .stamp import replay

    started = time.perf_counter()
    shown: list[Problem] = []
    progress = not (quiet or as_json) and sys.stderr.isatty()

    def report_problems(problems: list[Problem]) -> None:
        shown.extend(visible(problems, strict=strict))
        if not as_json:
            print_problems(shown)

    def on_loaded(loaded: Loaded) -> None:
        report_problems(loaded.problems)
        if progress:  # on a terminal only: a long build says what it is doing
            click.echo(f"syndicate: {loaded.files_read} records read in "
                       f"{time.perf_counter() - started:.2f} s; rendering and writing...",
                       err=True)

    inputs = gather(config_path, out_dir=out_dir)
    replayed = None if no_cache else replay(inputs, strict=strict)
    if replayed is not None:
        report_problems(replayed.problems[:replayed.early])
        seconds = time.perf_counter() - started
        data = summary(replayed.tally, replayed.problems, seconds, unchanged=replayed.artifacts)
        _finish(replayed.problems, shown, data, seconds, strict=strict, quiet=quiet,
                verbose=verbose, as_json=as_json, up_to_date=True)
        return
    from .build import build  # rendering's modules load only when there is work

    try:
        result = build(config_path, out_dir=out_dir, strict=strict, on_loaded=on_loaded,
                       jobs=jobs, progress=progress, use_cache=not no_cache, inputs=inputs)
    except RecordError as exc:
        # The problems were printed as they were found; add only what --strict found later.
        extra = [p for p in exc.problems if p not in shown]
        if as_json:
            _emit_json({"ok": False, "problems": [_problem_json(p) for p in exc.problems],
                        "error": str(exc)})
            raise click.exceptions.Exit(EXIT_FAILED) from None
        print_problems(extra)
        raise click.ClickException(f"{exc!s}; nothing was written") from None
    seconds = time.perf_counter() - started
    report = result.report
    data = summary(result.tally, result.problems, seconds, written=len(report.written),
                   unchanged=len(report.unchanged), removed=len(report.removed))
    _finish(result.problems, shown, data, seconds, strict=strict, quiet=quiet, verbose=verbose,
            as_json=as_json, written=report.written, removed=report.removed)


def _finish(problems: list[Problem], shown: list[Problem], data: dict[str, Any], seconds: float,
            *, strict: bool, quiet: bool, verbose: bool, as_json: bool, up_to_date: bool = False,
            written: Sequence[str] = (), removed: Sequence[str] = ()) -> None:
    """Print the problems not shown yet, then the build's summary (as text or JSON)."""
    late = [p for p in visible(problems, strict=strict) if p not in shown]
    if as_json:
        # up_to_date: nothing changed since the last build, so nothing was loaded or rendered.
        _emit_json({"ok": True, **data, "up_to_date": up_to_date,
                    "problems": [_problem_json(p) for p in shown + late]})
        return
    print_problems(late)
    if verbose and not quiet:
        if up_to_date:
            click.echo("  nothing changed since the last build; nothing was loaded or rendered")
        for path in written:
            click.echo(f"  wrote {path}")
        for path in removed:
            click.echo(f"  removed {path}")
    if not quiet:
        click.echo(
            f"syndicate: {data['records']} records read, {data['skipped']} skipped, "
            f"{data['drafts']} drafts; {data['written']} files written, {data['unchanged']} "
            f"unchanged, {data['removed']} removed in {seconds:.2f} s")


@main.command("check")
@config_option
@strict_option
@quiet_option
@json_option
@handle_errors
def check_command(config_path: str, strict: bool, quiet: bool, as_json: bool) -> None:
    """Check the config and every record; write nothing."""
    from .build import load

    started = time.perf_counter()
    loaded = load(config_path)
    problems = visible(loaded.problems, strict=strict)
    failed = any(p.severity == "error" for p in problems) or (strict and bool(problems))
    data = summary(loaded.tally, loaded.problems, time.perf_counter() - started)
    if as_json:
        _emit_json({"ok": not failed, **data, "problems": [_problem_json(p) for p in problems]})
    else:
        print_problems(problems)
        if not quiet:
            click.echo(f"syndicate: {data['records']} records checked, {data['errors']} "
                       f"errors, {data['warnings']} warnings")
    if failed:
        sys.exit(EXIT_FAILED)


class DigestDay(click.ParamType):
    """A digest date: YYYY-MM-DD, or "today" (the wall clock, in the site's time zone)."""

    name = "YYYY-MM-DD|today"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date | str:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if text.lower() == "today":
            return "today"
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            self.fail(f'"{value}" is not a date as YYYY-MM-DD, or "today"', param, ctx)
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(f'"{value}" is not a real date (YYYY-MM-DD)', param, ctx)


@main.command("digest")
@click.option("--date", "day", type=DigestDay(), default=None, metavar="YYYY-MM-DD|today",
              help="The digest's date (YYYY-MM-DD), or \"today\" by the wall clock. "
                   "Default: the next send after the newest article, as `build` writes it.")
@config_option
@out_option
@strict_option
@quiet_option
@handle_errors
def digest_command(day: date | str | None, config_path: str, out_dir: str | None,
                   strict: bool, quiet: bool) -> None:
    """Write the e-mail digest for one day: digest/D.html, D.txt and D.eml in the output
    folder, adding to it and removing nothing.

    The digest for D holds the top stories published in the [digest] window_hours before
    [digest] send_at on D. Exit code 3 (and no files) when that window has no stories.
    """
    from .build import write_digest

    shown: list[Problem] = []

    def report_problems(loaded: Loaded) -> None:
        shown.extend(visible(loaded.problems, strict=strict))
        print_problems(shown)

    try:
        result = write_digest(config_path, day=day, out_dir=out_dir, strict=strict,
                              on_loaded=report_problems)
    except RecordError as exc:
        print_problems([p for p in exc.problems if p not in shown])
        raise click.ClickException(f"{exc!s}; nothing was written") from None
    print_problems([p for p in visible(result.problems, strict=strict) if p not in shown])
    if result.empty:
        when = result.day.isoformat() if result.day else "this site (no articles)"
        if not quiet:
            click.echo(f"syndicate: no new stories for the digest of {when}; nothing written")
        raise click.exceptions.Exit(EXIT_NO_NEWS)
    if not quiet:
        files = result.report.written + result.report.unchanged
        eml = next((path for path in files if path.endswith(".eml")), files[0])
        click.echo(f"syndicate: digest for {result.day}: {result.loaded.config.out_dir / eml} "
                   f"({len(result.report.written)} files written, "
                   f"{len(result.report.unchanged)} unchanged)")


@main.command("send")
@click.argument("eml", type=click.Path(dir_okay=False))
@click.option("--to", "recipients_csv", required=True, type=click.Path(dir_okay=False),
              help="Recipients: a UTF-8 CSV file with the header row email,name.")
@config_option
@click.option("--dry-run", is_flag=True, help="Connect to nothing; list who would get it.")
@click.option("--resend-unconfirmed", is_flag=True,
              help="Also resend to recipients whose delivery was cut off after the whole "
                   "message went out (same Message-ID, so receivers can drop a duplicate).")
@json_option
@quiet_option
@handle_errors
def send_command(eml: str, recipients_csv: str, config_path: str, dry_run: bool,
                 resend_unconfirmed: bool, as_json: bool, quiet: bool) -> None:
    """Send a digest .eml to each recipient, resuming an interrupted run.

    Each recipient gets their own copy (To, unsubscribe link, Message-ID). A journal beside
    the .eml (EML.journal.sqlite) records every delivery, so running the same command again
    sends only to those not yet served.

    \b
    Exit codes:
      0  every recipient was sent to (or nothing was left to send)
      4  some recipients failed or were not attempted; rerun to continue
      5  could not start: bad config, missing environment variable, unreadable
         .eml or CSV, journal in use, or no connection to the server at all
    """
    from .mail import run  # smtplib and sqlite3 load only for this command

    sys.exit(run(config_path, eml, recipients_csv, dry_run=dry_run,
                 resend_unconfirmed=resend_unconfirmed, as_json=as_json, quiet=quiet))


@main.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@quiet_option
@handle_errors
def init_command(directory: str, quiet: bool) -> None:
    """Start a site in DIRECTORY: a commented config.toml, three example articles and a
    templates folder. Refuses to overwrite any file."""
    from .scaffold import init_site

    written = init_site(directory)
    if not quiet:
        for path in written:
            click.echo(f"  wrote {os.path.join(directory, path)}")
        step = "" if os.path.abspath(directory) == os.getcwd() else f"cd {directory} && "
        click.echo(f"syndicate: {len(written)} files written; next: {step}syndicate serve")


@main.command("serve")
@config_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; loopback only unless --allow-remote.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one.")
@click.option("--allow-remote", is_flag=True,
              help="Allow a --host that other machines can reach (a preview server is not "
                   "hardened for the internet).")
@quiet_option
@click.option("-v", "--verbose", is_flag=True, help="Also print every request.")
@handle_errors
def serve_command(config_path: str, host: str, port: int, allow_remote: bool, quiet: bool,
                  verbose: bool) -> None:
    """Build, serve the output folder, and rebuild and reload the browser on every change
    to the records, the config or the templates. Ctrl-C stops."""
    from .serve import is_loopback, serve

    if not allow_remote and not is_loopback(host):
        raise click.BadParameter(f"{host} is not a loopback address; add --allow-remote to "
                                 "serve other machines", param_hint="--host")
    serve(config_path, host=host, port=port, quiet=quiet, verbose=verbose, log=_log_line)


def _log_line(line: str, kind: str) -> None:
    """Print a line from a long-running command: news to stdout, problems to stderr."""
    click.secho(line, err=kind != "info", **_colour(kind))


@main.command("import")
@click.argument("source")
@click.option("--to", "to_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to write one .json record per item into (your records folder).")
@click.option("--format", "source_format", default="auto", show_default=True,
              type=click.Choice(["auto", "rss", "atom", "jsonfeed", "wxr"]),
              help="What SOURCE is; auto looks at its content.")
@click.option("--force", is_flag=True,
              help="Replace record files that exist with different content.")
@click.option("--section", default=None,
              help="Section of every imported record (default: from the source's categories).")
@click.option("--canonical", is_flag=True,
              help="Keep each item's link as canonical_url (when its home stays elsewhere).")
@quiet_option
@json_option
@handle_errors
def import_command(source: str, to_dir: str, source_format: str, force: bool,
                   section: str | None, canonical: bool, quiet: bool, as_json: bool) -> None:
    """Import an RSS 2.0, Atom 1.0 or JSON Feed file or URL, or a WordPress export (WXR),
    as article records, one .json file per item. Importing again changes nothing."""
    from .importers import import_source

    result = import_source(source, to_dir, source_format=source_format, force=force,
                           section=section, canonical=canonical)
    if as_json:
        _emit_json({"ok": not result.refused, **result.summary(),
                    "problems": [_problem_json(p) for p in result.problems]})
    else:
        print_problems(result.problems)
        if not quiet:
            click.echo(result.summary_line())
    if result.refused:
        sys.exit(EXIT_FAILED)


def _problem_json(problem: Problem) -> dict[str, str]:
    return {"file": problem.where, "field": problem.field, "message": problem.message,
            "severity": problem.severity}


def _emit_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))


def run() -> NoReturn:
    """The `syndicate` console script: the CLI, then a quick way out of the process.

    A build holds millions of objects until it ends, and an interpreter that shuts down
    frees them one by one: two seconds after loading 100,000 articles, for memory the
    operating system takes back at once. So once a command has finished, the exit handlers
    run (worker pools, open files, logging) and the output is flushed as on a normal exit,
    and the process then ends without tearing its heap down. An unexpected exception still
    ends the normal way, with its traceback.
    """
    try:
        main()
        status = EXIT_OK
    except SystemExit as leaving:
        status = _exit_status(leaving.code)
    atexit._run_exitfuncs()  # what the interpreter's own shutdown runs first
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            status = status or EXIT_FAILED
    os._exit(status)


def _exit_status(code: object) -> int:
    """Return the status sys.exit(code) gives: 0 for None, the number, else print it and 1."""
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    run()
