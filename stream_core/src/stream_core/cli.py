"""The ``stream`` command line: a thin wrapper over the public API (:func:`stream_core.pipeline.run`
and :func:`stream_core.pipeline.compile`).

Start-up stays short: ``--version`` answers before any plugin is loaded, a plugin command's module is
imported only when that command is chosen, and the pipeline's modules only by the commands using them.

Exit codes (a clear message, no traceback, except where said):

* 0 success; 2 bad input, an unknown plugin name or setting under ``--strict-plugins``;
* 3 a plugin failed at its work (e.g. an exporter raised): the message names the plugin, its
  distribution and the reason, and the run's other outputs are written. A plugin's bug is not
  ours, so it does not take 1;
* 1 an internal error, a bug of the core (the traceback is shown with ``--verbose``);
* 130 Ctrl-C, 143 SIGTERM (no partial output is left behind); 141 when the reader of the output
  goes away (``stream plugins | head -1``), silently, as a shell tool killed by SIGPIPE.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stream_core import __version__
from stream_core.errors import OPTION_STYLE, InputError, PluginFailedError, PluginLoadError, Problem, StreamError

if TYPE_CHECKING:
    from stream_core.context import RunContext, RunOptions
    from stream_core.pipeline import RunOutcome
    from stream_core.plugins import Plugins

log = logging.getLogger("stream_core")

EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
EXIT_TERMINATED = 143
#: Exporters that draw pictures, left out by ``stream run --no-plots``.
PLOT_EXPORTERS = ("gantt",)
FORCE_HELP = "also write into an existing folder stream did not create; its files are never replaced or removed"


def load_plugins(*, strict: bool = False) -> Plugins:
    """:func:`stream_core.plugins.load_plugins`, imported once a command needs the plugins."""
    from stream_core import plugins

    return plugins.load_plugins(strict=strict)


class Terminated(BaseException):
    """SIGTERM, raised where the process is so that staged outputs are removed on the way out."""


def _add_common(parser: argparse.ArgumentParser) -> None:
    """Options every sub-command accepts (verbosity also after the sub-command, as users type it)."""
    parser.add_argument("--strict-plugins", action="store_true", help="fail when any plugin fails to load")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    verbosity.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def build_parser(plugins: Plugins, *, strict: bool = False, command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; of the plugin commands only ``command`` is loaded when given
    (the others are listed by name and description), all of them otherwise."""
    parser = argparse.ArgumentParser(
        prog="stream",
        description="Map neural-network workloads onto heterogeneous dataflow accelerators.",
    )
    parser.add_argument("--version", action="version", version=f"stream-core {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="more logging, tracebacks on internal errors")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="only errors; no progress display")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("plugins", help="list installed plugins and what they provide")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_common(p)

    r = sub.add_parser("run", help="map, cost and schedule a workload on an accelerator")
    r.add_argument("workload", nargs="?", help="workload file (ONNX); omit both to run the bundled example")
    r.add_argument("hardware", nargs="?", help="accelerator YAML file")
    r.add_argument("--mapping", metavar="FILE", help="mapping YAML (Stream format); default: automatic mapping")
    r.add_argument("--allocator", metavar="NAME", help="allocator (scheduler); default: the highest-priority one")
    r.add_argument("--mapper", metavar="NAME", help="mapper used when no mapping file is given")
    r.add_argument(
        "--output", "-o", metavar="DIR", help="output directory (default: stream-output/<hardware>-<workload>)"
    )
    r.add_argument("--force", action="store_true", help=FORCE_HELP)
    r.add_argument(
        "--export",
        action="append",
        metavar="NAME",
        help="run exactly these exporters (repeatable; default: those enabled by default, see 'stream plugins')",
    )
    r.add_argument("--no-plots", action="store_true", help="skip the exporters that draw pictures (gantt)")
    add_run_options(r)
    r.add_argument("--json", action="store_true", help="print the summary as JSON")
    _add_common(r)

    c = sub.add_parser("compile", help="generate a hardware project for a workload (code-generator backends)")
    c.add_argument("workload", help="workload file (ONNX)")
    c.add_argument("--target", required=True, metavar="NAME|FILE", help="a registered target, or a target file")
    c.add_argument(
        "--code-generator", "--backend", dest="code_generator", metavar="NAME", help="default: the target's own"
    )
    c.add_argument(
        "--output", "-o", metavar="DIR", help="project directory (default: stream-output/<workload>-<target>)"
    )
    c.add_argument("--force", action="store_true", help=FORCE_HELP)
    add_run_options(c, cache=False)
    _add_common(c)

    v = sub.add_parser("validate", help="check hardware, core, mapping or workload files and report every error")
    v.add_argument("files", nargs="+", metavar="FILE")
    _add_common(v)

    for record in plugins.registry("commands"):
        if command is not None and record.name != command:
            sub.add_parser(record.name, help=record.description)
            continue
        try:
            loaded = record.load()
        except Exception as exc:  # one broken command must not take the whole CLI down
            origin = plugins.origin("commands", record.name)
            if strict:
                raise PluginLoadError(f"command {origin} failed to load: {type(exc).__name__}: {exc}") from exc
            log.warning("command %s failed to load and was skipped: %s: %s", origin, type(exc).__name__, exc)
            continue
        cp = sub.add_parser(record.name, help=record.description)
        loaded.add_arguments(cp)
        _add_common(cp)
        cp.set_defaults(plugin_command=loaded)
    return parser


def add_run_options(
    parser: argparse.ArgumentParser, *, cost: bool = True, solver: bool = True, cache: bool = True
) -> None:
    """The standard run options; plugin commands call this so that every command spells them alike
    and :func:`options_from_args` turns them into the command's ``context.options``."""
    if cost:
        parser.add_argument("--cost-model", metavar="NAME", help="cost model for all cores it supports")
        parser.add_argument(
            "--strict-costs",
            action="store_true",
            help="fail (exit 2) when a cost or operand width had to fall back instead of warning",
        )
    if solver:
        parser.add_argument("--solver", metavar="NAME", help="LP/MILP solver for optimising plugins")
        parser.add_argument(
            "--time-limit",
            type=float,
            metavar="S",
            help="time limit of the whole run; solves get what is left (default: none, 60 s per solve)",
        )
    if cache:
        parser.add_argument("--jobs", "-j", type=int, metavar="N", help="parallel cost-model processes (default: all)")
        parser.add_argument("--no-cache", action="store_true", help="do not read or write the persistent cost cache")
        parser.add_argument(
            "--cache-dir", metavar="DIR", help="cost cache directory (default: $XDG_CACHE_HOME/stream-core)"
        )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="plugin setting, e.g. zigzag.lpf_limit=6"
    )


