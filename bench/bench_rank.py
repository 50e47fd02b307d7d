"""Time related() for every article of a synthetic corpus, at 10,000 and 100,000 articles.

Usage: python bench/bench_rank.py [--sizes 10000 100000] [--years 3] [--seed 4] [--repeat 3]
                                  [--way all,one] [--profile] [--steps]

The corpus is generated in memory from a seeded random.Random (no files, no wall clock in
the data): 8 sections of skewed size, tags drawn from a Zipf-like vocabulary of 3,000 tags
(2 to 6 distinct tags each), publication times spread uniformly over `--years` (three by
default, the same span at every size, so that ten times the articles is ten times as many a
day; give one span per size, say `--years 3 30`, to keep the daily rate instead). Two ways
are timed: `related_all()`, every list at once (syndicate.rankbatch, what a build uses), and
`related()` called once per article. Each covers the index build and every list, on one core;
each size is timed `--repeat` times on a fresh Site, the sizes in turn round by round, and
the fastest run counts (as timeit does: other processes only ever add time); the ratio is
given fastest against fastest and round by round. With `--steps`, the fastest run of
`related_all()` at each size is also broken down into syndicate.rankbatch's steps, with the
pairs of stories each step scored (a count of work that does not drift with the VM).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import gc
import pstats
import random
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path

# Measure the working tree this file sits in, whatever copy of syndicate is installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syndicate import rankbatch
from syndicate.config import Config
from syndicate.model import Article
from syndicate.rank import prepare, related, related_all
from syndicate.site import Site, build_site
from syndicate.text import normalise_title

SECTIONS = ("World", "Politics", "Business", "Sport", "Culture", "Science", "Opinion", "Travel")
SECTION_WEIGHTS = (30, 22, 15, 11, 8, 6, 5, 3)
VOCABULARY = 3000
ZIPF_EXPONENT = 1.0
YEARS = 3
START = datetime(2023, 1, 1, tzinfo=timezone.utc)
WORDS = ("harbour", "council", "ferry", "budget", "storm", "festival", "minister", "derby",
         "border", "market", "turbine", "school", "river", "strike", "vote", "museum")


def corpus(size: int, seed: int, years: float = YEARS) -> list[Article]:
    """Return `size` articles drawn from a seeded generator, published over `years`."""
    rng = random.Random(seed)
    tag_names = [f"Tag {rank:04d}" for rank in range(1, VOCABULARY + 1)]
    tag_cumulative = list(accumulate(1.0 / rank ** ZIPF_EXPONENT
                                     for rank in range(1, VOCABULARY + 1)))
    section_cumulative = list(accumulate(SECTION_WEIGHTS))
    span_seconds = int(years * 365 * 86400)
    articles = []
    for number in range(size):
        wanted = rng.randint(2, 6)
        tags: list[str] = []
        while len(tags) < wanted:
            tag = rng.choices(tag_names, cum_weights=tag_cumulative)[0]
            if tag not in tags:
                tags.append(tag)
        published = START + timedelta(seconds=rng.randrange(span_seconds))
        words = " ".join(rng.choice(WORDS) for _ in range(4))
        title = f"{words.capitalize()} {number}"
        articles.append(Article(
            id=f"story-{number:06d}",
            title=title,
            # As syndicate.records makes it for every parsed record: a build never
            # normalises a headline while ranking.
            title_key=normalise_title(title),
            published=published,
            updated=published,
            section=rng.choices(SECTIONS, cum_weights=section_cumulative)[0],
            summary="",
            body_html="",
            source=f"articles/{number:06d}.json",
            tags=tuple(tags),
            priority=min(9, int(rng.expovariate(0.6))),
        ))
    return articles


def make_site(size: int, seed: int, years: float = YEARS) -> Site:
    config = Config()
    site, _ = build_site(config, corpus(size, seed, years), environ={})
    return site


# What --steps times: (a class of syndicate.rankbatch or a module it calls, the method or
# function, what to call it). `kept` holds step 1 (`_bars`), step 2 and `_tighten`, which
# holds `_radii` and `_clean`.
STEPS = (("_Batch", "__init__", "arrays"), ("_Batch", "_bars", "step 1"),
         ("_Batch", "kept", "kept"), ("_Batch", "_tighten", "tighten"),
         ("_Batch", "_radii", "radii"), ("_Batch", "_clean", "duplicates"),
         ("rankfinish", "finish", "step 3"), ("_Best", "add", "best-5 add"),
         ("_Best", "kth", "best-5 kth"))


@contextlib.contextmanager
def timed_steps(into: dict[str, float]) -> Iterator[None]:
    """Add up in `into`, while the block runs, the seconds spent in each of STEPS and the
    pairs of stories scored by step 1 ("pairs 1": those that count in the stream of the
    term they were met in, the others dropped unscored), read by step 2 in the terms' streams
    ("pairs 2") and read by step 2 at all ("pairs 2 read", the pair lists' too): each at 0
    until met (a site ranked one story at a time meets none)."""
    for _, _, label in STEPS:
        into.setdefault(label, 0.0)
    into.setdefault("pairs 1", 0)
    into.setdefault("pairs 2", 0)
    into.setdefault("pairs 2 read", 0)

    def timed(method, name):
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                into[name] += time.perf_counter() - started
        return run

    def counted_score(method):
        def run(self, story, other, slot, cut=None, *rest):
            if cut is not None:  # step 2's
                into["pairs 2"] += story.size
            return method(self, story, other, slot, cut, *rest)
        return run

    def counted_exact(method):
        def run(self, story, other, distance, slot, cut):
            if cut is None:  # step 1's (step 2 scores its pairs here too)
                into["pairs 1"] += story.size
            return method(self, story, other, distance, slot, cut)
        return run

    def read(method):
        # Step 2 alone reads through _reads: its streams (also counted as _score's pairs,
        # subtracted in step_line) and the pair lists.
        def run(low, high, posting):
            for which, other in method(low, high, posting):
                into["pairs 2 read"] += which.size
                yield which, other
        return staticmethod(run)

    originals = {(getattr(rankbatch, owner), name): (getattr(rankbatch, owner).__dict__[name],
                                                     label) for owner, name, label in STEPS}
    score = rankbatch._Batch.__dict__["_score"]
    exact = rankbatch._Batch.__dict__["_exact"]
    reads = rankbatch._Batch.__dict__["_reads"]
    for (owner, name), (method, label) in originals.items():
        setattr(owner, name, timed(method, label))
    rankbatch._Batch._score = counted_score(score)
    rankbatch._Batch._exact = counted_exact(exact)
    rankbatch._Batch._reads = read(reads.__func__)
    try:
        yield
    finally:
        for (owner, name), (method, _) in originals.items():
            setattr(owner, name, method)
        rankbatch._Batch._score = score
        rankbatch._Batch._exact = exact
        rankbatch._Batch._reads = reads


def step_line(steps: dict[str, float]) -> str:
    """Return the --steps breakdown of one run: step 2 is what `kept` did besides step 1
    and `_tighten`."""
    step_2 = steps["kept"] - steps["step 1"] - steps["tighten"]
    shown = [("arrays", steps["arrays"]), ("step 1", steps["step 1"]), ("step 2", step_2),
             ("tighten", steps["tighten"]), ("of which radii", steps["radii"]),
             ("of which duplicates", steps["duplicates"]), ("step 3", steps["step 3"]),
             ("best-5 add", steps["best-5 add"]), ("best-5 kth", steps["best-5 kth"])]
    in_lists = steps["pairs 2 read"] - steps["pairs 2"]
    return (", ".join(f"{label} {seconds:.3f}" for label, seconds in shown)
            + f" s; pairs scored: step 1 {steps['pairs 1']:,}, step 2 {steps['pairs 2']:,}"
            f" in streams and {in_lists:,} in pair lists")


def time_related(site: Site, way: str,
                 steps: dict[str, float] | None = None) -> tuple[float, float, float, int]:
    """Return the seconds taken to find every article's related stories, `way` "all"
    (related_all) or "one" (related() per article), index build included (wall clock, then
    CPU time of this process), the seconds of the index build alone, and the number of
    related links found. With `steps`, rankbatch's steps are timed into it."""
    site = dataclasses.replace(site)  # A new Site object: nothing cached yet.
    started, started_cpu = time.perf_counter(), time.process_time()
    if way == "all":
        prepare(site)  # the index alone: related_all reads no more of it
    else:
        related(site, site.articles[0])  # the index, and what one query reads of it
    built = time.perf_counter() - started
    if way == "all":
        with timed_steps(steps) if steps is not None else contextlib.nullcontext():
            links = sum(map(len, related_all(site)))
    else:
        links = sum(len(related(site, article)) for article in site.articles)
    return (time.perf_counter() - started, time.process_time() - started_cpu, built, links)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--years", type=float, nargs="+", default=[YEARS],
                        help="the corpus' span in years: one for all sizes, or one per size")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3,
                        help="time each size this many times and keep the fastest run")
    parser.add_argument("--way", default="all,one",
                        help="all (related_all), one (related per article), or both")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the loop")
    parser.add_argument("--steps", action="store_true",
                        help="break the fastest related_all() run down into rankbatch's steps")
    args = parser.parse_args(argv)
    if len(args.years) not in (1, len(args.sizes)):
        parser.error("--years takes one span, or one per size")
    spans = args.years * len(args.sizes) if len(args.years) == 1 else args.years
    ways = args.way.split(",")
    if not set(ways) <= {"all", "one"}:
        parser.error("--way takes all, one or both")
    for way in ways:
        report(way, args, spans)
    return 0


