"""Stream mapping YAML (current and legacy layouts): resolution and errors naming layer and field."""

from __future__ import annotations

import attrs
import pytest
from core_test_support import TOY_COMPUTE, write_yaml

from stream_core.errors import InputError
from stream_core.hardware import load_accelerator
from stream_core.ir import Accelerator, Core, CoreSummary, TensorSpec, Workload
from stream_core.mapping_io import load_mapping
from stream_core.testing import conv_node


def two_conv() -> Workload:
    tensors = {
        "in": TensorSpec("in", (1, 8, 32, 32), "int8"),
        "w1": TensorSpec("w1", (16, 8, 3, 3), "int8"),
        "mid": TensorSpec("mid", (1, 16, 32, 32), "int8"),
        "w2": TensorSpec("w2", (32, 16, 3, 3), "int8"),
        "out": TensorSpec("out", (1, 32, 32, 32), "int8"),
    }
    c1 = conv_node("Conv1", c=8, k=16, oy=32, ox=32, tensors=("in", "w1", "mid"))
    c2 = conv_node("Conv2", c=16, k=32, oy=32, ox=32, tensors=("mid", "w2", "out"))
    return Workload("two_conv", [c1, c2], tensors, inputs=["in", "w1", "w2"], outputs=["out"])


@pytest.fixture
def setup(tmp_path, toy_plugins, toy_hardware):
    """Cores with room for whole layers, so that no tile needs tiling further to fit."""
    hardware = toy_hardware(n=4, compute={**TOY_COMPUTE, "memory_bits": 2**20})
    return tmp_path, two_conv(), load_accelerator(hardware, toy_plugins)


def test_current_layout_with_split_and_fused_group(setup):
    tmp_path, workload, acc = setup
    path = write_yaml(
        tmp_path / "m.yaml",
        {
            "layers": [
                {
                    "name": "Conv1",
                    "core_allocation": [[0, 1, 2, 3]],
                    "inter_core_tiling": [[{"dim": "D6", "split": 4}]],
                },
                {
                    "name": "Conv2",
                    "core_allocation": [[0, 1, 2, 3]],
                    "inter_core_tiling": [[{"dim": "D6", "split": 4}]],
                    "kernel": {"name": "conv", "kwargs": {"utilization": 61.8}},
                },
            ],
            "fused_groups": [
                {"name": "g", "layers": ["Conv1", "Conv2"], "intra_core_tiling": [{"dim": "Conv1.D2", "tile": 8}]}
            ],
        },
    )
    mapping = load_mapping(path, workload, acc)
    assert mapping["Conv1"].cores == (0, 1, 2, 3) and mapping["Conv1"].split == (("K", 4),)
    assert mapping["Conv2"].kernel.get("utilization") == 61.8
    [group] = mapping.groups
    assert group.nodes == ("Conv1", "Conv2") and group.tiles == (("Conv1", "OY", 8),)
    # Conv2 reads Conv1's 32 output rows through a padded 3 x 3 window (OY + FY - 1 for 32 rows): its
    # OY is one fused axis with Conv1's, so it is tiled to 8 too
    assert group.derived == (("Conv2", "OY", 8),) and group.tile_sizes("Conv2") == {"OY": 8}


def test_legacy_list_layout_with_default_entry(setup):
    tmp_path, workload, acc = setup
    path = write_yaml(
        tmp_path / "m.yaml",
        [
            {
                "name": "default",
                "core_allocation": [0, 1, 2, 3],
                "intra_core_tiling": ["OY, 4"],
                "inter_core_tiling": ["K, *"],
            },
            {"name": "Conv2", "core_allocation": [2], "spatial_mapping": {"D1": ["K, 32"]}},
        ],
    )
    mapping = load_mapping(path, workload, acc)
    assert mapping["Conv1"].split == (("K", 4),) and mapping["Conv1"].cores == (0, 1, 2, 3)
    assert mapping["Conv2"].cores == (2,) and mapping["Conv2"].split == ()
    assert dict(mapping["Conv2"].hints)["spatial_mapping"] == (("D1", ("K, 32",)),)
    [group] = mapping.groups  # no fused_groups: one group, legacy tiling = number of tiles
    assert group.tiles == (("Conv1", "OY", 8),)


