"""Where variants run: in this process (one job), a local process pool, or a Ray cluster.

Each executor yields rows as variants finish. Pool workers share the persistent cost cache (its
entries are written atomically); Ray workers share it when the cache folder is on a shared disk.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Protocol

from stream_core.errors import InputError, PluginError, Problem
from stream_explore.evaluate import Task, evaluate

RAY_HINT = "Ray is not installed; install it with: pip install 'stream-explore[ray]'"
EXECUTORS = ("process", "ray")


class Executor(Protocol):
    def run(self, tasks: list[Task]) -> Iterator[dict[str, Any]]: ...

    def close(self, cancel: bool = False) -> None: ...


class SerialExecutor:
    """One variant after the other in this process (``--jobs 1``)."""

    def run(self, tasks: list[Task]) -> Iterator[dict[str, Any]]:
        for task in tasks:
            yield evaluate(task)

    def close(self, cancel: bool = False) -> None:
        pass


class PoolExecutor:
    """A local pool of ``jobs`` fresh processes. Ctrl-C reaches only this process: it cancels the
    variants not started, and the workers finish their current one quietly."""

    def __init__(self, jobs: int):
        context = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_ignore_interrupts)

    def run(self, tasks: list[Task]) -> Iterator[dict[str, Any]]:
        futures: dict[Future[dict[str, Any]], Task] = {self.pool.submit(evaluate, t): t for t in tasks}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # the worker process died (killed, out of memory)
                row = futures[future].row()
                yield {**row, "status": "failed", "error": f"worker lost: {type(exc).__name__}: {exc}"}

    def close(self, cancel: bool = False) -> None:
        self.pool.shutdown(wait=not cancel, cancel_futures=True)


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class RayExecutor:
    """Tasks on a Ray cluster (``address``; None starts a local one with ``jobs`` CPUs). The workload
    travels through Ray's object store, so workers need no copy of it."""

    def __init__(self, address: str | None, jobs: int):
        try:
            import ray
        except ImportError:
            raise PluginError(RAY_HINT) from None
        self.ray = ray
        try:
            ray.init(
                address=address,
                num_cpus=None if address else jobs,
                logging_level=logging.ERROR,
                log_to_driver=False,
                include_dashboard=False,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise InputError(Problem(f"cannot reach the Ray cluster at {address}: {exc}", field="--address")) from None
        self.remote = ray.remote(num_cpus=1)(evaluate)
        self.workloads: dict[str, Any] = {}
        self.pending: list[Any] = []

    def run(self, tasks: list[Task]) -> Iterator[dict[str, Any]]:
        for task in tasks:
            if task.workload not in self.workloads:
                self.workloads[task.workload] = self.ray.put(Path(task.workload).read_bytes())
        self.pending = [self.remote.remote(t, self.workloads[t.workload]) for t in tasks]
        while self.pending:
            done, self.pending = self.ray.wait(self.pending, num_returns=1)
            yield self.ray.get(done[0])

    def close(self, cancel: bool = False) -> None:
        if cancel:
            for ref in self.pending:
                self.ray.cancel(ref)
        self.ray.shutdown()


def make_executor(name: str, jobs: int, address: str | None = None) -> Executor:
    if name == "ray":
        return RayExecutor(address, jobs)
    if name != "process":
        raise InputError(
            Problem(f"unknown executor {name!r}; expected one of {', '.join(EXECUTORS)}", field="--executor")
        )
    if address:
        raise InputError(Problem("--address is for --executor ray", field="--address"))
    return SerialExecutor() if jobs == 1 else PoolExecutor(jobs)
