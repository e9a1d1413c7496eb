"""Constant folding reads external data only up to what a tensor's dims hold (elements x element size):
without a ``length``, onnx reads the rest of the file, whatever its size."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from stream_onnx.parser import ONNXWorkloadParser

from stream_core.errors import InputError

F32 = TensorProto.FLOAT


def reshape_by_external_shape(tmp_path, model, data: bytes, size: int | None = None):
    """Reshape x (2, 12) by an int64 [2] 'shape' stored in shape.bin with no offset or length; the file
    is ``data``, extended (sparse, nothing written) to ``size`` bytes when given."""
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")]
    m = model(nodes, {"x": (F32, [2, 12])}, {"y": (F32, [None, None])})
    shape = onnx.TensorProto(name="shape", data_type=TensorProto.INT64, dims=[2])
    shape.data_location = TensorProto.EXTERNAL
    shape.external_data.add(key="location", value="shape.bin")
    m.graph.initializer.append(shape)
    path = tmp_path / "reshape.onnx"
    onnx.save(m, str(path))
    blob = tmp_path / "shape.bin"
    blob.write_bytes(data)
    if size is not None:
        with blob.open("r+b") as f:
            f.truncate(size)
    return path


def test_external_data_larger_than_the_dims_hold_is_refused_before_reading(tmp_path, model, context):
    path = reshape_by_external_shape(tmp_path, model, np.array([4, 6], np.int64).tobytes(), size=6 * 2**30)
    start = time.perf_counter()
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as info:
            ONNXWorkloadParser().parse(path, context)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 2 and peak < 64 * 2**20  # the 6 GiB were never read
    (problem,) = info.value.problems
    assert (problem.file, problem.field) == (str(path), "graph.initializer.shape")
    assert problem.message == (
        "the external data of 'shape' is 6,442,450,944 bytes, more than its dims [2] of INT64 hold (16 bytes); "
        "refused before reading it: fix the dims, or give the external data the 'offset' and 'length' of this tensor"
    )


def test_external_data_the_dims_hold_is_read_and_folded(tmp_path, model, context):
    path = reshape_by_external_shape(tmp_path, model, np.array([4, 6], np.int64).tobytes())
    assert ONNXWorkloadParser().parse(path, context).tensor("y").shape == (4, 6)


def test_a_parameter_read_by_an_op_parser_is_bounded_the_same_way(tmp_path, model, context):
    """Gather's constant indices, too large to fold (5,000 of them), are read when the Gather is parsed:
    through the same bound, so a 6 GiB external file behind them is refused before it is read."""
    nodes = [helper.make_node("Gather", ["x", "idx"], ["y"], name="gather", axis=0)]
    m = model(nodes, {"x": (F32, [10, 4])}, {"y": (F32, [5000, 4])})
    idx = onnx.TensorProto(name="idx", data_type=TensorProto.INT64, dims=[5000])
    idx.data_location = TensorProto.EXTERNAL
    idx.external_data.add(key="location", value="idx.bin")
    m.graph.initializer.append(idx)
    path = tmp_path / "gather.onnx"
    onnx.save(m, str(path))
    with (tmp_path / "idx.bin").open("wb") as blob:
        blob.truncate(6 * 2**30)
    start = time.perf_counter()
    with pytest.raises(InputError) as info:
        ONNXWorkloadParser().parse(path, context)
    assert time.perf_counter() - start < 2
    assert [p.message for p in info.value.problems] == [
        "the external data of 'idx' is 6,442,450,944 bytes, more than its dims [5000] of INT64 hold (40,000 bytes); "
        "refused before reading it: fix the dims, or give the external data the 'offset' and 'length' of this tensor"
    ]
