"""Typed inputs and outputs of the MCP tools (their JSON schemas are what clients see).

Names follow the Python API (``stream_core.RunOptions``, ``stream_core.run``), not the CLI's flags.
Result models name the fields a client relies on and allow the others the core adds over time.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from stream_mcp.jobs import Kind, Status


class Options(BaseModel):
    """Run options, as ``stream_core.RunOptions`` names them."""

    model_config = ConfigDict(extra="forbid")

    cost_model: str | None = Field(
        default=None, description="cost model for every core it supports (default: per core type)"
    )
    allocator: str | None = Field(default=None, description="allocator (scheduler); default: the highest-priority one")
    mapper: str | None = Field(default=None, description="mapper used when no mapping file is given")
    solver: str | None = Field(default=None, description="LP/MILP solver for optimising plugins")
    time_limit: float | None = Field(
        default=None, gt=0, description="time limit of the whole run, seconds (default: none, 60 s per solve)"
    )
    strict_costs: bool = Field(default=False, description="fail when a cost or operand width had to fall back")
    jobs: int | None = Field(default=None, ge=1, description="parallel cost-model processes (default: all CPUs)")
    use_cache: bool = Field(default=True, description="read and write the persistent cost cache")
    cache_dir: str | None = Field(default=None, description="cost cache directory")
    settings: dict[str, Any] = Field(
        default_factory=dict, description='plugin settings, e.g. {"zigzag.lpf_limit": 6} (see list_plugins)'
    )


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class PluginInfo(BaseModel):
    name: str
    distribution: str
    version: str
    status: Literal["active", "disabled", "failed"]
    error: str | None = None
    provides: dict[str, list[str]] = Field(description="kind -> names this plugin registered")


class RecordInfo(BaseModel):
    name: str
    description: str
    provided_by: str = Field(description="name (distribution version)")


class PluginList(BaseModel):
    plugins: list[PluginInfo]
    kinds: dict[str, list[RecordInfo]] = Field(description="per kind (allocators, cost_models, ...): what is installed")
    conflicts: dict[str, dict[str, list[str]]] = Field(description="kind -> name -> the distributions providing it")


class FileCheck(BaseModel):
    file: str
    ok: bool
    detail: str = Field(description="what the file was read as, or empty")


class ValidationReport(BaseModel):
    valid: bool
    files: list[FileCheck]
    errors: list[str] = Field(description="every problem found: file: field: message")
    warnings: list[str]
    notes: list[str] = Field(description="fields accepted but not (fully) modelled")


class JobInfo(BaseModel):
    id: str
    kind: Kind
    status: Status
    seconds: float = Field(description="run time so far, or until it ended")
    error: str | None = Field(default=None, description="when failed: the message `stream` prints for the same error")
    log: list[str] = Field(default_factory=list, description="the last lines the job wrote to stderr (warnings)")


class JobList(BaseModel):
    jobs: list[JobInfo]


class RunSummary(_Open):
    """``stream run --json``'s summary without its per-node rows (see get_nodes), plus the outputs."""

    workload: str
    accelerator: str
    latency_cycles: int
    latency_lower_bound_cycles: int | None = None
    energy_pj: float
    edp: float
    utilisation: dict[str, float]
    optimality: list[str]
    warnings: list[str]
    notes: list[str]
    provenance: dict[str, str]
    files: list[str] = Field(description="files written (when an output folder was given)")
    output_dir: str | None
    export_failures: list[str] = Field(description="exporters that raised, by name and distribution")


class NodeRow(_Open):
    node: str
    group: str
    cores: list[int]
    start: int
    end: int
    busy_cycles: int
    energy_pj: float
    tiles: int
    cost_model: str


class NodePage(BaseModel):
    job_id: str
    total: int
    offset: int
    rows: list[NodeRow]


class TileRow(BaseModel):
    node: str
    index: int
    core: int
    start: int
    end: int
    energy_pj: float
    cost_model: str
    group: str


class TransferRow(BaseModel):
    tensor: str
    src: int
    dst: int
    links: list[int]
    start: int
    end: int
    bits: int
    energy_pj: float
    reason: str


class SchedulePage(BaseModel):
    job_id: str
    offset: int
    total_tiles: int
    total_transfers: int
    tiles: list[TileRow]
    transfers: list[TransferRow]


class CompileResult(BaseModel):
    target: str
    target_file: str
    code_generator: str = Field(description="name (distribution version)")
    summary: str
    generated: list[str] = Field(description="the project's files, relative paths")
    files: list[str] = Field(description="the files written (when an output folder was given)")
    output_dir: str | None


class FifoRow(_Open):
    name: str
    group: str
    producer: str
    consumer: str
    depth: int
    token_bits: int
    bits: int


class FifoSizeResult(BaseModel):
    table: str = Field(description="the table `stream fifo-size` prints")
    total_fifo_bits: int
    fifos: list[FifoRow]
    plan: dict[str, Any] = Field(description="the JSON `stream fifo-size` writes: kernels, edges, groups, totals")
    output: str | None


class ExploreResult(BaseModel):
    job_id: str
    rows: list[dict[str, Any]] = Field(description="one row per variant: parameters, metrics, status")
    front: str = Field(description="the Pareto front, as `stream explore --show` prints it")
    output_dir: str
