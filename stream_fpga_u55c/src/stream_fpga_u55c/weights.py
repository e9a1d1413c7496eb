"""Values of a workload's constant tensors (weights) and sample inputs.

Values come from the workload's ONNX file (initializers, ``Constant`` nodes, external data next to it).
A constant without values (Stream's weight-cleared files, an absent external data file, a weight that is
a graph input, a workload built in memory such as a ``block:`` spec) gets **generated** values: seeded by
:data:`SEED` and the tensor's name, uniform in ``+-1/sqrt(fan_in)`` (``fan_in`` = elements / first dim),
or in ``[0.5, 1.5)`` for tensors that must be positive (batch-normalisation variances). Which tensors were
generated is a warning and part of the compile summary; values of another float type are converted to
float32 (the kernels compute in float32), also with a warning.
"""

from __future__ import annotations

import math
import zlib
from pathlib import Path

import attrs
import numpy as np
import onnx
from onnx import external_data_helper, numpy_helper

from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir import Workload

SEED = 0
#: How generated values are drawn (for the summary and ``estimates.json``).
GENERATED_RULE = f"seeded (seed {SEED} + CRC32 of the name), uniform +-1/sqrt(fan_in); variances in [0.5, 1.5)"


@attrs.frozen
class Weights:
    """float32 values of a workload's constants; ``generated`` names those the model gave no values for."""

    values: dict[str, np.ndarray]
    generated: tuple[str, ...] = ()
    converted: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for the compile summary."""
        if not self.generated:
            return f"weights: {len(self.values)} tensor(s) from the model"
        return (
            f"weights: {len(self.generated)} of {len(self.values)} tensor(s) GENERATED (the model has no values "
            f"for them; {GENERATED_RULE}): {', '.join(self.generated)}"
        )

    def to_dict(self) -> dict:
        return {
            "tensors": len(self.values),
            "generated": list(self.generated),
            "generated_rule": GENERATED_RULE if self.generated else None,
            "converted_to_float32": list(self.converted),
        }


def _model_values(source: str | None) -> dict[str, np.ndarray]:
    """Arrays of every initializer and ``Constant`` output of ``source`` that has values (none for a
    source that is not an ONNX file; external data is read when its file exists)."""
    if source is None or not Path(source).is_file():
        return {}
    try:
        model = onnx.load(source, load_external_data=False)
    except Exception:  # not an ONNX file (a .block spec, a .pt2 export): no stored values
        return {}
    base = Path(source).parent
    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        for attribute in node.attribute if node.op_type == "Constant" else ():
            if attribute.name == "value":
                attribute.t.name = node.output[0]
                tensors.append(attribute.t)
    found = {}
    for tensor in tensors:
        if external_data_helper.uses_external_data(tensor):
            location = next((e.value for e in tensor.external_data if e.key == "location"), "")
            if not (base / location).is_file():
                continue
            external_data_helper.load_external_data_for_tensor(tensor, str(base))
        try:
            found[tensor.name] = numpy_helper.to_array(tensor)
        except ValueError:  # dims without data: a weight-cleared file
            continue
    return found


def _generated(name: str, shape: tuple[int, ...], positive: bool) -> np.ndarray:
    rng = np.random.default_rng([SEED, zlib.crc32(name.encode())])
    if positive:
        return rng.uniform(0.5, 1.5, size=shape).astype("<f4")
    fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
    bound = 1.0 / math.sqrt(max(1, fan_in))
    return rng.uniform(-bound, bound, size=shape).astype("<f4")


def _positive(workload: Workload) -> set[str]:
    """Constants that must be positive: batch-normalisation variances."""
    return {n.reads[4].tensor for n in workload.nodes if n.op_type == "BatchNormalization" and len(n.reads) > 4}


def load_weights(workload: Workload, names: list[str], context: RunContext) -> Weights:
    """float32 values of the constants ``names`` (see the module docstring)."""
    stored = _model_values(workload.source) if names else {}
    positive = _positive(workload)
    values: dict[str, np.ndarray] = {}
    generated, converted, problems = [], [], []
    for name in names:
        spec = workload.tensor(name)
        value = stored.get(name)
        if value is None or value.size == 0 < spec.num_elements:
            values[name] = _generated(name, spec.shape, name in positive)
            generated.append(name)
            continue
        field = f"graph.initializer.{name}"
        if value.size != spec.num_elements:
            problems.append(
                Problem(
                    f"holds {value.size} values, the graph uses it as {list(spec.shape)}",
                    file=workload.source,
                    field=field,
                )
            )
            continue
        if value.dtype != np.float32:
            if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
                problems.append(Problem(f"expected numbers, got {value.dtype}", file=workload.source, field=field))
                continue
            converted.append(name)
        values[name] = np.ascontiguousarray(value.reshape(spec.shape), dtype="<f4")
    if problems:
        raise InputError(problems)
    if generated:
        context.warn(
            f"{workload.source or workload.name}: no values for {len(generated)} weight tensor(s) "
            f"({', '.join(generated)}); the design is compiled with generated weights ({GENERATED_RULE})"
        )
    if converted:
        context.warn(f"weights converted to float32 for the U55C kernels: {', '.join(converted)}")
    return Weights(values, tuple(generated), tuple(converted))


def sample_input(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Deterministic uniform [-1, 1) sample data for a graph input."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape).astype("<f4")
