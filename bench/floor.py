"""What an add-one build cannot go below: rewriting the pages a new story must change.

    python bench/floor.py [--size 100000] [--section SLUG] [--jobs 2] [--runs 3] [--recycle]

A new story of a section changes the "Latest <Section> News" list on every article page of
that section (issue 4), so an incremental build rewrites all of them however little else it
does. This script rewrites exactly those files in the output folder the runner built for
`--size` (by default those of the section of the story the runner's add scenario copies), as
the writer does but with nothing rendered, planned or loaded: each page is read and hashed, its
bytes written to a temporary file and hashed, over `--jobs` processes, and then renamed over
the page by this process. The bytes are the page's own and the modification time is put back,
so the output folder (and its manifest) stays as the last build left it. With `--recycle`,
files are staged and replaced as the writer does since ddf3336: written into files an
earlier rewrite replaced (syndicate.recycle's pool in the output folder), and each replaced
page kept there for the next.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The runner sits beside this file, not in a package.
from records import parse_record
from run import WORK, ensure_corpus, record_files

from syndicate.recycle import FilePool
from syndicate.text import slugify

_PAGES: list[str] = []
_POOL: FilePool | None = None


def article_pages(out: Path, section: str) -> list[str]:
    """Return the article pages below out/<section>/ (not its list pages), sorted."""
    found = []
    for folder, _, names in os.walk(out / section):
        relative = Path(folder).relative_to(out / section).parts
        if "index.html" in names and relative and relative[0] not in ("page", "archive"):
            found.append(os.path.join(folder, "index.html"))
    return sorted(found)


def _stage(number: int) -> tuple[str, str, int]:
    page = _PAGES[number]
    with open(page, "rb") as handle:
        data = handle.read()
    hashlib.sha256(data).hexdigest()  # the writer checks the old bytes before splicing
    temp = os.path.join(os.path.dirname(page), f".floor-{os.getpid()}-{number}")
    descriptor = _POOL.open_reused(temp) if _POOL is not None else None
    if descriptor is None:
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(descriptor, data)
        os.ftruncate(descriptor, len(data))
    finally:
        os.close(descriptor)
    hashlib.sha256(data).hexdigest()  # and hashes the new ones for the manifest
    return temp, page, os.stat(page).st_mtime_ns


def rewrite(pages: list[str], jobs: int,
            recycled: FilePool | None) -> tuple[float, float]:
    """Rewrite the pages; return the seconds spent staging and renaming."""
    global _POOL
    _PAGES[:] = pages
    _POOL = recycled
    if recycled is not None:
        recycled.start_commit()
    started = time.perf_counter()
    with Pool(jobs) as pool:
        staged = pool.map(_stage, range(len(pages)), chunksize=64)
    renaming = time.perf_counter()
    for temp, page, mtime_ns in staged:
        if recycled is not None:
            recycled.keep(page)
        os.replace(temp, page)
        os.utime(page, ns=(mtime_ns, mtime_ns))
    return renaming - started, time.perf_counter() - renaming


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--section", help="a section's slug (default: the added story's)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--recycle", action="store_true",
                        help="stage into replaced files, as the writer does since ddf3336")
    args = parser.parse_args()
    out = WORK / str(args.size) / "syndicate" / "out"
    section = args.section
    if section is None:
        copied = record_files(ensure_corpus(args.size, regenerate=False))[f"s{args.size - 1:06d}"]
        section = slugify(parse_record(copied.read_text("utf-8"), copied.suffix)["section"])
    pages = article_pages(out, section)
    if not pages:
        raise SystemExit(f"floor: no article pages below {out / section}")
    totals = []
    for run in range(1, args.runs + 1):
        staging, renaming = rewrite(pages, args.jobs,
                                    FilePool(str(out)) if args.recycle else None)
        totals.append(staging + renaming)
        print(f"run {run}: {len(pages):,} pages of /{section}/ rewritten over "
              f"{args.jobs} processes in {totals[-1]:.2f} s (staging {staging:.2f} s, "
              f"renaming {renaming:.2f} s)", flush=True)
    print(f"median {statistics.median(totals):.2f} s")


if __name__ == "__main__":
    main()
