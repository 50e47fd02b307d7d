#!/usr/bin/env python3
"""Generate the bundled example illustrations for the Harbour Courier sample site.

Every picture is abstract (gradients, a horizon, circles and wave bands; no
text) and fully deterministic: the random generator is seeded from the file
name, so re-running the script produces byte-identical files.

Output (under articles/images/):
  <name>.jpg      1200x675 baseline JPEG
  <name>-480.jpg  480x270 baseline JPEG
  logo.png        600x60 publisher logo
  favicon.png     48x48 icon

Usage: python3 scripts/make_example_images.py [output_dir]

It needs Pillow (pip install pillow), which syndicate itself does not use: the
pictures are committed, and only a change to them needs the script.
"""

from __future__ import annotations

import hashlib
import math
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

W, H = 1200, 675
SMALL = (480, 270)

# One entry per illustration; each is used by at most one article.
NAMES = [
    "border-freight-dawn",
    "river-estuary-dusk",
    "storm-over-shipping-lane",
    "river-cleanup-morning",
    "ocean-summit-bay",
    "quayside-cranes-grey",
    "glacier-valley-light",
    "fishing-grounds-north",
    "ice-road-evening",
    "council-chamber-abstract",
    "by-election-blue",
    "rail-line-horizon",
    "harbour-levy-sunset",
    "ferry-wake-noon",
    "foundry-glow",
    "boardroom-amber",
    "wind-farm-offshore",
    "flax-fields-green",
    "mortgage-rooftops",
    "seagrass-shallows",
    "seagrass-survey-boat",
    "seagrass-core-samples",
    "tidal-turbine-current",
    "deep-sea-twilight",
    "bee-meadow-gold",
    "forecast-cloudbands",
    "derby-floodlights",
    "regatta-morning",
    "stadium-site-dusk",
    "festival-lanterns",
    "museum-atrium-light",
    "film-premiere-night",
    "comet-night-sky",
    "marathon-river-light",
]

Colour = tuple[int, ...]
Point = tuple[float, float]

PALETTES = [
    # (sky top, sky bottom, sea top, sea bottom, sun, accent)
    ((20, 40, 86), (240, 160, 120), (24, 70, 110), (8, 30, 60),
     (255, 214, 150), (255, 240, 220)),
    ((120, 170, 210), (230, 236, 240), (60, 120, 150), (20, 60, 90),
     (255, 250, 225), (200, 225, 235)),
    ((50, 58, 72), (140, 150, 160), (60, 75, 85), (25, 32, 40),
     (210, 215, 220), (170, 180, 190)),
    ((250, 200, 150), (255, 235, 200), (80, 140, 150), (30, 80, 100),
     (255, 245, 210), (255, 220, 180)),
    ((40, 20, 70), (200, 90, 120), (60, 40, 90), (20, 10, 40),
     (255, 190, 150), (240, 150, 170)),
    ((150, 200, 170), (235, 240, 210), (70, 130, 100), (30, 70, 60),
     (255, 250, 200), (200, 230, 190)),
    ((10, 15, 40), (60, 80, 140), (20, 30, 70), (5, 10, 30),
     (240, 240, 255), (150, 170, 230)),
    ((230, 150, 60), (250, 220, 140), (150, 90, 50), (80, 40, 30),
     (255, 240, 180), (255, 200, 120)),
]


def seed_for(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")


def lerp(a: Colour, b: Colour, t: float) -> Colour:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def vertical_gradient(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], top: Colour,
                      bottom: Colour) -> None:
    x0, y0, x1, y1 = box
    span = max(1, y1 - y0 - 1)
    for y in range(y0, y1):
        draw.line([(x0, y), (x1, y)], fill=lerp(top, bottom, (y - y0) / span))


def wave_points(rng: random.Random, y_base: float, amp: float, width: int, phase: float,
                freq: float) -> list[Point]:
    pts: list[Point] = []
    for x in range(0, width + 20, 20):
        y = (y_base + amp * math.sin(x * freq + phase)
             + 0.4 * amp * math.sin(x * freq * 2.3 + phase * 1.7))
        pts.append((x, y))
    return pts


