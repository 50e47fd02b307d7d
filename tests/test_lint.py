"""The whole repository passes ruff with the settings in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing_to_fix():
    process = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
                             capture_output=True, text=True, check=False, cwd=ROOT)
    assert process.returncode == 0, process.stdout[-4000:] + process.stderr[-2000:]
