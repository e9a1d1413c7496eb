"""The sweep file: what to vary, how to search, what to minimise (format in the package README).

Files a sweep names are relative to the sweep file; ``example:NAME`` names one of the core's bundled
examples (``example:two_conv``, ``example:tpu_like_quad_core``). Every problem is reported at once.
"""

from __future__ import annotations

import math
import operator
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from stream_core import examples
from stream_core.errors import ProblemCollector
from stream_core.yamlio import is_int, is_number, load_yaml, type_name
from stream_explore.paths import OPTIONS, ParamPath, parse_path

#: Metric name -> unit; all are minimised.
METRICS = {"latency": "cycles", "energy": "pJ", "edp": "pJ x cycles", "peak_memory": "bits", "area": "mm2"}
METHODS = ("grid", "random", "nsga2")
KNOWN_KEYS = (
    "workload",
    "workloads",
    "accelerator",
    "accelerators",
    "parameters",
    "search",
    "objectives",
    "constraints",
    "area",
    "run",
)
SEARCH_KEYS = ("method", "budget", "seed", "population")
PARAM_KEYS = ("path", "values", "low", "high", "step", "log")
RUN_KEYS = (*OPTIONS, "settings")
AREA_KEYS = ("technology", "sram_um2_per_bit", "mac_um2")
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
CONSTRAINT = re.compile(r"^\s*([a-z_]+)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*$")
EXAMPLE = "example:"


@attrs.frozen(eq=False)
class Parameter:
    """A swept value written at every one of ``paths``: one of ``values``, or a number in
    ``[low, high]`` (on a ``step`` grid when given, log-uniform when ``log``). Compared by identity
    (values may be lists), so it can key a proposal."""

    name: str
    paths: tuple[ParamPath, ...]
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False

    @property
    def integer(self) -> bool:
        return all(is_int(v) for v in (self.low, self.high, self.step) if v is not None)

    def grid(self) -> list[Any]:
        """Every value a grid visits."""
        if self.values:
            return list(self.values)
        assert self.low is not None and self.high is not None and self.step is not None
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        return [self._number(self.low + i * self.step) for i in range(count)]

    def sample(self, rng: random.Random) -> Any:
        if self.values:
            return self.values[rng.randrange(len(self.values))]
        if self.step is not None:
            grid = self.grid()
            return grid[rng.randrange(len(grid))]
        assert self.low is not None and self.high is not None
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        return self._number(value)

    def suggest(self, trial: Any) -> Any:
        """The value an Optuna trial suggests (``values`` by index, so lists can be values)."""
        if self.values:
            return self.values[trial.suggest_categorical(self.name, list(range(len(self.values))))]
        if self.integer:
            step = int(self.step or 1)
            return trial.suggest_int(self.name, int(self.low or 0), int(self.high or 0), step=step, log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)

    def _number(self, value: float) -> Any:
        return round(value) if self.integer else value


@attrs.frozen
class Constraint:
    metric: str
    op: str
    bound: float

    def holds(self, value: float) -> bool:
        return COMPARISONS[self.op](value, self.bound)

    def violation(self, value: float) -> float:
        """How far ``value`` is outside the bound (0 when it holds), for constrained NSGA-II."""
        return 0.0 if self.holds(value) else abs(value - self.bound)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.bound:g}"


@attrs.frozen
class WorkloadEntry:
    path: Path
    mapping: Path | None = None

    @property
    def name(self) -> str:
        return self.path.stem


@attrs.frozen
class Sweep:
    workloads: tuple[WorkloadEntry, ...]
    accelerators: tuple[Path, ...]
    parameters: tuple[Parameter, ...] = ()
    method: str = "grid"
    budget: int | None = None
    seed: int = 0
    population: int = 8
    objectives: tuple[str, ...] = ("latency", "energy")
    constraints: tuple[Constraint, ...] = ()
    area: dict[str, Any] = attrs.field(factory=dict)
    run: dict[str, Any] = attrs.field(factory=dict)
    source: Path | None = None


def bundled_example() -> Path:
    """The sweep ``stream explore`` runs when given none."""
    return Path(__file__).resolve().parent / "examples" / "sweep.yaml"


def load_sweep(path: Path | str) -> Sweep:
    path = Path(path)
    return sweep_from_data(load_yaml(path), base_dir=path.parent, file=str(path))


