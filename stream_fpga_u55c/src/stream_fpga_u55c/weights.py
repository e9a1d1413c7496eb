"""Values of a workload's constant tensors (weights), read from its ONNX file, and sample inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from stream_core.errors import InputError, Problem
from stream_core.ir import Workload


def constant_values(workload: Workload, names: list[str]) -> dict[str, np.ndarray]:
    """float32 arrays of the constants ``names`` (initializers or ``Constant`` nodes of the source model)."""
    if not names:
        return {}
    if workload.source is None or not Path(workload.source).exists():
        raise InputError(Problem("the weights' values are needed but the workload has no source file"))
    model = onnx.load(workload.source)
    found: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.output[0] in names:
            for attribute in node.attribute:
                if attribute.name == "value":
                    found[node.output[0]] = numpy_helper.to_array(attribute.t)
    problems = []
    out = {}
    for name in names:
        spec = workload.tensor(name)
        if name not in found:
            problems.append(Problem("no value for this constant in the model", file=workload.source, field=name))
            continue
        value = found[name]
        if value.dtype != np.float32:
            problems.append(
                Problem(f"expected float32, got {value.dtype}", file=workload.source, field=f"graph.initializer.{name}")
            )
            continue
        if value.size != spec.num_elements:
            problems.append(
                Problem(
                    f"holds {value.size} values, the graph uses it as {list(spec.shape)}",
                    file=workload.source,
                    field=f"graph.initializer.{name}",
                )
            )
            continue
        out[name] = np.ascontiguousarray(value.reshape(spec.shape), dtype="<f4")
    if problems:
        raise InputError(problems)
    return out


def sample_input(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Deterministic uniform [-1, 1) sample data for a graph input."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape).astype("<f4")
