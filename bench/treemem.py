"""Run one command and report its wall time and the peak memory of its process tree.

Usage: python bench/treemem.py [--every 0.1] -- COMMAND [ARGS...]

The runner (bench/run.py) reports RSS, which counts a page shared by a parent and its forked
workers once in each of them. This samples /proc/<pid>/smaps_rollup of every process in the
tree instead and reports the peaks of the summed RSS, of the summed PSS (a shared page split
between the processes that map it: the memory the tree really holds) and of the largest
single process's RSS. Reading smaps_rollup walks each process's page tables, so sample no
more often than the build can spare (the default 0.1 s costs a few percent of a core).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time


def tree_pids(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    pids, pending = [], [root]
    while pending:
        pid = pending.pop()
        pids.append(pid)
        pending.extend(children.get(pid, ()))
    return pids


def tree_memory(root: int) -> tuple[int, int, int]:
    """Return (summed RSS, summed PSS, largest RSS) of the tree in KiB."""
    rss = pss = largest = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Rss:"):
                        value = int(line.split()[1])
                        rss += value
                        largest = max(largest, value)
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            continue  # the process ended between the listing and the read
    return rss, pss, largest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=float, default=0.1, help="seconds between samples")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    peaks = [0, 0, 0]
    done = threading.Event()
    started = time.perf_counter()
    child = subprocess.Popen(command)

    def sample() -> None:
        while not done.wait(args.every):
            for number, value in enumerate(tree_memory(child.pid)):
                peaks[number] = max(peaks[number], value)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = child.wait()
    done.set()
    sampler.join()
    rss, pss, largest = (value // 1024 for value in peaks)
    print(f"wall {time.perf_counter() - started:.2f} s, exit {code}; peak tree RSS {rss:,} MB, "
          f"tree PSS {pss:,} MB, largest process {largest:,} MB")
    return code


if __name__ == "__main__":
    sys.exit(main())
