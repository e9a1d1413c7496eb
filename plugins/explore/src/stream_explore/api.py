"""The Python API: :func:`explore` runs a sweep and returns its table; :func:`show` reads one back.

Example::

    from stream_explore import explore
    table = explore("sweep.yaml", "explore-out", jobs=2)   # a DataFrame when pandas is installed
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import stream_core
from stream_core import RunOptions
from stream_core.errors import InputError, Problem
from stream_explore import report
from stream_explore.area import area_fields
from stream_explore.evaluate import Task
from stream_explore.executors import Executor, make_executor
from stream_explore.progress import SweepProgress
from stream_explore.store import Store
from stream_explore.strategies import Proposal, planned, search
from stream_explore.sweep import Sweep, WorkloadEntry, load_sweep
from stream_explore.variants import BaseHardware, digest_text, dump, load_base, materialise

#: RunOptions fields that cannot change a result (left out of the input hash).
NOT_HASHED = ("jobs", "use_cache", "cache_dir")
#: Options that change the cost requests of a run (the allocator and solver do not).
COSTED = ("cost_model", "mapper", "strict_costs", "settings")


class Explorer:
    """One sweep against one results folder and executor."""

    def __init__(self, sweep: Sweep, store: Store, executor: Executor, options: RunOptions, retry_failed: bool):
        self.sweep, self.store, self.executor, self.retry_failed = sweep, store, executor, retry_failed
        self.bases: dict[Path, BaseHardware] = {path: load_base(path) for path in sweep.accelerators}
        self.options = {
            "allocator": options.allocator,
            "mapper": options.mapper,
            "cost_model": options.cost_model,
            "solver": options.solver,
            "time_limit": options.time_limit,
            "strict_costs": options.strict_costs,
            "use_cache": options.use_cache,
            "cache_dir": options.cache_dir,
            **{k: v for k, v in sweep.run.items() if k != "settings"},
            "jobs": 1,
        }
        self.settings = {**options.settings, **sweep.run.get("settings", {})}
        plugins = stream_core.load_plugins()
        swept = [path.keys[0] for p in sweep.parameters for path in p.paths if path.target == "set"]
        plugins.check_settings([*self.settings, *swept])
        self.versions = sorted(f"{i.distribution} {i.version}" for i in plugins.infos() if i.status == "active")
        self.known = store.known()
        self.hashes: list[str] = []
        self.progress: SweepProgress | None = None
        self.seq = len(self.known)

    def run(self, progress: bool) -> None:
        total = planned(self.sweep) * len(self.sweep.workloads)
        with SweepProgress(total, progress) as self.progress:
            for workload in self.sweep.workloads:
                search(self.sweep, functools.partial(self.evaluate, workload))

    def evaluate(self, workload: WorkloadEntry, batch: list[Proposal]) -> list[dict[str, Any]]:
        """Rows for a batch, in order: stored ones reused, pruned ones recorded, the rest run."""
        tasks = [self.task(workload, accelerator, values) for accelerator, values in batch]
        todo: dict[str, Task] = {}
        again = []  # proposed twice in this batch: counted once it is done
        for task in tasks:
            self.hashes.append(task.key)
            stored = self.known.get(task.key)
            if stored is not None and not (self.retry_failed and stored["status"] == "failed"):
                self._advance(stored)
            elif task.key in todo:
                again.append(task.key)
            else:
                pruned = [
                    str(c) for c in self.sweep.constraints if c.metric == "area" and not c.holds(task.area["total_mm2"])
                ]
                if pruned:
                    self._finish({**task.row(), "status": "pruned", "error": f"violates {'; '.join(pruned)}"})
                else:
                    todo[task.key] = task
        for row in self.executor.run(cache_friendly(list(todo.values()))):
            self._finish(self._constrain(row))
        for key in again:
            self._advance(self.known[key])
        return [self.known[task.key] for task in tasks]

    def task(self, workload: WorkloadEntry, accelerator: Path, values: dict[Any, Any]) -> Task:
        base = self.bases[accelerator]
        file = str(self.sweep.source) if self.sweep.source else None
        variant = materialise(base, values, file)
        options = {**self.options, **variant.options, "settings": {**self.settings, **variant.settings}}
        hashed = {k: v for k, v in options.items() if k not in NOT_HASHED}
        inputs = {
            "variant": variant.digest(),
            "workload": _file_digest(workload.path),
            "mapping": _file_digest(workload.mapping) if workload.mapping else None,
            "options": hashed,
            "versions": self.versions,
        }
        costed = {k: v for k, v in inputs.items() if k not in ("variant", "options")}
        costed["options"] = {k: options.get(k) for k in COSTED}
        costed["cores"] = [dump(core) for _, core in sorted(variant.cores.items())]
        self.seq += 1
        return Task(
            key=digest_text(json.dumps(inputs, sort_keys=True, default=str)),
            cost_group=digest_text(json.dumps(costed, sort_keys=True, default=str)),
            seq=self.seq,
            workload=str(workload.path),
            mapping=str(workload.mapping) if workload.mapping else None,
            accelerator=accelerator.stem,
            params={p.name: v for p, v in values.items()},
            variant=variant,
            options=options,
            area=area_fields(variant.accelerator, variant.cores, self.sweep.area),
        )

    def _constrain(self, row: dict[str, Any]) -> dict[str, Any]:
        if row["status"] != "ok":
            return row
        broken = [str(c) for c in self.sweep.constraints if not c.holds(row[c.metric])]
        return {**row, "status": "infeasible", "error": f"violates {'; '.join(broken)}"} if broken else row

    def _finish(self, row: dict[str, Any]) -> None:
        self.store.put(row)
        self.known[row["input_hash"]] = row
        self._advance(row)

    def _advance(self, row: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress.advance(row)


def cache_friendly(tasks: list[Task]) -> list[Task]:
    """The first variant of each cost group (same cores, workload and options: the same cost
    requests) first, then the others: workers running at once rarely compute the same costs, and
    later variants find them in the shared cache."""
    counts: dict[str, int] = {}
    ranked = []
    for task in tasks:
        ranked.append((counts.get(task.cost_group, 0), task.seq, task))
        counts[task.cost_group] = counts.get(task.cost_group, 0) + 1
    return [task for _, _, task in sorted(ranked, key=lambda r: r[:2])]


def _file_digest(path: Path) -> str:
    return digest_text(path.read_bytes())


def explore(
    sweep: Sweep | str | Path,
    output: str | Path = "explore-output",
    *,
    jobs: int | None = None,
    executor: str = "process",
    address: str | None = None,
    options: RunOptions | None = None,
    progress: bool = False,
    retry_failed: bool = False,
) -> Any:
    """Run a sweep (resuming from ``output``), write its reports and return its table: a list of
    dicts, or a pandas DataFrame when pandas is installed. On Ctrl-C every finished variant is kept
    and the reports cover them; the ``KeyboardInterrupt`` is re-raised."""
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    options = options or RunOptions()
    jobs = jobs or options.effective_jobs
    if jobs < 1:
        raise InputError(Problem(f"expected a positive number of jobs, got {jobs}", field="--jobs"))
    folder = Path(output)
    store = Store(folder)
    runner = make_executor(executor, jobs, address)
    explorer = Explorer(sweep, store, runner, options, retry_failed)
    try:
        explorer.run(progress)
    except BaseException:
        runner.close(cancel=True)
        write_reports(store, explorer.hashes, sweep)
        raise
    runner.close()
    return _frame(write_reports(store, explorer.hashes, sweep))


def write_reports(store: Store, hashes: list[str], sweep: Sweep) -> list[dict[str, Any]]:
    """Record the sweep's variants and objectives, write the CSV and plots; returns the table."""
    store.set_meta("current", list(dict.fromkeys(hashes)))
    store.set_meta("objectives", list(sweep.objectives))
    store.set_meta("parameters", [p.name for p in sweep.parameters])
    flat = report.table(store.rows(hashes), sweep.objectives)
    folder = store.path.parent
    report.write_csv(flat, folder / "results.csv")
    report.write_png(flat, sweep.objectives, folder / "pareto.png")
    report.write_html(flat, sweep.objectives, [p.name for p in sweep.parameters], folder / "pareto.html")
    store.close()
    return flat


def show(output: str | Path) -> str:
    """The front of the last sweep written to ``output``, as a text table."""
    path = Path(output) / "results.sqlite"
    if not path.is_file():
        raise InputError(Problem("no sweep results here (results.sqlite is missing)", file=str(output)))
    store = Store(Path(output))
    objectives = store.meta("objectives", ["latency", "energy"])
    params = store.meta("parameters", [])
    flat = report.table(store.rows(store.meta("current")), objectives)
    store.close()
    return report.front_text(flat, objectives, params)


def _frame(flat: list[dict[str, Any]]) -> Any:
    try:
        import pandas
    except ImportError:
        return flat
    return pandas.DataFrame(flat)
