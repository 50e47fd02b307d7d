"""Coverage-guided fuzzing (atheris) of the record parser and the front-matter splitter.

Run by hand; not part of the test suite:

    pip install atheris
    python fuzz/fuzz_records.py -max_total_time=600 fuzz/corpus     # seeds: the example site

The target feeds arbitrary bytes through both file readers (JSON and Markdown front matter)
and every field check. Anything but a clean result or a reported problem is a crash: an
exception escaping, an article without a title or time zone, or script left in a body.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from syndicate.config import config_from_dict
    from syndicate.media import MediaResolver
    from syndicate.records import parse_record, parse_record_bytes, split_front_matter

CONFIG = config_from_dict({"site": {"title": "Fuzz", "base_url": "https://fuzz.example/"}},
                          root=Path(__file__).resolve().parent)
MEDIA = MediaResolver(CONFIG)


def test_one_input(raw: bytes) -> None:
    markdown = bool(raw[:1]) and raw[0] & 1 == 1
    with contextlib.suppress(ValueError):  # "must start with a +++ line" is an answer
        split_front_matter(raw.decode("utf-8", "replace"))
    data, problems = parse_record_bytes(raw, "fuzz", markdown=markdown)
    if data is None:
        assert problems, "a rejected file must say why"
        return
    article, problems = parse_record(data, "fuzz", "fuzz", CONFIG, MEDIA, markdown=markdown)
    if article is None:
        assert any(p.severity == "error" for p in problems)
        return
    assert article.title and article.published.tzinfo is not None
    assert "<script" not in article.body_html.lower()


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
