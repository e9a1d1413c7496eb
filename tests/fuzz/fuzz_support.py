"""Our own small input files of every kind, and a runner of the ``stream`` CLI in-process that
checks the CLI's contract: exit 0, or exit 2 with a message naming the bad file; never exit 1, a
traceback or an internal error."""

from __future__ import annotations

import contextlib
import copy
import io
from pathlib import Path
from typing import Any

import onnx
import yaml
from onnx import TensorProto, helper

from stream_core.cli import main


def port(name: str, kind: str, bits: int, allocation: list[str]) -> dict[str, Any]:
    return {"name": name, "type": kind, "bandwidth_min": bits, "bandwidth_max": bits, "allocation": allocation}


def zigzag_core(name: str, kind: str = "compute", sizes: tuple[int, ...] = (8, 8), ops: list[str] | None = None):
    """A one-level ZigZag core: an SRAM holding every operand above a ``sizes`` MAC array."""
    dims = [f"D{i + 1}" for i in range(len(sizes))]
    core: dict[str, Any] = {
        "name": name,
        "type": f"zigzag.{kind}",
        "memories": {
            "sram": {
                "size": 1 << 20,
                "r_cost": 10.0,
                "w_cost": 12.0,
                "area": 0,
                "latency": 1,
                "operands": ["I1", "I2", "O"],
                "ports": [
                    port("r_port_1", "read", 256, ["I1, tl", "I2, tl", "O, tl", "O, th"]),
                    port("w_port_1", "write", 256, ["I1, fh", "I2, fh", "O, fh", "O, fl"]),
                ],
                "served_dimensions": dims,
            }
        },
        "operational_array": {"unit_energy": 0.5, "unit_area": 1, "dimensions": dims, "sizes": list(sizes)},
    }
    if ops is not None:
        core["operator_types"] = ops
    return core


CORES = {
    "array.yaml": zigzag_core("array"),
    "simd.yaml": zigzag_core("simd", sizes=(16,), ops=["Relu", "Add"]),
    "dram.yaml": zigzag_core("dram", kind="offchip", sizes=(0, 0)),
}
ACCELERATOR: dict[str, Any] = {
    "name": "fuzz_acc",
    "cores": {0: "array.yaml", 1: "array.yaml", 2: "simd.yaml", 3: "dram.yaml"},
    "offchip_core_id": 3,
    "unit_energy_cost": 0.5,
    "core_coordinates": {0: [0, 0], 1: [1, 0], 2: [0, 1], 3: [1, 1]},
    "core_connectivity": [
        {"type": "link", "cores": [0, 1], "bandwidth": 64},
        {"type": "link", "cores": [1, 2], "bandwidth": 64},
        {"type": "bus", "cores": [0, 1, 2, 3], "bandwidth": 128, "unit_energy_cost": 6.4},
    ],
}
MAPPING: dict[str, Any] = {
    "layers": [
        {"name": "conv", "core_allocation": [[0, 1]], "inter_core_tiling": [[{"dim": "K", "split": 2}]]},
        {"name": "relu", "core_allocation": [[2]]},
    ],
    "fused_groups": [{"name": "g", "layers": ["conv", "relu"], "intra_core_tiling": [{"dim": "conv.D2", "tile": 4}]}],
}
AIE_CORE: dict[str, Any] = {
    "name": "tile",
    "type": "aie2.compute",
    "memory": {"capacity": 524288, "bandwidth_min": 64, "bandwidth_max": 256},
    "max_object_fifo_depth": 2,
    "utilization": 60,
    "operator_types": ["Gemm", "MatMul"],
}


def conv_relu(shape: tuple[int, ...] = (1, 4, 8, 8), k: int = 8) -> onnx.ModelProto:
    """A 3x3 Conv (``k`` output channels) then a Relu; weights are shape-only initializers."""
    weight = onnx.TensorProto()
    weight.name, weight.data_type = "w", TensorProto.FLOAT
    weight.dims.extend([k, shape[1] if len(shape) > 1 else 1, 3, 3])
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["y"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes,
        "conv_relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[weight],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def write_inputs(folder: Path) -> dict[str, Path]:
    """Write the valid files into ``folder``: accelerator, its cores, mapping, AIE core, workload."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in CORES.items():
        write_yaml(folder / name, data)
    onnx.save(conv_relu(), folder / "net.onnx")
    return {
        "hardware": write_yaml(folder / "acc.yaml", ACCELERATOR),
        "mapping": write_yaml(folder / "map.yaml", MAPPING),
        "aie": write_yaml(folder / "aie.yaml", AIE_CORE),
        "core": folder / "array.yaml",
        "workload": folder / "net.onnx",
    }


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def leaves(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a nested dict/list (inner nodes included)."""
    paths = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            paths += leaves(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            paths += leaves(value, (*prefix, index))
    return paths


def replaced(data: Any, path: tuple[Any, ...], value: Any, *, delete: bool = False) -> Any:
    """A deep copy of ``data`` with the item at ``path`` set to ``value`` (or deleted)."""
    out = copy.deepcopy(data)
    holder = out
    for key in path[:-1]:
        holder = holder[key]
    if delete:
        del holder[path[-1]]
    else:
        holder[path[-1]] = value
    return out


def run_cli(*argv: str, quiet: bool = True) -> tuple[int, str, str]:
    """``stream ARGV`` in-process (``-q`` unless not ``quiet``): exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*argv, "-q"] if quiet else list(argv))
    return code, out.getvalue(), err.getvalue()


def assert_contract(code: int, out: str, err: str, bad_file: Path | None = None) -> None:
    """Exit 0, or 2 with an ``error:`` line naming ``bad_file``; never 1, a traceback or an internal error."""
    text = out + err
    assert code in (0, 2), f"exit {code}: {text[-2000:]}"
    assert "Traceback" not in text and "internal error" not in text, text[-2000:]
    if code == 2 and bad_file is not None:
        assert "error:" in err and str(bad_file.name) in err, err[-2000:]
