"""Profile one benchmark build with py-spy and print where its CPU time goes, by process.

    python bench/cpu_profile.py --size 100000 --scenario add [--rate 100] [--depth 9]
                            [--focus build] [--min 0.1] [--raw bench/work/add.txt]
    python bench/cpu_profile.py --read bench/work/add.txt [--focus Writer.commit]

The build is the runner's (bench/run.py): the same corpus, output folder, command and
change to the corpus. `cold` starts from nothing; `noop`, `add`, `edit` and `delete` first
bring the output up to date (untimed), then make the runner's change, profile the build, and
undo the change (through the runner's journal, so that an interrupted profile is undone by
the next run of either) and build again. py-spy (`pip install py-spy`, not a dependency of
the project) samples every process of the build at `--rate` Hz and keeps the raw stacks
(`--raw`); `--read` prints a file kept earlier.

The report is a tree per kind of process, the build's own (`parent`) and its forked workers
together (`workers`): seconds of CPU in each call path (py-spy counts no idle time), children
under their caller, largest first, down to `--min` seconds and `--depth` calls below the
`--focus` frame (the first frame whose name contains it; by default the build command).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The runner sits beside this file, not in a package.
from run import WORK, scenario_build

_FRAME = re.compile(r" \((?:.*/)?([^/]*?):\d+\)")


def profile(size: int, scenario: str, rate: int, raw: Path) -> None:
    """Run the scenario's build under py-spy, writing raw stacks to `raw`."""
    spy = shutil.which("py-spy")
    if spy is None:
        sys.exit("cpu_profile: py-spy is not installed (pip install py-spy)")
    raw.parent.mkdir(parents=True, exist_ok=True)
    with scenario_build(size, scenario) as (tool, build):
        subprocess.run([spy, "record", "-r", str(rate), "--subprocesses", "-f", "raw",
                        "-o", str(raw), "--", *build], cwd=tool.cwd, check=True)
    if scenario != "cold":
        subprocess.run(build, cwd=tool.cwd, check=True)  # up to date again, change undone


def call_paths(raw: Path, rate: int, focus: str) -> dict[str, Counter[tuple[str, ...]]]:
    """Return, for `parent` and `workers`, seconds by call path from the `focus` frame on."""
    paths: dict[str, Counter[tuple[str, ...]]] = {"parent": Counter(), "workers": Counter()}
    for line in raw.read_text("utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        processes = sum(frame.startswith("process ") for frame in frames)
        calls = [_FRAME.sub(r" [\1]", frame) for frame in frames
                 if not frame.startswith("process ")]
        start = next((n for n, frame in enumerate(calls) if focus in frame), None)
        if start is None:
            continue
        kind = "parent" if processes <= 1 else "workers"
        paths[kind][tuple(calls[start:])] += int(count)
    return {kind: Counter({path: samples / rate for path, samples in counter.items()})
            for kind, counter in paths.items()}


def tree(paths: Counter[tuple[str, ...]], depth: int, least: float) -> list[str]:
    """Return the lines of the call tree: inclusive seconds, indented by depth."""
    inclusive: Counter[tuple[str, ...]] = Counter()
    for path, seconds in paths.items():
        for end in range(1, min(len(path), depth) + 1):
            inclusive[path[:end]] += seconds
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for path in inclusive:
        children.setdefault(path[:-1], []).append(path)
    lines: list[str] = []

    def walk(parent: tuple[str, ...]) -> None:
        for path in sorted(children.get(parent, ()), key=lambda p: (-inclusive[p], p)):
            if inclusive[path] >= least:
                lines.append(f"{inclusive[path]:8.2f}  {'  ' * (len(path) - 1)}{path[-1]}")
                walk(path)

    walk(())
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--scenario", choices=["cold", "noop", "add", "edit", "delete"],
                        default="add")
    parser.add_argument("--rate", type=int, default=100, help="samples a second")
    parser.add_argument("--raw", type=Path, help="where to keep py-spy's raw stacks "
                        "(default bench/work/profile-<size>-<scenario>.txt)")
    parser.add_argument("--read", type=Path, help="print a raw file kept earlier; build nothing")
    parser.add_argument("--focus", default="build_command",
                        help="start each tree at the first frame whose name contains this")
    parser.add_argument("--depth", type=int, default=9, help="calls shown below the focus")
    parser.add_argument("--min", type=float, default=0.1, dest="least",
                        help="leave out call paths under this many seconds")
    args = parser.parse_args()
    raw = args.read or args.raw or WORK / f"profile-{args.size}-{args.scenario}.txt"
    if args.read is None:
        profile(args.size, args.scenario, args.rate, raw)
    for kind, paths in call_paths(raw, args.rate, args.focus).items():
        print(f"== {kind}: {sum(paths.values()):.2f} s of CPU from {args.focus!r}")
        print("\n".join(tree(paths, args.depth + 1, args.least)) or "   (no samples)")


if __name__ == "__main__":
    main()
