"""Write a deterministic, realistic corpus of article records for the build benchmarks.

    python bench/corpus.py 10000 bench/corpus/10k      # config.toml + articles/ in that folder

About 8 sections of skewed size, tags from a Zipf-like vocabulary of 3,000, 300-1,500-word
bodies, 0-3 images (remote, with sizes, so that no image files are needed), about 3% Markdown,
a few multi-author bylines and pinned related stories. The same N always gives the same bytes.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

SECTIONS = [("World", 30), ("Politics", 20), ("Business", 16), ("Sport", 12),
            ("Science", 8), ("Culture", 6), ("Opinion", 5), ("Travel", 3)]
SYLLABLES = ["har", "bour", "tide", "mar", "ket", "ferry", "coun", "cil", "vote", "stone",
             "quay", "light", "north", "ald", "mere", "salt", "marsh", "wind", "field", "bay"]
WORDS = ("the council said on tuesday that the harbour plan would go ahead after a long "
         "debate about costs ferry crews and dock workers met late into the night to agree "
         "terms for a new contract while residents asked for more buses and safer crossings "
         "scientists measured the tide and found the water warmer than last year a spokesperson "
         "for the ministry declined to comment further market traders welcomed the decision "
         "but warned that prices would rise before the summer season begins in earnest").split()
AUTHORS = [f"{first} {last}" for first, last in itertools.product(
    ["Ana", "Ben", "Cleo", "Dev", "Ewa", "Femi", "Gus", "Hana", "Ivo", "Jun"],
    ["Alves", "Brook", "Castel", "Drake", "Eld", "Frost", "Grey", "Holm"])]
VOCABULARY = 3000
START = datetime(2023, 1, 1, tzinfo=timezone.utc)
CONFIG = """\
[site]
title = "Benchmark Bulletin"
base_url = "https://bench.example.org/"
language = "en"
timezone = "UTC"
description = "A generated corpus for benchmarks."
"""


def tag_name(rank: int) -> str:
    rng = random.Random(rank)
    return "".join(rng.choice(SYLLABLES) for _ in range(2 + rank % 3)).title() + f" {rank}"


def zipf_cumulative(size: int, exponent: float = 1.1) -> list[float]:
    weights = [1 / (rank ** exponent) for rank in range(1, size + 1)]
    return list(itertools.accumulate(weights))


def paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def article(index: int, count: int, rng: random.Random, cumulative: list[float]) -> dict:
    section = rng.choices([s for s, _ in SECTIONS], weights=[w for _, w in SECTIONS])[0]
    published = START + timedelta(minutes=int(index * (3 * 365 * 24 * 60) / count))
    tags = set()
    for _ in range(rng.randint(2, 6)):
        rank = bisect.bisect(cumulative, rng.random() * cumulative[-1])
        tags.add(tag_name(min(rank, VOCABULARY - 1) + 1))
    words = rng.randint(300, 1500)
    paragraphs, left = [], words
    while left > 0:
        size = min(left, rng.randint(40, 120))
        paragraphs.append(paragraph(rng, size))
        left -= size
    images = [{"src": f"https://img.bench.example.org/{index}/{n}.jpg",
               "alt": f"Picture {n} for story {index}", "caption": paragraph(rng, 12),
               "credit": "Picture: Bench Agency", "width": 1200, "height": 675}
              for n in range(rng.choice([0, 1, 1, 1, 2, 3]))]
    record = {
        "id": f"s{index:06d}",
        "title": paragraph(rng, rng.randint(6, 12))[:-1],
        "published": published.isoformat(),
        "section": section,
        "authors": rng.sample(AUTHORS, 1 if rng.random() < 0.9 else 2),
        "tags": sorted(tags),
        "priority": rng.choice([0, 0, 0, 0, 1, 2, 3, 5, 8]),
        "images": images,
        "paragraphs": paragraphs,
    }
    if index > 10 and rng.random() < 0.05:
        record["related"] = [f"s{rng.randrange(index):06d}" for _ in range(2)]
    if rng.random() < 0.1:
        record["updated"] = (published + timedelta(hours=rng.randint(1, 30))).isoformat()
    return record


def to_json(record: dict) -> str:
    body = "".join(f"<p>{p}</p>\n" for p in record.pop("paragraphs"))
    return json.dumps({**record, "body": body}, indent=1) + "\n"


def to_markdown(record: dict) -> str:
    lines = ["+++"]
    for key in ("id", "title", "published", "updated", "section", "priority"):
        if key in record:
            lines.append(f"{key} = {json.dumps(record[key])}")
    for key in ("authors", "tags", "related"):
        if key in record:
            lines.append(f"{key} = {json.dumps(record[key])}")
    for image in record["images"]:
        lines.append("[[images]]")
        lines.extend(f"{k} = {json.dumps(v)}" for k, v in image.items())
    lines.append("+++")
    return "\n".join(lines) + "\n" + "\n\n".join(record["paragraphs"]) + "\n"


def write_corpus(count: int, target: Path) -> None:
    """Write config.toml and `count` records below `target`."""
    rng = random.Random(count)
    cumulative = zipf_cumulative(VOCABULARY)
    articles = target / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    (target / "config.toml").write_text(CONFIG, encoding="utf-8")
    for index in range(count):
        record = article(index, count, rng, cumulative)
        folder = articles / record["section"].lower() / record["published"][:7]
        folder.mkdir(parents=True, exist_ok=True)
        if rng.random() < 0.03:
            (folder / f"{record['id']}.md").write_text(to_markdown(record), encoding="utf-8")
        else:
            (folder / f"{record['id']}.json").write_text(to_json(record), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("target", type=Path)
    args = parser.parse_args()
    write_corpus(args.count, args.target)


if __name__ == "__main__":
    main()
