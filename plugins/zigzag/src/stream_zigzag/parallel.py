"""Running ZigZag jobs: in this process, or in a process pool whose workers get the cores once.

Workers are forked where the platform allows it (ZigZag is already imported, so they start at once),
else spawned. Each worker receives every core of the batch once, through the pool initializer, and
builds a ZigZag accelerator per core on first use. Jobs are submitted longest-first (by a cheap
estimate of LOMA's work) and results are returned in job order, so runs are deterministic.
"""

from __future__ import annotations

import multiprocessing
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
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=runner.install,
        initargs=(cores,),
    ) as pool:
        futures = {pool.submit(runner.evaluate, jobs[i][0], jobs[i][1], settings): i for i in order}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            done(index)
    return [r for r in results if r is not None]
