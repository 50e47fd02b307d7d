"""The hand-run benchmarks in bench/ are scripts run from the repository root, so their
folder comes first on sys.path: a script named like a standard module hides it from every
script beside it (bench/profile.py hid `profile` from cProfile, and bench_rank.py failed)."""

from __future__ import annotations

import re
import sys

from conftest import ROOT


def test_no_bench_script_hides_a_standard_module():
    scripts = {path.stem for path in (ROOT / "bench").glob("*.py")}
    assert scripts, "bench/ has scripts"
    assert not scripts & set(sys.stdlib_module_names)


def test_bench_rank_breaks_a_run_down_into_steps_and_puts_rankbatch_back(capsys):
    # --steps wraps private methods of syndicate.rankbatch: a rename there must fail here,
    # not months later in a hand-run benchmark.
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_rank
    finally:
        sys.path.remove(str(ROOT / "bench"))
    from syndicate import rankbatch, rankfinish

    def wrapped():
        return dict(vars(rankbatch._Batch)), dict(vars(rankbatch._Best)), rankfinish.finish

    before = wrapped()
    assert bench_rank.main(["--way", "all", "--repeat", "1", "--steps",
                            "--sizes", "300", "600"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("steps of the fastest run:") == 2
    pairs = re.findall(r"pairs scored: step 1 ([\d,]+), step 2 ([\d,]+) in streams and"
                       r" ([\d,]+) in pair lists$", printed, re.M)
    assert len(pairs) == 2
    assert all(int(n.replace(",", "")) > 0 for row in pairs for n in row[:2])
    assert wrapped() == before
