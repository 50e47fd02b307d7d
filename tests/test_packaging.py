"""The wheel ships the default templates, and the code finds them there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_contains_the_templates(tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path),
         str(ROOT)], capture_output=True, text=True, check=False)
    assert process.returncode == 0, process.stderr[-2000:]
    (wheel,) = tmp_path.glob("syndicate-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*")
                       if p.is_file())
    assert templates, "the repo has default templates"
    for template in templates:
        assert f"syndicate/{template}" in names
    assert "syndicate/cli.py" in names