def _settings(items: Sequence[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(Problem(f"--set expects KEY=VALUE, got {item!r}"))
        from stream_core.yamlio import parse_yaml

        settings[key.strip()] = parse_yaml(value, f"--set {key.strip()}")
    return settings


def options_from_args(args: argparse.Namespace) -> RunOptions:
    """Run options from whichever standard options the command defines (see :func:`add_run_options`)."""
    from stream_core.context import RunOptions

    cache_dir = getattr(args, "cache_dir", None)
    return RunOptions(
        cost_model=getattr(args, "cost_model", None),
        allocator=getattr(args, "allocator", None),
        mapper=getattr(args, "mapper", None),
        solver=getattr(args, "solver", None),
        jobs=getattr(args, "jobs", None),
        use_cache=not getattr(args, "no_cache", False),
        cache_dir=Path(cache_dir) if cache_dir else None,
        time_limit=getattr(args, "time_limit", None),
        strict_costs=getattr(args, "strict_costs", False),
        settings=_settings(getattr(args, "set", [])),
    )


def make_context(args: argparse.Namespace, plugins: Plugins, quiet: bool) -> RunContext:
    """The context of a command: its options, checked before any work starts: ``--set`` keys
    against the registered settings (:meth:`Plugins.check_settings`) and ``--solver`` against the
    installed solvers (an unknown one is an error listing them)."""
    from stream_core.context import Progress, RunContext
    from stream_core.pipeline import check_options

    context = RunContext(plugins=plugins, options=options_from_args(args), progress=Progress.for_terminal(quiet))
    check_options(context)
    return context


def cmd_run(args: argparse.Namespace, plugins: Plugins, quiet: bool) -> int:
    from stream_core.examples import example_paths
    from stream_core.pipeline import choose_exporters, run
    from stream_core.report import summary_table

    if (args.workload is None) != (args.hardware is None):
        raise InputError(Problem("give both WORKLOAD and HARDWARE, or neither to run the bundled example"))
    if args.workload is None:
        workload, hardware = example_paths()
        if not quiet:
            print(f"no inputs given: running the bundled example {workload.name} on {hardware.name}", file=sys.stderr)
    else:
        workload, hardware = Path(args.workload), Path(args.hardware)
    output = Path(args.output) if args.output else Path("stream-output") / _folder_name(hardware, workload)
    context = make_context(args, plugins, quiet)
    exporters = args.export
    if args.no_plots:
        exporters = [name for name in choose_exporters(plugins, exporters) if name not in PLOT_EXPORTERS]
    outcome = run(
        workload, hardware, args.mapping, output=output, force=args.force, exporters=exporters, context=context
    )
    if args.json:
        print(json.dumps(printed_summary(outcome, plugins), indent=2))
    elif not quiet:
        print(summary_table(outcome.result, outcome.problem.accelerator))
        if outcome.output_dir is not None:
            names = ", ".join(p.name for p in outcome.files)
            print(f"outputs      {outcome.output_dir}/ ({names})")
    if outcome.export_failures:
        raise PluginFailedError(
            "\n".join([*outcome.export_failures, f"the other outputs are in {outcome.output_dir}/"])
        )
    return 0


def printed_summary(outcome: RunOutcome, plugins: Plugins) -> dict[str, Any]:
    """What ``--json`` prints, :func:`~stream_core.report.summary_dict` of the run's result: read back
    from the summary.json the core's summary exporter wrote in this run (computing it again took a
    tenth of a second for 50,000 tiles), with the seconds of the export stage, unknown then, added."""
    from stream_core.plugins import BUILTIN_NAME
    from stream_core.report import summary_dict

    written = outcome.output_dir / "summary.json" if outcome.output_dir is not None else None
    if written in outcome.files and plugins.registry("exporters").entry("summary").plugin == BUILTIN_NAME:
        data: dict[str, Any] = json.loads(written.read_text())
        data["stats"]["stage_seconds"] = dict(outcome.result.stats["stage_seconds"])
        return data
    return summary_dict(outcome.result, outcome.problem.accelerator)


def _folder_name(*parts: Path | str) -> str:
    """The default output folder of these inputs: their stems joined by ``-``, with characters that
    are awkward in a folder name (``block:llama?d=64&t=8``) replaced by ``_``."""
    text = "-".join(part.stem if isinstance(part, Path) else part for part in parts)
    return re.sub(r"[^\w.=+-]+", "_", text)


def cmd_compile(args: argparse.Namespace, plugins: Plugins, quiet: bool) -> int:
    """Resolve the target once, then :func:`stream_core.pipeline.compile` generates and writes the project."""
    from stream_core.pipeline import compile, resolve_target

    target = resolve_target(args.target, plugins)
    output = (
        Path(args.output) if args.output else Path("stream-output") / _folder_name(Path(args.workload), target.label)
    )
    context = make_context(args, plugins, quiet)
    outcome = compile(
        Path(args.workload),
        target,
        code_generator=args.code_generator,
        output=output,
        force=args.force,
        context=context,
    )
    if not quiet:
        if outcome.generated.summary:
            print(outcome.generated.summary)
        print(f"wrote {len(outcome.files)} files to {output}/ ({outcome.code_generator})")
    return 0


def cmd_plugins(args: argparse.Namespace, plugins: Plugins) -> int:
    rows: list[dict[str, Any]] = []
    for info in plugins.infos():
        provides = plugins.provided_by(info.name) if info.status == "active" else {}
        rows.append(
            {
                "name": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "status": info.status,
                "error": info.error,
                "provides": provides,
            }
        )
    kinds = plugins.kinds()
    conflicts = {kind: plugins.registry(kind).conflicts() for kind in kinds}
    conflicts = {k: v for k, v in conflicts.items() if v}
    if args.json:
        print(json.dumps({"plugins": rows, "conflicts": conflicts}, indent=2))
        return 0
    for row in rows:
        print(
            f"{row['distribution']} {row['version']} [{row['status']}]"
            + (f" entry point '{row['name']}'" if row["name"] != row["distribution"] else "")
        )
        if row["error"]:
            print(f"    error: {row['error']}")
        for kind, names in row["provides"].items():
            print(f"    {kinds[kind][1] + 's':<18} {', '.join(names)}")
    for kind, items in conflicts.items():
        for name, origins in items.items():
            print(f"conflict: {kinds[kind][1]} {name!r} provided by {', '.join(origins)}")
    return 0


def cmd_validate(args: argparse.Namespace, plugins: Plugins) -> int:
    from stream_core.context import RunContext
    from stream_core.hardware import is_accelerator_data, load_accelerator, load_core_file
    from stream_core.mapping_io import is_mapping_data, read_mapping_file, resolve_mapping
    from stream_core.pipeline import parse_workload
    from stream_core.yamlio import load_yaml

    context = RunContext(plugins=plugins)
    problems: list[Problem] = []
    loaded: dict[str, Any] = {}
    mappings: list[tuple[Path, Any]] = []
    workload_suffixes = {s for r in plugins.registry("workload_parsers") for s in r.suffixes}
    for name in args.files:
        path = Path(name)
        try:
            if path.suffix.lower() in workload_suffixes or path.suffix.lower() == ".onnx":
                workload, _ = parse_workload(path, context)
                loaded.setdefault("workload", workload)
                print(f"ok       {path} (workload {workload.name!r}: {len(workload)} nodes, {workload.macs:,} MACs)")
                continue
            data = load_yaml(path)
            if is_accelerator_data(data):
                acc = load_accelerator(path, plugins)
                loaded.setdefault("hardware", acc)
                print(f"ok       {path} (accelerator {acc.name!r}: {len(acc.cores)} cores, {len(acc.links)} links)")
                _print_remarks(getattr(acc, "warnings", ()), acc.notes)
            elif is_mapping_data(data):
                parsed = read_mapping_file(path)
                mappings.append((path, parsed))
                print(f"ok       {path} (mapping: {len(parsed.layers)} layer entries)")
                _print_remarks((), parsed.notes)
            elif isinstance(data, dict) and any(k in data for k in ("memories", "operational_array", "memory", "type")):
                core = load_core_file(path, plugins)
                print(f"ok       {path} (core {core.name!r} of type {core.type})")
            else:
                raise InputError(
                    Problem(
                        "cannot tell what this file is: expected an accelerator (cores, "
                        "core_connectivity), a core (type, memories), a mapping (layers) or a workload",
                        file=str(path),
                    )
                )
        except InputError as exc:
            problems.extend(exc.problems)
            print(f"invalid  {path}")
    if "workload" in loaded and "hardware" in loaded:
        for path, parsed in mappings:
            try:
                mapping = resolve_mapping(parsed, loaded["workload"], loaded["hardware"], str(path))
                print(f"ok       {path} matches the workload and accelerator")
                _print_remarks((), [n for n in mapping.notes if n not in parsed.notes])
            except InputError as exc:
                problems.extend(exc.problems)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 2 if problems else 0


def _print_remarks(warnings: Iterable[str], notes: Iterable[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}")
    for note in notes:
        print(f"note: {note}")


def _configure_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger("stream_core")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in argv or "--verbose" in argv
    quiet = "-q" in argv or "--quiet" in argv
    _configure_logging(verbose, quiet)
    style = OPTION_STYLE.set("cli")  # messages name flags, not keyword arguments
    try:
        with _sigterm_raises():
            code = _dispatch(argv, quiet)
            sys.stdout.flush()  # here, so that a closed pipe is seen while we can still handle it
            return code
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        return EXIT_BROKEN_PIPE
    except StreamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as exc:  # an internal error: short message, traceback on request
        if verbose:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (rerun with --verbose for the traceback)", file=sys.stderr)
        return 1
    finally:
        OPTION_STYLE.reset(style)


def _dispatch(argv: list[str], quiet: bool) -> int:
    command = _command_word(argv)
    if command == "" and "--version" in argv:  # before any plugin is loaded
        print(f"stream-core {__version__}")
        return 0
    strict = "--strict-plugins" in argv
    plugins = load_plugins(strict=strict)
    parser = build_parser(plugins, strict=strict, command=command)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "run":
        return cmd_run(args, plugins, quiet)
    if args.command == "plugins":
        return cmd_plugins(args, plugins)
    if args.command == "compile":
        return cmd_compile(args, plugins, quiet)
    if args.command == "validate":
        return cmd_validate(args, plugins)
    return int(args.plugin_command.run(args, make_context(args, plugins, quiet)) or 0)


def _command_word(argv: Sequence[str]) -> str:
    """The sub-command named on the command line ("" for none): the first word that is no option
    (the top-level options take no values)."""
    return next((word for word in argv if not word.startswith("-")), "")


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While the command runs, SIGTERM raises :class:`Terminated` (only the main thread can set it)."""

    def terminate(_signum: int, _frame: object) -> None:
        raise Terminated

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
