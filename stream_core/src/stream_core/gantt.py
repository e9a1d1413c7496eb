"""The Gantt chart of a result, drawn straight into pixels (Pillow), in well under a second at any size.

One row per used core, then one per used link; bars coloured by node (a 20-colour palette, the first
20 nodes in the legend), transfers grey. The time axis has a fixed width, so a pixel column often
covers several tiles: it shows the tile that starts last in it (as if tiles were painted in start
order; only that one is kept per pixel, so a tile costs one comparison), and a bar at least
:data:`EDGE_MIN` pixels wide starts with a darker column so neighbours stay apart. Every tile remains
in the Perfetto trace; the picture aggregates only what a pixel cannot show.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from stream_core.ir.accelerator import Accelerator
from stream_core.ir.result import Result

#: matplotlib's ``tab20`` colours.
PALETTE = (
    (31, 119, 180), (174, 199, 232), (255, 127, 14), (255, 187, 120), (44, 160, 44),
    (152, 223, 138), (214, 39, 40), (255, 152, 150), (148, 103, 189), (197, 176, 213),
    (140, 86, 75), (196, 156, 148), (227, 119, 194), (247, 182, 210), (127, 127, 127),
    (199, 199, 199), (188, 189, 34), (219, 219, 141), (23, 190, 207), (158, 218, 229),
)  # fmt: skip
TRANSFER = (190, 190, 190)
BACKGROUND, STRIPE, INK = (255, 255, 255), (244, 244, 244), (0, 0, 0)
PLOT_WIDTH, ROW, BAR, LINK_BAR = 1200, 20, 14, 8
TOP, BOTTOM, LEGEND = 30, 36, 190
EDGE_MIN = 4  # pixels
LEGEND_ENTRIES = 20
TICKS = 8

RGB = tuple[int, int, int]
#: A bar: start and end cycle, colour.
Span = tuple[int, int, RGB]


def draw_gantt(result: Result, accelerator: Accelerator, path: Path) -> Path:
    """Write the chart of ``result`` to ``path`` (PNG) and return ``path``."""
    nodes = sorted({t.node for t in result.tiles})
    colour = {node: PALETTE[i % len(PALETTE)] for i, node in enumerate(nodes)}
    linked = [tr for tr in result.transfers if tr.links]
    end = max([result.totals.latency, *(t.end for t in result.tiles), *(tr.end for tr in linked)])
    scale = PLOT_WIDTH / max(end, 1)
    cores = {core: (_Row(),) for core in accelerator.cores}
    _place((((t.start, t.end, colour[t.node]), cores[t.core]) for t in result.tiles), scale)
    labels = {link.label: _Row() for link in accelerator.links}
    of_link = {link.id: labels[link.label] for link in accelerator.links}
    routes: dict[tuple[int, ...], tuple[_Row, ...]] = {}
    for tr in linked:
        if tr.links not in routes:
            routes[tr.links] = tuple(of_link[link] for link in tr.links)
    _place((((tr.start, tr.end, TRANSFER), routes[tr.links]) for tr in linked), scale)
    rows = [(f"core {c} ({accelerator.cores[c].name})", row, BAR) for c, (row,) in sorted(cores.items()) if row.used]
    rows += [(label, row, LINK_BAR) for label, row in sorted(labels.items()) if row.used]

    font = ImageFont.load_default(size=11)
    left = 12 + max((int(font.getlength(label)) for label, _, _ in rows), default=0)
    width, height = left + PLOT_WIDTH + LEGEND, TOP + ROW * len(rows) + BOTTOM
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for i, (label, row, bar) in enumerate(rows):
        y = TOP + i * ROW
        band = STRIPE if i % 2 else BACKGROUND
        draw.rectangle((left, y, left + PLOT_WIDTH - 1, y + ROW - 1), fill=band)
        line = row.pixels(band)
        strip = Image.frombytes("RGB", (PLOT_WIDTH, 1), bytes(line)).resize((PLOT_WIDTH, bar), Image.Resampling.NEAREST)
        image.paste(strip, (left, y + (ROW - bar) // 2))
        draw.text((left - 6, y + ROW // 2), label, fill=INK, font=font, anchor="rm")
    _axis(draw, font, left, TOP + ROW * len(rows), end, scale)
    title = f"{result.workload} on {result.accelerator}: {result.totals.latency:,} cycles"
    draw.text((left, TOP // 2), title, fill=INK, font=font, anchor="lm")
    _legend(draw, font, left + PLOT_WIDTH + 12, nodes, colour)
    image.save(path, format="PNG", compress_level=1)
    return path


class _Row:
    """The spans of one row, kept as a pixel needs them: per pixel the greatest span of a pixel or
    less (the one starting last; ties: ending last, then the greater colour), and the wider spans."""

    __slots__ = ("narrow", "wide")

    def __init__(self) -> None:
        self.narrow: list[Span | tuple[()]] = [()] * PLOT_WIDTH  # () sorts before any span
        self.wide: list[tuple[Span, int, int]] = []  # with their first and past-the-last pixel

    @property
    def used(self) -> bool:
        return bool(self.wide) or any(self.narrow)

    def pixels(self, band: RGB) -> bytearray:
        """The row's pixels: each shows the greatest span covering it, as if all were painted in
        sorted order; a span at least :data:`EDGE_MIN` pixels wide starts with a darker one."""
        line = bytearray(bytes(band) * PLOT_WIDTH)
        owner: list[Span | tuple[()]] = [()] * PLOT_WIDTH
        for span, x0, x1 in sorted(self.wide):
            line[3 * x0 : 3 * x1] = bytes(span[2]) * (x1 - x0)
            owner[x0:x1] = [span] * (x1 - x0)
            if x1 - x0 >= EDGE_MIN:
                line[3 * x0 : 3 * x0 + 3] = bytes(c * 3 // 5 for c in span[2])
        for x, best in enumerate(self.narrow):
            if best and best > owner[x]:
                line[3 * x : 3 * x + 3] = bytes(best[2])
        return line


def _place(spans: Iterable[tuple[Span, tuple[_Row, ...]]], scale: float) -> None:
    """Put each span into its rows (the links a transfer crosses share its one placement): a span of
    a pixel or less is one comparison per row, whatever the number of spans."""
    last = PLOT_WIDTH - 1
    for span, rows in spans:
        x0 = int(span[0] * scale)
        x1 = int(span[1] * scale + 0.5)
        if x1 - x0 <= 1 or x0 >= last:
            if x0 > last:
                x0 = last
            for row in rows:
                if span > row.narrow[x0]:
                    row.narrow[x0] = span
        else:
            wide = (span, x0, min(x1, PLOT_WIDTH))
            for row in rows:
                row.wide.append(wide)


def _axis(
    draw: ImageDraw.ImageDraw,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    left: int,
    y: int,
    end: int,
    scale: float,
) -> None:
    step = _nice_step(end / TICKS)
    draw.line((left, y, left + PLOT_WIDTH - 1, y), fill=INK)
    cycle = 0
    while cycle <= end:
        x = left + min(int(cycle * scale), PLOT_WIDTH - 1)
        draw.line((x, y, x, y + 4), fill=INK)
        draw.text((x, y + 6), f"{cycle:,}", fill=INK, font=font, anchor="mt")
        cycle += step
    draw.text((left + PLOT_WIDTH // 2, y + 22), "cycle", fill=INK, font=font, anchor="mt")


def _nice_step(raw: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``raw`` (at least 1)."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if factor * power >= raw:
                return factor * power
        power *= 10


def _legend(
    draw: ImageDraw.ImageDraw,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    x: int,
    nodes: list[str],
    colour: dict[str, tuple[int, int, int]],
) -> None:
    for i, node in enumerate(nodes[:LEGEND_ENTRIES]):
        y = TOP + i * 14
        draw.rectangle((x, y + 2, x + 9, y + 11), fill=colour[node])
        draw.text((x + 14, y + 7), node, fill=INK, font=font, anchor="lm")
    if len(nodes) > LEGEND_ENTRIES:
        y = TOP + LEGEND_ENTRIES * 14
        draw.text((x, y + 7), f"... and {len(nodes) - LEGEND_ENTRIES} more", fill=INK, font=font, anchor="lm")
