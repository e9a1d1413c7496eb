"""A neutral model-building API for LPs and MILPs, shared by every optimising plugin.

Build a :class:`Model` with variables, linear constraints and one objective or a lexicographic list
of objectives, then hand it to any solver registered with stream-core (``context.solver()``); the
solver plugin translates it to its library and returns a :class:`Solution`.

Example::

    m = Model("example")
    x = m.add_var("x", lb=0, ub=10, integer=True)
    y = m.add_var("y", lb=0)
    m.add(x + 2 * y >= 4, name="cover")
    m.minimize(3 * x + y)
    solution = solver.solve(m, SolveOptions(time_limit=10))
    solution.value(x)
"""

from __future__ import annotations

import enum
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Protocol

import attrs

Number = int | float  # any numbers.Real (numpy scalars included) is accepted at runtime
INF = math.inf


class VarType(enum.StrEnum):
    CONTINUOUS = "continuous"
    INTEGER = "integer"
    BINARY = "binary"


class Sense(enum.StrEnum):
    LE = "<="
    GE = ">="
    EQ = "=="


class LinExpr:
    """``sum(coeff * var) + constant`` over variables of one model (terms keyed by variable index).

    ``+`` and ``-`` return new expressions (copies); build long sums with :meth:`Model.sum`, which
    is linear in the number of terms, rather than Python's ``sum()``, which is quadratic."""

    __slots__ = ("constant", "terms")

    def __init__(self, terms: Mapping[int, float] | None = None, constant: float = 0.0):
        self.terms: dict[int, float] = dict(terms or {})
        self.constant = float(constant)

    @staticmethod
    def of(value: LinExpr | Var | Number) -> LinExpr:
        if isinstance(value, LinExpr):
            return value
        if isinstance(value, Var):
            return LinExpr({value.index: 1.0})
        if isinstance(value, numbers.Real):
            return LinExpr(constant=float(value))
        raise TypeError(f"cannot use {type(value).__name__} in a linear expression")

    def copy(self) -> LinExpr:
        return LinExpr(self.terms, self.constant)

    def _add(self, other: LinExpr | Var | Number, sign: float) -> LinExpr:
        other = LinExpr.of(other)
        out = self.copy()
        for index, coeff in other.terms.items():
            out.terms[index] = out.terms.get(index, 0.0) + sign * coeff
        out.constant += sign * other.constant
        return out

    def __add__(self, other: LinExpr | Var | Number) -> LinExpr:
        return self._add(other, 1.0)

    __radd__ = __add__

    def __sub__(self, other: LinExpr | Var | Number) -> LinExpr:
        return self._add(other, -1.0)

    def __rsub__(self, other: LinExpr | Var | Number) -> LinExpr:
        return LinExpr.of(other)._add(self, -1.0)

    def __neg__(self) -> LinExpr:
        return self * -1

    def __mul__(self, factor: Number) -> LinExpr:
        if not isinstance(factor, numbers.Real):
            raise TypeError("linear expressions can only be multiplied by numbers")
        factor = float(factor)
        return LinExpr({i: c * factor for i, c in self.terms.items()}, self.constant * factor)

    __rmul__ = __mul__

    def __truediv__(self, divisor: Number) -> LinExpr:
        return self * (1.0 / divisor)

    def __le__(self, other: LinExpr | Var | Number) -> Constraint:
        return Constraint.build(self, Sense.LE, other)

    def __ge__(self, other: LinExpr | Var | Number) -> Constraint:
        return Constraint.build(self, Sense.GE, other)

    def __eq__(self, other: LinExpr | Var | Number) -> Constraint:  # type: ignore[override]  # == builds a constraint
        return Constraint.build(self, Sense.EQ, other)

    __hash__ = None  # type: ignore[assignment]

    def value(self, values: Mapping[int, float]) -> float:
        return self.constant + sum(c * values.get(i, 0.0) for i, c in self.terms.items())

    def __repr__(self) -> str:
        parts = [f"{c:+g}*x{i}" for i, c in sorted(self.terms.items())]
        return f"LinExpr({' '.join(parts)} {self.constant:+g})"


