"""Keep article bodies on disk beside the record cache, and read one when something shows it.

Bodies are most of what a build loads: at 100,000 articles, 540 MB of the parent's 1 GB of
records, and every render process that touches one keeps its own copy of the page it sits
on. Yet a body is read once per build at most (its page, and its feed entries when they
are made anew), and only for the articles whose outputs changed. So a build keeps each
parsed body in the blob store's "bodies" shelf (syndicate.blobstore: appended to a data
file, committed with the build, read with one `pread`), and the article holds a `BodyRef`
instead: the key, the length and whether it has a picture, which is all that the checks
made on every article need. The record cache then keeps articles without their bodies, so
its shards are small and quick to read (106 MB at 100,000 articles).

Nothing is trusted: a cached article whose body is not on the shelf is parsed again as the
build loads, and a body that fails its digest when read is parsed again from its record
file, provided the file still holds the bytes the article came from.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from . import records
from .blobstore import BlobStore, Shelf
from .config import Config
from .errors import BuildError
from .model import Article, BodyRef, replace_article
from .recordcache import Entry, cache_key

SHELF = "bodies"


class BodyShelf:
    """The bodies of one build's records, on the blob store's "bodies" shelf."""

    def __init__(self, store: BlobStore, config: Config) -> None:
        self.config = config
        # Bodies depend on what parsing reads, as the record cache does: the same scope.
        self.shelf: Shelf = store.shelf(SHELF, cache_key(config))

    def holds(self, entry: Entry) -> bool:
        """Whether the cached entry's body is on the shelf (kept for this build if so)."""
        article = entry.article
        if article is None:
            return True
        ref = article.body_ref
        if ref is None or ref.key not in self.shelf.slots:
            return False
        self.shelf.live.add(ref.key)
        return True

    def keep(self, shown: str, entry: Entry) -> Entry:
        """Put the freshly parsed entry's body on the shelf; return the entry with an
        article that refers to it."""
        article = entry.article
        if article is None or article.body_ref is not None:
            return entry
        key = f"{article.digest}:{shown}"
        body = article.body_html
        # Always written: the same file parsed again can give another body (an image it
        # names appeared), and the shelf keeps the last one under the key.
        self.shelf.add([(key, body.encode("utf-8", "surrogatepass"))])
        self.shelf.live.add(key)
        ref = BodyRef(key, len(body), "<img" in body)
        return dataclasses.replace(entry, article=replace_article(
            article, body_html="", body_ref=ref))

    def finish(self) -> None:
        """Close the data file written while loading (reads open their own)."""
        self.shelf.finish_writing()

    def read(self, article: Article) -> str:
        """Return the body the article refers to."""
        ref = article.body_ref
        if ref is None:
            return article.body_html
        data = self.shelf.stored(ref.key)
        if data is None:
            return self._parse_again(article)
        return data.decode("utf-8", "surrogatepass")

    def _parse_again(self, article: Article) -> str:
        """Return the body parsed anew from the record file (its kept copy is damaged)."""
        shown = article.source
        prefix = self.config.content.dir.rstrip("/") + "/"
        path = self.config.records_dir / Path(shown.removeprefix(prefix))
        entry = records.parse_file(self.config, path, shown)
        if entry.article is None or entry.digest != article.digest:
            raise BuildError(f"{shown} changed while the site was building; build again")
        return entry.article.body_html


__all__ = ["SHELF", "BodyShelf"]
