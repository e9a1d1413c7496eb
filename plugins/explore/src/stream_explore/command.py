"""``stream explore [SWEEP] [-o DIR]`` runs a sweep; ``stream explore --show DIR`` prints its front."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stream_core.cli import add_run_options
from stream_core.context import RunContext
from stream_explore.api import explore, show
from stream_explore.executors import EXECUTORS
from stream_explore.sweep import bundled_example, load_sweep


class ExploreCommand:
    """The ``explore`` sub-command."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("sweep", nargs="?", help="sweep YAML file; omit it to run the bundled example sweep")
        parser.add_argument(
            "--output", "-o", metavar="DIR", help="results folder (default: stream-output/explore-<sweep>); resumed"
        )
        parser.add_argument("--show", metavar="DIR", help="print the Pareto front of the sweep stored in DIR")
        parser.add_argument("--executor", choices=EXECUTORS, default="process", help="where variants run")
        parser.add_argument("--address", metavar="ADDR", help="Ray cluster address (with --executor ray)")
        parser.add_argument("--retry-failed", action="store_true", help="evaluate failed variants again")
        parser.add_argument(
            "--jobs", "-j", type=int, metavar="N", help="variants evaluated at once (default: all CPUs)"
        )
        parser.add_argument("--no-cache", action="store_true", help="do not read or write the persistent cost cache")
        parser.add_argument(
            "--cache-dir", metavar="DIR", help="cost cache directory (default: $XDG_CACHE_HOME/stream-core)"
        )
        add_run_options(parser, cache=False)

    def run(self, args: argparse.Namespace, context: RunContext) -> int:
        if args.show:
            print(show(args.show))
            return 0
        source = Path(args.sweep) if args.sweep else bundled_example()
        if not args.sweep:
            print(f"no sweep given: running the bundled example {source}", file=sys.stderr)
        output = Path(args.output) if args.output else Path("stream-output") / f"explore-{source.stem}"
        try:
            explore(
                load_sweep(source),
                output,
                jobs=context.options.jobs,
                executor=args.executor,
                address=args.address,
                options=context.options,
                progress=context.progress.enabled,
                retry_failed=args.retry_failed,
            )
        except KeyboardInterrupt:
            print(f"interrupted: finished variants are kept in {output}/; rerun to resume", file=sys.stderr)
            raise
        print(show(output))
        print(f"outputs      {output}/ (results.sqlite, results.csv, pareto.png, pareto.html)")
        return 0
