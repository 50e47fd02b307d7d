"""`syndicate send`: load the config, send, and report as text or JSON; return the exit code."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from ..config import load_config
from ..errors import ConfigError, Problem
from ..progress import ProgressLine
from .errors import CannotStart
from .send import SendReport, send

EXIT_CANNOT_START = 5


def run(config_path: str, eml: str, recipients_csv: str, *, dry_run: bool = False,
        resend_unconfirmed: bool = False, as_json: bool = False, quiet: bool = False) -> int:
    """Run one send from the command line; return 0, 4 (some failed) or 5 (could not start)."""

    bar = ProgressLine("sending") if not (as_json or quiet) and sys.stderr.isatty() else None

    def notify(kind: str, text: str) -> None:
        if kind == "progress":
            if bar is not None:
                bar.show(*map(int, text.split("/")))
            return
        if as_json:
            return
        if bar is not None:
            bar.clear()
        if kind == "info":
            if not quiet:
                click.echo(text)
        else:
            _problem_line(kind, text)

    try:
        config = load_config(config_path)
        report = send(config, eml, recipients_csv, dry_run=dry_run,
                      resend_unconfirmed=resend_unconfirmed, notify=notify)
    except ConfigError as exc:
        return _cannot_start(str(exc.problems[0]) if len(exc.problems) == 1
                             else f"{len(exc.problems)} problems in {exc.problems[0].where}",
                             exc.problems, as_json)
    except CannotStart as exc:
        return _cannot_start(str(exc), [], as_json)
    if as_json:
        _emit(report_json(report))
    else:
        _print_summary(report, quiet)
    return report.exit_code


def _problem_line(kind: str, text: str) -> None:
    colour = {} if os.environ.get("NO_COLOR") else {"fg": "red" if kind == "error" else "yellow"}
    click.secho(text, err=True, **colour)


def _cannot_start(message: str, problems: list[Problem], as_json: bool) -> int:
    if as_json:
        _emit({"ok": False, "exit_code": EXIT_CANNOT_START, "error": message,
               "problems": [_problem_json(p) for p in problems]})
        return EXIT_CANNOT_START
    if len(problems) > 1:
        for problem in problems:
            _problem_line("error", str(problem))
    _problem_line("error", f"Error: {message}; nothing was sent")
    return EXIT_CANNOT_START


def _plural(count: int, word: str, plural: str = "") -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def summary_line(report: SendReport) -> str:
    """Return the one-line summary: sent, skipped as already sent, failed, invalid."""
    if report.dry_run:
        head = f"dry run: {len(report.would_send)} would be sent"
    else:
        head = f"{report.sent} sent"
    parts = [head, f"{report.skipped} skipped as already sent"]
    if not report.dry_run:
        parts.append(f"{len(report.failed)} failed")
    parts.append(f"{len(report.invalid)} invalid")
    if report.duplicates:
        parts.append(_plural(len(report.duplicates), "duplicate"))
    if report.unconfirmed:
        parts.append(f"{len(report.unconfirmed)} unconfirmed")
    line = "syndicate: " + ", ".join(parts)
    return line + ("; nothing was sent" if report.dry_run else f"; journal {report.journal}")


def _print_summary(report: SendReport, quiet: bool) -> None:
    if report.unconfirmed:
        _problem_line("warning", f"{_plural(len(report.unconfirmed), 'recipient')} unconfirmed: "
                      "the whole message went out but no reply was recorded, so they are not "
                      "sent again (use --resend-unconfirmed to resend; their Message-ID stays "
                      "the same): " + ", ".join(report.unconfirmed[:10])
                      + (", ..." if len(report.unconfirmed) > 10 else ""))
    if report.stopped:
        _problem_line("error", f"stopped: {report.stopped}; "
                      f"{_plural(report.not_attempted, 'recipient')} not attempted; run the same "
                      "command again to continue")
    if not quiet:
        click.echo(summary_line(report))


def report_json(report: SendReport) -> dict[str, Any]:
    return {
        "ok": report.exit_code == 0, "exit_code": report.exit_code, "dry_run": report.dry_run,
        "journal": report.journal, "sent": report.sent, "skipped": report.skipped,
        "failed": len(report.failed), "invalid": len(report.invalid),
        "duplicates": len(report.duplicates), "unconfirmed": report.unconfirmed,
        "not_attempted": report.not_attempted, "stopped": report.stopped,
        "failures": [{"email": p.where, "reply": p.message} for p in report.failed],
        "problems": [_problem_json(p) for p in report.invalid + report.duplicates],
        "would_send": report.would_send, "warnings": report.warnings,
    }


def _problem_json(problem: Problem) -> dict[str, str]:
    return {"file": problem.where, "field": problem.field, "message": problem.message,
            "severity": problem.severity}


def _emit(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))
