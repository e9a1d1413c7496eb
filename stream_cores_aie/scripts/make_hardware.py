"""Write the bundled AIE accelerator files (Stream's accelerator format) into the package.

    python stream_cores_aie/scripts/make_hardware.py [--check]

Layout (ids column-major, as Stream's AIE files): column ``c`` has its shim at id ``6c`` (row 0),
its memory tile at ``6c+1`` (row 1) and compute tiles at ``6c+2 .. 6c+5`` (rows 2-5). Links, all at
the stream width (32 bits/cycle AIE-ML, 64 AIE-ML v2; a link carries one circuit-switched stream):

* shim <-> memory tile of its column; memory tile <-> every compute tile of its column (a circuit
  through the switches below the tile); compute tile <-> its north neighbour;
* east-west neighbours: compute tiles of a row, memory tiles, shims;
* the off-chip core is the shim of column 0, standing for DDR: it also links to the shim of every
  other column (each column's shim DMA reads DDR through the NoC), which replaces the shim-row link
  between columns 0 and 1.

``--check`` exits 1 when a shipped file differs from what this script writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "stream_cores_aie" / "hardware"

GENERATIONS = {
    "aie-ml": {"cores": ("shim_dma.yaml", "mem_tile.yaml", "aie_tile.yaml"), "bits": 32, "label": "AIE-ML"},
    "aie-ml-v2": {
        "cores": ("shim_dma_v2.yaml", "mem_tile_v2.yaml", "aie_tile_v2.yaml"),
        "bits": 64,
        "label": "AIE-ML v2",
    },
}


def _header(title: str) -> list[str]:
    return [
        f"# {title}",
        "# Stream's accelerator format; the aie2.* cores need the stream-cores-aie package",
        "# (pip install stream-cores-aie). Written by stream_cores_aie/scripts/make_hardware.py.",
    ]


def single_tile() -> str:
    shim, _mem, tile = GENERATIONS["aie-ml"]["cores"]
    lines = _header("One AIE-ML compute tile with its shim as the off-chip core (Phoenix generation).")
    lines += [
        "name: aie_single_tile",
        "cores:",
        f"  0: ./cores/{shim}",
        f"  1: ./cores/{tile}",
        "core_coordinates:",
        "  0: [0, 0]",
        "  1: [0, 2]",
        "offchip_core_id: 0",
        "core_connectivity:",
        "  # shim <-> compute tile: one 32-bit stream (its route through the memory tile's switch is not a core)",
        "  - {type: link, cores: [0, 1], bandwidth: 32}",
    ]
    return "\n".join(lines) + "\n"


def array(name: str, title: str, generation: str, columns: int) -> str:
    gen = GENERATIONS[generation]
    shim, mem, tile = gen["cores"]
    bits = gen["bits"]
    lines = _header(title)
    lines += [f"name: {name}", "cores:"]
    for c in range(columns):
        lines += [f"  {6 * c}: ./cores/{shim}", f"  {6 * c + 1}: ./cores/{mem}"]
        lines += [f"  {6 * c + r}: ./cores/{tile}" for r in range(2, 6)]
    lines += ["core_coordinates:  # id: [col, row]; row 0 shim, row 1 memory tile, rows 2-5 compute"]
    lines += [f"  {6 * c + r}: [{c}, {r}]" for c in range(columns) for r in range(6)]
    lines += ["offchip_core_id: 0", "core_connectivity:"]

    def link(a: int, b: int) -> str:
        return f"  - {{type: link, cores: [{a}, {b}], bandwidth: {bits}}}"

    for c in range(columns):
        base = 6 * c
        lines.append(f"  # column {c}: shim <-> memory tile <-> compute tiles, compute tile <-> north neighbour")
        lines.append(link(base, base + 1))
        lines += [link(base + 1, base + r) for r in range(2, 6)]
        lines += [link(base + r, base + r + 1) for r in range(2, 5)]
    if columns > 1:
        lines.append("  # east-west neighbours: compute tiles (rows 2-5), memory tiles (row 1), shims (row 0)")
        for r in (2, 3, 4, 5, 1):
            lines += [link(6 * c + r, 6 * (c + 1) + r) for c in range(columns - 1)]
        lines += [link(6 * c, 6 * (c + 1)) for c in range(1, columns - 1)]
        lines.append("  # DDR (off-chip core 0) to the shim DMA of every other column, through the NoC")
        lines += [link(0, 6 * c) for c in range(1, columns)]
    return "\n".join(lines) + "\n"


def files() -> dict[str, str]:
    return {
        "single_tile.yaml": single_tile(),
        "single_col.yaml": array(
            "aie_single_col",
            "One AIE-ML column (Phoenix generation): shim, memory tile, four compute tiles.",
            "aie-ml",
            1,
        ),
        "whole_array.yaml": array(
            "aie_whole_array_phoenix",
            "Ryzen AI NPU, Phoenix generation (XDNA1, AIE-ML, 32-bit streams): 4 columns x (shim, mem tile, 4 tiles).",
            "aie-ml",
            4,
        ),
        "whole_array_strix.yaml": array(
            "aie_whole_array_strix",
            "Ryzen AI NPU, Strix generation (XDNA2, AIE-ML v2, 64-bit streams): 8 columns x (shim, mem tile, 4 tiles).",
            "aie-ml-v2",
            8,
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped files instead of writing")
    args = parser.parse_args()
    stale = []
    for name, text in files().items():
        path = OUT / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
            print(path)
    if stale:
        print(f"out of date: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
