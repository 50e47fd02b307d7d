"""Media: copies every local image that a published article, the logo or the favicon uses
from the records folder to `[output] media_path` in out/. Always runs: feeds, pages and the
digest all point at these files. Reads `[output] media_path` and `[site] logo, favicon`."""

from __future__ import annotations

from ..model import Artifact
from ..site import Site
from . import RenderContext


def local_files(site: Site) -> set[str]:
    """Return every local image path (below the records folder) that the site uses."""
    used = {image.local for image in (site.logo, site.favicon) if image and image.local}
    for article in site.articles:
        for image in article.images:
            if image.local:
                used.add(image.local)
            used.update(source.local for source in image.sources if source.local)
    return used


def render(site: Site, ctx: RenderContext) -> list[Artifact]:
    records = site.config.records_dir
    prefix = site.config.output.media_path.lstrip("/")
    return [Artifact(prefix + local, media_type="", source=records / local)
            for local in sorted(local_files(site))]
