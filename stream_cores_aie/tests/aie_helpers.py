"""Helpers shared by the stream-cores-aie tests (conftest puts this folder on sys.path)."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from stream_cores_aie.core_type import AieCoreType

from stream_core.ir import AffineExpr, LoopDim, Node, NodeKind, Operand, OperandRole
from stream_core.ir.accelerator import Core
from stream_cores_aie import HARDWARE_DIR

#: Stream's ``aie_tile.yaml`` (v1.13.14), literally.
STREAM_AIE_TILE = {
    "name": "aie_tile",
    "type": "aie2.compute",
    "max_object_fifo_depth": 12,
    "memory": {"capacity": 524288, "bandwidth_min": 512, "bandwidth_max": 512},
}


def aie_core(data: dict | None = None, kind: str = "compute", core_id: int = 0, **changes) -> Core:
    """A :class:`Core` from a core-file dict (Stream's aie_tile by default) with top-level changes."""
    data = {**(data or STREAM_AIE_TILE), **changes}
    desc = AieCoreType().parse(data, kind=kind, file="test.yaml")
    return Core(id=core_id, type=f"aie2.{kind}", description=desc)


def matmul(m: int, n: int, k: int, bits: int, out_bits: int | None = None, name: str = "mm") -> Node:
    """A MatMul tile as stream-onnx builds it: loops D (m), K (n), C (k); A (D, C), B (C, K), Y (D, K)."""
    d, kk, c = AffineExpr.of("D"), AffineExpr.of("K"), AffineExpr.of("C")
    return Node(
        name=name,
        op_type="MatMul",
        loops=(LoopDim("D", m), LoopDim("K", n), LoopDim("C", k)),
        operands=(
            Operand(OperandRole.INPUT, "A", bits, (d, c)),
            Operand(OperandRole.WEIGHT, "B", bits, (c, kk)),
            Operand(OperandRole.OUTPUT, "Y", out_bits or bits, (d, kk)),
        ),
        mac_op=True,
    )


def elementwise(op_type: str, rows: int, cols: int, bits: int, inputs: int = 1, name: str = "ew") -> Node:
    d, k = AffineExpr.of("D"), AffineExpr.of("K")
    operands = [Operand(OperandRole.INPUT, f"X{i}", bits, (d, k)) for i in range(inputs)]
    return Node(
        name=name,
        op_type=op_type,
        loops=(LoopDim("D", rows), LoopDim("K", cols)),
        operands=(*operands, Operand(OperandRole.OUTPUT, "Y", bits, (d, k))),
    )


def transpose(rows: int, cols: int, bits: int) -> Node:
    d, k = AffineExpr.of("D"), AffineExpr.of("K")
    return Node(
        name="tr",
        op_type="Transpose",
        loops=(LoopDim("D", rows), LoopDim("K", cols)),
        operands=(Operand(OperandRole.INPUT, "X", bits, (k, d)), Operand(OperandRole.OUTPUT, "Y", bits, (d, k))),
        kind=NodeKind.DATA_MOVEMENT,
    )


class HardwareCopy:
    """A writable copy of the bundled hardware folder whose core files a test may edit."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(HARDWARE_DIR, root)

    def file(self, name: str) -> Path:
        return self.root / f"{name}.yaml"

    def edit(self, core_file: str, **changes) -> Path:
        """Change top-level fields of ``cores/<core_file>`` (a dict value updates that mapping)."""
        path = self.root / "cores" / core_file
        data = yaml.safe_load(path.read_text())
        for key, value in changes.items():
            if isinstance(value, dict):
                data.setdefault(key, {}).update(value)
            else:
                data[key] = value
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path
