"""Driver run by the side environment's Python (stream-dse 2.1.1), never imported by stream-core.

    python stream_driver.py make NAME DIR        build workload NAME (and its mapping) with Stream's scripts
    python stream_driver.py run HW WL OUT RESULT [--mapping M] [--nb-cols N]

``make`` writes ``DIR/files.json`` ({"workload": path, "mapping": path or null}); ``run`` prices the pair
with ``stream.api.evaluate_mapping`` (gscip, Stream's defaults; its generic mapping generator when no
mapping is given) and writes what it found to RESULT as JSON, also when Stream raises.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

INPUTS = "stream.inputs"


def _module_writing_to(name: str, folder: Path) -> ModuleType:
    """Stream's builder module ``name``, made to save next to ``folder`` instead of inside site-packages.

    The builders save to ``os.path.dirname(__file__)`` read at call time, so pointing the module's
    ``__file__`` into ``folder`` redirects them without touching the installed package.
    """
    module = importlib.import_module(f"{INPUTS}.{name}")
    module.__file__ = str(folder / Path(module.__file__).name)
    return module


def _two_conv_config(folder: Path) -> tuple[ModuleType, Any]:
    """The 2-conv size Stream's own tests use (tests/test_co.py, tests/test_hardware_combinations.py)."""
    module = _module_writing_to("testing.workload.make_2_conv", folder)
    return module, module.TwoConvWorkloadConfig(
        batch_size=1,
        in_channels=8,
        height=32,
        width=32,
        out_channels_1=16,
        out_channels_2=32,
        kernel_size=3,
        in_dtype="bf16",
        weight_dtype="bf16",
    )


def _make_2conv(folder: Path) -> tuple[str, str | None]:
    module, config = _two_conv_config(folder)
    return module.make_2_conv_workload(config), None


def _make_2conv_map(folder: Path) -> tuple[str, str | None]:
    module, config = _two_conv_config(folder)
    mapping = _module_writing_to("testing.mapping.make_2_conv_mapping", folder)
    return module.make_2_conv_workload(config), mapping.make_2_conv_mapping(config)


def _make_swiglu(folder: Path) -> tuple[str, str | None]:
    module = importlib.import_module(f"{INPUTS}.testing.workload.make_swiglu")
    return module.make_small_swiglu_workload(output_dir=str(folder)), None


def _make_attention_head(folder: Path) -> tuple[str, str | None]:
    module = importlib.import_module(f"{INPUTS}.testing.workload.make_attention_head")
    path = folder / "attention_head.onnx"
    module.make_attention_head(str(path))
    return str(path), None


def _make_conv_relu_flatten_gemm(folder: Path) -> tuple[str, str | None]:
    module = _module_writing_to("testing.workload.make_conv_relu_flatten_gemm", folder)
    return module.make_conv_relu_flatten_gemm_workload(), None


def _resnet(pattern: str):
    def make(folder: Path) -> tuple[str, str | None]:
        module = _module_writing_to("testing.workload.make_resnet_subgraph", folder)
        config = module.ResNetSubgraphConfig(pattern=module.ResNetPattern[pattern])
        return module.make_resnet_subgraph(config), None

    return make


def _aie_gemm(size: tuple[int, int, int], tile: tuple[int, int, int], rows: int, cols: int):
    def make(folder: Path) -> tuple[str, str | None]:
        workload = _module_writing_to("aie.workload.make_onnx_gemm", folder)
        mapping = _module_writing_to("aie.mapping.make_gemm_mapping", folder)
        onnx_path = workload.make_gemm_workload(*size, "bf16", "bf16")
        return onnx_path, mapping.make_gemm_mapping(*size, *tile, nb_rows_to_use=rows, nb_cols_to_use=cols)

    return make


def _aie_swiglu(size: tuple[int, int, int], tiles: tuple[int, int, int]):
    def make(folder: Path) -> tuple[str, str | None]:
        workload = _module_writing_to("aie.workload.make_onnx_swiglu", folder)
        mapping = _module_writing_to("aie.mapping.make_swiglu_mapping", folder)
        onnx_path = workload.make_swiglu_workload(*size, "bf16", "bf16")
        return onnx_path, mapping.make_swiglu_mapping(*size, True, *tiles)

    return make


