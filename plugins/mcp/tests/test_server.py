"""The server driven by the MCP SDK's own client over stdio (``stream mcp`` in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from stream_core.examples import example_paths

TOOLS = {
    "list_plugins",
    "validate",
    "run",
    "job_status",
    "list_jobs",
    "cancel_job",
    "get_summary",
    "get_nodes",
    "get_schedule",
    "compile",
}

#: A third-party plugin (installed by PYTHONPATH and a hand-written dist-info) with two allocators:
#: ``waiting`` writes a marker file, then waits a minute; ``crashing`` ends its process at once.
PLUGIN = """
    import os, time
    from pathlib import Path
    from stream_core import hookimpl
    from stream_core.records import AllocatorRecord

    class Waiting:
        def allocate(self, problem, context):
            Path(os.environ["MARKER"]).write_text("allocating")
            time.sleep(60)

    class Crashing:
        def allocate(self, problem, context):
            os._exit(7)

    @hookimpl
    def stream_register_allocators():
        yield AllocatorRecord(name="waiting", description="waits", factory=Waiting, priority=-1)
        yield AllocatorRecord(name="crashing", description="crashes", factory=Crashing, priority=-1)
"""


def session(check: Callable[[Client], Awaitable[None]], cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run ``check`` against ``stream mcp`` started in ``cwd`` by the SDK's stdio client."""
    server = StdioServerParameters(command=sys.executable, args=["-m", "stream_core.cli", "mcp"], cwd=str(cwd), env=env)

    async def main() -> None:
        async with Client(server) as client:
            await check(client)

    anyio.run(main)


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def error_of(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    return result.content[0].text  # type: ignore[union-attr]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stream_core.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_the_bundled_example_gives_the_latency_stream_run_gives(tmp_path):
    expected = json.loads(cli("run", "--json", "-q", "-o", "out", cwd=tmp_path).stdout)

    async def check(client: Client) -> None:
        listed = await client.list_tools()
        assert {tool.name for tool in listed.tools} >= TOOLS
        run = next(tool for tool in listed.tools if tool.name == "run")
        assert run.input_schema["properties"]["force"]["type"] == "boolean"
        assert run.output_schema is not None and "id" in run.output_schema["properties"]

        job = await call(client, "run")
        assert job["status"] == "running" and job["kind"] == "run"
        status = await call(client, "job_status", job_id=job["id"], wait_seconds=120)
        assert status["status"] == "done", status
        summary = await call(client, "get_summary", job_id=job["id"])
        assert summary["latency_cycles"] == expected["latency_cycles"]
        assert summary["energy_pj"] == expected["energy_pj"]
        assert summary["files"] == [] and summary["output_dir"] is None  # no output folder: no files

        nodes = await call(client, "get_nodes", job_id=job["id"])
        assert nodes["rows"] == expected["nodes"]
        schedule = await call(client, "get_schedule", job_id=job["id"])
        assert schedule["total_tiles"] == sum(row["tiles"] for row in nodes["rows"]) == len(schedule["tiles"])
        for row in nodes["rows"]:  # each node's row spans exactly its tiles
            tiles = [t for t in schedule["tiles"] if t["node"] == row["node"]]
            assert (min(t["start"] for t in tiles), max(t["end"] for t in tiles)) == (row["start"], row["end"])
        page = await call(client, "get_schedule", job_id=job["id"], offset=1, limit=2)
        assert page["tiles"] == schedule["tiles"][1:3]

        jobs = await call(client, "list_jobs")
        assert [j["id"] for j in jobs["jobs"]] == [job["id"]]

    session(check, tmp_path)


def test_a_bad_file_is_a_tool_error_with_the_clis_message(tmp_path):
    (tmp_path / "bad.yaml").write_text("name: bad\ncores:\n  0: missing_core.yaml\n")
    workload, _ = example_paths()
    ran = cli("run", str(workload), "bad.yaml", "-o", "out", cwd=tmp_path)
    assert ran.returncode == 2
    validated = cli("validate", "bad.yaml", cwd=tmp_path)

    async def check(client: Client) -> None:
        job = await call(client, "run", workload=str(workload), hardware="bad.yaml")
        status = await call(client, "job_status", job_id=job["id"], wait_seconds=120)
        assert status["status"] == "failed"
        assert status["error"] == ran.stderr.strip()
        assert "missing_core.yaml" in status["error"]
        assert await error_of(client, "get_summary", job_id=job["id"]) == ran.stderr.strip()
        assert await error_of(client, "get_nodes", job_id="run-99") == f"no job 'run-99'; jobs: {job['id']}"

        report = await call(client, "validate", files=["bad.yaml"])
        assert report["valid"] is False
        assert report["files"] == [{"file": "bad.yaml", "ok": False, "detail": ""}]
        assert ["error: " + e for e in report["errors"]] == validated.stderr.strip().splitlines()

        workload_, hardware = (str(path) for path in example_paths())
        good = await call(client, "validate", files=[hardware, workload_])
        assert good["valid"] is True and good["errors"] == []
        assert [(f["file"], f["ok"]) for f in good["files"]] == [(hardware, True), (workload_, True)]
        assert good["files"][1]["detail"] == "workload 'two_conv': 2 nodes, 5,898,240 MACs"

        text = await error_of(client, "run", options={"time_limit": -1})
        assert "time_limit" in text  # the input schema is checked before any work

    session(check, tmp_path)


def install_plugin(tmp_path: Path) -> dict[str, str]:
    """The waiting/crashing plugin on PYTHONPATH; returns the server's environment."""
    site = tmp_path / "site"
    dist = site / "waiting_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (site / "waiting_plugin.py").write_text(textwrap.dedent(PLUGIN))
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: waiting-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[stream_core.plugins]\nwaiting-plugin = waiting_plugin\n")
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path, "MARKER": str(tmp_path / "marker")}


