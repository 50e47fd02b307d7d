"""A one-line progress display for terminals; callers show it only when stderr is a TTY."""

from __future__ import annotations

from collections.abc import Iterator

import click

from .model import Artifact, Staged
from .writer import RenderMany, Stage


class ProgressLine:
    """Redraw `label: done/total (percent)` in place on stderr."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = False

    def show(self, done: int, total: int) -> None:
        if total <= 0:
            return
        percent = 100 * done // total
        click.echo(f"\r{self.label}: {done:,}/{total:,} ({percent}%)\x1b[K", err=True, nl=False)
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)
            self.shown = False


def rendering_progress(render_many: RenderMany) -> RenderMany:
    """Wrap a renderer so that it redraws a progress line as each artifact is rendered."""

    def render(artifacts: list[Artifact], stage: Stage) -> Iterator[tuple[Artifact, Staged]]:
        line = ProgressLine("rendering")
        step = max(1, len(artifacts) // 200)
        try:
            for done, item in enumerate(render_many(artifacts, stage), 1):
                if done % step == 0 or done == len(artifacts):
                    line.show(done, len(artifacts))
                yield item
        finally:
            line.clear()

    return render
