"""The hand-run benchmarks in bench/ are scripts run from the repository root, so their
folder comes first on sys.path: a script named like a standard module hides it from every
script beside it (bench/profile.py hid `profile` from cProfile, and bench_rank.py failed)."""

from __future__ import annotations

import importlib
import re
import sys
from types import ModuleType

from conftest import ROOT


def _bench_script(name: str) -> ModuleType:
    """Import bench/NAME.py as the scripts run: with bench/ first on sys.path."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "bench"))


def test_no_bench_script_hides_a_standard_module():
    scripts = {path.stem for path in (ROOT / "bench").glob("*.py")}
    assert scripts, "bench/ has scripts"
    assert not scripts & set(sys.stdlib_module_names)


def test_bench_rank_breaks_a_run_down_into_steps_and_puts_rankbatch_back(capsys):
    # --steps wraps private methods of syndicate.rankbatch: a rename there must fail here,
    # not months later in a hand-run benchmark.
    bench_rank = _bench_script("bench_rank")
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


def test_ab_rank_times_each_tree_in_turn_and_reports_the_ratios(capsys):
    # The comparison runs bench_rank.make_site and rank.related_all in workers of its own: a
    # change to either that breaks it must fail here.
    ab_rank = _bench_script("ab_rank")
    assert ab_rank.main([str(ROOT), str(ROOT), "--sizes", "300", "600", "--rounds", "2",
                         "--repeat", "2", "--cpu", "-1"]) == 0
    printed = capsys.readouterr().out
    assert len(re.findall(r"articles: fastest [\d.]+ s, median [\d.]+ s, links \d+$",
                          printed, re.M)) == 4
    assert len(re.findall(r"ratio 600/300: [\d.]+x fastest against fastest", printed)) == 2
    assert len(re.findall(r"against .*: [\d.]+x \(median of the rounds\)$", printed, re.M)) == 2