def sweep_from_data(data: Any, *, base_dir: Path, file: str | None = None) -> Sweep:
    """Validate sweep data; raise ``InputError`` listing every problem."""
    problems = ProblemCollector(file)
    if not isinstance(data, dict):
        problems.add(None, f"expected a mapping with 'workloads', 'accelerator', 'parameters', got {type_name(data)}")
        problems.raise_if_any()
    for key in data:
        if key not in KNOWN_KEYS:
            problems.add(str(key), f"unknown key; known keys: {', '.join(KNOWN_KEYS)}")
    workloads = [_workload(item, f, base_dir, problems) for f, item in _listed(data, "workload", problems)]
    accelerators = [
        _file(item, f, base_dir, "hardware", problems) for f, item in _listed(data, "accelerator", problems)
    ]
    parameters = _parameters(data.get("parameters", {}), problems)
    search = _search(data.get("search", {}), problems)
    objectives = _objectives(data.get("objectives", ["latency", "energy"]), problems)
    constraints = _constraints(data.get("constraints", []), problems)
    area = _block(data.get("area", {}), "area", AREA_KEYS, problems)
    for key in ("sram_um2_per_bit", "mac_um2"):
        if key in area and not (is_number(area[key]) and area[key] >= 0):
            problems.add(f"area.{key}", f"expected a non-negative number, got {area[key]!r}")
    if "technology" in area and not isinstance(area["technology"], str):
        problems.add("area.technology", f"expected a node name such as 'n16', got {type_name(area['technology'])}")
    run = _block(data.get("run", {}), "run", RUN_KEYS, problems)
    if not isinstance(run.get("settings", {}), dict):
        problems.add("run.settings", f"expected a mapping of plugin settings, got {type_name(run['settings'])}")
    if search.get("method") == "grid":
        for p in parameters:
            if not p.values and p.step is None:
                problems.add(f"parameters.{p.name}", "a grid needs 'values' or a 'step' between 'low' and 'high'")
    elif parameters == [] and not problems:
        problems.add("parameters", f"a {search['method']} search needs at least one parameter")
    problems.raise_if_any()
    return Sweep(
        workloads=tuple(w for w in workloads if w is not None),
        accelerators=tuple(a for a in accelerators if a is not None),
        parameters=tuple(parameters),
        objectives=tuple(objectives),
        constraints=tuple(constraints),
        area=area,
        run=run,
        source=Path(file) if file else None,
        **search,
    )


def _listed(data: dict[str, Any], key: str, problems: ProblemCollector) -> list[tuple[str, Any]]:
    """``key: item`` or ``<key>s: [items]``, with each item's field path."""
    plural = key + "s"
    if key in data and plural in data:
        problems.add(plural, f"give '{key}' or '{plural}', not both")
    if plural in data:
        items = data[plural]
        if not isinstance(items, list) or not items:
            problems.add(plural, f"expected a non-empty list, got {type_name(items)}")
            return []
        return [(f"{plural}[{i}]", item) for i, item in enumerate(items)]
    if key in data:
        return [(key, data[key])]
    problems.add(plural, f"missing required field (the {key} file(s) of the sweep)")
    return []


def _file(ref: Any, field: str, base_dir: Path, kind: str, problems: ProblemCollector) -> Path | None:
    if not isinstance(ref, str) or not ref.strip():
        problems.add(field, f"expected a file name, got {type_name(ref)}")
        return None
    if ref.startswith(EXAMPLE):
        name = ref[len(EXAMPLE) :]
        path = examples.hardware(name) if kind == "hardware" else examples.workload(name)
    else:
        path = (base_dir / ref).resolve()
    if not path.is_file():
        problems.add(field, f"file not found: {path}")
        return None
    return path


def _workload(item: Any, field: str, base_dir: Path, problems: ProblemCollector) -> WorkloadEntry | None:
    mapping = None
    if isinstance(item, dict):
        for key in set(item) - {"path", "mapping"}:
            problems.add(f"{field}.{key}", "unknown key; expected 'path' and optionally 'mapping'")
        if "mapping" in item:
            mapping = _file(item["mapping"], f"{field}.mapping", base_dir, "mapping", problems)
        item = item.get("path")
    path = _file(item, field, base_dir, "workload", problems)
    return WorkloadEntry(path, mapping) if path is not None else None