@attrs.frozen(eq=False)
class Var:
    """A decision variable; combine with numbers and other variables into :class:`LinExpr`."""

    index: int
    name: str
    lb: float
    ub: float
    vtype: VarType

    @property
    def is_integral(self) -> bool:
        return self.vtype is not VarType.CONTINUOUS

    def _expr(self) -> LinExpr:
        return LinExpr({self.index: 1.0})

    def __add__(self, other: LinExpr | Var | Number) -> LinExpr:
        return self._expr() + other

    __radd__ = __add__

    def __sub__(self, other: LinExpr | Var | Number) -> LinExpr:
        return self._expr() - other

    def __rsub__(self, other: LinExpr | Var | Number) -> LinExpr:
        return LinExpr.of(other) - self._expr()

    def __neg__(self) -> LinExpr:
        return self._expr() * -1

    def __mul__(self, factor: Number) -> LinExpr:
        return self._expr() * factor

    __rmul__ = __mul__

    def __le__(self, other: LinExpr | Var | Number) -> Constraint:
        return Constraint.build(self, Sense.LE, other)

    def __ge__(self, other: LinExpr | Var | Number) -> Constraint:
        return Constraint.build(self, Sense.GE, other)

    def __eq__(self, other: LinExpr | Var | Number) -> Constraint:  # type: ignore[override]  # == builds a constraint
        return Constraint.build(self, Sense.EQ, other)

    def __hash__(self) -> int:
        return hash((id(self), self.index))


@attrs.define
class Constraint:
    """``expr (<=|>=|==) rhs`` with all variables on the left and the constant on the right."""

    expr: LinExpr
    sense: Sense
    rhs: float
    name: str = ""

    @classmethod
    def build(cls, lhs: LinExpr | Var | Number, sense: Sense, rhs: LinExpr | Var | Number) -> Constraint:
        diff = LinExpr.of(lhs) - LinExpr.of(rhs)
        return cls(LinExpr(diff.terms), sense, -diff.constant)

    def violation(self, values: Mapping[int, float]) -> float:
        """How far ``values`` are from satisfying the constraint (0 when satisfied)."""
        lhs = self.expr.value(values)
        if self.sense is Sense.LE:
            return max(0.0, lhs - self.rhs)
        if self.sense is Sense.GE:
            return max(0.0, self.rhs - lhs)
        return abs(lhs - self.rhs)


def _as_expr(value: LinExpr | Var | Number) -> LinExpr:
    return LinExpr.of(value)


@attrs.define
class Objective:
    """One objective. In a lexicographic list, level ``k`` is optimised with levels ``< k`` held
    within ``abs_tol`` + ``rel_tol`` * |optimum| of their optimum. ``expr`` may be a variable or
    a number too."""

    expr: LinExpr = attrs.field(converter=_as_expr)
    minimize: bool = True
    name: str = "objective"
    abs_tol: float = 1e-6
    rel_tol: float = 0.0


