"""The ``fused`` mapper: Stream's automatic layer-fusion mapping.

1. **Fusion groups.** Nodes are taken in topological order and a group ends after a *cut point*:
   every data-movement node (Reshape, Flatten, ...) is a group of its own, every ``MaxPool`` ends
   its group, and an ``Add`` whose only consumer is a ``Relu`` makes that ``Relu`` a cut point
   (the end of a residual block; an ``Add`` that fans out does not). ``fused.per_layer=true``
   makes every node its own group; ``fused.cut_points=a,b`` adds cut points by node name.
2. **Cores.** Candidates follow Stream's rule (``stream_core.builtin.mapper.candidate_cores``).
3. **Inter-core split.** Over the largest set of identical candidate cores (same fingerprint; with
   ``fused.split=all``, over all candidates as Stream does): the core count is factored with ``gcd``
   over the output (parallel) loops, those reading the axes their producers in the group are split
   along first (:func:`aligned_loops`), then largest first (ties: loop order), never splitting a loop the
   factor does not divide, nor a normalisation axis, nor the streaming loop of step 4 (so that
   consecutive nodes stream their rows in the same order). Reduction loops are not split here;
   the search tries that (:func:`contraction_splits`, priced with explicit adds). Candidate cores that are
   not identical stay candidates, and the allocator picks one. ``fused.split=none`` never splits.
4. **Intra-core tiling**, per fused axis: the loops linked across the group's nodes are one axis
   (``stream_core.tiling.fused_axes``, Stream 2.1.1's meaning of ``intra_core_tiling``), and every
   loop on an axis gets the same tile (a strided reader's producer ``s`` times it; see
   :mod:`stream_tetra.axis_tiles`), so the mapping reads back from Stream's format unchanged. An
   axis holding a protected loop (a normalisation's axis) is never tiled. Per group: the fewest
   tiles along the axes of the streaming loops (the loop indexing each output's rows: ``OY`` of a
   convolution, ``D``/``M`` of a matrix product; a node whose rows may not be tiled streams its
   contraction instead, see :func:`_stream_of`), then along the axes of the output's columns
   (``OX``, ``N``) where that loop is inside the row loop, the same count for every such axis, such
   that the tiles of all the group's nodes on the cores using a top memory (one core, or all that
   share it) fit in ``fused.memory_fraction`` (default 1/2: the other half is for double buffering)
   of it; a core whose operands have separate top memories (``CoreSummary.operand_memories``) is
   checked per memory, each with the operands whose role it holds. When no such tiling exists (e.g.
   large weights), the largest nodes on a full memory are tiled further along the axes of their
   other loops: first those inside every node's streaming loop (output loops, then reductions),
   then those outside only their own, then the rest (tiling a loop outside another node's
   streaming loop puts that node's tiles out of the stream's order).
   Finally the tiling is checked with the allocator's own buffer model (:mod:`stream_tetra.memory`):
   while a memory is over-full, the node deciding its largest buffer is tiled further the same way,
   or the streaming loops get the next larger tile count when that empties the memory more.
5. **Contraction.** A group none of whose results another member reads may instead stream its
   reductions (each node's largest, :func:`contraction_loop`), rows whole; both tilings are
   scheduled (:mod:`stream_tetra.search`) and the shorter kept, with a note. So is the group cut
   before a member that reads another's output along an axis the other does not stream
   (:func:`break_cuts`), the group with the readers of one fetched tensor pinned to one core
   (:func:`pinned_candidates`), and a group of one row with the columns its members pass each other
   tiled (:func:`column_candidates`). ``fused.effort`` above ``fast`` searches more
   (:func:`group_candidates`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import attrs

from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir.accelerator import Accelerator, CoreSummary
from stream_core.ir.mapping import FusedGroup, Mapping, NodeMapping
from stream_core.ir.workload import Node, NodeKind, OperandRole, Workload
from stream_core.placement import candidate_cores
from stream_core.reductions import not_lowered
from stream_core.tiling import NodeTiling, fused_axes
from stream_tetra.axis_tiles import AxisTiles
from stream_tetra.memory import buffer_needs, memory_demand
from stream_tetra.search import EFFORTS, OBJECTIVES, Candidate, Scorer, choose
from stream_tetra.settings import TetraSettings, parse_fraction

NORMALISATIONS = ("Softmax", "LayerNormalization", "LpNormalization")
SPLITS = ("homogeneous", "all", "none")


@attrs.frozen
class MapperSettings:
    per_layer: bool = False
    cut_points: tuple[str, ...] = ()
    split: str = "homogeneous"
    memory_fraction: float = 0.5
    effort: str = "fast"
    objective: str = "latency"
    #: with the latency objective, the most energy over the mapper's own mapping's (a fraction) a faster
    #: candidate may use; ``None``: no limit (``fused.energy_tolerance=none``). A quarter percent: a
    #: faster mapping may not cost energy the seed (Stream's fusion rules) would not spend, beyond the
    #: last few hundredths of a percent that tile order moves (ironwood SwiGLU's shared columns: +0.015 %)
    energy_tolerance: float | None = 0.0025

    @classmethod
    def from_context(cls, context: RunContext) -> MapperSettings:
        problems = []
        values: dict = {}
        raw = context.setting("fused.per_layer")
        if raw is not None:
            text = str(raw).strip().lower()
            if text not in ("true", "false", "1", "0", "yes", "no"):
                problems.append(Problem(f"expected true or false, got {raw!r}", field="fused.per_layer"))
            values["per_layer"] = text in ("true", "1", "yes")
        raw = context.setting("fused.cut_points")
        if raw is not None:
            items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
            values["cut_points"] = tuple(str(x).strip() for x in items if str(x).strip())
        raw = context.setting("fused.split")
        if raw is not None:
            if str(raw) not in SPLITS:
                problems.append(Problem(f"expected one of {', '.join(SPLITS)}, got {raw!r}", field="fused.split"))
            values["split"] = str(raw)
        raw = context.setting("fused.memory_fraction")
        if raw is not None:
            try:
                fraction = float(raw)
                if not 0 < fraction <= 1:
                    raise ValueError
                values["memory_fraction"] = fraction
            except ValueError:
                problems.append(Problem(f"expected a number in (0, 1], got {raw!r}", field="fused.memory_fraction"))
        for key, choices in (("effort", EFFORTS), ("objective", OBJECTIVES)):
            raw = context.setting(f"fused.{key}")
            if raw is not None:
                if str(raw) not in choices:
                    problems.append(Problem(f"expected one of {', '.join(choices)}, got {raw!r}", field=f"fused.{key}"))
                values[key] = str(raw)
        raw = context.setting("fused.energy_tolerance")
        if raw is not None and str(raw).strip().lower() == "none":
            values["energy_tolerance"] = None
        elif raw is not None:
            try:
                values["energy_tolerance"] = parse_fraction(raw)
            except ValueError:
                expected = f"expected a fraction >= 0 (0.05: 5 %) or none, got {raw!r}"
                problems.append(Problem(expected, field="fused.energy_tolerance"))
        known = {"fused.per_layer", "fused.cut_points", "fused.split", "fused.memory_fraction"}
        known |= {"fused.effort", "fused.objective", "fused.energy_tolerance"}
        for key in sorted(k for k in context.options.settings if k.startswith("fused.") and k not in known):
            problems.append(Problem(f"unknown setting; known: {', '.join(sorted(known))}", field=key))
        if problems:
            raise InputError(problems)
        return cls(**values)


class FusedMapper:
    def map(self, workload: Workload, accelerator: Accelerator, context: RunContext) -> Mapping:
        settings = MapperSettings.from_context(context)
        unknown = [c for c in settings.cut_points if c not in workload]
        if unknown:
            raise InputError(Problem(f"no such nodes: {', '.join(unknown)}", field="fused.cut_points"))
        members_of = fusion_groups(workload, settings)
        mapped: dict[str, NodeMapping] = {}
        for members in members_of:
            for name in members:
                node = workload.node(name)
                prefer = aligned_loops(workload, node, mapped, set(members))
                mapped[name] = node_mapping(node, accelerator, settings.split, prefer=prefer)
        nodes = {node.name: mapped[node.name] for node in workload.nodes}
        groups = []
        for index, members in enumerate(members_of):
            tiles = intra_core_tiles(workload, [workload.node(n) for n in members], nodes, accelerator, settings)
            groups.append(FusedGroup(f"group_{index}", members, tiles))
        alternatives = fast_candidates if settings.effort == "fast" else group_candidates
        return searched_mapping(workload, accelerator, context, settings, nodes, groups, alternatives)


def node_mapping(
    node: Node, accelerator: Accelerator, split: str, over_rows: bool = False, prefer: tuple[str, ...] = ()
) -> NodeMapping:
    """A node's cores and split (steps 2 and 3 of the module docstring); ``prefer``: loops to split
    first (:func:`aligned_loops`)."""
    if node.kind is NodeKind.DATA_MOVEMENT and accelerator.offchip_core_id is not None:
        return NodeMapping(node.name, (accelerator.offchip_core_id,))
    cores = candidate_cores(node, accelerator)
    if not cores:
        raise InputError(Problem(f"accelerator {accelerator.name!r} has no compute core", file=accelerator.source))
    cores, parts = inter_core_split(node, cores, accelerator, split, over_rows, prefer)
    return NodeMapping(node.name, cores, parts)


def aligned_loops(workload: Workload, node: Node, mapped: dict[str, NodeMapping], group: set[str]) -> tuple[str, ...]:
    """The output loops of ``node`` indexing (alone, or as a window's position) the tensor axes its
    producers in ``group`` split their outputs along: splitting those keeps each part's input on or
    near the cores that made it (a relu after a convolution split over columns splits over columns
    too, and a pooling after it as well, reading only a halo from its neighbour), where another loop
    would make every part read from every producer core."""
    out: list[str] = []
    for operand in node.reads:
        producer = workload.producer(operand.tensor)
        if producer is None or producer.name not in group or producer.name not in mapped or operand.access is None:
            continue
        split = {d for d, _ in mapped[producer.name].split}
        written = producer.output.access or ()
        for made, read in zip(written, operand.access, strict=False):
            made_terms = [d for d, c in made.terms if c]
            read_terms = [d for d, c in read.terms if c and d in node.output.dims]  # a window's output loop
            if len(made_terms) == 1 and made_terms[0] in split and len(read_terms) == 1:
                out.append(read_terms[0])
    return tuple(dict.fromkeys(out))


def searched_mapping(
    workload: Workload,
    accelerator: Accelerator,
    context: RunContext,
    settings: MapperSettings,
    nodes: dict[str, NodeMapping],
    seeds: list[FusedGroup],
    alternatives: Alternatives,
) -> Mapping:
    """Each seed group replaced by the best of its candidates (``alternatives``: :func:`group_candidates`
    or :func:`fast_candidates`, scored by :func:`stream_tetra.search.choose` with TETRA's latency cap:
    of the candidates within ``fused.energy_tolerance`` of the seed's energy, those within
    ``tetra.latency_tolerance`` of the shortest count as equally fast and the least energy wins), with a
    note saying what was tried and what won; a seed without alternatives is kept as it is."""
    candidates = [alternatives(workload, accelerator, settings, nodes, seed) for seed in seeds]
    if all(len(c) == 1 for c in candidates):
        return Mapping(nodes, seeds, source="fused mapper")
    scorer = Scorer(workload, accelerator, nodes, context)
    cap = TetraSettings.from_context(context).latency_cap
    chosen = dict(nodes)
    groups: list[FusedGroup] = []
    choices = []
    late: list[str] = []  # seeds kept unsearched: the run's time limit had passed
    for index, (seed, options) in enumerate(zip(seeds, candidates, strict=True)):
        if len(options) > 1 and (left := context.remaining()) is not None and left <= 0:
            late.append(seed.name)
            options = options[:1]
        if len(options) == 1:
            groups.append(attrs.evolve(seed, name=f"group_{len(groups)}"))
            continue
        context.progress.stage(f"map: search {seed.name} ({index + 1}/{len(seeds)})")
        choice = choose(options, scorer, settings.objective, cap, settings.energy_tolerance)
        chosen.update(choice.candidate.nodes)
        names = [f"group_{len(groups) + i}" for i in range(len(choice.candidate.groups))]
        groups += [attrs.evolve(g, name=n) for g, n in zip(choice.candidate.groups, names, strict=True)]
        choices.append((" + ".join(names), choice))
    tried = sum(c.tried for _, c in choices)
    head = (
        f"mapping search (fused.effort={settings.effort}, objective {settings.objective}): {tried} candidates for "
        f"{len(seeds)} groups"
    )
    notes = [head, *(c.note(n) for n, c in choices if c.tried > 1)]
    if late:
        notes.append(f"not searched, the run's time limit having passed: {', '.join(late)} (the mapper's own mapping)")
    return Mapping(chosen, groups, source="fused mapper", notes=notes)


Alternatives = Callable[[Workload, Accelerator, MapperSettings, dict[str, NodeMapping], FusedGroup], list[Candidate]]


def fast_candidates(
    workload: Workload,
    accelerator: Accelerator,
    settings: MapperSettings,
    nodes: dict[str, NodeMapping],
    seed: FusedGroup,
) -> list[Candidate]:
    """``fast`` effort: the seed and a few alternatives, each scheduled, for what no rule can
    settle without the cost model and the allocator:

    * a group none of whose results another member reads (parallel products sharing an input, or
      one node) streaming its contraction (:func:`contraction_loop`) instead of its rows: which tile
      shape a core runs best is its cost model's to say (stream-dse 2.1.1's simba_small, attention
      head's Q/K/V projections: 23,552 cycles streaming K, 64,876 streaming rows);
    * a group where a node with several candidate cores has no loop to split but its rows (a
      softmax: its one other axis is the normalised one) split over rows throughout, as Stream
      does, instead of leaving that node on one core while the others split;
    * a group where a member reads another's output along an axis the other does not stream
      (:func:`stream_break`: attention's ``Q @ K^T`` with the Transpose folded) cut before that
      reader, each part with its own alternatives: the reader waits for the whole tensor anyway, so
      fusing only keeps it on chip, while the cut lets each part stream its own way (stream-dse
      2.1.1's simba, attention head: 35,576 cycles fused, 14,073 cut);
    * a group where readers of one fetched tensor may be on several cores, pinned to one core
      (:func:`pinned_candidates`);
    * a group with nothing to stream, its shared columns tiled (:func:`column_candidates`);
    * a group whose product reduces over the columns a producer in it splits over cores, that
      contraction split the same way (:func:`contraction_splits`, its partial sums added by explicit
      nodes: stream-dse 2.1.1's simba_small, SwiGLU: 42,705 pJ against the seed's 43,605, at 215
      cycles against 205).
    """
    found = _own_candidates(workload, accelerator, settings, nodes, seed)
    for more in _ALTERNATIVES:
        found += more(workload, accelerator, settings, nodes, seed)
    return found


def column_candidates(
    workload: Workload,
    accelerator: Accelerator,
    settings: MapperSettings,
    nodes: dict[str, NodeMapping],
    seed: FusedGroup,
) -> list[Candidate]:
    """A group with nothing to stream (its streaming loops one tile each: a vector-matrix product of
    one row) with the columns its members pass each other in two tiles (or the fewest above one),
    each member's own output columns whole; none for another group. A reader then starts on the first
    tile while its producer makes the next, and a reduction over those columns runs in steps: on a
    systolic array a shorter drain (stream-dse 2.1.1's tpu_v7_ironwood, SwiGLU of one row: Gemm_Down
    reducing 32 columns drains 31 cycles, 15 over 16; 68 cycles, 55 in two tiles, Stream 59)."""
    members = [workload.node(n) for n in seed.nodes]
    if tile_counts(workload, members, nodes, accelerator)[0] != [1]:
        return []
    tiles = intra_core_tiles(workload, members, nodes, accelerator, settings, (1, 2), linked_columns=True)
    group = FusedGroup(seed.name, seed.nodes, tiles)
    if group == seed:
        return []
    return [Candidate(_label("shared columns tiled", group), {n.name: nodes[n.name] for n in members}, [group])]


def pinned_candidates(
    workload: Workload,
    accelerator: Accelerator,
    settings: MapperSettings,
    nodes: dict[str, NodeMapping],
    seed: FusedGroup,
) -> list[Candidate]:
    """The group with its nodes the allocator places (one part, several candidate cores) all pinned to
    one core, for each core every one of them may use; none unless a tensor from outside the group
    has several readers in it, one of them such a node. Left open, the readers' fetch is shared only
    through the MILP's shared and served modes (:mod:`stream_tetra.steady`), which the heuristic
    allocation and the slot order fixed before the solve do not see; pinned, they share one fetch
    from the start (stream-dse 1.13.14's fusemax, ResNet basic block: Conv1 and Add1 both read the
    input; 210 cycles open, 188 on core 0, Stream 200, before shared modes existed)."""
    members = [workload.node(n) for n in seed.nodes]
    own = {n.name: nodes[n.name] for n in members}
    lone = [n.name for n in members if own[n.name].parts == 1 and len(own[n.name].cores) > 1]
    produced = {n.output.tensor for n in members}
    readers: dict[str, set[str]] = {}
    for node in members:
        for operand in node.reads:
            if operand.tensor not in produced:
                readers.setdefault(operand.tensor, set()).add(node.name)
    if not any(len(names) > 1 and names & set(lone) for names in readers.values()):
        return []
    out = []
    for core in (c for c in own[lone[0]].cores if all(c in own[n].cores for n in lone)):
        pinned = {**own, **{n: attrs.evolve(own[n], cores=(core,)) for n in lone}}
        tiles = intra_core_tiles(workload, members, {**nodes, **pinned}, accelerator, settings)
        group = FusedGroup(seed.name, seed.nodes, tiles)
        out.append(Candidate(_label(f"on core {core}", group), pinned, [group]))
    return out


def break_cuts(
    workload: Workload,
    accelerator: Accelerator,
    settings: MapperSettings,
    nodes: dict[str, NodeMapping],
    seed: FusedGroup,
) -> list[Candidate]:
    """The group cut before its :func:`stream_break` (none without one), each part tiled in each of its
    own ways (:func:`_own_candidates`)."""
    members = [workload.node(n) for n in seed.nodes]
    cut = stream_break(workload, members, nodes, accelerator)
    if cut is None:
        return []
    halves = []
    for part in (members[:cut], members[cut:]):
        tiles = intra_core_tiles(workload, part, nodes, accelerator, settings)
        group = FusedGroup(seed.name, [n.name for n in part], tiles)
        halves.append(_own_candidates(workload, accelerator, settings, nodes, group))
    return [
        Candidate(
            f"cut before {members[cut].name} ({a.label}; {b.label})", {**a.nodes, **b.nodes}, [*a.groups, *b.groups]
        )
        for a, b in itertools.product(*halves)
    ]


def halved_contractions(
    workload: Workload,
    accelerator: Accelerator,
    settings: MapperSettings,
    nodes: dict[str, NodeMapping],
    seed: FusedGroup,
) -> list[Candidate]:
    """The group tiled as the seed but with its first layer (the members reading only tensors from outside
    it) streaming its contraction (:func:`contraction_loop`) in twice the seed's tiles: a cost model may
    price a shorter reduction lower, and the next layer's inputs still arrive whole (stream-dse 2.1.1's
    fusemax, attention head: a projection whole 19.0 M pJ, in two halves 16.6 M; 6,971 -> 6,734 cycles).
    Empty for a group with no member fed from inside it (:func:`_own_candidates` streams its
    contraction)."""
    members = [workload.node(n) for n in seed.nodes]
    compute = _compute_members(members, nodes, accelerator)
    produced = {n.output.tensor for n in members}
    first = [n for n in compute if not any(op.tensor in produced for op in n.reads)]
    if len(first) == len(compute):
        return []
    tiles = _stream_axes(workload, members, compute, nodes)[0]
    for name, loop, tile in seed.tiles:
        tiles.set((name, loop), tile)
    halves = [(n.name, d) for n in first if (d := contraction_loop(n)) is not None]
    counts = [2 * -(-tiles.parts[n][d] // tiles.node_tile(n)[d]) for n, d in halves]  # before any is split
    for half, count in zip(halves, counts, strict=True):
        tiles.split_into(half, count)
    group = FusedGroup(seed.name, seed.nodes, tiles.entries(compute))
    if group == seed:
        return []
    return [
        Candidate(_label("first layer's contraction halved", group), {n.name: nodes[n.name] for n in members}, [group])
    ]


def contraction_splits(
    workload: Workload,
    accelerator: Accelerator,
    settings: MapperSettings,
    nodes: dict[str, NodeMapping],
    seed: FusedGroup,
) -> list[Candidate]:
    """The group with each member whose contraction (:func:`contraction_loop`) reads a tensor axis its
    producer in the group splits over cores splitting that contraction the same way on the producer's
    cores, as a tensor-parallel MLP does (stream-dse 2.1.1's generic mapper, SwiGLU's ``Gemm_Down``):
    each core reduces over the slice it made, and the partial sums are added by explicit nodes
    (:mod:`stream_core.reductions`), instead of every core first gathering the whole input. Otherwise
    (its producer on one core, split another way, or on cores the member may not use) a member split over
    cores splits its contraction over its own cores instead of its columns: each core then receives its
    slice only (:func:`_aligned_contraction`). Tiled as the seed is, and with
    the split members' output columns halved (a cost model may price the shorter tiles lower: simba_small,
    ``Gemm_Down`` 569 pJ a tile of 16 columns, 2 x 126 in two). None when no member qualifies."""
    members = [workload.node(n) for n in seed.nodes]
    own = {n.name: nodes[n.name] for n in members}
    mapped = dict(own)
    for node in members:
        split = _aligned_contraction(workload, node, mapped, set(seed.nodes), set(candidate_cores(node, accelerator)))
        if split is not None:
            mapped[node.name] = split
    if mapped == own:
        return []
    tiles = intra_core_tiles(workload, members, {**nodes, **mapped}, accelerator, settings)
    group = FusedGroup(seed.name, seed.nodes, tiles)
    out = [Candidate(_label("contraction split with its producer", group), mapped, [group])]
    halved = dict(((n, d), t) for n, d, t in tiles)
    for name in (n for n in mapped if mapped[n] != own[n]):
        node = workload.node(name)
        column = column_loop(node)
        if column is not None and node.sizes[column] > 1:
            halved[(name, column)] = -(-halved.get((name, column), node.sizes[column]) // 2)
    if len(halved) > len(tiles) or any(halved[(n, d)] != t for n, d, t in tiles):
        group = FusedGroup(seed.name, seed.nodes, [(n, d, t) for (n, d), t in halved.items()])
        out.append(Candidate(_label("contraction split with its producer, its columns halved", group), mapped, [group]))
    return out


def _aligned_contraction(
    workload: Workload, node: Node, mapped: dict[str, NodeMapping], group: set[str], allowed: set[int]
) -> NodeMapping | None:
    """``node`` splitting its contraction loop as the in-``group`` producer of the input axis it indexes
    splits that axis (the producer's only split, dividing the loop), on the producer's cores when
    ``node`` may run on them all (``allowed``); else, over ``node``'s own cores instead of its own split;
    else ``None`` (also when the split could not be priced: :func:`stream_core.reductions.not_lowered`)."""
    loop = contraction_loop(node)
    own = mapped[node.name]
    if loop is None or not node.mac_op or own.split_factor(loop) > 1:
        return None
    for operand in node.reads:
        producer = workload.producer(operand.tensor)
        if producer is None or producer.name not in group or operand.access is None:
            continue
        made = mapped[producer.name]
        for written, read in zip(producer.output.access or (), operand.access, strict=False):
            made_terms = [d for d, c in written.terms if c]
            if [d for d, c in read.terms if c] != [loop] or len(made_terms) != 1:
                continue
            aligned = made.split == ((made_terms[0], made.parts),) and node.sizes[loop] % made.parts == 0
            if aligned and allowed.issuperset(made.cores):
                split = NodeMapping(node.name, made.cores, ((loop, made.parts),))
            elif own.parts > 1 and node.sizes[loop] % own.parts == 0:
                split = NodeMapping(node.name, own.cores, ((loop, own.parts),))
            else:
                continue
            return split if not_lowered(node, split) is None else None
    return None


#: Alternatives every effort level adds to its own: the readers of one fetched tensor pinned together,
#: a one-row group's shared columns tiled, the group cut before a reader that waits for a whole tensor,
#: the first layer's contraction in twice the seed's tiles, a contraction split with its producer.
_ALTERNATIVES: tuple[Alternatives, ...] = (
    pinned_candidates,
    column_candidates,
    break_cuts,
    halved_contractions,
    contraction_splits,
)


def _own_candidates(
    workload: Workload,
    accelerator: Accelerator,
    settings: MapperSettings,
    nodes: dict[str, NodeMapping],
    seed: FusedGroup,
) -> list[Candidate]:
    """The seed and its first two alternatives of :func:`fast_candidates` (the group kept whole)."""
    members = [workload.node(n) for n in seed.nodes]
    own = {n.name: nodes[n.name] for n in members}
    out = [Candidate("seed", own, [seed])]
    produced = {n.output.tensor for n in members}
    if not any(op.tensor in produced for n in members for op in n.reads):
        tiles = intra_core_tiles(workload, members, nodes, accelerator, settings, contraction=True)
        if tiles != seed.tiles:
            group = FusedGroup(seed.name, seed.nodes, tiles)
            out.append(Candidate(_label("contraction streamed", group), own, [group]))
    lone = [n for n in members if own[n.name].parts == 1 and len(own[n.name].cores) > 1]
    if lone and any(m.parts > 1 for m in own.values()):
        rows = {n.name: node_mapping(n, accelerator, settings.split, over_rows=True) for n in members}
        fed = {n.name for n in members if any(op.tensor in produced for op in n.reads)}
        inner = {name: rows[name] if name in fed else mapping for name, mapping in own.items()}
        for label, mapped in (("split over rows", rows), ("split over rows past the group's inputs", inner)):
            if mapped != own and (mapped is rows or mapped != rows):
                tiles = intra_core_tiles(workload, members, {**nodes, **mapped}, accelerator, settings)
                group = FusedGroup(seed.name, seed.nodes, tiles)
                out.append(Candidate(_label(label, group), mapped, [group]))
    return out


#: Tile counts of the streaming loops tried at ``normal`` effort (each: the first count at least this).
NORMAL_ROWS = (8,)
HIGH_MAX_TILES = 64
HIGH_COLUMNS = (2, 4, 8, 16)


def group_candidates(
    workload: Workload,
    accelerator: Accelerator,
    settings: MapperSettings,
    nodes: dict[str, NodeMapping],
    seed: FusedGroup,
) -> list[Candidate]:
    """The seed, then distinct alternatives: inter-core splits (none; over the streaming loop first;
    over all candidate cores) each with more tiles along the streaming loops (``normal``: at least
    8; ``high``: every count up to 64) and streaming its contraction instead, the alternatives of
    :func:`pinned_candidates`, :func:`column_candidates` and :func:`break_cuts`, and at ``high`` also
    more column tiles and one more cut point anywhere inside the group."""
    members = [workload.node(n) for n in seed.nodes]
    own = {n.name: nodes[n.name] for n in members}
    found: dict[str, Candidate] = {}

    def add(label: str, mapped: dict[str, NodeMapping], groups: list[FusedGroup]) -> None:
        candidate = Candidate(label, mapped, groups)
        found.setdefault(candidate.key, candidate)

    def tiled(
        mapped: dict[str, NodeMapping], part: list[Node], at_least: tuple[int, int] = (1, 1), contraction: bool = False
    ) -> FusedGroup:
        tiles = intra_core_tiles(workload, part, {**nodes, **mapped}, accelerator, settings, at_least, contraction)
        return FusedGroup(seed.name, [n.name for n in part], tiles)

    add("seed", own, [seed])
    high = settings.effort == "high"
    splits = [("", own)]
    for label, mode, over_rows in (
        ("no split", "none", False),
        ("split over rows", settings.split, True),
        ("split over all cores", "all", False),
    ):
        mapped = {n.name: node_mapping(n, accelerator, mode, over_rows) for n in members}
        if mapped != own:
            splits.append((label, mapped))
    for label, mapped in splits:
        rows, cols = tile_counts(workload, members, {**nodes, **mapped}, accelerator)
        if high:
            picks = [r for r in rows if r <= HIGH_MAX_TILES]
        else:
            picks = list(dict.fromkeys(next((r for r in rows if r >= n), rows[-1]) for n in (1, *NORMAL_ROWS)))
        for r in picks:
            group = tiled(mapped, members, (r, 1))
            add(_label(label, group), mapped, [group])
        for q in (c for c in cols if high and c in HIGH_COLUMNS):
            group = tiled(mapped, members, (1, q))
            add(_label(label, group), mapped, [group])
        group = tiled(mapped, members, contraction=True)
        add(_label(", ".join(x for x in (label, "contraction streamed") if x), group), mapped, [group])
    for more in _ALTERNATIVES:
        for candidate in more(workload, accelerator, settings, nodes, seed):
            found.setdefault(candidate.key, candidate)
    for k in range(1, len(members) if high else 0):
        halves = [tiled(own, members[:k]), tiled(own, members[k:])]
        add(f"cut after {members[k - 1].name}", own, halves)
    return list(found.values())


def _label(split: str, group: FusedGroup) -> str:
    """What a candidate changes: its split, and its tiles (the first few)."""
    shown = ", ".join(f"{n}.{d}={t}" for n, d, t in group.tiles[:3]) + (", ..." if len(group.tiles) > 3 else "")
    return ", ".join(x for x in (split, f"tiles {shown}" if shown else "untiled") if x)


def cut_points(workload: Workload) -> set[str]:
    cuts = set()
    for node in workload.nodes:
        if node.op_type == "MaxPool":
            cuts.add(node.name)
        if node.op_type == "Add":
            after = workload.successors(node.name)
            compute = [s for s in after if s.kind is NodeKind.COMPUTE]
            if len(after) == 1 and len(compute) == 1 and compute[0].op_type == "Relu":
                cuts.add(compute[0].name)
    return cuts


def fusion_groups(workload: Workload, settings: MapperSettings) -> list[tuple[str, ...]]:
    cuts = cut_points(workload) | set(settings.cut_points)
    groups: list[tuple[str, ...]] = []
    current: list[str] = []
    for node in workload.nodes:
        if node.kind is NodeKind.DATA_MOVEMENT:
            if current:
                groups.append(tuple(current))
                current = []
            groups.append((node.name,))
            continue
        current.append(node.name)
        if settings.per_layer or node.name in cuts:
            groups.append(tuple(current))
            current = []
    if current:
        groups.append(tuple(current))
    return groups


def protected_loops(node: Node) -> set[str]:
    """Loops that must stay whole on one core and in one tile: the node's protected loops and a
    normalisation's axis."""
    protected = set(node.protected_loops)
    if node.op_type not in NORMALISATIONS or node.output.access is None:
        return protected
    axis = node.attribute("axis", -1)
    try:
        return protected | set(node.output.access[axis].dims)
    except (IndexError, TypeError):
        return protected


def inter_core_split(
    node: Node,
    cores: tuple[int, ...],
    accelerator: Accelerator,
    mode: str,
    over_rows: bool = False,
    prefer: tuple[str, ...] = (),
) -> tuple[tuple[int, ...], tuple[tuple[str, int], ...]]:
    """The cores a node uses and its split (see the module docstring); ``over_rows`` splits the
    streaming loop too, before the others (a candidate of the search); ``prefer`` loops go first."""
    if len(cores) <= 1 or mode == "none":
        return cores, ()
    pool = list(cores)
    if mode == "homogeneous":
        classes: dict[str, list[int]] = {}
        for c in cores:
            classes.setdefault(accelerator.cores[c].fingerprint(), []).append(c)
        best = max(
            classes.values(),
            key=lambda ids: (len(ids), accelerator.cores[ids[0]].summary.peak_macs_per_cycle, -ids[0]),
        )
        if len(best) == 1:
            return cores, ()
        pool = best
    protected = protected_loops(node)
    position = {d: i for i, d in enumerate(node.loop_names)}
    parallel = [d for d in node.output.dims if d not in protected and node.sizes[d] > 1]
    stream = streaming_loop(node)
    if not over_rows:
        parallel = [d for d in parallel if d != stream]  # the streaming loop is tiled in time instead
    parallel.sort(key=lambda d: (d != stream, d not in prefer, -node.sizes[d], position[d]))
    remaining = len(pool)
    split = []
    for d in parallel:
        factor = math.gcd(remaining, node.sizes[d])
        if factor > 1:
            split.append((d, factor))
            remaining //= factor
        if remaining == 1:
            break
    parts = len(pool) // remaining
    if parts == 1:
        return cores, ()
    return tuple(pool[:parts]), tuple(split)


def _axis_loop(node: Node, axis: int) -> str | None:
    access = node.output.access
    if access is None or len(access) < max(2, -axis):
        return None
    terms = [(d, c) for d, c in access[axis].terms if c != 0]
    if len(terms) != 1 or terms[0][1] != 1 or terms[0][0] in protected_loops(node):
        return None
    return terms[0][0]


def streaming_loop(node: Node) -> str | None:
    """The loop indexing the output's second-to-last axis (rows), if it is a plain loop index."""
    return _axis_loop(node, -2)


def contraction_loop(node: Node) -> str | None:
    """The reduction loop a group streaming its contraction tiles: the node's largest one not
    protected (a matrix product's ``K``, a convolution's input channels), ``None`` without one."""
    loops = [d for d in node.reduction_dims if d not in protected_loops(node) and node.sizes[d] > 1]
    return max(loops, key=lambda d: (node.sizes[d], -node.loop_names.index(d)), default=None)


def column_loop(node: Node) -> str | None:
    """The loop indexing the output's last axis (columns), if it is a plain loop index."""
    return _axis_loop(node, -1)


def _inner_column(node: Node, row: str | None) -> str | None:
    """The column loop if it is inside the row loop in the node's loop order (tiling an outer
    column loop would make the node sweep all rows once per column tile, out of step with the others)."""
    col = column_loop(node)
    if col is None or row is None:
        return col
    return col if node.loop_names.index(col) > node.loop_names.index(row) else None


def _part_sizes(node: Node, mapping: NodeMapping) -> dict[str, int]:
    return {d: size // mapping.split_factor(d) for d, size in node.sizes.items()}


def _footprint(node: Node, tile: dict[str, int], roles: tuple[str, ...]) -> int:
    """Bits of the operands of ``node``'s tile whose role is one of ``roles``."""
    tiled = node.with_sizes(tile)
    return sum(tiled.footprint_bits(op) for op in tiled.operands if op.role in roles)


def _top_memories(summary: CoreSummary) -> tuple[tuple[tuple[str, ...], int], ...]:
    """A core's top memories as (operand roles held, bits): ``operand_memories``, or one memory of
    ``memory_bits`` holding every operand when that is all the core type tells."""
    return summary.operand_memories or ((tuple(OperandRole), summary.memory_bits),)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def intra_core_tiles(
    workload: Workload,
    members: list[Node],
    nodes: dict[str, NodeMapping],
    accelerator: Accelerator,
    settings: MapperSettings,
    at_least: tuple[int, int] = (1, 1),
    contraction: bool = False,
    linked_columns: bool = False,
) -> tuple[tuple[str, str, int], ...]:
    """Tile sizes ``(node, loop, tile)`` of one group, the same along each fused axis (see the module
    docstring); ``at_least`` tile counts of the streaming loops and of the columns (the search's
    candidates, :func:`tile_counts`). With ``contraction`` the group streams its reductions instead
    of its rows (:func:`contraction_loop`), rows and columns whole unless memory still overflows. With
    ``linked_columns`` only column loops on an axis shared with another member count as columns."""
    compute = _compute_members(members, nodes, accelerator)
    if not compute:
        return ()
    tops = {c.id: _top_memories(c.summary) for c in accelerator.cores.values()}
    limit = {(c, i): settings.memory_fraction * bits for c, held in tops.items() for i, (_, bits) in enumerate(held)}
    memory_of = accelerator.memory_of
    blank, rows, cols = _stream_axes(workload, members, compute, nodes, contraction)
    if linked_columns:
        cols = [loop for loop in cols if any(m[0] != loop[0] for m, _ in blank.members(loop))]
    outer = _outer_loops(compute)

    def longest(loops: list[tuple[str, str]]) -> int:
        return max((blank.parts[n][d] for n, d in loops), default=1)

    def tiles_for(r: int, q: int) -> AxisTiles:
        tiles = blank.copy()
        for loops, count in ((rows, r), (cols, q)):
            for loop in loops:
                tiles.split_into(loop, count)
        return tiles

    def demand(tiles: AxisTiles) -> dict[tuple[int, int], int]:
        """Bits per top memory (keyed by its owner core and its index there): each operand of every
        part on the memory of its core holding its role, a node with candidate cores on each of their
        memories (whichever is chosen); sharing cores add up."""
        out: dict[tuple[int, int], int] = {}
        for n in compute:
            tile = tiles.node_tile(n.name)
            mapping = nodes[n.name]
            memories = [memory_of(c) for c in mapping.cores]
            for memory in memories if mapping.parts > 1 else set(memories):
                for i, (roles, _) in enumerate(tops[memory]):
                    out[memory, i] = out.get((memory, i), 0) + _footprint(n, tile, roles)
        return out

    def over(tiles: AxisTiles) -> list[tuple[int, int]]:
        return [m for m, bits in sorted(demand(tiles).items()) if bits > limit[m]]

    counts = _divisors(longest(rows))
    options = [(q, r) for q in _divisors(longest(cols)) for r in counts if q >= at_least[1] and r >= at_least[0]]
    r, chosen = next(((r, tiles) for q, r in options if not over(tiles := tiles_for(r, q))), (counts[-1], None))
    if chosen is None:  # rows alone do not help enough: the largest nodes of full cores are tiled further
        chosen = tiles_for(r, 1)
        for memory in over(chosen):
            while demand(chosen)[memory] > limit[memory]:
                roles = tops[memory[0]][memory[1]][0]
                using = [n for n in compute if any(memory_of(c) == memory[0] for c in nodes[n.name].cores)]
                ranked = sorted(using, key=lambda n: (-_footprint(n, chosen.node_tile(n.name), roles), n.name))
                if not any(_shrink_once(n, chosen, rows, outer) for n in ranked):
                    break
    _refine(workload, compute, nodes, chosen, (rows, outer), [c for c in counts if c > r], accelerator)
    return chosen.entries(compute)


def _compute_members(members: list[Node], nodes: dict[str, NodeMapping], accelerator: Accelerator) -> list[Node]:
    offchip = accelerator.offchip_core_id
    return [n for n in members if nodes[n.name].cores != (offchip,)]


def _stream_axes(
    workload: Workload,
    members: list[Node],
    compute: list[Node],
    nodes: dict[str, NodeMapping],
    contraction: bool = False,
) -> tuple[AxisTiles, list[tuple[str, str]], list[tuple[str, str]]]:
    """The group's untiled axes, its streaming loops (rows, or with ``contraction`` each node's
    :func:`contraction_loop`) and the column loops inside them (none when streaming reductions)."""
    blank = AxisTiles(
        fused_axes(workload, [n.name for n in members]),
        {n.name: _part_sizes(n, nodes[n.name]) for n in compute},
        [(n.name, d) for n in compute for d in protected_loops(n)],
    )
    if contraction:
        return blank, [(n.name, d) for n in compute if (d := contraction_loop(n)) is not None], []
    rows = [(n.name, d) for n in compute if (d := _stream_of(n, blank)) is not None]
    cols = [(n.name, d) for n in compute if (d := _inner_column(n, streaming_loop(n))) is not None]
    return blank, rows, [loop for loop in cols if not blank.touches(loop, rows)]


def _stream_of(node: Node, blank: AxisTiles) -> str | None:
    """The loop ``node`` streams in a group: its rows (:func:`streaming_loop`) or, when their axis may not
    be tiled, its contraction (:func:`contraction_loop`). A reader of ``node``'s rows through a transposed
    access (a folded Transpose: attention's ``Q @ K^T``) links them to its columns, and so to a softmax's
    normalised axis; the rows of ``K`` then stay whole, and tiling nothing else would leave its input
    whole on chip."""
    for loop in (streaming_loop(node), contraction_loop(node)):
        if loop is not None and blank.tileable((node.name, loop)):
            return loop
    return None


def stream_break(
    workload: Workload, members: list[Node], nodes: dict[str, NodeMapping], accelerator: Accelerator
) -> int | None:
    """The position in ``members`` of the first one reading another member's output along an axis
    other than the other's streamed one (:func:`_stream_of`): it needs the whole output before its first
    tile. ``None`` when every read inside the group streams."""
    compute = _compute_members(members, nodes, accelerator)
    blank, rows, _ = _stream_axes(workload, members, compute, nodes)
    streamed = dict(rows)
    seen: set[str] = set()
    for k, node in enumerate(members):
        for operand in node.reads if node.name in streamed else ():
            producer = workload.producer(operand.tensor)
            if producer is None or producer.name not in seen or producer.name not in streamed:
                continue
            if not blank.touches((node.name, streamed[node.name]), [(producer.name, streamed[producer.name])]):
                return k
        seen.add(node.name)
    return None


def tile_counts(
    workload: Workload, members: list[Node], nodes: dict[str, NodeMapping], accelerator: Accelerator
) -> tuple[list[int], list[int]]:
    """The tile counts :func:`intra_core_tiles` may give the streaming loops and the columns."""
    compute = _compute_members(members, nodes, accelerator)
    if not compute:
        return [1], [1]
    blank, rows, cols = _stream_axes(workload, members, compute, nodes)
    row, col = (max((blank.parts[n][d] for n, d in loops), default=1) for loops in (rows, cols))
    return _divisors(row), _divisors(col)


def _refine(
    workload: Workload,
    compute: list[Node],
    nodes: dict[str, NodeMapping],
    chosen: AxisTiles,
    streams: tuple[list[tuple[str, str]], list[tuple[str, str]]],
    counts: list[int],
    accelerator: Accelerator,
    rounds: int = 64,
    max_steps: int = 1 << 16,
) -> None:
    """Check the tiling with the allocator's buffer model (``streams``: the streaming loops and the
    loops outside them); while a memory is over-full, tile further
    the node deciding its largest buffer that this helps (then the next one), or the streaming loops
    into the next of ``counts`` tiles when that empties the memory more, until every memory fits,
    nothing helps, or the group would get more than ``max_steps`` steps. ``chosen`` is updated."""
    by_name = {n.name: n for n in compute}
    order = [n.name for n in compute]
    capacity = {c.id: c.summary.memory_bits for c in accelerator.cores.values()}

    def tilings(tiles: AxisTiles) -> dict[str, NodeTiling]:
        return {n.name: NodeTiling(n, nodes[n.name], tiles.node_tile(n.name)) for n in compute}

    def demand(tiles: AxisTiles) -> dict[int, list]:
        found = tilings(tiles)
        return memory_demand(buffer_needs(workload, found, order), found, accelerator)

    def steps(tiles: AxisTiles) -> int:
        return sum(t.steps_per_part for t in tilings(tiles).values())

    current = demand(chosen)
    for _ in range(rounds):
        load = {m: sum(x.bits for x in items) for m, items in current.items()}
        over = [(load[m] / capacity[m], m) for m in load if load[m] > capacity[m]]
        if not over:
            return
        memory = max(over)[1]
        owners = dict.fromkeys(x.owner for x in sorted(current[memory], key=lambda x: (-x.bits, x.label)))
        moves = []  # (load of the memory after, order, tiles, demand after)
        for owner in owners:
            trial = chosen.copy()
            if _shrink_once(by_name[owner], trial, *streams) and steps(trial) <= max_steps:
                after = demand(trial)
                if (bits := sum(x.bits for x in after.get(memory, []))) < load[memory]:
                    moves.append((bits, 0, trial, after))
                    break
        if counts:
            trial = chosen.copy()
            for loop in streams[0]:
                trial.split_into(loop, counts[0])
            after = demand(trial)
            if steps(trial) <= max_steps and (bits := sum(x.bits for x in after.get(memory, []))) < load[memory]:
                moves.append((bits, 1, trial, after))
        if not moves:
            return
        _, kind, trial, current = min(moves, key=lambda move: move[:2])
        chosen.sizes = trial.sizes
        if kind == 1:
            counts = counts[1:]


def _outer_loops(compute: list[Node]) -> list[tuple[str, str]]:
    """The loops outside each node's streaming loop in its loop order."""
    out: list[tuple[str, str]] = []
    for n in compute:
        stream = streaming_loop(n)
        if stream is not None:
            out.extend((n.name, d) for d in n.loop_names[: n.loop_names.index(stream)])
    return out


def _shrink_once(node: Node, tiles: AxisTiles, rows: list[tuple[str, str]], outer: list[tuple[str, str]]) -> bool:
    """Tile ``node`` (and so the fused axes of its loops) one step further: first the axes inside
    every streaming loop (not holding an ``outer`` loop: output loops of ``node``, then reductions; the
    tile order then still follows the stream), then the others; never an axis holding a streaming
    loop (``rows``) or a protected loop."""
    parts, tile = tiles.parts[node.name], tiles.node_tile(node.name)
    position = {d: i for i, d in enumerate(node.loop_names)}
    loops = [
        d
        for d in node.loop_names
        if tile[d] > 1 and tiles.tileable((node.name, d)) and not tiles.touches((node.name, d), rows)
    ]
    others = [loop for loop in outer if loop[0] != node.name]
    inside = [d for d in loops if not tiles.touches((node.name, d), outer)]
    own = [d for d in loops if d not in inside and not tiles.touches((node.name, d), others)]
    for group in (inside, own, [d for d in loops if d not in inside and d not in own]):
        for kind in ([d for d in group if d in node.output.dims], [d for d in group if d in node.reduction_dims]):
            for d in sorted(kind, key=lambda x: (-tile[x], position[x])):
                count = -(-parts[d] // tile[d])
                if any(tiles.set((node.name, d), parts[d] // c) for c in _divisors(parts[d]) if c > count):
                    return True
    return False