def make_illustration(name: str) -> Image.Image:
    rng = random.Random(seed_for(name))
    sky_t, sky_b, sea_t, sea_b, sun, accent = PALETTES[rng.randrange(len(PALETTES))]
    img = Image.new("RGB", (W, H))
    d = ImageDraw.Draw(img)
    horizon = int(H * rng.uniform(0.48, 0.66))

    vertical_gradient(d, (0, 0, W, horizon), sky_t, sky_b)

    # Sun or moon with a soft halo.
    sx, sy = rng.randint(180, W - 180), rng.randint(int(horizon * 0.25), int(horizon * 0.8))
    r = rng.randint(45, 95)
    for i in range(6, 0, -1):
        rr = r + i * 18
        d.ellipse([sx - rr, sy - rr, sx + rr, sy + rr],
                  fill=lerp(sky_b, sun, 0.12 * (7 - i) / 6 + 0.05))
    d.ellipse([sx - r, sy - r, sx + r, sy + r], fill=sun)

    # Distant hills or cloud bands above the horizon.
    style = rng.choice(["hills", "clouds", "plain"])
    if style == "hills":
        for layer in range(2):
            col = lerp(sky_b, sea_t, 0.45 + 0.25 * layer)
            pts = wave_points(rng, horizon - 40 + layer * 18, rng.randint(15, 45), W,
                              rng.uniform(0, 6.28), rng.uniform(0.004, 0.01))
            d.polygon([*pts, (W + 20, horizon), (0, horizon)], fill=col)
    elif style == "clouds":
        for _ in range(rng.randint(3, 6)):
            cy = rng.randint(40, max(60, horizon - 80))
            cx = rng.randint(-100, W)
            cw = rng.randint(180, 420)
            ch = rng.randint(16, 34)
            d.ellipse([cx, cy, cx + cw, cy + ch], fill=lerp(sky_t, accent, rng.uniform(0.5, 0.85)))

    # Sea gradient and wave bands below the horizon.
    vertical_gradient(d, (0, horizon, W, H), sea_t, sea_b)
    d.line([(0, horizon), (W, horizon)], fill=lerp(sea_t, sun, 0.5), width=2)
    # Reflection of the sun.
    for i in range(8):
        y = horizon + 10 + i * 14
        half = max(8, int(r * (1.2 - i * 0.12)))
        d.line([(sx - half, y), (sx + half, y)], fill=lerp(sea_t, sun, 0.55 - i * 0.05), width=3)
    bands = rng.randint(3, 5)
    for i in range(bands):
        t = (i + 1) / (bands + 1)
        y_base = horizon + (H - horizon) * t
        col = lerp(sea_t, sea_b, t * 0.9)
        col = lerp(col, accent, 0.08)
        pts = wave_points(rng, y_base, rng.randint(6, 18) * (1 + t), W,
                          rng.uniform(0, 6.28), rng.uniform(0.006, 0.016))
        d.polygon([*pts, (W + 20, H), (0, H)], fill=col)

    # A few floating circles for rhythm.
    for _ in range(rng.randint(2, 4)):
        cr = rng.randint(10, 30)
        cx, cy = rng.randint(40, W - 40), rng.randint(30, horizon - 30)
        d.ellipse([cx - cr, cy - cr, cx + cr, cy + cr], fill=lerp(sky_b, accent, 0.6))

    return img.filter(ImageFilter.GaussianBlur(2))


def save_jpeg(img: Image.Image, path: Path) -> None:
    # Baseline (non-progressive) JPEG; Pillow writes no EXIF or timestamps.
    img.save(path, "JPEG", quality=60, optimize=True)


def make_logo(path: Path) -> None:
    img = Image.new("RGB", (600, 60), (255, 255, 255))
    d = ImageDraw.Draw(img)
    navy, teal, gold = (18, 42, 80), (30, 130, 150), (232, 170, 60)
    d.ellipse([6, 6, 54, 54], fill=navy)
    d.pieslice([14, 14, 46, 46], 180, 360, fill=gold)
    d.rectangle([14, 31, 46, 33], fill=(255, 255, 255))
    for i, y in enumerate((38, 44)):
        d.arc([12 + i * 2, y - 6, 48 - i * 2, y + 6], 0, 180, fill=teal, width=3)
    # Stylised masthead bars in place of lettering.
    x = 72
    widths = [96, 60, 132, 84, 110]
    for i, w in enumerate(widths):
        d.rounded_rectangle([x, 18, x + w, 42], radius=6, fill=navy if i % 2 == 0 else teal)
        x += w + 12
    d.rectangle([72, 50, x - 12, 52], fill=gold)
    img.save(path, "PNG", optimize=True)


def make_favicon(path: Path) -> None:
    img = Image.new("RGB", (48, 48), (18, 42, 80))
    d = ImageDraw.Draw(img)
    d.pieslice([10, 8, 38, 36], 180, 360, fill=(232, 170, 60))
    d.arc([6, 24, 42, 36], 0, 180, fill=(30, 130, 150), width=3)
    d.arc([10, 30, 38, 42], 0, 180, fill=(255, 255, 255), width=2)
    img.save(path, "PNG", optimize=True)


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "articles" / "images"
    out.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        img = make_illustration(name)
        save_jpeg(img, out / f"{name}.jpg")
        save_jpeg(img.resize(SMALL, Image.LANCZOS), out / f"{name}-480.jpg")
    make_logo(out / "logo.png")
    make_favicon(out / "favicon.png")
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"wrote {len(NAMES) * 2 + 2} files to {out} ({total} bytes)")


if __name__ == "__main__":
    main()
