"""Safe reading of user files: special files, sizes, encodings and hostile YAML are InputErrors."""

from __future__ import annotations

import os
import time

import pytest

from stream_core.errors import InputError
from stream_core.yamlio import MAX_DEPTH, MAX_INT_DIGITS, load_yaml, parse_yaml, read_input


def message(exc_info: pytest.ExceptionInfo[InputError]) -> str:
    return str(exc_info.value)


def test_plain_yaml_and_utf8_bom(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_bytes("\ufeffname: café\nsizes: [1, 2]\n".encode())
    assert load_yaml(path) == {"name": "café", "sizes": [1, 2]}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("name: x\n".encode("utf-16"), "UTF-16 text"),
        ("name: x\n".encode("utf-32"), "UTF-32 text"),
        ("name: x\n".encode("utf-16-le"), "UTF-16 text without a byte-order mark"),
        (b"\x08\x07\x12\x00\x1a\x04\x00\x01", "binary data, not text"),
        (b"name: caf\xe9\n", "not UTF-8 text (byte 0xe9 on line 1"),
    ],
)
def test_text_that_is_not_utf8_yaml(tmp_path, payload, expected):
    path = tmp_path / "hw.yaml"
    path.write_bytes(payload)
    with pytest.raises(InputError) as exc:
        load_yaml(path, expected="an accelerator YAML file")
    assert message(exc).startswith(f"{path}: {expected}")
    assert "expected an accelerator YAML file" in message(exc)


def test_onnx_model_given_as_yaml(tmp_path):
    path = tmp_path / "net.onnx"
    path.write_bytes(b"\x08\x07\x12\x07pytorch\x00")
    with pytest.raises(InputError, match="an ONNX model"):
        load_yaml(path)


def test_special_files_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    start = time.perf_counter()
    special = ((fifo, r"a FIFO \(named pipe\)"), (tmp_path, "a directory"), ("/dev/zero", "a character device"))
    for path, what in special:
        with pytest.raises(InputError, match=f"this is {what}, not a file; expected a YAML file"):
            load_yaml(path)
    assert time.perf_counter() - start < 1.0


def test_missing_and_oversized_files(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_yaml(tmp_path / "nope.yaml")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * 101)
    with pytest.raises(InputError, match="101 bytes, larger than 100"):
        read_input(big, limit=100)


def test_alias_bomb_fails_fast():
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"line \d+, column \d+: aliases expand this node past 1,000,000 values"):
        parse_yaml("\n".join(levels), "bomb.yaml")
    assert time.perf_counter() - start < 0.5


def test_shared_aliases_within_bounds_are_plain_data():
    data = parse_yaml("base: &b {size: 8}\ncores: [*b, *b]\nmerged: {<<: *b, size: 16}\n")
    assert data == {"base": {"size": 8}, "cores": [{"size": 8}, {"size": 8}], "merged": {"size": 16}}


def test_recursive_alias_is_refused():
    with pytest.raises(InputError, match="an alias refers to a node that contains it"):
        parse_yaml("a: &a [1, *a]\n")


def test_depth_and_integer_bounds():
    assert parse_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(InputError, match=f"nested deeper than {MAX_DEPTH} levels"):
        parse_yaml("a: " + "[" * 5000 + "]" * 5000)
    assert parse_yaml(f"n: {'9' * MAX_INT_DIGITS}") == {"n": int("9" * MAX_INT_DIGITS)}
    with pytest.raises(InputError, match="line 1, column 4: an integer of 5000 digits; at most 30"):
        parse_yaml(f"n: {'9' * 5000}")


def test_duplicate_keys_and_objects_are_refused():
    with pytest.raises(InputError, match="line 3, column 3: duplicate key 0"):
        parse_yaml("cores:\n  0: a.yaml\n  0: b.yaml\n")
    with pytest.raises(InputError, match="could not determine a constructor"):
        parse_yaml("x: !!python/object/apply:os.system ['true']\n")
