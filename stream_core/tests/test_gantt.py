"""The Gantt chart: drawn into pixels, aggregated where a pixel cannot show a tile; --no-plots skips it."""

from __future__ import annotations

import random

from PIL import Image

from stream_core.cli import main
from stream_core.examples import example_paths
from stream_core.gantt import EDGE_MIN, PALETTE, PLOT_WIDTH, ROW, TOP, TRANSFER, _nice_step, _place, _Row, draw_gantt
from stream_core.ir import Accelerator, Core, Link, Result, TileRecord, Totals, TransferRecord


class _Described:
    def __init__(self, name: str):
        self.name = name


def _accelerator() -> Accelerator:
    cores = {i: Core(i, "test.compute", _Described(f"pe{i}")) for i in (0, 1)}
    return Accelerator("toy", cores, [Link(0, "link", (0, 1), 8.0)])


def _result(tiles: list[TileRecord], latency: int) -> Result:
    transfers = [TransferRecord("t", 0, 1, (0,), 0, latency // 2, 64, 0.0)]
    totals = Totals(latency, 0.0, 0.0, 0.0, {0: 1.0, 1: 0.0})
    return Result("wl", "toy", tiles, transfers, {}, (), totals)


def test_a_tile_covers_its_pixels_in_its_node_colour(tmp_path):
    # one pixel column per 10 cycles; "a" (first node) covers columns 0..599, "b" 600..1199 on core 0
    latency = PLOT_WIDTH * 10
    tiles = [TileRecord("a", 0, 0, 0, latency // 2, 0.0, "m"), TileRecord("b", 1, 0, latency // 2, latency, 0.0, "m")]
    path = draw_gantt(_result(tiles, latency), _accelerator(), tmp_path / "g.png")
    image = Image.open(path).convert("RGB")
    assert image.height == TOP + 2 * ROW + 36  # core 0 and link 0
    left = image.width - PLOT_WIDTH - 190
    y = TOP + ROW // 2
    assert image.getpixel((left + 100, y)) == PALETTE[0]
    assert image.getpixel((left + 900, y)) == PALETTE[1]
    assert image.getpixel((left + 100, y + ROW)) == TRANSFER  # the transfer on the link row
    assert image.getpixel((left + 900, y + ROW)) != TRANSFER


def _raster(spans, scale, band):
    row = _Row()
    _place(((span, (row,)) for span in spans), scale)
    return row.pixels(band)


def test_tiles_narrower_than_a_pixel_leave_the_last_starting_one():
    red, blue = (255, 0, 0), (0, 0, 255)
    line = _raster([(3, 4, blue), (0, 1, red)], 0.1, (255, 255, 255))  # both fall in pixel 0
    assert bytes(line[:3]) == bytes(blue) and bytes(line[3:6]) == b"\xff\xff\xff"


def _painted(spans, scale, band):
    """The reference: every span painted over the row in sorted order, the last paint winning."""
    line = [band] * PLOT_WIDTH
    for start, end, rgb in sorted(spans):
        x0, x1 = int(start * scale), int(end * scale + 0.5)
        if x1 - x0 <= 1 or x0 >= PLOT_WIDTH - 1:
            line[min(x0, PLOT_WIDTH - 1)] = rgb
            continue
        x1 = min(x1, PLOT_WIDTH)
        line[x0:x1] = [rgb] * (x1 - x0)
        if x1 - x0 >= EDGE_MIN:
            line[x0] = tuple(c * 3 // 5 for c in rgb)
    return bytearray(b"".join(bytes(rgb) for rgb in line))


def test_each_pixel_shows_what_painting_every_span_in_order_leaves():
    rng = random.Random(16)
    for _ in range(300):
        latency = rng.choice([10, 1_200, 7_919, 10**6])
        spans = []
        for _ in range(rng.randint(0, 40)):
            start = rng.randint(0, latency)
            spans.append((start, start + rng.choice([0, 1, 3, 40, latency]), rng.choice(PALETTE[:4])))
        scale = PLOT_WIDTH / latency * rng.choice([0.5, 1, 1, 3])
        assert _raster(spans, scale, (244, 244, 244)) == _painted(spans, scale, (244, 244, 244))


def test_axis_steps_are_round():
    assert [_nice_step(x) for x in (0.3, 1, 3, 7, 12, 4_000)] == [1, 1, 5, 10, 20, 5_000]


def test_no_plots_skips_the_gantt_chart(tmp_path):
    workload, hardware = example_paths()
    out = tmp_path / "out"
    args = ["run", str(workload), str(hardware), "-o", str(out), "-q", "--no-cache", "--no-plots"]
    assert main([*args, "--cost-model", "roofline", "--allocator", "greedy", "--mapper", "whole-layer"]) == 0
    names = {p.name for p in out.iterdir()}
    assert "gantt.png" not in names and {"summary.json", "trace.json"} <= names
