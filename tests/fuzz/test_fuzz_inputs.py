"""Property-based fuzzing of every input kind through the CLI (seeded, bounded: CI-fast). Each
mutated file must give exit 0 or exit 2 naming the file; never exit 1, a traceback or a hang. A
non-finite number in any numeric field must be refused (no silent acceptance)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import onnx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_support import (
    ACCELERATOR,
    AIE_CORE,
    CORES,
    MAPPING,
    assert_contract,
    conv_relu,
    leaves,
    replaced,
    run_cli,
    write_inputs,
    write_yaml,
)

FUZZ = settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.integers(10**15, 10**29),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.5, 1e308]),
    st.text(max_size=8),
    st.lists(st.integers(-2, 9), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=2),
    st.recursive(st.integers(0, 3), lambda inner: st.lists(inner, min_size=1, max_size=2), max_leaves=40),
)
KINDS = {
    "hardware": ACCELERATOR,
    "core": CORES["array.yaml"],
    "aie": AIE_CORE,
    "mapping": MAPPING,
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_inputs(tmp_path_factory.mktemp("fuzz"))


def validate(inputs, kind: str, data) -> tuple[int, str, str, Path]:
    target = inputs[kind].with_name(f"mutated_{kind}.yaml")
    write_yaml(target, data)
    extra = [str(inputs["workload"]), str(inputs["hardware"])] if kind == "mapping" else []
    code, out, err = run_cli("validate", *extra, str(target))
    return code, out, err, target


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data(), value=HOSTILE, delete=st.booleans())
def test_a_mutated_field_is_accepted_or_named(inputs, kind, data, value, delete):
    base = KINDS[kind]
    path = data.draw(st.sampled_from(leaves(base)))
    code, out, err, target = validate(inputs, kind, replaced(base, path, value, delete=delete))
    assert_contract(code, out, err, target)


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data(), value=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_a_non_finite_number_is_never_accepted(inputs, kind, data, value):
    base = KINDS[kind]
    numeric = [p for p in leaves(base) if _at(base, p) is not True and isinstance(_at(base, p), int | float)]
    path = data.draw(st.sampled_from(numeric))
    code, out, err, target = validate(inputs, kind, replaced(base, path, value))
    assert_contract(code, out, err, target)
    assert code == 2, f"{kind} {path} = {value} was accepted:\n{out}"


@pytest.mark.parametrize("kind", ["hardware", "mapping"])
@FUZZ
@given(data=st.data(), junk=st.binary(min_size=1, max_size=12))
def test_corrupted_bytes_are_accepted_or_named(inputs, kind, data, junk):
    text = yaml.safe_dump(KINDS[kind], sort_keys=False).encode()
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 4))
    target = inputs[kind].with_name(f"bytes_{kind}.yaml")
    target.write_bytes(text[:at] + junk + text[at + cut :])
    extra = [str(inputs["workload"]), str(inputs["hardware"])] if kind == "mapping" else []
    assert_contract(*run_cli("validate", *extra, str(target)), target)


@FUZZ
@given(
    shape=st.lists(st.sampled_from([-4, -1, 0, 1, 3, 8, 2**31, 10**12]), min_size=4, max_size=4),
    k=st.sampled_from([-2, 0, 1, 8, 10**13]),
)
def test_onnx_dimensions_are_checked(inputs, shape, k):
    target = inputs["workload"].with_name("dims.onnx")
    onnx.save(conv_relu(tuple(shape), k), target)
    code, out, err = run_cli("validate", str(target))
    assert_contract(code, out, err, target)
    if min(shape) <= 0 or k <= 0 or math.prod(shape) * max(k, 1) > 2**40:
        assert code == 2, f"shape {shape}, k={k} was accepted:\n{out}"


@settings(FUZZ, max_examples=12)
@given(data=st.data(), value=HOSTILE)
def test_run_on_a_mutated_accelerator(inputs, tmp_path_factory, data, value):
    path = data.draw(st.sampled_from(leaves(ACCELERATOR)))
    target = write_yaml(inputs["hardware"].with_name("run_acc.yaml"), replaced(ACCELERATOR, path, value))
    out_dir = tmp_path_factory.mktemp("run")
    code, out, err = run_cli(
        "run", str(inputs["workload"]), str(target), "-o", str(out_dir / "o"),
        "--cost-model", "roofline", "--allocator", "greedy", "--no-cache",
    )  # fmt: skip
    assert_contract(code, out, err, target)


def _at(data, path):
    for key in path:
        data = data[key]
    return data