def test_cancel_stops_a_job_and_leaves_no_output_and_a_crash_is_a_failed_job(tmp_path):
    env = install_plugin(tmp_path)
    marker = Path(env["MARKER"])

    async def check(client: Client) -> None:
        job = await call(client, "run", options={"allocator": "waiting"}, output="out")
        started = time.monotonic()
        while not marker.exists():  # the worker is inside the allocator, its outputs staged
            assert time.monotonic() - started < 60
            await anyio.sleep(0.05)
        cancelled = await call(client, "cancel_job", job_id=job["id"])
        assert cancelled["status"] == "cancelled"
        assert cancelled["seconds"] < 30  # not the allocator's minute
        assert sorted(p.name for p in tmp_path.iterdir()) == ["marker", "site"]  # nothing staged is left

        crash = await call(client, "run", options={"allocator": "crashing"})
        status = await call(client, "job_status", job_id=crash["id"], wait_seconds=120)
        assert status["status"] == "failed"
        assert status["error"] == "internal error: the worker process ended with exit code 7"
        plugins = await call(client, "list_plugins")  # the server still answers
        assert {"name": "waiting", "description": "waits", "provided_by": "waiting (waiting-plugin 0.1)"} in plugins[
            "kinds"
        ]["allocators"]

    session(check, tmp_path, env)


def test_compile_and_fifo_size_answer_what_the_cli_writes(tmp_path):
    workload, _ = example_paths()
    assert cli("fifo-size", str(workload), "-o", "fifo.json", cwd=tmp_path).returncode == 0
    expected_plan = json.loads((tmp_path / "fifo.json").read_text())
    assert cli("compile", str(workload), "--target", "u55c", "-o", "cli", cwd=tmp_path).returncode == 0
    written_by_cli = sorted(str(p.relative_to(tmp_path / "cli")) for p in (tmp_path / "cli").rglob("*") if p.is_file())

    async def check(client: Client) -> None:
        sized = await call(client, "fifo_size", workload=str(workload))
        for key in ("kernels", "edges", "fifos", "totals"):  # all but the LP's solve times
            assert sized["plan"][key] == expected_plan[key]
        assert sized["total_fifo_bits"] == sum(f["bits"] for f in expected_plan["fifos"])
        assert "total FIFO bits" in sized["table"] and sized["output"] is None

        listed = await call(client, "compile", workload=str(workload), target="u55c")
        assert listed["files"] == [] and not (tmp_path / "mcp").exists()
        compiled = await call(client, "compile", workload=str(workload), target="u55c", output="mcp")
        assert compiled["generated"] == listed["generated"]
        # the same project as the CLI's (the CLI's folder also holds stream's manifest)
        assert set(compiled["generated"]) <= set(written_by_cli)
        assert all(
            (tmp_path / "mcp" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
            for name in compiled["generated"]
        )
        text = await error_of(client, "compile", workload=str(workload), target="nowhere")
        assert text == cli("compile", str(workload), "--target", "nowhere", cwd=tmp_path).stderr.strip()

    session(check, tmp_path)


SWEEP = """
workload: {workload}
accelerator: {hardware}
parameters:
  ring_bandwidth:
    path: [core_connectivity.0.bandwidth, core_connectivity.1.bandwidth,
           core_connectivity.2.bandwidth, core_connectivity.3.bandwidth]
    values: [32, 128]
objectives: [latency, energy]
"""


@pytest.mark.slow  # a process pool and two variants: about 10 s
def test_explore_runs_a_sweep_whose_base_variant_matches_stream_run(tmp_path):
    workload, hardware = example_paths()
    (tmp_path / "sweep.yaml").write_text(SWEEP.format(workload=workload, hardware=hardware))
    expected = json.loads(cli("run", "--json", "-q", "-o", "out", cwd=tmp_path).stdout)

    async def check(client: Client) -> None:
        if "explore" not in {tool.name for tool in (await client.list_tools()).tools}:
            pytest.skip("stream-explore is not installed")
        job = await call(client, "explore", sweep="sweep.yaml", output="swept", jobs=1)
        status = await call(client, "job_status", job_id=job["id"], wait_seconds=300)
        assert status["status"] == "done", status
        results = await call(client, "get_explore_results", job_id=job["id"])
        rows = {row["ring_bandwidth"]: row for row in results["rows"]}
        assert rows[32]["latency"] == expected["latency_cycles"]  # the variant equal to the base file
        assert rows[128]["latency"] <= rows[32]["latency"]  # wider links cannot slow the schedule down
        assert "latency" in results["front"] and (tmp_path / "swept" / "results.csv").is_file()

    session(check, tmp_path)
