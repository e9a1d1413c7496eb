"""PyTorch programs as stream-core workloads: ``torch.export`` programs (``.pt2`` files, ``ExportedProgram``)
and ``nn.Module`` with example inputs (:class:`ModuleCall`)."""

from stream_torch.frontend import ModuleCall

__all__ = ["ModuleCall"]