@pytest.mark.parametrize(
    "layers, expected",
    [
        ([{"name": "Conv1", "core_allocation": [[0, 9]]}], "layer 'Conv1'.core_allocation: core 9 is not defined"),
        (
            [{"name": "Conv1", "core_allocation": [[0, 4]]}],
            "layer 'Conv1'.core_allocation: core 4 is a 'toy.offchip' core and cannot compute",
        ),
        (
            # a split that does not divide its loop is not applied, but still needs one core per part
            [{"name": "Conv1", "core_allocation": [[0, 1]], "inter_core_tiling": [[{"dim": "D6", "split": 3}]]}],
            "the split makes 3 parts but core_allocation lists 2 cores",
        ),
        (
            [{"name": "Conv1", "core_allocation": [[0, 1]], "inter_core_tiling": [[{"dim": "D9", "split": 2}]]}],
            "node 'Conv1' (Conv) has no dimension 'D9'; its loops are D0=B, D1=OX",
        ),
        (
            [{"name": "Conv1", "core_allocation": [[0, 1, 2]], "inter_core_tiling": [[{"dim": "D6", "split": 2}]]}],
            "the split makes 2 parts but core_allocation lists 3 cores",
        ),
        (
            [{"name": "Conv1", "core_allocation": [[0]], "inter_core_tiling": [[{"dim": "D6", "split": 0}]]}],
            "'split' of dim 'D6' must be a positive integer, got 0",
        ),
        ([{"name": "Conv1", "core_allocation": [[0], [1]]}], "2 core groups given; exactly one group per layer"),
        ([{"name": "Conv1", "core_allocation": [[0]], "colour": 1}], "layer 'Conv1'.colour: unknown field"),
    ],
)
def test_errors_name_layer_and_field(setup, layers, expected):
    tmp_path, workload, acc = setup
    path = write_yaml(tmp_path / "m.yaml", {"layers": [*layers, {"name": "default", "core_allocation": [[0]]}]})
    with pytest.raises(InputError) as info:
        load_mapping(path, workload, acc)
    assert any(expected in str(p) for p in info.value.problems), [str(p) for p in info.value.problems]


def test_unmapped_node_and_group_errors(setup):
    tmp_path, workload, acc = setup
    path = write_yaml(
        tmp_path / "m.yaml",
        {
            "layers": [{"name": "Conv2", "core_allocation": [[0]]}],
            "fused_groups": [
                {"name": "g", "layers": ["Conv2", "Nope"], "intra_core_tiling": [{"dim": "Conv2.D2", "tile": 0}]}
            ],
        },
    )
    with pytest.raises(InputError) as info:
        load_mapping(path, workload, acc)
    text = "\n".join(str(p) for p in info.value.problems)
    assert "no entry maps node 'Conv1' (op Conv); add a layer named 'Conv1', 'Conv' or 'default'" in text
    assert "fused group 'g'.layers: layer 'Nope' is neither a node of the workload nor an op type" in text
    assert "'tile' of 'Conv2.D2' must be a positive integer, got 0" in text


def test_groups_must_respect_dependencies(setup):
    tmp_path, workload, acc = setup
    path = write_yaml(
        tmp_path / "m.yaml",
        {
            "layers": [{"name": "Conv", "core_allocation": [[0]]}],
            "fused_groups": [{"name": "late", "layers": ["Conv1"]}, {"name": "early", "layers": ["Conv2"]}],
        },
    )
    mapping = load_mapping(path, workload, acc)  # groups are ordered topologically
    assert [g.name for g in mapping.groups] == ["late", "early"]


def test_protected_loops_cannot_be_split_or_tiled(tmp_path, toy_plugins, toy_hardware):
    from stream_core.ir import AffineExpr, LoopDim, Node, Operand

    a = AffineExpr.of
    softmax = Node(
        "sm",
        "Softmax",
        [LoopDim("D", 4), LoopDim("K", 8)],
        [Operand("input", "x", 8, (a("D"), a("K"))), Operand("output", "y", 8, (a("D"), a("K")))],
        protected_loops=("K",),
    )
    workload = Workload(
        "w",
        [softmax],
        {"x": TensorSpec("x", (4, 8), "int8"), "y": TensorSpec("y", (4, 8), "int8")},
        inputs=["x"],
        outputs=["y"],
    )
    acc = load_accelerator(toy_hardware(n=2), toy_plugins)
    path = write_yaml(
        tmp_path / "m.yaml",
        {
            "layers": [{"name": "sm", "core_allocation": [[0, 1]], "inter_core_tiling": [[{"dim": "D1", "split": 2}]]}],
            "fused_groups": [{"name": "g", "layers": ["sm"], "intra_core_tiling": [{"dim": "sm.K", "tile": 4}]}],
        },
    )
    with pytest.raises(InputError) as info:
        load_mapping(path, workload, acc)
    text = [str(p) for p in info.value.problems]
    assert any("inter_core_tiling: D1 (K) of node 'sm' (Softmax) cannot be split or tiled" in t for t in text)
    assert any("intra_core_tiling: K (K) of node 'sm' (Softmax) cannot be split or tiled" in t for t in text)
    ok = write_yaml(
        tmp_path / "ok.yaml",
        {"layers": [{"name": "sm", "core_allocation": [[0, 1]], "inter_core_tiling": [[{"dim": "D0", "split": 2}]]}]},
    )
    assert load_mapping(ok, workload, acc)["sm"].split == (("D", 2),)