# Sizes: the builders' defaults, or those of Stream's own tests where a builder has no default.
BUILDERS = {
    "2conv": _make_2conv,
    "2conv+map": _make_2conv_map,
    "swiglu": _make_swiglu,
    "attention_head": _make_attention_head,
    "conv_relu_flatten_gemm": _make_conv_relu_flatten_gemm,
    "resnet_basic_residual": _resnet("BASIC_RESIDUAL"),
    "resnet_stride2_downsample": _resnet("STRIDE2_DOWNSAMPLE"),
    "resnet_frontend": _resnet("FRONTEND"),
    "resnet_dual_residual": _resnet("DUAL_RESIDUAL"),
    "aie_gemm_64": _aie_gemm((64, 64, 64), (64, 64, 64), 1, 1),
    "aie_gemm_128": _aie_gemm((128, 128, 128), (64, 64, 64), 2, 2),
    "aie_gemm_256x8192x2048": _aie_gemm((256, 8192, 2048), (32, 32, 32), 4, 8),
    "aie_swiglu_256x512x2048": _aie_swiglu((256, 512, 2048), (32, 32, 64)),
}


def make(name: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    workload, mapping = BUILDERS[name](folder)
    (folder / "files.json").write_text(json.dumps({"workload": workload, "mapping": mapping}))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def _costed_nodes(output: Path) -> dict[str, int]:
    """Nodes per cost backend, from each fused group's ``core_cost_lut.yaml``."""
    import yaml

    counts: Counter[str] = Counter()
    for lut in sorted(output.glob("group_*/core_cost_lut.yaml")):
        for node in (yaml.safe_load(lut.read_text()) or {}).get("nodes", []):
            backends = {
                (core.get("metadata") or {}).get("backend") or str(core.get("core_type", "?")).split(".")[0]
                for core in node.get("cores", [])
            }
            counts.update(backends)
    return dict(counts)


def _energy_pj(context: Any) -> float | None:
    """Σ over fused groups of the energy family's ``total_pj`` (from each group's AllocationIR dump); None when a
    group does not report it."""
    total = 0.0
    for allocation in context.get("group_allocations").values():
        energy = (((allocation or {}).get("performance") or {}).get("energy") or {}).get("total_pj")
        if energy is None:
            return None
        total += energy
    return total


def _energy_parts(context: Any) -> dict[str, float]:
    """The run's energy split as Stream's energy family counts it: ``node`` (each node's cost-LUT
    ``energy_total`` on its cores) and ``transfer`` (DMA bits x memory-port and link energy per bit),
    each per iteration times the group's iterations, summed over groups."""
    parts = {"node": 0.0, "transfer": 0.0}
    for allocation in context.get("group_allocations").values():
        energy = ((allocation or {}).get("performance") or {}).get("energy") or {}
        per_iteration = energy.get("per_iteration_pj") or 0.0
        iterations = energy["total_pj"] / per_iteration if per_iteration else 0.0
        parts["node"] += energy.get("node_pj_per_iteration", 0.0) * iterations
        parts["transfer"] += energy.get("transfer_pj_per_iteration", 0.0) * iterations
    return parts


def run(args: argparse.Namespace) -> None:
    result: dict[str, Any] = {"accepted": False}
    start = time.perf_counter()
    try:
        from stream.api import SolveOptions, evaluate_mapping

        options = SolveOptions(nb_cols_to_use=args.nb_cols) if args.nb_cols else SolveOptions()
        estimate = evaluate_mapping(args.hardware, args.workload, args.output, args.mapping, options)
        result.update(
            accepted=True,
            latency_cycles=estimate.cycles,
            group_cycles=list(estimate.group_cycles),
            dispatch_cycles=estimate.dispatch_cycles,
        )
    except BaseException as exc:
        result["error"] = _first_line(exc)
        result["traceback_tail"] = traceback.format_exc().strip().splitlines()[-6:]
    result["api_seconds"] = round(time.perf_counter() - start, 3)
    readers = {"costed_nodes": lambda: _costed_nodes(Path(args.output))}
    if result["accepted"]:
        readers["energy_pj"] = lambda: _energy_pj(estimate.context)
        readers["energy_parts"] = lambda: _energy_parts(estimate.context)
    for key, read in readers.items():
        try:
            result[key] = read()
        except Exception as exc:
            result[f"{key}_error"] = _first_line(exc)
    Path(args.result).write_text(json.dumps(result, indent=1, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_make = sub.add_parser("make")
    p_make.add_argument("name", choices=sorted(BUILDERS))
    p_make.add_argument("folder", type=Path)
    p_run = sub.add_parser("run")
    for name in ("hardware", "workload", "output", "result"):
        p_run.add_argument(name)
    p_run.add_argument("--mapping")
    p_run.add_argument("--nb-cols", type=int)
    args = parser.parse_args()
    if args.command == "make":
        make(args.name, args.folder.resolve())
    else:
        run(args)


if __name__ == "__main__":
    sys.exit(main())
