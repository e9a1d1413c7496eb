"""One operation in its own process: ``python -m stream_mcp.worker`` reads ``{"kind", "params"}``
as JSON on stdin and writes one JSON reply on stdout: ``{"ok": true, "result": ...}`` or
``{"ok": false, "error": MESSAGE}``, where MESSAGE is the line ``stream`` prints for the same error.

Everything else the operation prints (plugins, solvers writing to file descriptor 1) goes to stderr,
which the server keeps as the job's log. SIGTERM cancels: it unwinds the operation, so staged outputs
are removed as on Ctrl-C.

Operations use the public API only: :func:`stream_core.run` and :func:`stream_core.compile`, a
plugin's command through the ``commands`` registry (``fifo-size``), and stream-explore's documented
:func:`stream_explore.explore` once the registry shows it is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import logging
import math
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import attrs

import stream_core
from stream_core import RunContext, RunOptions
from stream_core.errors import InputError, Problem, StreamError
from stream_core.examples import example_paths
from stream_core.report import summary_dict


class Cancelled(BaseException):
    """SIGTERM: the server cancelled the job."""


def make_context(options: dict[str, Any]) -> RunContext:
    """A context for ``options`` (:class:`RunOptions` fields), checked before any work as the CLI
    checks its flags: unknown setting keys warn, an unknown solver is an error listing the installed ones."""
    cache_dir = options.get("cache_dir")
    run_options = RunOptions(**{**options, "cache_dir": Path(cache_dir) if cache_dir else None})
    plugins = stream_core.load_plugins()
    plugins.check_settings(run_options.settings)
    if run_options.solver:
        plugins.registry("solvers").get(run_options.solver)
    return RunContext(plugins=plugins, options=run_options)


def run(
    workload: str | None,
    hardware: str | None,
    mapping: str | None,
    options: dict[str, Any],
    output: str | None,
    force: bool,
    exporters: list[str] | None,
) -> dict[str, Any]:
    """:func:`stream_core.run`; the summary is ``stream run --json``'s, the schedule every tile and transfer."""
    if (workload is None) != (hardware is None):
        raise InputError(Problem("give both workload and hardware, or neither to run the bundled example"))
    if workload is None or hardware is None:
        workload, hardware = (str(path) for path in example_paths())
    context = make_context(options)
    outcome = stream_core.run(
        workload, hardware, mapping, context=context, output=output, force=force, exporters=exporters
    )
    return {
        "summary": summary_dict(outcome.result, outcome.problem.accelerator),
        "tiles": [attrs.asdict(tile) for tile in outcome.result.tiles],
        "transfers": [attrs.asdict(transfer) for transfer in outcome.result.transfers],
        "files": [str(path) for path in outcome.files],
        "output_dir": str(outcome.output_dir) if outcome.output_dir else None,
        "export_failures": list(outcome.export_failures),
    }


def compile(
    workload: str, target: str, code_generator: str | None, options: dict[str, Any], output: str | None, force: bool
) -> dict[str, Any]:
    """:func:`stream_core.compile`; without ``output`` the project is generated and listed, not written."""
    outcome = stream_core.compile(
        workload, target, code_generator=code_generator, output=output, force=force, context=make_context(options)
    )
    return {
        "target": outcome.target.label,
        "target_file": str(outcome.target.file),
        "code_generator": outcome.code_generator,
        "summary": outcome.generated.summary,
        "generated": sorted(outcome.generated.files),
        "files": [str(path) for path in outcome.files],
        "output_dir": str(outcome.output_dir) if outcome.output_dir else None,
    }


class _Parser(argparse.ArgumentParser):
    """Argument errors become :class:`InputError` instead of exiting the process."""

    def error(self, message: str) -> NoReturn:
        raise InputError(Problem(message))


def fifo_size(
    workload: str,
    target: str | None,
    tiles: list[str],
    simulate: int,
    options: dict[str, Any],
    output: str | None,
    force: bool,
) -> dict[str, Any]:
    """The installed ``fifo-size`` command (found in the commands registry) on these inputs; returns
    its table and the JSON it writes (to ``output``, else to a temporary file)."""
    context = make_context(options)
    command = context.plugins.load("commands", "fifo-size")
    parser = _Parser(prog="stream fifo-size")
    command.add_arguments(parser)
    with tempfile.TemporaryDirectory() as scratch:
        file = output or str(Path(scratch) / "fifo.json")
        argv = [workload, "--output", file, "--simulate", str(simulate), *(f"--tile={tile}" for tile in tiles)]
        argv += ["--target", target] if target else []
        argv += ["--force"] if force else []
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            command.run(parser.parse_args(argv), context)
        plan = json.loads(Path(file).read_text())
    table = printed.getvalue() if output else printed.getvalue().replace(f"wrote {file}\n", "")
    return {"table": table, "plan": plan, "output": output}


def explore(
    sweep: str,
    output: str | None,
    jobs: int | None,
    executor: str,
    retry_failed: bool,
    options: dict[str, Any],
) -> dict[str, Any]:
    """stream-explore's public :func:`~stream_explore.explore`, once the registry lists its command."""
    context = make_context(options)
    context.plugins.get("commands", "explore")  # an error naming what is installed when it is not
    api = importlib.import_module("stream_explore")
    folder = output or str(Path("stream-output") / f"explore-{Path(sweep).stem}")
    table = api.explore(sweep, folder, jobs=jobs, executor=executor, options=context.options, retry_failed=retry_failed)
    rows = table.to_dict("records") if hasattr(table, "to_dict") else table
    return {"rows": [_finite(row) for row in rows], "front": api.show(folder), "output_dir": folder}


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    """A table row with NaN (a missing value) as None, which JSON can carry."""
    return {str(k): None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}


OPERATIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "run": run,
    "compile": compile,
    "fifo_size": fifo_size,
    "explore": explore,
}


def perform(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The reply for one operation: its result, or the error line ``stream`` would print."""
    try:
        return {"ok": True, "result": OPERATIONS[kind](**params)}
    except StreamError as exc:
        return {"ok": False, "error": f"error: {exc}"}
    except Exception as exc:  # an internal error: the message, and the traceback in the job's log
        traceback.print_exc()
        return {"ok": False, "error": f"internal error: {type(exc).__name__}: {exc}"}


def _cancel(_signum: int, _frame: object) -> None:
    raise Cancelled


def main() -> int:
    request = json.loads(sys.stdin.read())
    reply_channel = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints reach the log, not the reply
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logging.getLogger("stream_core").addHandler(handler)
    signal.signal(signal.SIGTERM, _cancel)
    try:
        reply = perform(request["kind"], request["params"])
    except Cancelled:
        reply = {"ok": False, "error": "cancelled"}
    with reply_channel:
        reply_channel.write(json.dumps(reply, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
