"""stream-dse 2.1.1's core fields: ``operand_precision`` {input, accumulator}, ``banks``, and the notes on
fields accepted but not (fully) modelled."""

from __future__ import annotations

import pytest
from zz_helpers import core_data

from stream_core.errors import InputError
from stream_core.ir import CORE_ELEMENT_BITS as ELEMENT_BITS

TYPES = "int4, int8, uint8, int16, int24, bf16, fp16, int32, fp32"


def parse(plugins, **fields):
    data = {**core_data("tpu_like"), **fields}
    return plugins.load("core_types", "zigzag").parse(data, kind="compute", file="core.yaml")


def problems_of(plugins, **fields) -> list[tuple[str | None, str]]:
    with pytest.raises(InputError) as info:
        parse(plugins, **fields)
    assert all(p.file == "core.yaml" for p in info.value.problems)
    return [(p.field, p.message) for p in info.value.problems]


def test_element_types_are_stream_211s():
    assert ELEMENT_BITS == {
        "int4": 4, "int8": 8, "uint8": 8, "int16": 16, "int24": 24, "bf16": 16, "fp16": 16, "int32": 32, "fp32": 32,
    }  # fmt: skip


@pytest.mark.parametrize("name", list(ELEMENT_BITS))
def test_every_element_type_is_accepted_in_either_key(zz_plugins, name):
    assert parse(zz_plugins, operand_precision={"input": name}).data["operand_precision"] == {"input": name}
    assert parse(zz_plugins, operand_precision={"accumulator": name}).data["operand_precision"] == {"accumulator": name}


def test_211_precision_is_kept_and_noted(zz_plugins):
    core = parse(zz_plugins, operand_precision={"input": "int8", "accumulator": "int32"})
    assert core.data["operand_precision"] == {"accumulator": "int32", "input": "int8"}
    assert core.notes == (
        "operand_precision.input: informational (as in Stream 2.1.1) unless --set zigzag.precision=hardware",
    )
    older = parse(zz_plugins, operand_precision={"I1": 8, "O": 32})
    assert older.data["operand_precision"] == {"I1": 8, "O": 32} and older.notes == ()
    assert core.fingerprint() != older.fingerprint() != parse(zz_plugins).fingerprint()


def test_bad_precisions(zz_plugins):
    assert problems_of(zz_plugins, operand_precision={"input": "int64", "accumulator": 32}) == [
        ("operand_precision.input", f"unknown element type 'int64'; expected one of {TYPES}"),
        ("operand_precision.accumulator", f"unknown element type 32 (an integer); expected one of {TYPES}"),
    ]
    assert problems_of(zz_plugins, operand_precision={"input": "int8", "O": 32}) == [
        (
            "operand_precision.O",
            "the older form (I1, I2, O, O_final: bits) cannot be mixed with stream-dse 2.1.1's input; use one form",
        )
    ]
    forms = f"stream-dse 2.1.1's {{input: <type>, accumulator: <type>}} with types {TYPES}, or the older " + (
        "{I1|I2|O|O_final: bits}"
    )
    assert problems_of(zz_plugins, operand_precision={"weights": "int8", "I1": "int8"}) == [
        ("operand_precision.weights", f"unknown key; expected {forms}"),
        ("operand_precision.I1", "expected a positive number of bits, got 'int8'"),
    ]
    assert problems_of(zz_plugins, operand_precision="int8") == [
        ("operand_precision", f"expected a mapping, {forms}; got a string")
    ]


def test_banks_are_kept_and_reported_only(zz_plugins):
    core = parse(zz_plugins, banks={"count": 4, "width": 32})
    assert core.data["banks"] == {"count": 4, "width": 32, "stripe": 1}
    assert core.notes == ("banks: reported only, not priced (as in Stream 2.1.1)",)
    assert parse(zz_plugins, banks={"count": 2, "width": 8, "stripe": 4}).data["banks"]["stripe"] == 4


def test_bad_banks(zz_plugins):
    assert problems_of(zz_plugins, banks={"count": 0, "stripe": True, "rows": 2}) == [
        ("banks.rows", "unknown key; known keys: count, stripe, width"),
        ("banks.count", "expected an integer >= 1, got 0 (an integer)"),
        ("banks.width", "missing required field (an integer >= 1)"),
        ("banks.stripe", "expected an integer >= 1, got True (a boolean)"),
    ]
    assert problems_of(zz_plugins, banks=[4, 32]) == [
        ("banks", "expected a mapping {count, width, stripe}, got a list")
    ]


def test_unmodelled_fields_are_noted(zz_plugins):
    data = core_data("tpu_like")
    data["operational_array"]["systolic_dimensions"] = ["D1", "D2"]
    core = parse(zz_plugins, utilization=80, operational_array=data["operational_array"])
    assert core.notes == (  # systolic_dimensions is modelled as Stream 2.1.1 does: no note
        "utilization: kept, not used by the ZigZag cost model (stream-dse 2.1.1 rejects it on ZigZag cores)",
    )
    legacy = zz_plugins.load("core_types", "zigzag").parse(core_data("tpu_like_legacy"), kind="compute")
    assert legacy.notes == ("operational_array.input_precision: ignored (only in-memory-compute cores use it)",)
