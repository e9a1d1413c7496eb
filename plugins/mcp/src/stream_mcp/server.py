"""The MCP server: tools over stream-core's public API, each with a typed input schema and structured
output. A failure is a tool error whose text is the line ``stream`` prints for it; the server itself
never stops on one.

``run`` and ``explore`` start background jobs (poll ``job_status``, stop with ``cancel_job``, read
with ``get_summary``/``get_nodes``/``get_schedule``/``get_explore_results``); ``compile`` and
``fifo_size`` answer directly, in a worker process that is cancelled with the request. ``fifo_size``
and ``explore`` are offered when an installed plugin registers the command.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from pydantic import Field

import stream_core
from stream_core import Plugins
from stream_mcp.jobs import Job, JobManager, Kind
from stream_mcp.models import (
    CompileResult,
    ExploreResult,
    FifoSizeResult,
    JobInfo,
    JobList,
    NodePage,
    Options,
    PluginInfo,
    PluginList,
    RecordInfo,
    RunSummary,
    SchedulePage,
    ValidationReport,
)
from stream_mcp.validate import parse_validate_output

INSTRUCTIONS = """stream-core maps neural-network workloads (ONNX) onto accelerators described in YAML and
reports latency (cycles), energy (pJ) and a schedule. Start with list_plugins and validate; `run` starts
a job (omit workload and hardware for the bundled example): poll job_status (wait_seconds blocks), then
get_summary, get_nodes and get_schedule. Paths are relative to the server's working directory."""

F = TypeVar("F", bound=Callable[..., Any])
Path_ = Annotated[str, Field(description="a file path")]
Offset = Annotated[int, Field(ge=0, description="first row to return")]
Limit = Annotated[int, Field(ge=1, le=5000, description="rows to return at most")]


def _dump(options: Options | None) -> dict[str, Any]:
    return (options or Options()).model_dump()


def reported(fn: F) -> F:
    """``fn`` as a tool whose :class:`ToolError` reaches the client as its message alone (the SDK would
    prefix "Error executing tool NAME: "), so the text is exactly what ``stream`` prints."""

    @functools.wraps(fn)
    async def tool(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result
        except ToolError as exc:
            return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)

    return tool  # type: ignore[return-value]


