"""The torch frontend (``ExportedProgram``, or an ``nn.Module`` with example inputs) and the ``.pt2``
workload parser (files written by ``torch.export.save``).

Both lower the program's ATen graph (:mod:`stream_torch.lower`) to ONNX operators and parse them with
the installed ONNX parser. torch is imported only here, when a program is read: without it the
plugin still loads, and reading one says to install torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir import Workload

INSTALL = "install torch (a CPU build is enough)"


@attrs.frozen
class ModuleCall:
    """An ``nn.Module`` and the example inputs it is exported with (``torch.export.export(module, args, kwargs)``)."""

    module: Any
    args: tuple[Any, ...] = attrs.field(converter=lambda items: tuple(items))
    kwargs: dict[str, Any] = attrs.field(factory=dict)


def _torch(source: str) -> Any:
    try:
        import torch
    except ImportError:
        raise InputError(Problem(f"reading a torch.export program needs PyTorch; {INSTALL}", file=source)) from None
    return torch


def program_workload(program: Any, context: RunContext, source: str, name: str) -> Workload:
    """The workload of an ``ExportedProgram``; ``source`` names it in messages."""
    from stream_torch.lower import lower

    graph = lower(program, name, source)
    return graph.workload(context, source)


def call_workload(call: ModuleCall, context: RunContext, source: str, name: str) -> Workload:
    """The workload of ``call``'s module exported in eval mode with its example inputs."""
    torch = _torch(source)
    try:
        program = torch.export.export(call.module.eval(), call.args, call.kwargs)
    except Exception as exc:  # torch raises many types for modules it cannot trace
        raise InputError(Problem(f"torch.export.export failed: {exc}", file=source)) from exc
    return program_workload(program, context, source, name)


class TorchFrontend:
    """``ExportedProgram``, :class:`ModuleCall`, or a bare ``nn.Module`` (an error asking for example inputs)."""

    def load(self, source: object, context: RunContext) -> Workload:
        torch = _torch(type(source).__name__)
        if isinstance(source, ModuleCall):
            name = type(source.module).__name__
            return call_workload(source, context, name, name)
        if isinstance(source, torch.export.ExportedProgram):
            return program_workload(source, context, "ExportedProgram", "exported_program")
        raise InputError(
            Problem(
                f"a {type(source).__name__} needs example inputs to be exported: pass "
                "stream_torch.ModuleCall(module, (example_input, ...)) or torch.export.export(module, args)",
                file=type(source).__name__,
            )
        )


class Pt2Parser:
    """Reads ``.pt2`` files written by ``torch.export.save``."""

    def parse(self, path: Path, context: RunContext) -> Workload:
        file = str(path)
        torch = _torch(file)
        if not path.is_file():
            raise InputError(Problem("not a file (expected a .pt2 program written by torch.export.save)", file=file))
        try:
            program = torch.export.load(file)
        except Exception as exc:  # a corrupt or foreign archive raises many types
            raise InputError(Problem(f"not a torch.export program: {exc}", file=file)) from exc
        return program_workload(program, context, file, path.stem)
