"""Operand widths a tile is priced at: the core's ``operand_precision`` and the ``zigzag.precision`` policy.

A core declares its precision in one of two forms (never both):

* stream-dse 2.1.1's ``{input: <type>, accumulator: <type>}``, types of :data:`stream_core.ir.CORE_ELEMENT_BITS`;
* this plugin's older ``{I1|I2|O|O_final: bits}``: fixed widths of those memory operands.

Widths of ZigZag's layer operands ``I``, ``W`` (two-input nodes only), ``O`` (partial sums) and ``O_final``, by
policy:

* older form: the declared widths, the workload's for the keys left out (whatever the setting);
* ``workload`` (default, = stream-dse 2.1.1), 2.1.1 form or no declaration: ``I``/``W`` at the
  workload tensors' widths, ``O_final`` at the output's; on MAC nodes ``O`` at the core's ``accumulator``
  (else at the output's width). ``input`` is informational (named in the description);
* ``hardware`` (``--set zigzag.precision=hardware``): ``I``, ``W`` and ``O_final`` at the core's ``input``
  width (the datapath), ``O`` at ``accumulator`` on MAC nodes; a width not declared comes from the workload.

When a memory of the core cannot hold one element at those widths, the core's declared hardware widths
are used instead, else :data:`CLASSIC`; :attr:`Precision.fallback` then says what was asked, what was
used and why. When neither fits, the asked widths are kept (the tile is then reported infeasible).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from stream_core.errors import ProblemCollector
from stream_core.ir import CORE_ELEMENT_BITS, Operand
from stream_core.yamlio import is_int, type_name
from stream_zigzag.description import ZigZagCore

TYPE_KEYS = ("input", "accumulator")
BITS_KEYS = ("I1", "I2", "O", "O_final")
POLICIES = ("workload", "hardware")
#: Stream's ONNX parser defaults before the xDSL rewrite (commit 5a1df821, an ancestor of v1.13.14):
#: ``OnnxComputeOperatorParser.get_operand_precision_user_format`` with ZigZag's ``act_size`` and
#: ``weight_size`` 8, ``output_size`` 8 and intermediate output ``2 * act_size``.
CLASSIC: dict[str, int] = {"I": 8, "W": 8, "O": 16, "O_final": 8}
_LAYER_TO_MEMORY = {"I": "I1", "W": "I2", "O": "O", "O_final": "O_final"}


def validate(raw: Any, problems: ProblemCollector) -> dict[str, Any] | None:
    """Check a core's ``operand_precision`` (either form); returns it sorted, or None (absent or bad)."""
    if raw is None:
        return None
    forms = (
        f"stream-dse 2.1.1's {{input: <type>, accumulator: <type>}} with types {', '.join(CORE_ELEMENT_BITS)}, "
        f"or the older {{I1|I2|O|O_final: bits}}"
    )
    if not isinstance(raw, dict):
        problems.add("operand_precision", f"expected a mapping, {forms}; got {type_name(raw)}")
        return None
    typed = [k for k in raw if k in TYPE_KEYS]
    ok = True
    for key, value in raw.items():
        field = f"operand_precision.{key}"
        if key in TYPE_KEYS:
            if value not in CORE_ELEMENT_BITS:
                got = f"{value!r}" if isinstance(value, str) else f"{value!r} ({type_name(value)})"
                problems.add(field, f"unknown element type {got}; expected one of {', '.join(CORE_ELEMENT_BITS)}")
                ok = False
        elif key in BITS_KEYS:
            if typed:
                problems.add(
                    field,
                    f"the older form (I1, I2, O, O_final: bits) cannot be mixed with stream-dse 2.1.1's "
                    f"{', '.join(typed)}; use one form",
                )
                ok = False
            elif not is_int(value) or value < 1:
                problems.add(field, f"expected a positive number of bits, got {value!r}")
                ok = False
        else:
            problems.add(field, f"unknown key; expected {forms}")
            ok = False
    return dict(sorted(raw.items())) if ok else None


@attrs.frozen
class Precision:
    """Widths (bits) of ZigZag's ``I``, ``W`` (if the node has it), ``O``, ``O_final``, where they came from, and
    any fallback."""

    widths: tuple[tuple[str, int], ...]
    description: str
    fallback: str | None = None

    @property
    def bits(self) -> dict[str, int]:
        return dict(self.widths)


