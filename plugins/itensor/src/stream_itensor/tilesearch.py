"""Tile sizes chosen by a search: the least on-chip memory at the best throughput the kernels allow.

*Space* (StreamTensor's tiling space: tile sizes and the order of the tile loops): every loop of a
kernel of size > 1 that is neither protected (normalised axes), nor fixed by the caller, nor part of an
output index with other loops or an offset (a merged reshape dim: its tokens would not be whole rows of
the output, which the HLS code generator requires) takes one of ``whole``, its largest divisor
<= :data:`MID_TILE` and ``1``; the loops with more than one iteration then take every order (at most
:data:`MAX_ORDERED` of them are permuted; a caller's ``order`` is kept). Orders giving the same port
streams and local buffers are one candidate. A candidate whose output token is narrower than
``min_token_elements`` (one 512-bit stream item of f32 by default) is left out unless the whole output
is smaller: a narrower token leaves the stream width idle.

*Throughput*: every candidate tile is costed on the target with the cost model the timing profiles use;
a kernel's cycles per frame are its iterations x the tile's latency (the order does not change it). The
best frame period the design can reach is the slowest kernel at its fastest candidate; candidates slower
than that period by more than ``period_slack`` (default :data:`PERIOD_SLACK`) are excluded.

*Memory* (the objective): a kernel's local buffers plus, for every edge it touches, the converter's
buffers and one token per FIFO on the edge (the LP sizes depths afterwards; a depth is at least one
token). Candidates whose local buffers alone exceed the fusion budget are excluded when another fits.
Coordinate descent in topological order: each kernel takes its cheapest candidate given its neighbours'
current tiles (ties: fewer iterations); passes repeat until nothing changes (at most ``max_passes``).
Starts: each kernel's smallest candidate, a forward and a backward greedy pass, and row streaming; the
result of each start is returned (:attr:`TilingSearch.alternatives`) so that the caller can pick the one
whose sized FIFOs are smallest (the proxy counts one token per FIFO and cannot see reconvergent paths).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping

import attrs

from stream_core.context import RunContext
from stream_core.costing import cost_tiles
from stream_core.ir import CostRequest, Node, OperandRole, Workload
from stream_itensor.converter import NotCastableError, infer_converter
from stream_itensor.derive import Port, derive_port, local_buffer_bits, writes_whole_tensor
from stream_itensor.fusion import budget_bits
from stream_itensor.itype import ITensorType
from stream_itensor.target import Target
from stream_itensor.tiling import KernelTiling, resolve_loops

MID_TILE = 64
MAX_ORDERED = 4
PERIOD_SLACK = 0.05
MIN_TOKEN_ELEMENTS = 16  # one 512-bit item of float32
_INFEASIBLE = math.inf
_INFEASIBLE_CYCLES = 1 << 62


@attrs.frozen
class Candidate:
    tiles: tuple[tuple[str, int], ...]
    order: tuple[str, ...]
    ports: tuple[Port, ...]
    local_bits: int
    iterations: int
    cycles: int = 0

    @property
    def output(self) -> ITensorType:
        return next(p.itype for p in self.ports if p.is_output)


@attrs.frozen
class TilingSearch:
    """The chosen tiling per node and how it was found."""

    tilings: dict[str, KernelTiling]
    candidates: int
    passes: int
    #: The best frame period (cycles) the kernels allow; no chosen tile is slower.
    period_bound: int
    #: Proxy objective (bits) of the start and of the result.
    start_bits: int
    bits: int
    #: The result of every start (distinct, best proxy first); :attr:`tilings` is the first.
    alternatives: tuple[dict[str, KernelTiling], ...] = ()
    #: Candidates admitted up to this fraction slower than :attr:`period_bound`.
    period_slack: float = 0.0

    def choose(self, index: int) -> TilingSearch:
        """The same search with alternative ``index`` as its result."""
        return attrs.evolve(self, tilings=self.alternatives[index])

    def to_dict(self) -> dict[str, object]:
        return {
            "searched": True,
            "candidates": self.candidates,
            "passes": self.passes,
            "period_bound_cycles": self.period_bound,
            "period_slack": self.period_slack,
            "proxy_bits_start": self.start_bits,
            "proxy_bits": self.bits,
            "tiles": {n: dict(t.tiles) for n, t in self.tilings.items()},
            "orders": {n: list(t.order) for n, t in self.tilings.items() if t.order},
        }


def _options(size: int) -> list[int]:
    mid = max(d for d in range(1, min(size, MID_TILE) + 1) if size % d == 0)
    return sorted({size, mid, 1}, reverse=True)


def _candidates(node: Node, workload: Workload, fixed: KernelTiling | None, min_token_elements: int) -> list[Candidate]:
    fixed_tiles = dict(fixed.tiles) if fixed else {}
    sizes = node.sizes
    shared = {n for expr in node.output.access or () if len(expr.terms) > 1 or expr.offset for n in expr.dims}
    free = [
        n
        for n in node.loop_names
        if sizes[n] > 1 and n not in node.protected_loops and n not in fixed_tiles and n not in shared
    ]
    tensors = dict(workload.tensors)
    seen: dict[tuple[object, ...], Candidate] = {}
    for combo in itertools.product(*(_options(sizes[n]) for n in free)):
        tiles = {**fixed_tiles, **dict(zip(free, combo, strict=True))}
        loops, problems = resolve_loops(node, KernelTiling(tiles), strict=False)
        if problems:
            continue
        iterated = [lp.name for lp in loops if lp.tripcount > 1]
        orders = [()] if fixed and fixed.order else itertools.permutations(iterated[:MAX_ORDERED])
        for order in orders:
            tiling = KernelTiling(tiles, fixed.order if fixed and fixed.order else order)
            loops, _ = resolve_loops(node, tiling, strict=False)
            ports = tuple(derive_port(node, i, workload.tensor(op.tensor), loops) for i, op in enumerate(node.operands))
            output = next(p for p in ports if p.is_output)
            local = local_buffer_bits(node, loops, output.dims, tensors)
            key = (tuple(sorted(tiles.items())), tuple(p.itype for p in ports), local)
            if key not in seen:
                default = tuple(n for n in node.loop_names if n in order) == order
                seen[key] = Candidate(
                    key[0], () if default else tiling.order, ports, local, math.prod(lp.tripcount for lp in loops)
                )
    out = list(seen.values())
    wide = [
        c
        for c in out
        if all(p.itype.element_count >= min(min_token_elements, math.prod(p.itype.data_shape)) for p in c.ports)
    ]
    return wide or out


def _edge_bits(source: ITensorType, target: ITensorType) -> float:
    if source.same_stream(target):
        return source.token_bits
    try:
        converter = infer_converter(source, target)
    except NotCastableError:
        return _INFEASIBLE
    return converter.buffer_bits + source.token_bits + target.token_bits


def search_tilings(
    workload: Workload,
    target: Target,
    context: RunContext,
    fixed: Mapping[str, KernelTiling] | None = None,
    *,
    cost_model: str | None = None,
    min_token_elements: int = MIN_TOKEN_ELEMENTS,
    max_passes: int = 4,
    period_slack: float = PERIOD_SLACK,
) -> TilingSearch:
    """Search the tile sizes and loop orders of every node of ``workload`` (see the module docstring).

    ``fixed`` holds per-node tile sizes (by loop name) and loop orders the search keeps.
    """
    fixed = fixed or {}
    nodes = list(workload.nodes)
    cands = {n.name: _candidates(n, workload, fixed.get(n.name), min_token_elements) for n in nodes}
    sized = {n.name: sorted({c.tiles for c in cands[n.name]}) for n in nodes}  # the cost ignores the order
    requests = [CostRequest(n.with_sizes(dict(t)), target.core_for(n.op_type)) for n in nodes for t in sized[n.name]]
    results = cost_tiles(requests, context, cost_model=cost_model or context.options.cost_model or "roofline")
    at = 0
    for n in nodes:
        costed = results[at : at + len(sized[n.name])]
        at += len(costed)
        latency = {t: max(1, r.latency) if r.feasible else 0 for t, r in zip(sized[n.name], costed, strict=True)}
        cands[n.name] = [
            attrs.evolve(c, cycles=c.iterations * latency[c.tiles] if latency[c.tiles] else _INFEASIBLE_CYCLES)
            for c in cands[n.name]
        ]
    period = max(min(c.cycles for c in cs) for cs in cands.values() if cs)
    limit = budget_bits(target.budget)
    for name, cs in cands.items():
        kept = [c for c in cs if c.cycles <= period * (1 + period_slack)]
        fitting = [c for c in kept if limit is None or c.local_bits <= limit]
        cands[name] = sorted(fitting or kept, key=lambda c: c.iterations)
    edges = []  # (producer, consumer, operand index)
    for n in nodes:
        for i, op in enumerate(n.operands):
            producer = workload.producer(op.tensor) if op.role is not OperandRole.OUTPUT else None
            if producer is not None and writes_whole_tensor(producer, workload.tensor(op.tensor)):
                edges.append((producer.name, n.name, i))
    ins = {n.name: [e for e in edges if e[1] == n.name] for n in nodes}
    outs = {n.name: [e for e in edges if e[0] == n.name] for n in nodes}
    edge_bits = functools.lru_cache(maxsize=None)(_edge_bits)

    def cost(name: str, c: Candidate, choice: dict[str, int], forward_only: bool = False) -> float:
        total: float = c.local_bits
        for producer, _, port in ins[name]:
            if producer in choice:
                total += edge_bits(cands[producer][choice[producer]].output, c.ports[port].itype)
        for _, consumer, port in () if forward_only else outs[name]:
            if consumer in choice:
                total += edge_bits(c.output, cands[consumer][choice[consumer]].ports[port].itype)
        return total

    def objective(choice: dict[str, int]) -> float:
        local = sum(cands[n][choice[n]].local_bits for n in cands)
        return local + sum(
            edge_bits(cands[p][choice[p]].output, cands[c][choice[c]].ports[i].itype) for p, c, i in edges
        )

    def best(name: str, choice: dict[str, int], forward_only: bool = False) -> int:
        cs = cands[name]
        return min(range(len(cs)), key=lambda i: (cost(name, cs[i], choice, forward_only), cs[i].iterations))

    def pair_move(choice: dict[str, int]) -> bool:
        """Best joint change of the two ends of one edge; whether any edge improved."""
        improved = False
        for p, c, _ in edges:
            now = cost(p, cands[p][choice[p]], choice) + cost(c, cands[c][choice[c]], choice)
            best_pair, best_cost = None, now
            for i in range(len(cands[p])):
                trial = {**choice, p: i}
                for j in range(len(cands[c])):
                    trial[c] = j
                    value = cost(p, cands[p][i], trial) + cost(c, cands[c][j], trial)
                    if value < best_cost:
                        best_pair, best_cost = (i, j), value
            if best_pair is not None:
                choice[p], choice[c] = best_pair
                improved = True
        return improved

    def descend(choice: dict[str, int]) -> tuple[dict[str, int], int]:
        for passes in range(1, max_passes + 1):
            changed = False
            for n in nodes:
                i = best(n.name, choice)
                if cost(n.name, cands[n.name][i], choice) < cost(n.name, cands[n.name][choice[n.name]], choice):
                    choice[n.name], changed = i, True
            if not changed and not pair_move(choice):
                return choice, passes
        return choice, max_passes

    smallest = {
        name: min(range(len(cs)), key=lambda i: (cs[i].local_bits + cs[i].output.token_bits, cs[i].iterations))
        for name, cs in cands.items()
    }
    greedy: dict[str, int] = {}
    for n in nodes:  # topological order: each kernel follows its producers
        greedy[n.name] = best(n.name, greedy, forward_only=True)
    backward: dict[str, int] = {}
    for n in reversed(nodes):  # each kernel follows its consumers
        backward[n.name] = best(n.name, backward)
    rows = {  # row streaming: the smallest output token that keeps the innermost dim whole
        name: min(
            range(len(cs)),
            key=lambda i: (
                cs[i].output.element[-1:] != cs[i].output.data_shape[-1:],
                cs[i].output.element_count,
                cs[i].local_bits,
            ),
        )
        for name, cs in cands.items()
    }
    starts = [smallest, greedy, backward, rows]
    runs = sorted((descend(dict(start)) for start in starts), key=lambda r: objective(r[0]))
    distinct = list({tuple(sorted(choice.items())): choice for choice, _ in runs}.values())
    alternatives = tuple(
        {name: KernelTiling(cands[name][i].tiles, cands[name][i].order) for name, i in choice.items()}
        for choice in distinct
    )
    start = min(objective(s) for s in starts)
    end = objective(runs[0][0])
    return TilingSearch(
        alternatives[0],
        len(requests),
        runs[0][1],
        int(period),
        int(min(start, 1 << 62)),
        int(min(end, 1 << 62)),
        alternatives,
        period_slack,
    )
