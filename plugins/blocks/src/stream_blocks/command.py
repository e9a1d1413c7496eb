"""``stream blocks [SPEC]``: list the installed blocks, or show the workload one spec builds."""

from __future__ import annotations

import argparse

from stream_blocks.api import block_workload
from stream_core.context import RunContext


class BlocksCommand:
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("spec", nargs="?", help="a block spec, e.g. 'llama?d=4096&t=128': print its nodes and MACs")

    def run(self, args: argparse.Namespace, context: RunContext) -> int:
        if args.spec:
            show(args.spec, context)
            return 0
        registry = context.plugins.registry("blocks")
        for record in registry:
            print(f"{record.name} ({registry.entry(record.name).origin}): {record.description}")
            for p in record.parameters:
                print(f"    {f'{p.name}={p.default}':<12} {p.help}")
        print("\nUse a block as a workload: a .block file ('block: llama' and parameters), or in Python")
        print("stream_blocks.api.block_workload('llama?d=4096&t=128'); 'stream blocks SPEC' shows its nodes.")
        return 0


def show(spec: str, context: RunContext) -> None:
    """One line per node (op, loops, MACs), then the totals."""
    workload = block_workload(spec, context)
    for node in workload.nodes:
        loops = " ".join(f"{loop.name}={loop.size}" for loop in node.loops)
        print(f"{node.name:<28} {node.op_type:<20} {node.macs:>16,}  {loops}")
    print(f"{len(workload)} nodes, {workload.macs:,} MACs")
