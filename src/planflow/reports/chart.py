"""A document's bar charts (planflow.documents.model.Chart) as PNG, drawn with Pillow: one image
serves the page, the PDF and the Word document. Readable in black and white: every status has its
own pattern as well as its colour, every bar is labelled with its count, and the legend names the
statuses in words."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from ..documents.model import Chart
from . import fonts

# colour, and a pattern that survives printing in grey: solid, horizontal lines, diagonals, dots
STYLES = {
    "green": ("#2e9e44", "solid"),
    "yellow": ("#f2c12e", "horizontal"),
    "red": ("#d3312c", "diagonal"),
    "unreported": ("#ffffff", "dots"),
}
INK = "#1d1d1f"
SCALE = 2  # drawn at twice the size it is shown at, for print


@lru_cache(maxsize=16)  # an issue writes the same chart into three formats
def png(chart: Chart) -> bytes:
    """The chart drawn: one group of bars per group, one bar per series, a legend in words."""
    groups, series = chart.groups, chart.series
    width, height = 800 * SCALE, 360 * SCALE
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(fonts.REGULAR), 13 * SCALE)
    small = ImageFont.truetype(str(fonts.REGULAR), 11 * SCALE)
    bold = ImageFont.truetype(str(fonts.BOLD), 14 * SCALE)
    draw.text((10 * SCALE, 8 * SCALE), chart.title, fill=INK, font=bold)

    left, right, top, bottom = 50 * SCALE, width - 20 * SCALE, 40 * SCALE, height - 80 * SCALE
    highest = max([1, *(value for g in groups for value in g.values)])
    step = _nice_step(highest)
    ceiling = ((highest + step - 1) // step) * step
    for value in range(0, ceiling + 1, step):
        y = bottom - (bottom - top) * value / ceiling
        draw.line([(left, y), (right, y)], fill="#d0d0d0", width=SCALE)
        draw.text((left - 8 * SCALE, y), str(value), fill=INK, font=small, anchor="rm")
    draw.line([(left, top), (left, bottom)], fill=INK, width=SCALE)
    draw.line([(left, bottom), (right, bottom)], fill=INK, width=SCALE)

    slot = (right - left) / max(1, len(groups))
    bar = min(28 * SCALE, slot * 0.8 / max(1, len(series)))
    for index, group in enumerate(groups):
        start = left + slot * index + (slot - bar * len(series)) / 2
        for n, (one, value) in enumerate(zip(series, group.values, strict=True)):
            x0, x1 = start + n * bar, start + (n + 1) * bar - 2 * SCALE
            y0 = bottom - (bottom - top) * value / ceiling
            if value:
                _bar(draw, (x0, y0, x1, bottom), one.key)
            draw.text(((x0 + x1) / 2, y0 - 3 * SCALE), str(value), fill=INK, font=small, anchor="mb")
        draw.text(
            (left + slot * (index + 0.5), bottom + 6 * SCALE), group.label, fill=INK, font=font, anchor="ma"
        )

    x: float = left
    for one in series:  # the legend: pattern and word
        y = height - 30 * SCALE
        _bar(draw, (x, y, x + 18 * SCALE, y + 14 * SCALE), one.key)
        draw.text((x + 24 * SCALE, y + 7 * SCALE), one.label, fill=INK, font=font, anchor="lm")
        x += 24 * SCALE + draw.textlength(one.label, font=font) + 24 * SCALE

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _bar(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], key: str) -> None:
    colour, pattern = STYLES[key]
    x0, y0, x1, y1 = box
    draw.rectangle(box, fill=colour, outline=INK, width=SCALE)
    gap = 6 * SCALE
    if pattern == "horizontal":
        y = y1 - gap
        while y > y0 + SCALE:
            draw.line([(x0 + SCALE, y), (x1 - SCALE, y)], fill=INK, width=SCALE)
            y -= gap
    elif pattern == "diagonal":
        # lines x - y = c clipped to the box
        c = x0 - y1
        while c < x1 - y0:
            points = []
            for x, y in ((x0, x0 - c), (x1, x1 - c), (y0 + c, y0), (y1 + c, y1)):
                if x0 <= x <= x1 and y0 <= y <= y1:
                    points.append((x, y))
            if len(points) >= 2:
                draw.line([min(points), max(points)], fill=INK, width=SCALE)
            c += gap * 1.5
    elif pattern == "dots":
        y = y0 + gap / 2
        while y < y1:
            x = x0 + gap / 2
            while x < x1:
                draw.ellipse([x - SCALE, y - SCALE, x + SCALE, y + SCALE], fill=INK)
                x += gap
            y += gap


def _nice_step(highest: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500):
        if highest / step <= 8:
            return step
    return 1000
