"""Compare source trees on the ranking benchmark, run by run, alternating, in one sitting.

    python bench/ab_rank.py [--sizes 10000 100000] [--rounds 10] [--repeat 3] [--cpu 1]
                            TREE [TREE ...]

Each TREE is a folder holding a `syndicate` package and `bench/bench_rank.py` (a
`git worktree add /tmp/old <commit>`, or the repository itself). On this VM the same tree's
100,000/10,000 ratio moves between 11.4x and 13.4x from one `bench_rank.py` run to the next,
more than most changes to the ranking are worth. Two trees run side by side, one per core,
share the memory bus and the L3 cache, and each slows the other unevenly. Here each tree gets a
worker process for each size, which makes its corpus once (`bench_rank.make_site`, the same
seed) and then, whenever asked, times `related_all()` on a fresh Site `--repeat` times back to
back and answers with the fastest, as `bench_rank.py --way all` does, index build included.
Back to back, because a run that starts after its process waited is slower: 10,000 stories
took 0.18-0.21 s (median 0.196 s) run after run, 0.18-0.24 s (median 0.232 s) each after a
2.5 s sleep, and one worker per size answering once per turn gave a median of 0.33 s.
Only one worker runs at a time, all on the same core, and the trees take turns within each
round, in an order that alternates (ABBA), so that the VM's drift falls on all of them alike.

Reported per tree and size: the fastest and the median of the rounds' figures; per tree,
the ratio of the largest size to the smallest, fastest against fastest and as the median of
the rounds' ratios; and per size, each tree's figure over the first tree's, as the median of
the rounds' ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

# What each worker runs: TREE SIZE CPU on its command line, then a number on stdin for each
# round, answered with the fastest of that many related_all() runs, each on a fresh Site.
# The timing is the tree's own bench_rank.time_related, so that each tree is timed as its
# bench_rank.py would time it.
WORKER = """
import gc, os, sys
tree, size, cpu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if cpu >= 0:
    os.sched_setaffinity(0, {cpu})
sys.path[:0] = [tree, tree + "/bench"]
import bench_rank
made = bench_rank.make_site(size, 4)
print("ready", flush=True)
for line in sys.stdin:
    runs = []
    for _ in range(int(line)):
        seconds, _, _, links = bench_rank.time_related(made, "all")
        runs.append(seconds)
        gc.collect()
    print(f"{min(runs):.6f} {links}", flush=True)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs back to back in each round; the fastest counts")
    parser.add_argument("--cpu", type=int, default=1, help="the core to run on (-1: any)")
    args = parser.parse_args(argv)
    trees = [str(tree.resolve()) for tree in args.trees]
    # By (place in `trees`, size): the same tree may be given twice, to see the noise alone.
    workers = {(place, size): subprocess.Popen(
        [sys.executable, "-c", WORKER, tree, str(size), str(args.cpu)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for place, tree in enumerate(trees) for size in args.sizes}
    try:
        for (place, size), worker in workers.items():
            if worker.stdout.readline().strip() != "ready":
                raise SystemExit(f"{trees[place]}: the worker for {size:,} did not start")
        seconds, links = _rounds(workers, args.sizes, args.rounds, max(1, args.repeat))
    finally:
        for worker in workers.values():
            worker.stdin.close()
            worker.wait()
            worker.stdout.close()
    small, large = args.sizes[0], args.sizes[-1]
    for place, tree in enumerate(trees):
        for size in args.sizes:
            runs, found = seconds[(place, size)], "/".join(sorted(links[(place, size)]))
            print(f"{tree}: {size:>7,} articles: fastest {min(runs):.3f} s, median "
                  f"{statistics.median(runs):.3f} s, links {found}")
        if small != large:
            rounds = [b / a for a, b in zip(seconds[(place, small)], seconds[(place, large)],
                                            strict=True)]
            print(f"{tree}: ratio {large:,}/{small:,}: "
                  f"{min(seconds[(place, large)]) / min(seconds[(place, small)]):.2f}x fastest "
                  f"against fastest, {statistics.median(rounds):.2f}x median of the rounds")
    for place, tree in enumerate(trees[1:], 1):
        for size in args.sizes:
            paired = [b / a for a, b in zip(seconds[(0, size)], seconds[(place, size)],
                                            strict=True)]
            print(f"{tree} against {trees[0]}, {size:,}: {statistics.median(paired):.3f}x "
                  "(median of the rounds)")
    return 0


def _rounds(workers: dict[tuple[int, int], subprocess.Popen], sizes: list[int], rounds: int,
            repeat: int) -> tuple[dict[tuple[int, int], list[float]],
                                  dict[tuple[int, int], set[str]]]:
    """Return each round's figure and the links found, by (tree's place, size)."""
    seconds: dict[tuple[int, int], list[float]] = {cell: [] for cell in workers}
    links: dict[tuple[int, int], set[str]] = {cell: set() for cell in workers}
    places = sorted({place for place, _ in workers})
    for round_number in range(rounds):
        for place in places if round_number % 2 == 0 else places[::-1]:
            for size in sizes:
                worker = workers[(place, size)]
                worker.stdin.write(f"{repeat}\n")
                worker.stdin.flush()
                taken, found = worker.stdout.readline().split()
                seconds[(place, size)].append(float(taken))
                links[(place, size)].add(found)
    return seconds, links


if __name__ == "__main__":
    sys.exit(main())
