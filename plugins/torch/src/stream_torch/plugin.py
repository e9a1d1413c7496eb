"""stream-torch's hook implementations: the ``.pt2`` workload parser and the torch frontend.

Only records are built here; torch is imported when a program is read."""

from __future__ import annotations

from collections.abc import Iterator

from stream_core import hookimpl
from stream_core.plugins import lazy
from stream_core.records import FrontendRecord, WorkloadParserRecord


@hookimpl
def stream_register_workload_parsers() -> Iterator[WorkloadParserRecord]:
    yield WorkloadParserRecord(
        name="torch-export",
        description="torch.export programs (.pt2 written by torch.export.save): ATen ops lowered to ONNX operators",
        factory=lazy("stream_torch.frontend", "Pt2Parser"),
        suffixes=(".pt2",),
    )


@hookimpl
def stream_register_frontends() -> Iterator[FrontendRecord]:
    yield FrontendRecord(
        name="torch",
        description="torch.export.ExportedProgram, or stream_torch.ModuleCall(module, example_args)",
        factory=lazy("stream_torch.frontend", "TorchFrontend"),
        object_types=(
            "torch.export.exported_program.ExportedProgram",
            "stream_torch.frontend.ModuleCall",
            "torch.nn.modules.module.Module",
        ),
    )