def report(way: str, args: argparse.Namespace, spans: list[float]) -> None:
    """Time every size once per round, `--repeat` rounds: the VM's speed drifts by 20-30%
    within the hour, and sizes timed side by side drift together, so the ratio of each
    round is as telling as the ratio of the fastest runs."""
    name = "related_all()" if way == "all" else "related() for every article"
    sites = [make_site(size, args.seed, years) for size, years in zip(args.sizes, spans,
                                                                      strict=True)]
    runs: list[list[tuple[float, float, float, int]]] = [[] for _ in sites]
    steps: list[list[dict[str, float]]] = [[] for _ in sites]
    for _ in range(max(1, args.repeat)):
        for site, size_runs, size_steps in zip(sites, runs, steps, strict=True):
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            size_steps.append({})
            size_runs.append(time_related(site, way, size_steps[-1]
                                          if args.steps and way == "all" else None))
            gc.collect()
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)
    for size, years, size_runs, size_steps in zip(args.sizes, spans, runs, steps, strict=True):
        seconds, cpu, built, links = min(size_runs)
        print(f"{name}: {size:>7,} articles over {years:g} years "
              f"{seconds:7.2f} s "
              f"({seconds / size * 1e6:6.1f} us/article; CPU {cpu:.2f} s; index build "
              f"{built:.2f} s; {links / size:.2f} links/article; fastest of "
              f"{', '.join(f'{run[0]:.2f}' for run in size_runs)} s)")
        if args.steps and way == "all":
            fastest = size_runs.index(min(size_runs))
            print(f"    steps of the fastest run: {step_line(size_steps[fastest])}")
    if len(sites) >= 2:
        small, large = args.sizes[0], args.sizes[-1]
        fastest = min(runs[-1])[0] / min(runs[0])[0]
        rounds = sorted(big[0] / little[0] for little, big in zip(runs[0], runs[-1],
                                                                   strict=True))
        print(f"{name}: ratio {large:,}/{small:,}: {fastest:.2f}x fastest against fastest; "
              f"by round {', '.join(f'{r:.2f}x' for r in rounds)} "
              f"(median {statistics.median(rounds):.2f}x; linear would be {large / small:.0f}x)")


if __name__ == "__main__":
    sys.exit(main())