class Model:
    """Variables, constraints and objectives of one LP/MILP."""

    def __init__(self, name: str = "model"):
        self.name = name
        self.vars: list[Var] = []
        self.constraints: list[Constraint] = []
        self.objectives: list[Objective] = []

    # -- variables ---------------------------------------------------------------------------
    def add_var(
        self, name: str = "", lb: float = 0.0, ub: float = INF, *, integer: bool = False, binary: bool = False
    ) -> Var:
        vtype = VarType.BINARY if binary else VarType.INTEGER if integer else VarType.CONTINUOUS
        if binary:
            lb, ub = max(lb, 0.0), min(ub, 1.0)
        if lb > ub:
            raise ValueError(f"variable {name!r}: lower bound {lb} exceeds upper bound {ub}")
        var = Var(len(self.vars), name or f"x{len(self.vars)}", float(lb), float(ub), vtype)
        self.vars.append(var)
        return var

    def add_binary(self, name: str = "") -> Var:
        return self.add_var(name, 0, 1, binary=True)

    def add_integer(self, name: str = "", lb: float = 0.0, ub: float = INF) -> Var:
        return self.add_var(name, lb, ub, integer=True)

    # -- constraints and objectives --------------------------------------------------------------
    def add(self, constraint: Constraint, name: str = "") -> Constraint:
        """Add ``constraint`` (built with ``<=``, ``>=`` or ``==``).

        ``name`` also says which *group* the constraint belongs to in infeasibility reports: the
        group is the name up to its first ``#`` (the whole name when there is none). So
        ``"memory[core 3]#slot 2"`` and ``"memory[core 3]#slot 5"`` are both reported as
        ``memory[core 3]``, and constraints that share a name form one group."""
        if not isinstance(constraint, Constraint):
            raise TypeError(f"expected a Constraint (use <=, >= or ==), got {type(constraint).__name__}")
        for index in constraint.expr.terms:
            if not 0 <= index < len(self.vars):
                raise ValueError(f"constraint {name!r} uses a variable of another model")
        if name:
            constraint.name = name
        elif not constraint.name:
            constraint.name = f"c{len(self.constraints)}"
        self.constraints.append(constraint)
        return constraint

    def minimize(self, expr: LinExpr | Var | Number, name: str = "objective") -> None:
        self.objectives = [Objective(LinExpr.of(expr), True, name)]

    def maximize(self, expr: LinExpr | Var | Number, name: str = "objective") -> None:
        self.objectives = [Objective(LinExpr.of(expr), False, name)]

    def set_lexicographic(self, objectives: Iterable[Objective]) -> None:
        """Objectives in priority order: the first is optimised first, and so on."""
        self.objectives = list(objectives)
        if not self.objectives:
            raise ValueError("a lexicographic objective needs at least one level")

    @staticmethod
    def sum(items: Iterable[LinExpr | Var | Number]) -> LinExpr:
        out = LinExpr()
        for item in items:
            item = LinExpr.of(item)
            for index, coeff in item.terms.items():
                out.terms[index] = out.terms.get(index, 0.0) + coeff
            out.constant += item.constant
        return out

    # -- facts -----------------------------------------------------------------------------------
    @property
    def num_vars(self) -> int:
        return len(self.vars)

    @property
    def num_constraints(self) -> int:
        return len(self.constraints)

    @property
    def is_mip(self) -> bool:
        return any(v.is_integral for v in self.vars)

    @property
    def problem_class(self) -> str:
        return "milp" if self.is_mip else "lp"


class Status(enum.StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # stopped at a limit with a solution; ``gap`` says how far from optimal
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"  # stopped at a limit before finding any solution
    ERROR = "error"


@attrs.frozen
class SolveOptions:
    """How to solve. ``None`` leaves the solver's own default (relative gap: 1e-4 for HiGHS and
    Gurobi, 0 for SCIP and CP-SAT). ``explain_conflicts`` fills :attr:`Solution.conflicts` when
    the model is infeasible (costs extra solves)."""

    time_limit: float | None = 60.0  # seconds per solve (per lexicographic level)
    relative_gap: float | None = None
    threads: int | None = None
    verbose: bool = False
    explain_conflicts: bool = False


@attrs.frozen
class Solution:
    status: Status
    solver: str
    values: Mapping[int, float] = attrs.field(factory=dict)
    objective_values: tuple[float, ...] = ()  # one per objective level, in priority order
    gap: float | None = None  # largest relative gap |objective - bound| / |objective| over the levels
    seconds: float = 0.0
    message: str = ""
    conflicts: tuple[str, ...] = ()  # names of conflicting constraint groups when infeasible

    @property
    def ok(self) -> bool:
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)

    def value(self, item: LinExpr | Var | Number) -> float:
        return LinExpr.of(item).value(self.values)

    def int_value(self, item: LinExpr | Var | Number) -> int:
        return round(self.value(item))


class Solver(Protocol):
    """What a solver record's factory returns."""

    name: str

    def solve(self, model: Model, options: SolveOptions) -> Solution: ...
