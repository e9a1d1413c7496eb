"""Running ZigZag jobs: in this process, or in a process pool whose workers get the cores once.

Workers are forked where the platform allows it (ZigZag is already imported, so they start at once),
else spawned. Each worker receives every core of the batch once, through the pool initializer, and
builds a ZigZag accelerator per core on first use. Jobs are submitted longest-first (by a cheap
estimate of LOMA's work) and results are returned in job order, so runs are deterministic.

Workers ignore Ctrl-C and die on SIGTERM (the parent's handlers, inherited on fork, would turn them into
exceptions a worker reports and survives); when the parent stops waiting for any reason (Ctrl-C,
SIGTERM, the run's time limit, an error) it cancels the queued jobs and terminates the workers, so none
outlives the run.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from stream_zigzag import runner
from stream_zigzag.translate import LayerSpec

Job = tuple[str, LayerSpec]  # (core fingerprint, layer)


def _prime_factor_count(n: int) -> int:
    count, p = 0, 2
    while p * p <= n:
        while n % p == 0:
            n, count = n // p, count + 1
        p += 1
    return count + (n > 1)


def _work_estimate(spec: LayerSpec, lpf_limit: int) -> int:
    """LOMA permutes the loop prime factors (at least ``lpf_limit`` of them when there are that many)."""
    factors = sum(_prime_factor_count(size) for _, size in spec.sizes)
    return min(factors, max(lpf_limit, len([s for _, s in spec.sizes if s > 1])))


def run_jobs(
    jobs: Sequence[Job],
    cores: dict[str, dict[str, Any]],
    settings: tuple[int, str, int],
    workers: int,
    done: Callable[[int], None],
) -> list[dict[str, Any]]:
    """Evaluate every job; ``done(i)`` is called as job ``i`` finishes. Results are in job order."""
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    workers = min(workers, len(jobs))
    if workers <= 1:
        runner.install(cores)
        for i, (fingerprint, spec) in enumerate(jobs):
            results[i] = runner.evaluate(fingerprint, spec, settings)
            done(i)
        return [r for r in results if r is not None]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    order = sorted(range(len(jobs)), key=lambda i: -_work_estimate(jobs[i][1], settings[0]))
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_start_worker,
        initargs=(cores,),
    )
    try:
        futures = {pool.submit(runner.evaluate, jobs[i][0], jobs[i][1], settings): i for i in order}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            done(index)
    except BaseException:
        _terminate(pool)
        raise
    pool.shutdown()
    return [r for r in results if r is not None]


def _start_worker(cores: dict[str, dict[str, Any]]) -> None:
    """Pool initializer: default signal handling for a worker (see the module docstring), then the cores."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    runner.install(cores)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued jobs and end the workers now (a running ZigZag job is not waited for)."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public way before Python 3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(1.0)
