"""Which variants to evaluate: a grid, a seeded random sample, or Optuna's NSGA-II sampler.

A proposal is ``(base accelerator, {parameter: value})``; several base accelerators are one more
dimension. Each strategy yields batches; ``evaluate`` turns a batch into rows in the same order, so
NSGA-II is told results in the order it asked and a rerun replays the same trials.
"""

from __future__ import annotations

import itertools
import logging
import random
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from stream_explore.sweep import Parameter, Sweep

Proposal = tuple[Path, dict[Parameter, Any]]
Evaluate = Callable[[list[Proposal]], list[dict[str, Any]]]
FINISHED = ("ok", "infeasible")


def planned(sweep: Sweep) -> int:
    """Variants proposed per workload."""
    if sweep.method == "grid":
        return len(sweep.accelerators) * len(list(itertools.product(*(p.grid() for p in sweep.parameters))))
    assert sweep.budget is not None
    return sweep.budget


def search(sweep: Sweep, evaluate: Evaluate) -> None:
    """Propose the sweep's variants for one workload and hand them to ``evaluate``."""
    if sweep.method == "nsga2":
        _nsga2(sweep, evaluate)
    elif sweep.method == "random":
        rng = random.Random(sweep.seed)
        assert sweep.budget is not None
        evaluate([_random(sweep, rng) for _ in range(sweep.budget)])
    else:
        evaluate(list(_grid(sweep)))


def _grid(sweep: Sweep) -> Iterator[Proposal]:
    for accelerator in sweep.accelerators:
        for values in itertools.product(*(p.grid() for p in sweep.parameters)):
            yield accelerator, dict(zip(sweep.parameters, values, strict=True))


def _random(sweep: Sweep, rng: random.Random) -> Proposal:
    accelerator = sweep.accelerators[rng.randrange(len(sweep.accelerators))]
    return accelerator, {p: p.sample(rng) for p in sweep.parameters}


def _nsga2(sweep: Sweep, evaluate: Evaluate) -> None:
    """Ask a generation, evaluate it, tell it in order; infeasible variants carry their constraint
    violations, failed and pruned ones are failed trials."""
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.NSGAIISampler(
            population_size=sweep.population,
            seed=sweep.seed,
            constraints_func=(lambda t: t.user_attrs["violations"]) if sweep.constraints else None,
        )
    study = optuna.create_study(directions=["minimize"] * len(sweep.objectives), sampler=sampler)
    assert sweep.budget is not None
    asked = 0
    while asked < sweep.budget:
        trials = [study.ask() for _ in range(min(sweep.population, sweep.budget - asked))]
        asked += len(trials)
        proposals = []
        for trial in trials:
            index = trial.suggest_categorical("accelerator", list(range(len(sweep.accelerators))))
            proposals.append((sweep.accelerators[index], {p: p.suggest(trial) for p in sweep.parameters}))
        for trial, row in zip(trials, evaluate(proposals), strict=True):
            if row["status"] in FINISHED:
                trial.set_user_attr("violations", [c.violation(row[c.metric]) for c in sweep.constraints])
                study.tell(trial, [row[m] for m in sweep.objectives])
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
