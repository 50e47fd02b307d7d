"""The hand-run benchmarks in bench/ are scripts run from the repository root, so their
folder comes first on sys.path: a script named like a standard module hides it from every
script beside it (bench/profile.py hid `profile` from cProfile, and bench_rank.py failed)."""

from __future__ import annotations

import sys

from conftest import ROOT


def test_no_bench_script_hides_a_standard_module():
    scripts = {path.stem for path in (ROOT / "bench").glob("*.py")}
    assert scripts, "bench/ has scripts"
    assert not scripts & set(sys.stdlib_module_names)