def _parameters(raw: Any, problems: ProblemCollector) -> list[Parameter]:
    if not isinstance(raw, dict):
        problems.add(
            "parameters", f"expected a mapping from parameter name to its path and values, got {type_name(raw)}"
        )
        return []
    out = []
    for name, spec in raw.items():
        field = f"parameters.{name}"
        if not isinstance(spec, dict):
            problems.add(field, f"expected a mapping with 'path' and 'values' (or 'low'/'high'), got {type_name(spec)}")
            continue
        for key in set(spec) - set(PARAM_KEYS):
            problems.add(f"{field}.{key}", f"unknown key; expected {', '.join(PARAM_KEYS)}")
        raw_paths = spec.get("path")
        paths = []
        for text in raw_paths if isinstance(raw_paths, list) else [raw_paths]:
            try:
                paths.append(parse_path(text))
            except ValueError as exc:
                problems.add(f"{field}.path", str(exc))
        values = spec.get("values", [])
        if "values" in spec:
            if not isinstance(values, list) or not values:
                problems.add(f"{field}.values", f"expected a non-empty list, got {type_name(values)}")
                continue
            if any(k in spec for k in ("low", "high", "step", "log")):
                problems.add(field, "give 'values' or 'low'/'high', not both")
        else:
            if not all(is_number(spec.get(k)) for k in ("low", "high")):
                problems.add(field, "expected 'values: [...]' or numbers 'low' and 'high'")
                continue
            if spec["low"] > spec["high"] or ("step" in spec and not (is_number(spec["step"]) and spec["step"] > 0)):
                problems.add(field, "expected low <= high and a positive step")
                continue
            if spec.get("log") and spec["low"] <= 0:
                problems.add(f"{field}.log", "a log range needs low > 0")
                continue
        out.append(
            Parameter(
                str(name),
                tuple(paths),
                tuple(values),
                spec.get("low"),
                spec.get("high"),
                spec.get("step"),
                bool(spec.get("log", False)),
            )
        )
    return out


def _search(raw: Any, problems: ProblemCollector) -> dict[str, Any]:
    search = _block(raw, "search", SEARCH_KEYS, problems)
    method = search.get("method", "grid")
    if method not in METHODS:
        problems.add("search.method", f"expected one of {', '.join(METHODS)}, got {method!r}")
    for key in ("budget", "population"):
        if key in search and not (is_int(search[key]) and search[key] > 0):
            problems.add(f"search.{key}", f"expected a positive integer, got {search[key]!r}")
    if "seed" in search and not is_int(search["seed"]):
        problems.add("search.seed", f"expected an integer, got {search['seed']!r}")
    if method in ("random", "nsga2") and "budget" not in search:
        problems.add("search.budget", f"a {method} search needs a budget (the number of variants per workload)")
    return {"method": method, **{k: search[k] for k in ("budget", "seed", "population") if k in search}}


def _objectives(raw: Any, problems: ProblemCollector) -> list[str]:
    if not isinstance(raw, list) or not raw or not all(m in METRICS for m in raw) or len(set(raw)) < len(raw):
        problems.add("objectives", f"expected a list of distinct metrics from {', '.join(METRICS)}, got {raw!r}")
        return ["latency", "energy"]
    return list(raw)


def _constraints(raw: Any, problems: ProblemCollector) -> list[Constraint]:
    if not isinstance(raw, list):
        problems.add("constraints", f"expected a list such as ['area <= 4.5'], got {type_name(raw)}")
        return []
    out = []
    for i, text in enumerate(raw):
        match = CONSTRAINT.match(text) if isinstance(text, str) else None
        if match is None or match[1] not in METRICS:
            problems.add(
                f"constraints[{i}]", f"expected '<metric> <= <number>' with a metric from {', '.join(METRICS)}"
            )
            continue
        try:
            out.append(Constraint(match[1], match[2], float(match[3])))
        except ValueError:
            problems.add(f"constraints[{i}]", f"{match[3]!r} is not a number")
    return out


def _block(raw: Any, field: str, keys: tuple[str, ...], problems: ProblemCollector) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problems.add(field, f"expected a mapping, got {type_name(raw)}")
        return {}
    for key in raw:
        if key not in keys:
            problems.add(f"{field}.{key}", f"unknown key; expected one of {', '.join(keys)}")
    return {k: v for k, v in raw.items() if k in keys}
