"""Resolve record images: local files below the records folder are published under
`[output] media_path`; remote URLs are used as they are. Sizes are read from the file when
the record does not give them."""

from __future__ import annotations

import struct
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import quote, urljoin, urlsplit

from . import text
from .config import Config
from .model import Image, ImageSource
from .sources import FileState, file_state

MEDIA_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
    ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml",
}
MAX_DIMENSION = 20_000
MAX_IMAGES = 20


class Reporter(Protocol):
    def warn(self, field_name: str, message: str) -> None: ...


def image_size(path: Path) -> tuple[int, int] | None:
    """Return (width, height) from a PNG, GIF, JPEG or WebP header, or None."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
    except OSError:
        return None
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _webp_size(head)
    if head.startswith(b"\xff\xd8"):
        return _jpeg_size(head)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


class MediaResolver:
    """Turn a record's `images` into Image values, checking every local path it names."""

    def __init__(self, config: Config) -> None:
        self.records_dir = config.records_dir
        self.base_url = config.site.base_url.rstrip("/") + "/"
        self.media_path = config.output.media_path
        self._cache: dict[str, tuple[int, tuple[int, int] | None] | None] = {}
        # The state of every local path looked at, found or not, for the caches that must
        # notice when one changes (syndicate.recordcache, syndicate.stamp).
        self.probed: dict[str, FileState] = {}

    def local_file(self, src: str) -> str | None:
        """Return `src` as a safe path below the records folder, or None if it is not one."""
        if src.startswith("/") or "\\" in src or "\x00" in src:
            return None
        parts = PurePosixPath(src).parts
        if not parts or any(p in ("..", ".") or p.startswith(".") for p in parts):
            return None
        return "/".join(parts)

    def public_path(self, local: str) -> str:
        """Return the path below out/ where a local file is published."""
        return self.media_path.lstrip("/") + local

    def url_for(self, local: str) -> str:
        return self.base_url + quote(self.public_path(local))

    def _stat(self, local: str) -> tuple[int, tuple[int, int] | None] | None:
        if local not in self._cache:
            path = self.records_dir / local
            # Taken before the file is read, so that a change made while it is read shows.
            self.probed[local] = file_state(path)
            try:
                resolved = path.resolve(strict=True)
                resolved.relative_to(self.records_dir.resolve())
                size = resolved.stat().st_size if resolved.is_file() else None
            except (OSError, ValueError):
                size = None
            self._cache[local] = None if size is None else (size, image_size(resolved))
        return self._cache[local]

    def resolve(self, src: str, field_name: str, report: Reporter) -> tuple[str, str, int] | None:
        """Return (absolute URL, local path or "", byte length) for an image `src`."""
        src = src.strip()
        scheme = urlsplit(src).scheme.lower()
        if scheme in ("http", "https"):
            return src, "", 0
        if scheme:
            report.warn(field_name, f'"{src[:60]}" is not an http(s) URL or a local path; '
                        "image ignored")
            return None
        if src.startswith("/"):
            return urljoin(self.base_url, src), "", 0
        local = self.local_file(src)
        stat = self._stat(local) if local else None
        if local is None or stat is None:
            report.warn(field_name, f'"{src[:60]}" is not a file below the records folder; '
                        "image ignored")
            return None
        return self.url_for(local), local, stat[0]

    def images(self, value: Any, report: Reporter) -> tuple[Image, ...]:
        """Return the valid images of a record's `images` list, warning about the rest."""
        if value is None:
            return ()
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            report.warn("images", "expected a list of image objects; ignored")
            return ()
        images = []
        for index, item in enumerate(value[:MAX_IMAGES]):
            image = self._image(item, f"images[{index}]", report)
            if image is not None:
                images.append(image)
        if len(value) > MAX_IMAGES:
            report.warn("images", f"{len(value)} images; kept the first {MAX_IMAGES}")
        return tuple(images)

    def _image(self, item: Any, where: str, report: Reporter) -> Image | None:
        if not isinstance(item, dict):
            report.warn(where, "expected an object with src, alt, caption, credit; ignored")
            return None
        src = item.get("src")
        if not isinstance(src, str) or not src.strip():
            report.warn(f"{where}.src", "is required; image ignored")
            return None
        resolved = self.resolve(src, f"{where}.src", report)
        if resolved is None:
            return None
        url, local, length = resolved
        strings = {}
        for key in ("alt", "caption", "credit"):
            raw = item.get(key, "")
            if not isinstance(raw, str):
                report.warn(f"{where}.{key}", "expected a string; ignored")
                raw = ""
            strings[key] = text.truncate(text.clean_line(raw), 1000)
        size = self._dimensions(item, where, local, report)
        if size is None:
            return None
        suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
        return Image(
            url=url, width=size[0], height=size[1],
            alt=strings["alt"] or strings["caption"], caption=strings["caption"],
            credit=strings["credit"], media_type=MEDIA_TYPES.get(suffix, "image/jpeg"),
            length=length, local=local, sources=self._sources(item.get("sources"), where, report),
        )

    def _dimensions(self, item: dict[str, Any], where: str, local: str,
                    report: Reporter) -> tuple[int, int] | None:
        sniffed = self._stat(local)[1] if local else None  # type: ignore[index]
        size = []
        for key in ("width", "height"):
            value = item.get(key)
            if value is None and sniffed:
                value = sniffed[0 if key == "width" else 1]
            if isinstance(value, bool) or not isinstance(value, int) or not (
                0 < value <= MAX_DIMENSION
            ):
                shown = "missing" if value is None else f"{value!r} is not a whole number of pixels"
                report.warn(f"{where}.{key}", f"{shown}; image ignored (pages need its size)")
                return None
            size.append(value)
        return size[0], size[1]

    def _sources(self, value: Any, where: str, report: Reporter) -> tuple[ImageSource, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            report.warn(f"{where}.sources", "expected a list of {src, width}; ignored")
            return ()
        sources = []
        for index, item in enumerate(value):
            field_name = f"{where}.sources[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("src"), str):
                report.warn(field_name, "expected {src, width}; ignored")
                continue
            width = item.get("width")
            if isinstance(width, bool) or not isinstance(width, int) or not (
                0 < width <= MAX_DIMENSION
            ):
                report.warn(f"{field_name}.width", "must be a whole number of pixels; ignored")
                continue
            resolved = self.resolve(item["src"], f"{field_name}.src", report)
            if resolved:
                sources.append(ImageSource(url=resolved[0], width=width, local=resolved[1]))
        return tuple(sorted(set(sources), key=lambda s: (s.width, s.url)))