def test_a_core_listed_twice_runs_two_parts_of_the_split_one_after_the_other(tmp_path, toy_plugins, toy_hardware):
    from core_test_support import TOY_COMPUTE

    from stream_core.context import RunOptions
    from stream_core.pipeline import run
    from stream_core.testing import check_schedule

    acc = load_accelerator(toy_hardware(n=2, compute={**TOY_COMPUTE, "memory_bits": 10**7}), toy_plugins)
    split = {"core_allocation": [[0, 0, 1, 1]], "inter_core_tiling": [[{"dim": "D6", "split": 4}]]}
    path = write_yaml(tmp_path / "m.yaml", {"layers": [{"name": "Conv", **split}]})
    mapping = load_mapping(path, two_conv(), acc)
    assert mapping["Conv1"].cores == (0, 0, 1, 1) and mapping["Conv1"].split == (("K", 4),)
    assert mapping.notes == ()
    outcome = run(two_conv(), acc, path, plugins=toy_plugins, options=RunOptions(allocator="greedy"))
    assert check_schedule(outcome.result, outcome.problem) == []
    conv1 = sorted((t.core, t.start, t.end) for t in outcome.result.tiles if t.node == "Conv1")
    assert [core for core, _, _ in conv1] == [0, 0, 1, 1]
    (_, s0, e0), (_, s1, e1) = conv1[:2]
    assert e0 <= s1 or e1 <= s0  # core 0's two parts do not overlap
    # each part is a quarter of the layer: 8*16/4 output channels x 32x32 pixels x 8x3x3 MACs on 4 MACs/cycle
    assert all(end - start == 4 * 32 * 32 * 8 * 9 // 4 for _, start, end in conv1)


def test_fixed_allocation_of_several_cores_splits_output_channels_as_stream(setup):
    tmp_path, workload, acc = setup
    layers = [
        {"name": "default", "core_allocation": [0]},
        {"name": "Conv2", "core_allocation": [2, 1, 2, 2], "core_allocation_is_fixed": True},
        {"name": "Conv1", "core_allocation": [3, 3, 1], "core_allocation_is_fixed": False},
    ]
    mapping = load_mapping(write_yaml(tmp_path / "m.yaml", layers), workload, acc)
    assert mapping["Conv2"].cores == (2, 1, 2, 2) and mapping["Conv2"].split == (("K", 4),)
    assert mapping["Conv1"].cores == (3, 1) and mapping["Conv1"].split == ()  # candidates: each counts once
    assert mapping.notes == (
        "a candidate core listed twice (no inter-core split) counts once: layers 'Conv1'",
        "core_allocation_is_fixed with N > 1 cores splits the output channels K into N parts, part i on the "
        "i-th listed core (Stream's fixed split; a core listed twice runs its parts one after the other): "
        "layers 'Conv2'",
    )
    bad = write_yaml(
        tmp_path / "bad.yaml",
        [{"name": "Conv2", "core_allocation": [0, 1, 2], "core_allocation_is_fixed": True}, layers[0]],
    )
    with pytest.raises(InputError, match=r"core_allocation_is_fixed: split 3 of K \(K, size 32\) does not divide it"):
        load_mapping(bad, workload, acc)


def test_a_split_of_a_reduction_loop_is_read_as_written(setup):
    """Splitting Conv1's input channels C over two cores is read as written, with no note: the pipeline
    makes the partial sums' additions explicit (stream_core.reductions, tested in test_reductions.py)."""
    tmp_path, workload, acc = setup
    layers = [
        {"name": "Conv1", "core_allocation": [[0, 1]], "inter_core_tiling": [[{"dim": "C", "split": 2}]]},
        {"name": "Conv2", "core_allocation": [[0, 1]], "inter_core_tiling": [[{"dim": "K", "split": 2}]]},
    ]
    mapping = load_mapping(write_yaml(tmp_path / "m.yaml", {"layers": layers}), workload, acc)
    assert mapping["Conv1"].split == (("C", 2),) and mapping["Conv2"].split == (("K", 2),)
    assert mapping.notes == ()


def test_fixed_split_needs_output_channels(tmp_path, toy_plugins, toy_hardware):
    from stream_core.testing import relu_chain

    acc = load_accelerator(toy_hardware(n=2), toy_plugins)
    path = write_yaml(
        tmp_path / "m.yaml", [{"name": "Relu", "core_allocation": [0, 1], "core_allocation_is_fixed": True}]
    )
    with pytest.raises(InputError) as info:
        load_mapping(path, relu_chain(8), acc)
    assert str(info.value) == (
        f"{path}: layer 'Relu' (node 'relu_0').core_allocation_is_fixed: a fixed allocation to 2 cores splits the "
        "output channels K over them (as Stream does), but node 'relu_0' (Relu) has no K loop (loops: D0); "
        "give inter_core_tiling"
    )


@pytest.mark.parametrize(
    "kernel, expected",
    [
        ({"kwargs": {"utilization": 70}}, (None, (("utilization", 70),))),  # 2.1.1: name optional
        ({"name": "gemm"}, ("gemm", ())),  # kwargs default {}
        (
            {"name": "conv", "kwargs": {"utilization": 61.8, "bfp16_mmul": True}},
            ("conv", (("bfp16_mmul", True), ("utilization", 61.8))),
        ),
        ({}, None),
    ],
)
def test_kernel_name_and_kwargs_are_optional(setup, kernel, expected):
    tmp_path, workload, acc = setup
    path = write_yaml(tmp_path / "m.yaml", {"layers": [{"name": "Conv", "core_allocation": [[0]], "kernel": kernel}]})
    mapping = load_mapping(path, workload, acc)
    got = mapping["Conv1"].kernel
    assert (got if got is None else (got.name, got.kwargs)) == expected
    bfp16 = "kernel.kwargs.bfp16_mmul is accepted (a Stream 1.13 kernel option) but not modelled: layers 'Conv'"
    assert mapping.notes == ((bfp16,) if "bfp16_mmul" in kernel.get("kwargs", {}) else ())


def test_bad_kernel_fields_are_named(setup):
    tmp_path, workload, acc = setup
    kernel = {"name": 3, "colour": "red"}
    path = write_yaml(tmp_path / "m.yaml", {"layers": [{"name": "Conv", "core_allocation": [[0]], "kernel": kernel}]})
    with pytest.raises(InputError) as info:
        load_mapping(path, workload, acc)
    assert [p.field for p in info.value.problems] == ["layer 'Conv'.kernel.colour", "layer 'Conv'.kernel.name"]


@attrs.frozen
class _Described:
    """A minimal core description with an ``operator_types`` restriction."""

    name: str
    operator_types: tuple[str, ...] | None = None

    @property
    def summary(self) -> CoreSummary:
        return CoreSummary(10**6, 8, 8, peak_macs_per_cycle=4, operator_types=self.operator_types)

    def fingerprint(self) -> str:
        return self.name


def test_a_core_must_run_the_op_types_it_lists(tmp_path):
    cores = {
        0: Core(0, "toy.compute", _Described("array")),
        1: Core(1, "toy.compute", _Described("simd", ("Add", "Relu"))),
    }
    acc = Accelerator("acc", cores, ())
    path = write_yaml(tmp_path / "m.yaml", {"layers": [{"name": "Conv", "core_allocation": [[0, 1]]}]})
    with pytest.raises(InputError) as info:
        load_mapping(path, two_conv(), acc)
    assert [str(p) for p in info.value.problems] == [
        f"{path}: layer 'Conv' (node '{n}').core_allocation: node '{n}' is a Conv, but core 1 (simd) only runs Add, "
        "Relu (its operator_types)"
        for n in ("Conv1", "Conv2")
    ]


def test_a_compute_node_no_core_may_run_is_refused_when_placing_it():
    """Stream's placement rule: the cores listing the op, else those without operator_types; when every
    core lists its types and none lists the op, a compute node is an input error (Stream refuses it
    too), while a layout node may still go to any compute core."""
    from stream_core.ir import NodeKind
    from stream_core.placement import candidate_cores

    cores = {
        0: Core(0, "toy.compute", _Described("mxu", ("Conv", "MatMul"))),
        1: Core(1, "toy.compute", _Described("vpu", ("Add", "Relu"))),
    }
    acc = Accelerator("acc", cores, (), source="acc.yaml")
    conv = two_conv().nodes[0]
    assert candidate_cores(conv, acc) == (0,)
    pool = attrs.evolve(conv, name="Pool1", op_type="MaxPool")
    with pytest.raises(InputError) as info:
        candidate_cores(pool, acc)
    assert str(info.value) == (
        "acc.yaml: operator_types: no compute core may run node 'Pool1', a MaxPool: every core lists the "
        "operator types it runs and none lists MaxPool (core 0 (mxu): Conv, MatMul; core 1 (vpu): Add, Relu); "
        "add it to a core's operator_types"
    )
    reshape = attrs.evolve(conv, name="Reshape1", op_type="Reshape", kind=NodeKind.DATA_MOVEMENT)
    assert candidate_cores(reshape, acc) == (0, 1)