def build_server(manager: JobManager, plugins: Plugins | None = None) -> MCPServer:
    """The server with its tools; ``fifo_size`` and ``explore`` only when their commands are installed."""
    plugins = plugins or stream_core.load_plugins()
    server = MCPServer("stream-core", instructions=INSTRUCTIONS, version=stream_core.__version__, log_level="WARNING")

    def tool(fn: F) -> F:
        server.add_tool(reported(fn))
        return fn

    def info(job: Job) -> JobInfo:
        return JobInfo(
            id=job.id,
            kind=job.kind,
            status=job.status,
            seconds=job.seconds,
            error=job.error,
            log=job.log,
        )

    def job_of(job_id: str, kind: Kind) -> Job:
        """A finished job of ``kind``, else a tool error saying why its result is not there."""
        try:
            job = manager.get(job_id)
        except KeyError as exc:
            raise ToolError(str(exc.args[0])) from None
        if job.kind != kind:
            raise ToolError(f"job {job_id!r} is a {job.kind} job, not a {kind} job")
        if job.status == "running":
            raise ToolError(f"job {job_id!r} is still running; poll job_status")
        if job.status == "cancelled":
            raise ToolError(f"job {job_id!r} was cancelled")
        if job.status == "failed":
            raise ToolError(job.error or "failed")
        assert job.result is not None
        return job

    async def finish(job: Job) -> dict[str, Any]:
        """Wait for a job the request started; cancelling the request cancels the job."""
        try:
            await anyio.to_thread.run_sync(job.wait, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            manager.cancel(job)
            raise
        result = job_of(job.id, job.kind).result
        assert result is not None
        return result

    @tool
    def list_plugins() -> PluginList:
        """Installed plugins, their status and what each provides (as `stream plugins --json`), and per
        kind (allocators, cost_models, solvers, targets, settings, ...) each name with its description."""
        kinds = plugins.kinds()
        rows = [
            PluginInfo(
                name=i.name,
                distribution=i.distribution,
                version=i.version,
                status=i.status,  # type: ignore[arg-type]
                error=i.error,
                provides=plugins.provided_by(i.name) if i.status == "active" else {},
            )
            for i in plugins.infos()
        ]
        records = {
            kind: [
                RecordInfo(name=r.name, description=r.description, provided_by=plugins.origin(kind, r.name))
                for r in plugins.registry(kind)
            ]
            for kind in kinds
            if not plugins.registry(kind).conflicts()
        }
        conflicts = {kind: plugins.registry(kind).conflicts() for kind in kinds}
        return PluginList(plugins=rows, kinds=records, conflicts={k: v for k, v in conflicts.items() if v})

    @tool
    async def validate(
        files: Annotated[list[str], Field(min_length=1, description="hardware, core, mapping or workload files")],
    ) -> ValidationReport:
        """Check hardware, core, mapping or workload files as `stream validate` does and report every
        problem (file, field path, message), with warnings and notes."""
        done = await anyio.run_process([sys.executable, "-m", "stream_core.cli", "validate", "--", *files], check=False)
        if done.returncode not in (0, 2):
            raise ToolError(done.stderr.decode(errors="replace").strip())
        return parse_validate_output(files, done.stdout.decode(), done.stderr.decode())

    @tool
    def run(
        workload: Annotated[str | None, Field(description="workload file (ONNX); omit both for the example")] = None,
        hardware: Annotated[str | None, Field(description="accelerator YAML file")] = None,
        mapping: Annotated[str | None, Field(description="mapping YAML (Stream format); default: automatic")] = None,
        options: Options | None = None,
        output: Annotated[str | None, Field(description="folder for the exporters' files; none: no files")] = None,
        force: Annotated[bool, Field(description="also write into an existing folder stream did not create")] = False,
        exporters: Annotated[list[str] | None, Field(description="exactly these exporters; default: the usual")] = None,
    ) -> JobInfo:
        """Start mapping, costing and scheduling a workload on an accelerator (stream_core.run) as a
        background job; returns its id. Poll job_status, then read get_summary/get_nodes/get_schedule."""
        params = {
            "workload": workload,
            "hardware": hardware,
            "mapping": mapping,
            "options": _dump(options),
            "output": output,
            "force": force,
            "exporters": exporters,
        }
        return info(manager.start("run", params))

    @tool
    async def job_status(
        job_id: str,
        wait_seconds: Annotated[float, Field(ge=0, le=600, description="wait up to this long for the end")] = 0,
    ) -> JobInfo:
        """A job's status (running, done, failed with the CLI's message, cancelled); waits up to
        wait_seconds for it to end."""
        try:
            job = manager.get(job_id)
        except KeyError as exc:
            raise ToolError(str(exc.args[0])) from None
        if wait_seconds:
            await anyio.to_thread.run_sync(job.wait, wait_seconds, abandon_on_cancel=True)
        return info(job)

    @tool
    def list_jobs() -> JobList:
        """Every job of this server, oldest first."""
        return JobList(jobs=[info(job) for job in manager.jobs()])

    @tool
    async def cancel_job(job_id: str) -> JobInfo:
        """Stop a running job; its staged outputs are removed. Returns its status once it has ended."""
        try:
            job = manager.get(job_id)
        except KeyError as exc:
            raise ToolError(str(exc.args[0])) from None
        manager.cancel(job)
        await anyio.to_thread.run_sync(job.wait, abandon_on_cancel=True)
        return info(job)

    @tool
    def get_summary(job_id: str) -> RunSummary:
        """A finished run's summary: latency (cycles) and its lower bound, energy (pJ), EDP, utilisation
        per core, what the allocator proved, provenance, warnings and notes (`stream run --json` less nodes)."""
        result = job_of(job_id, "run").result
        assert result is not None
        summary = {k: v for k, v in result["summary"].items() if k != "nodes"}
        return RunSummary(
            **summary,
            files=result["files"],
            output_dir=result["output_dir"],
            export_failures=result["export_failures"],
        )

    @tool
    def get_nodes(job_id: str, offset: Offset = 0, limit: Limit = 500) -> NodePage:
        """A finished run's per-node rows: cores, start, end, busy cycles, energy, tiles and how each was
        costed (cost model, fallback reason, precision)."""
        result = job_of(job_id, "run").result
        assert result is not None
        rows = result["summary"]["nodes"]
        return NodePage(job_id=job_id, total=len(rows), offset=offset, rows=rows[offset : offset + limit])

    @tool
    def get_schedule(job_id: str, offset: Offset = 0, limit: Limit = 500) -> SchedulePage:
        """A finished run's schedule: tiles (node, core, start, end, energy) and transfers (tensor, cores,
        links, bits), each by start; offset and limit page through both lists."""
        result = job_of(job_id, "run").result
        assert result is not None
        tiles, transfers = result["tiles"], result["transfers"]
        return SchedulePage(
            job_id=job_id,
            offset=offset,
            total_tiles=len(tiles),
            total_transfers=len(transfers),
            tiles=tiles[offset : offset + limit],
            transfers=transfers[offset : offset + limit],
        )

    @tool
    async def compile(
        workload: Path_,
        target: Annotated[str, Field(description="a registered target (see list_plugins) or a hardware file")],
        code_generator: Annotated[str | None, Field(description="default: the target's own")] = None,
        options: Options | None = None,
        output: Annotated[str | None, Field(description="project folder; none: generate and list only")] = None,
        force: bool = False,
    ) -> CompileResult:
        """Generate a hardware project for a workload on a streaming target (stream_core.compile, as
        `stream compile`), e.g. the Vitis HLS project of the U55C."""
        params = {
            "workload": workload,
            "target": target,
            "code_generator": code_generator,
            "options": _dump(options),
            "output": output,
            "force": force,
        }
        return CompileResult(**await finish(manager.start("compile", params)))

    commands = plugins.registry("commands")
    if "fifo-size" in commands:

        @tool
        async def fifo_size(
            workload: Path_,
            target: Annotated[str | None, Field(description="accelerator/itensor target file or name")] = None,
            tiles: Annotated[list[str], Field(description='uniform tile sizes, e.g. ["oy=1"]')] = [],  # noqa: B006
            simulate: Annotated[int, Field(ge=0, description="also simulate this many frames")] = 0,
            options: Options | None = None,
            output: Annotated[str | None, Field(description="also write the JSON here")] = None,
            force: bool = False,
        ) -> FifoSizeResult:
            """Type and fuse a workload and size each FIFO by LP (the installed `stream fifo-size`):
            per-FIFO depth and bits, totals, and the table it prints."""
            params = {
                "workload": workload,
                "target": target,
                "tiles": tiles,
                "simulate": simulate,
                "options": _dump(options),
                "output": output,
                "force": force,
            }
            result = await finish(manager.start("fifo_size", params))
            plan = result["plan"]
            return FifoSizeResult(
                table=result["table"],
                total_fifo_bits=plan["totals"]["fifo_bits"],
                fifos=plan["fifos"],
                plan=plan,
                output=result["output"],
            )

    if "explore" in commands:

        @tool
        def explore(
            sweep: Annotated[str, Field(description="sweep YAML file (see stream-explore's README)")],
            output: Annotated[str | None, Field(description="results folder, resumed if it exists")] = None,
            jobs: Annotated[int | None, Field(ge=1, description="variants evaluated at once")] = None,
            executor: Annotated[str, Field(description="where variants run: process or ray")] = "process",
            retry_failed: bool = False,
            options: Options | None = None,
        ) -> JobInfo:
            """Start a design-space exploration (the installed stream-explore) as a background job; read
            it with get_explore_results."""
            params = {
                "sweep": sweep,
                "output": output,
                "jobs": jobs,
                "executor": executor,
                "retry_failed": retry_failed,
                "options": _dump(options),
            }
            return info(manager.start("explore", params))

        @tool
        def get_explore_results(job_id: str) -> ExploreResult:
            """A finished exploration's table (one row per variant) and its Pareto front."""
            result = job_of(job_id, "explore").result
            assert result is not None
            return ExploreResult(job_id=job_id, **result)

    return server


def serve() -> None:
    """Serve over stdio until the client closes the connection; running jobs are cancelled then."""
    manager = JobManager()
    try:
        build_server(manager).run("stdio")
    finally:
        manager.close()
