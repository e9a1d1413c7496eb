"""Example workloads (ONNX, built with ``onnx.helper``) and Stream-format mappings for the AIE arrays.

Weights are graph inputs (not initializers), so the files stay a few hundred bytes; the ONNX parser
treats every graph input but the first as a weight. Element type bfloat16 unless asked otherwise.

* :func:`gemm`: ``Y[M, N] = A[M, K] @ B[K, N]`` (one MatMul node named ``gemm``; MatMul's loop
  order ``D (M), K (N), C (K)`` puts the reduction innermost, so an output tile completes before
  the next one starts and needs no extra buffering).
* :func:`swiglu`: ``down(silu(x @ W_gate) * (x @ W_up))`` with nodes ``gate``, ``up``, ``silu``,
  ``mul``, ``down``. SiLU is ONNX ``Swish`` (alpha 1, default domain from opset 24: one node, like
  the single silu kernel of an AIE design), or ``x * Sigmoid(x)`` (``silu="sigmoid"``, opset 17:
  nodes ``sigmoid`` and ``silu``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: ONNX element types offered (MatMul has no int8 form; int8 GEMMs are MatMulInteger).
ELEM_TYPES = ("bfloat16", "float")
GEMM_BIG = (256, 8192, 2048)  # M x K x N
GEMM_SMALL = (64, 64, 64)
SWIGLU_SMALL = (64, 128, 256)  # sequence, model width, hidden width
#: Percent utilisation written into the example mappings' kernel kwargs: the best in-kernel
#: utilisation of mlir-aie's matmul kernels (Xilinx/mlir-aie #2735) and Stream's value for its
#: element-wise kernels.
GEMM_UTILIZATION = 80.0
VECTOR_UTILIZATION = 50.0


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        from stream_core.errors import PluginError

        raise PluginError(
            "building the example workloads needs onnx: pip install 'stream-cores-aie[examples]'"
        ) from exc
    return onnx


def _elem(name: str) -> int:
    if name not in ELEM_TYPES:
        raise ValueError(f"element type must be one of {', '.join(ELEM_TYPES)}, got {name!r}")
    onnx = _onnx()
    return onnx.TensorProto.BFLOAT16 if name == "bfloat16" else onnx.TensorProto.FLOAT


def gemm(path: Path | str, m: int, k: int, n: int, elem: str = "bfloat16") -> Path:
    """A one-node GEMM ``[m, k] @ [k, n]``; returns ``path``."""
    onnx = _onnx()
    helper, t = onnx.helper, _elem(elem)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["A", "B"], ["Y"], name="gemm")],
        f"gemm_{m}x{k}x{n}",
        [helper.make_tensor_value_info("A", t, [m, k]), helper.make_tensor_value_info("B", t, [k, n])],
        [helper.make_tensor_value_info("Y", t, [m, n])],
    )
    return _save(graph, path, 17)


def swiglu(path: Path | str, seq: int, width: int, hidden: int, elem: str = "bfloat16", silu: str = "swish") -> Path:
    """A SwiGLU feed-forward block ``[seq, width] -> [seq, width]`` with a ``hidden``-wide middle."""
    onnx = _onnx()
    helper, t = onnx.helper, _elem(elem)
    if silu == "swish":
        act = [helper.make_node("Swish", ["G"], ["S"], name="silu")]
        opset = 24
    elif silu == "sigmoid":
        act = [
            helper.make_node("Sigmoid", ["G"], ["SG"], name="sigmoid"),
            helper.make_node("Mul", ["G", "SG"], ["S"], name="silu"),
        ]
        opset = 17
    else:
        raise ValueError(f"silu must be 'swish' or 'sigmoid', got {silu!r}")
    nodes = [
        helper.make_node("MatMul", ["X", "W_gate"], ["G"], name="gate"),
        helper.make_node("MatMul", ["X", "W_up"], ["U"], name="up"),
        *act,
        helper.make_node("Mul", ["S", "U"], ["H"], name="mul"),
        helper.make_node("MatMul", ["H", "W_down"], ["Y"], name="down"),
    ]
    graph = helper.make_graph(
        nodes,
        f"swiglu_{seq}x{width}x{hidden}",
        [
            helper.make_tensor_value_info("X", t, [seq, width]),
            helper.make_tensor_value_info("W_gate", t, [width, hidden]),
            helper.make_tensor_value_info("W_up", t, [width, hidden]),
            helper.make_tensor_value_info("W_down", t, [hidden, width]),
        ],
        [helper.make_tensor_value_info("Y", t, [seq, width])],
    )
    return _save(graph, path, opset)


def _save(graph: Any, path: Path | str, opset: int) -> Path:
    onnx = _onnx()
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, path)
    return path


# -- mappings ----------------------------------------------------------------------------------------
#: Compute tiles of the bundled hardware files and how a GEMM's (M, N) is split over them.
COMPUTE_TILES = {
    "single_tile": ((1,), (1, 1)),
    "single_col": ((2, 3, 4, 5), (1, 4)),
    "whole_array": (tuple(6 * c + r for c in range(4) for r in range(2, 6)), (4, 4)),
    "whole_array_strix": (tuple(6 * c + r for c in range(8) for r in range(2, 6)), (4, 8)),
}


def _splits(m_split: int, n_split: int) -> list[dict[str, Any]]:
    """M is ``D0`` and N is ``D1`` for MatMul (``D, K, C``) and for 2-D element-wise ops (``D, K``)."""
    return [{"dim": d, "split": s} for d, s in (("D0", m_split), ("D1", n_split)) if s > 1]


def gemm_mapping(hardware: str, tile: int = 64) -> dict[str, Any]:
    """Mapping of the ``gemm`` node on a bundled array: output rows split over columns (M) and
    output columns over the tiles of a column (N), ``tile``-sized M, K, N tiles per core."""
    cores, (m_split, n_split) = COMPUTE_TILES[hardware]
    return {
        "layers": [
            {
                "name": "gemm",
                "core_allocation": [list(cores)],
                "inter_core_tiling": [_splits(m_split, n_split)],
                "kernel": {"name": "mm", "kwargs": {"utilization": GEMM_UTILIZATION}},
            }
        ],
        "fused_groups": [
            {
                "name": "gemm",
                "layers": ["gemm"],
                "intra_core_tiling": [{"dim": f"gemm.D{i}", "tile": tile} for i in range(3)],
            }
        ],
    }


def swiglu_mapping(hardware: str, tile: int = 32, silu: str = "swish") -> dict[str, Any]:
    """Mapping of the SwiGLU nodes on a bundled array, one fused group per node (each GEMM as in
    :func:`gemm_mapping`; element-wise nodes split the same way, ``tile`` x ``tile`` tiles)."""
    cores, (m_split, n_split) = COMPUTE_TILES[hardware]
    vector = ["sigmoid", "silu", "mul"] if silu == "sigmoid" else ["silu", "mul"]
    layers, groups = [], []
    for name in ["gate", "up", *vector, "down"]:
        mac = name in ("gate", "up", "down")
        layers.append(
            {
                "name": name,
                "core_allocation": [list(cores)],
                "inter_core_tiling": [_splits(m_split, n_split)],
                "kernel": {
                    "name": "mm" if mac else name,
                    "kwargs": {"utilization": GEMM_UTILIZATION if mac else VECTOR_UTILIZATION},
                },
            }
        )
        dims = range(3) if mac else range(2)
        groups.append(
            {"name": name, "layers": [name], "intra_core_tiling": [{"dim": f"{name}.D{i}", "tile": tile} for i in dims]}
        )
    return {"layers": layers, "fused_groups": groups}
