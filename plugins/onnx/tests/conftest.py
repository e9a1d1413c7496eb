"""Fixtures: a shared plugin context and a builder that writes an ONNX model and parses it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from stream_onnx.parser import ONNXWorkloadParser

from stream_core.context import RunContext, RunOptions
from stream_core.ir import Workload
from stream_core.testing import make_plugins

Spec = tuple[int, Sequence[int | str | None] | None]  # (ONNX element type, shape; None: unknown rank)
F32 = TensorProto.FLOAT


def build_model(
    nodes: Sequence[onnx.NodeProto],
    inputs: Mapping[str, Spec],
    outputs: Mapping[str, Spec],
    initializers: Mapping[str, np.ndarray] | None = None,
    opset: int = 18,
    **kwargs: Any,
) -> onnx.ModelProto:
    """A model from nodes, ``{name: (dtype, shape)}`` inputs/outputs and NumPy initializers."""
    graph = helper.make_graph(
        list(nodes),
        "test",
        [helper.make_tensor_value_info(n, t, list(s)) for n, (t, s) in inputs.items()],
        [helper.make_tensor_value_info(n, t, None if s is None else list(s)) for n, (t, s) in outputs.items()],
        initializer=[numpy_helper.from_array(np.asarray(v), n) for n, v in (initializers or {}).items()],
    )
    opsets = [helper.make_opsetid("", opset), *kwargs.pop("extra_opsets", [])]
    return helper.make_model(graph, opset_imports=opsets, **kwargs)


@pytest.fixture(scope="session")
def context() -> RunContext:
    return RunContext(plugins=make_plugins())


@pytest.fixture
def parse(tmp_path: Path, context: RunContext) -> Callable[..., Workload]:
    """``parse(model, context=None, **settings)``: save ``model`` and parse it with the ONNX parser."""
    counter = itertools.count()

    def _parse(model: onnx.ModelProto, ctx: RunContext | None = None, **settings: Any) -> Workload:
        path = tmp_path / f"model{next(counter)}.onnx"
        onnx.save(model, str(path))
        ctx = ctx or context
        if settings:
            ctx = RunContext(
                plugins=ctx.plugins, options=RunOptions(settings={f"onnx.{k}": v for k, v in settings.items()})
            )
        return ONNXWorkloadParser().parse(path, ctx)

    return _parse


@pytest.fixture
def model() -> Callable[..., onnx.ModelProto]:
    return build_model