def choose(core: ZigZagCore, operands: Mapping[str, Operand], mac: bool, policy: str) -> Precision:
    """The widths to price a tile at on ``core``: ``operands`` maps ``I``, ``O`` and, for two inputs, ``W`` to
    the node's operands, ``mac`` says the node multiplies-accumulates, ``policy`` is one of :data:`POLICIES`."""
    declared = core.data["operand_precision"] or {}
    asked = _asked(declared, operands, mac, policy)
    problems = too_small(core, asked.bits)
    if not problems:
        return asked
    for candidate in _fallbacks(declared, operands, mac):
        if candidate.bits != asked.bits and not too_small(core, candidate.bits):
            why = f"asked {asked.description}, but {'; '.join(problems)}; used {candidate.description}"
            return attrs.evolve(candidate, fallback=why)
    return asked


def too_small(core: ZigZagCore, bits: Mapping[str, int]) -> list[str]:
    """Memories below an operand's top level too small for one element of it (``O`` at its narrower
    width: LOMA may keep only final outputs there)."""
    element = {"I1": bits["I"], "I2": bits.get("W"), "O": min(bits["O"], bits["O_final"])}
    return [
        f"memory {m['name']!r} ({m['size']} bits) cannot hold one {width}-bit {operand} element"
        for operand, width in element.items()
        if width is not None
        for m in [m for m in core.memories if operand in m["operands"]][:-1]
        if m["size"] < width
    ]


def _asked(declared: Mapping[str, Any], operands: Mapping[str, Operand], mac: bool, policy: str) -> Precision:
    workload = {op: operand.precision for op, operand in operands.items()} | {"O_final": operands["O"].precision}
    if any(k in declared for k in BITS_KEYS):
        widths = {op: declared.get(_LAYER_TO_MEMORY[op], bits) for op, bits in workload.items()}
        given = ", ".join(f"{k} {v}" for k, v in declared.items())
        return _precision(widths, f"core operand_precision {{{given}}} (older form)")
    accumulator = declared.get("accumulator")
    core_input = declared.get("input")
    if policy == "hardware":
        widths = dict(workload)
        if core_input:
            widths.update({op: CORE_ELEMENT_BITS[core_input] for op in workload if op != "O"})
        widths["O"] = CORE_ELEMENT_BITS[accumulator] if accumulator and mac else widths["O_final"]
        what = ", ".join(f"{k} {declared[k]}" for k in TYPE_KEYS if k in declared) or "none declared"
        rest = "" if core_input else f"; no input width: {', '.join(k for k in widths if k != 'O')} from the workload"
        return _precision(widths, f"core hardware widths ({what}){rest}")
    widths = dict(workload)
    text = f"workload dtypes ({_dtypes(operands)})"
    if accumulator and mac:
        widths["O"] = CORE_ELEMENT_BITS[accumulator]
        text += f"; partial sums at core accumulator {accumulator}"
    if core_input:
        text += f"; core input {core_input} informational"
    return _precision(widths, text)


def _fallbacks(declared: Mapping[str, Any], operands: Mapping[str, Operand], mac: bool) -> list[Precision]:
    """The core's declared hardware widths (2.1.1 form with ``input``), then :data:`CLASSIC`."""
    hardware = [_asked(declared, operands, mac, "hardware")] if "input" in declared else []
    classic = {op: bits for op, bits in CLASSIC.items() if op in operands or op == "O_final"}
    return [*hardware, _precision(classic, "Stream's classic ONNX defaults")]


def _precision(widths: Mapping[str, int], source: str) -> Precision:
    order = [k for k in ("I", "W", "O", "O_final") if k in widths]
    text = ", ".join(f"{k} {widths[k]}" for k in order)
    return Precision(widths=tuple((k, widths[k]) for k in order), description=f"{source}: {text} bits")


def _dtypes(operands: Mapping[str, Operand]) -> str:
    names = {k: op.dtype or f"{op.precision}-bit" for k, op in operands.items()}
    if len(set(names.values())) == 1:
        return names["O"]
    return ", ".join(f"{k} {v}" for k, v in names.items())
