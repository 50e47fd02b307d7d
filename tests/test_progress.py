"""Progress goes to a terminal only: a pipe (CI's log) never sees it."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_on_a_terminal(args: list[str]) -> str:
    leader, follower = pty.openpty()
    process = subprocess.Popen(args, stdin=follower, stdout=follower, stderr=follower,
                               env={**os.environ, "NO_COLOR": "1"})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait()
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_build_shows_progress_on_a_terminal_and_not_in_a_pipe(tmp_path):
    command = [sys.executable, "-m", "syndicate.cli", "build", "--config",
               str(ROOT / "config.toml"), "--out", str(tmp_path / "tty")]
    shown = run_on_a_terminal(command)
    assert "\rrendering: " in shown and "(100%)" in shown
    assert "files written" in shown
    piped = subprocess.run([*command[:-1], str(tmp_path / "pipe")], capture_output=True,
                           text=True, check=True)
    assert "rendering:" not in piped.stdout + piped.stderr
    assert "\r" not in piped.stdout + piped.stderr
