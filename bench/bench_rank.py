"""Time related() for every article of a synthetic corpus, at 10,000 and 100,000 articles.

Usage: python bench/bench_rank.py [--sizes 10000 100000] [--years 3] [--seed 4] [--repeat 3]
                                  [--way all,one] [--profile]

The corpus is generated in memory from a seeded random.Random (no files, no wall clock in
the data): 8 sections of skewed size, tags drawn from a Zipf-like vocabulary of 3,000 tags
(2 to 6 distinct tags each), publication times spread uniformly over `--years` (three by
default, the same span at every size, so that ten times the articles is ten times as many a
day; give one span per size, say `--years 3 30`, to keep the daily rate instead). Two ways
are timed: `related_all()`, every list at once (syndicate.rankbatch, what a build uses), and
`related()` called once per article. Each covers the index build and every list, on one core;
each size is timed `--repeat` times on a fresh Site, the sizes in turn round by round, and
the fastest run counts (as timeit does: other processes only ever add time); the ratio is
given fastest against fastest and round by round.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import pstats
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path

# Measure the working tree this file sits in, whatever copy of syndicate is installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syndicate.config import Config
from syndicate.model import Article
from syndicate.rank import prepare, related, related_all
from syndicate.site import Site, build_site

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
        articles.append(Article(
            id=f"story-{number:06d}",
            title=f"{words.capitalize()} {number}",
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


def time_related(site: Site, way: str) -> tuple[float, float, float, int]:
    """Return the seconds taken to find every article's related stories, `way` "all"
    (related_all) or "one" (related() per article), index build included (wall clock, then
    CPU time of this process), the seconds of the index build alone, and the number of
    related links found."""
    site = dataclasses.replace(site)  # A new Site object: nothing cached yet.
    started, started_cpu = time.perf_counter(), time.process_time()
    if way == "all":
        prepare(site)  # the index alone: related_all reads no more of it
    else:
        related(site, site.articles[0])  # the index, and what one query reads of it
    built = time.perf_counter() - started
    if way == "all":
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
    for _ in range(max(1, args.repeat)):
        for site, size_runs in zip(sites, runs, strict=True):
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            size_runs.append(time_related(site, way))
            gc.collect()
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)
    for size, years, size_runs in zip(args.sizes, spans, runs, strict=True):
        seconds, cpu, built, links = min(size_runs)
        print(f"{name}: {size:>7,} articles over {years:g} years "
              f"{seconds:7.2f} s "
              f"({seconds / size * 1e6:6.1f} us/article; CPU {cpu:.2f} s; index build "
              f"{built:.2f} s; {links / size:.2f} links/article; fastest of "
              f"{', '.join(f'{run[0]:.2f}' for run in size_runs)} s)")
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
