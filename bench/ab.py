"""Compare source trees build by build, alternating, on one of the runner's scenarios.

    python bench/ab.py [--size 100000] [--scenario add] [--rounds 3] TREE [TREE ...]

Each TREE is a folder holding a `syndicate` package (a `git worktree add /tmp/old <commit>`,
or the repository itself). The VM's speed drifts by 10-20% over an hour, more than most
changes are worth, so tables made at different times cannot tell two versions apart; this
measures them in one sitting instead. Each round builds once with every tree in turn: the
output is first brought up to date (untimed: the program changed, so the build is real),
then the runner's change is made (bench/run.py, journalled, so that an interrupted
comparison is undone by the next run of either), the build is timed, and the change is
undone. `cold` removes the output and caches instead. Each timed build reports its wall and
CPU seconds (user and system, of its whole process tree) and the wall seconds of its stages,
timed inside the build's process: gather, load, plan (outputs planned), commit (written) and
the whole command; the rest of the wall time is the interpreter starting and ending.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The runner sits beside this file, not in a package.
from run import SCENARIOS, scenario_build

MARK = "ab-stages "


def timed_build(tree: str, arguments: list[str]) -> None:
    """Run `syndicate ARGUMENTS` from `tree` in this process, printing its stages at exit."""
    sys.path.insert(0, tree)
    sys.argv = ["syndicate", *arguments]
    from syndicate import build, cli, inputs, writer

    stages: list[tuple[str, float]] = []

    def stage(owner: object, name: str, label: str) -> None:
        function = getattr(owner, name)

        @functools.wraps(function)
        def wrapped(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                stages.append((label, time.perf_counter() - started))

        setattr(owner, name, wrapped)

    stage(inputs, "gather", "gather")
    stage(build, "load_config_records", "load")
    stage(build, "render", "plan")
    stage(writer.Writer, "commit", "commit")
    started = time.perf_counter()
    ended: list[float] = []

    def report() -> None:
        figures = " ".join(f"{label}={seconds:.2f}" for label, seconds in stages)
        print(f"{MARK}{figures} command={ended[0] - started:.2f}", file=sys.stderr, flush=True)

    atexit.register(report)
    atexit.register(lambda: ended.append(time.perf_counter()))  # runs first: last in
    getattr(cli, "run", cli.main)()  # `run` ends the process itself, after the handlers


def build_once(tree: str, command: list[str], cwd: Path) -> dict[str, object]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--stages", tree, "--", *command[1:]],
                          cwd=cwd, stderr=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"ab: the build with {tree} failed:\n{done.stderr[-2000:]}")
    stages = next((line[len(MARK):] for line in done.stderr.splitlines()
                   if line.startswith(MARK)), "")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "stages": stages}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--stages":
        timed_build(sys.argv[2], sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", nargs="+")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--scenario", default="add", choices=[s for s in SCENARIOS
                                                              if s != "cold-jobs1"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict[str, object]]] = {tree: [] for tree in args.trees}
    for number in range(1, args.rounds + 1):
        for tree in args.trees:
            # Brought up to date by the same tree: a build by another program is a real one.
            with scenario_build(args.size, args.scenario,
                                functools.partial(build_once, tree)) as (tool, command):
                measured = build_once(tree, command, tool.cwd)
            results[tree].append(measured)
            print(f"round {number}, {tree}: {measured['wall']:.2f} s, CPU {measured['cpu']:.2f} s;"
                  f" {measured['stages']}", flush=True)
    for tree, runs in results.items():
        walls = [run["wall"] for run in runs]
        cpus = [run["cpu"] for run in runs]
        print(f"{tree}: median {statistics.median(walls):.2f} s "  # type: ignore[type-var]
              f"(CPU {statistics.median(cpus):.2f} s) over {len(runs)} rounds")  # type: ignore[type-var]


if __name__ == "__main__":
    main()
