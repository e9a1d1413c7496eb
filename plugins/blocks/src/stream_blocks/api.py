"""Public API of stream-blocks: build a block's workload from a spec, and the in-memory ONNX graph
other plugins (stream-torch) build workloads with.

A spec is ``NAME`` or ``NAME?key=value&key=value`` (``llama?d=4096&t=128``), optionally prefixed
``block:``; every value is an integer and unnamed parameters take their defaults::

    from stream_blocks.api import block_workload
    workload = block_workload("llama?d=4096&t=128")   # a stream_core.ir.Workload
    stream_core.run(workload, "hardware.yaml")
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from stream_blocks.hookspecs import BlockParameter, BlockRecord
from stream_blocks.onnx_graph import OnnxGraph, onnx_workload
from stream_core import load_plugins
from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir import Workload

PREFIX = "block:"

__all__ = [
    "PREFIX",
    "BlockParameter",
    "BlockRecord",
    "OnnxGraph",
    "block_values",
    "block_workload",
    "onnx_workload",
    "split_spec",
]


def split_spec(spec: str, file: str | None = None) -> tuple[str, dict[str, str]]:
    """``"block:llama?d=4096"`` -> ``("llama", {"d": "4096"})``; a repeated key is an error."""
    text = spec.removeprefix(PREFIX).strip()
    name, _, query = text.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key in seen:
            raise InputError(Problem(f"parameter {key!r} is given twice", file=file or spec, field=key))
        seen[key] = value
    if not name:
        raise InputError(Problem("no block name; expected NAME?key=value&..., e.g. llama?d=4096", file=file or spec))
    return name, seen


def block_values(record: BlockRecord, given: Mapping[str, object], file: str) -> dict[str, int]:
    """Every parameter of ``record``: the given ones checked (known, integer, at least the minimum),
    the others at their defaults; one error lists every problem."""
    known = {p.name: p for p in record.parameters}
    problems = [
        Problem(f"block {record.name!r} has no parameter {key!r}; parameters: {', '.join(known)}", file=file, field=key)
        for key in given
        if key not in known
    ]
    values = {p.name: p.default for p in record.parameters}
    for key, raw in given.items():
        parameter = known.get(key)
        if parameter is None:
            continue
        try:
            value = int(str(raw), 10) if not isinstance(raw, bool) else None
        except ValueError:
            value = None
        if value is None or value < parameter.minimum:
            problems.append(
                Problem(
                    f"expected an integer >= {parameter.minimum} ({parameter.help}), got {raw!r}", file=file, field=key
                )
            )
        else:
            values[key] = value
    if problems:
        raise InputError(problems)
    return values


def block_workload(spec: str, context: RunContext | None = None) -> Workload:
    """The workload of a block spec, built with the installed blocks (a fresh plugin set if no context)."""
    context = context or RunContext(load_plugins())
    name, given = split_spec(spec)
    record = context.plugins.registry("blocks").get(name)
    return build(record, given, context, spec)


def build(record: BlockRecord, given: Mapping[str, object], context: RunContext, file: str) -> Workload:
    """The workload of ``record`` with the ``given`` parameters (checked by :func:`block_values`)."""
    return record.load()(block_values(record, given, file), context)
