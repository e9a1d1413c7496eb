"""C++ of one dataflow kernel task, generated from the node's loop nest and its itensor ports.

A kernel fires once per tile iteration (loops ``i_<loop>``, outermost first). Per firing it reads the
tokens its input ports need (one per port, or, for a windowed port, every token up to the itensor's
lookahead), computes the tile (loops ``l_<loop>`` over the tile, global indices), and when the output
token is complete (every accumulating loop at its last step) finalises it and writes it to every
destination stream. That is exactly the token behaviour the FIFO-sizing LP models (reads at the start
of a firing, the output slot of a firing reserved no earlier than its reads).

Operand values are read through the buffer layouts of :mod:`stream_fpga_u55c.layout`; indices that can
leave the tensor (padding) are guarded. Reduction loops are placed outside the output loops so the
innermost loop is free of loop-carried dependences (``#pragma HLS pipeline II=1``), partially unrolled by
the kernel's lanes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from stream_itensor.api import Port, StreamKernel

from stream_core.errors import InputError, Problem
from stream_core.ir import AffineExpr
from stream_fpga_u55c import ops
from stream_fpga_u55c.cpp import Namer, Writer, affine, dims, flat_index, flit, identifier, subscript
from stream_fpga_u55c.design import Design, Group, Stream, Task
from stream_fpga_u55c.layout import (
    BufferLayout,
    accumulating_loops,
    input_layout,
    output_layout,
    token_offsets,
)


def _uses(text: str, var: str) -> bool:
    return re.search(rf"\b{re.escape(var)}\b", text) is not None


def plus(a: str, b: str) -> str:
    """``a + b`` as C++ source, leaving out a zero term."""
    if a == "0":
        return b
    if b == "0":
        return a
    return f"{a} + {b}"


def stream_type(stream: Stream) -> str:
    """C++ parameter type of a stream."""
    return f"hls::stream<tile<{stream.elements}>>&"


def read_call(stream: Stream, elements: int, dst: str) -> str:
    return f"read_token<{elements}>({stream.name}, {dst});"


def write_call(stream: Stream, elements: int, src: str) -> str:
    return f"write_token<{elements}>({stream.name}, {src});"


def compute_order(kernel: StreamKernel) -> tuple[str, ...]:
    """Loops of the tile computation, outermost first: reductions (and normalised axes) outside."""
    node = kernel.node
    family = ops.family(node)
    names = node.loop_names
    if family in ("softmax", "norm"):
        inner = set(node.protected_loops)
    else:
        inner = set(node.reduction_dims) if family in ("mac", "pool", "reduce") else set()
        return tuple(n for n in names if n in inner) + tuple(n for n in names if n not in inner)
    return tuple(n for n in names if n not in inner) + tuple(n for n in names if n in inner)


def kernel_lanes(kernel: StreamKernel, unroll: int) -> int:
    """Parallel lanes of the innermost compute loop: ``min(unroll, its trip count)``."""
    tiles = kernel.tile_sizes
    extents = [tiles[n] for n in compute_order(kernel) if tiles[n] > 1]
    return max(1, min(unroll, extents[-1])) if extents else 1


class KernelCode:
    """Generates one kernel task (see the module docstring)."""

    def __init__(self, design: Design, group: Group, task: Task) -> None:
        self.kernel = design.kernel(task.kernel)
        self.node = self.kernel.node
        self.family = ops.family(self.node)
        self.unroll = design.unroll
        if self.family is None:
            raise InputError(
                Problem(
                    f"node {self.node.name!r}: no U55C kernel for op {self.node.op_type!r}; "
                    f"supported: {', '.join(ops.SUPPORTED)}",
                    file=design.workload.source,
                    field=f"graph.node.{self.node.name}",
                )
            )
        workload = design.workload
        self.shape = {op.tensor: workload.tensor(op.tensor).shape for op in self.node.operands}
        self.iters = self.kernel.iteration_loops
        # a loop tiled to 1 takes the value of its firing index: use i_<loop> directly
        self.var = {
            lp.name: f"i_{lp.name}" if lp.tile == 1 and lp.tripcount > 1 else f"l_{lp.name}" for lp in self.kernel.loops
        }
        self.sizes = self.node.sizes
        self.tiles = self.kernel.tile_sizes
        self.acc_loops = accumulating_loops(self.kernel)
        names = Namer([*task.ins, *task.outs, *self.var.values(), *(f"i_{lp.name}" for lp in self.kernel.loops)])
        self.ins: list[tuple[Port, Stream, BufferLayout]] = []
        self.layout: dict[int, BufferLayout] = {}
        for port, sname in zip(self.kernel.inputs, task.ins, strict=True):
            var = names.name(("buf", port.operand), f"{identifier(port.tensor)}_buf")
            layout = input_layout(self.kernel, port, self.shape[port.tensor], var)
            self.ins.append((port, group.stream(sname), layout))
            self.layout[port.operand] = layout
        out = self.node.output
        self.out = output_layout(
            self.kernel, self.node, self.shape[out.tensor], names.name("acc", f"{identifier(out.tensor)}_acc")
        )
        self.out_token = names.name("tok", f"{identifier(out.tensor)}_tok")
        self.outs = [group.stream(s) for s in task.outs]
        self.names = names
        self.name = task.name
        self._check_whole(self.node.protected_loops if self.family in ("softmax", "norm") else ())

    # -- helpers -------------------------------------------------------------------------------
    def _check_whole(self, loops: tuple[str, ...]) -> None:
        tiled = [n for n in loops if self.tiles[n] != self.sizes[n]]
        if tiled:
            raise InputError(
                Problem(
                    f"kernel {self.node.name!r}: loops {tiled} are normalised over and must not be tiled",
                    field=f"tiling.{self.node.name}",
                )
            )

    def _header(self, name: str) -> tuple[str, str, str] | str:
        """A ``for`` triple for a tile loop, the text of a constant definition for a loop of size 1, or ``""``
        for a loop tiled to 1 (its variable is the firing index)."""
        var = self.var[name]
        tile, size = self.tiles[name], self.sizes[name]
        if size // tile > 1:
            if tile == 1:
                return ""
            lo = f"{tile} * i_{name}"
            return (var, lo, f"{lo} + {tile}")
        if size == 1:
            return f"const int {var} = 0;"
        return (var, "0", str(size))

    def nest(self, w: Writer, loops: tuple[str, ...], body: list[str], pipeline: bool = False) -> None:
        """Emit ``body`` inside the tile loops ``loops`` (trivial loops become constants when used)."""
        fors: list[tuple[str, str, str]] = []
        consts: list[tuple[str, str]] = []
        for name in loops:
            header = self._header(name)
            if header == "":
                continue
            if isinstance(header, str):
                consts.append((self.var[name], header))
            else:
                fors.append(header)
        text = "\n".join(body)
        used = [c for v, c in consts if _uses(text, v)]
        pragmas: list[str] = []
        if pipeline and fors:
            lanes = self.lanes
            if lanes > 1:
                pragmas.append(f"unroll factor={lanes}")
            pragmas.append("pipeline II=1")
        if fors:
            with w.loops(fors, pragmas):
                w.extend(used + body)
        elif used:
            with w.block(""):
                w.extend(used + body)
        else:
            w.extend(body)

    @property
    def lanes(self) -> int:
        return kernel_lanes(self.kernel, self.unroll)

    def ref(self, operand: int, layout: BufferLayout) -> tuple[str, list[str]]:
        """C text reading operand ``operand`` at the current loop values, and its in-range conditions."""
        op = self.node.operands[operand]
        if layout.opaque:
            out = self.node.output
            g = [affine(a, self.var) for a in out.access or ()]
            return f"{layout.var}[{flat_index(g, self.shape[out.tensor])}]", []
        assert op.access is not None
        gs = [affine(a, self.var) for a in op.access]
        return f"{layout.var}{subscript(layout.index(gs))}", self.bounds(op.access, gs, self.shape[op.tensor])

    def bounds(
        self,
        access: tuple[AffineExpr, ...],
        gs: list[str],
        shape: tuple[int, ...],
        pads: tuple[tuple[int, int], ...] | None = None,
    ) -> list[str]:
        ranges = {n: (0, s) for n, s in self.sizes.items()}
        conds = []
        for d, (expr, g) in enumerate(zip(access, gs, strict=True)):
            lo_pad, hi_pad = pads[d] if pads else (0, 0)
            lo, hi = expr.interval(ranges)
            if lo < -lo_pad:
                conds.append(f"{g} >= {-lo_pad}")
            if hi > shape[d] + hi_pad:
                conds.append(f"{g} < {shape[d] + hi_pad}")
        return conds

    def out_ref(self) -> tuple[str, list[str]]:
        out = self.node.output
        assert out.access is not None
        gs = [affine(a, self.var) for a in out.access]
        return f"{self.out.var}{subscript(self.out.index(gs))}", self.bounds(out.access, gs, self.shape[out.tensor])

    @staticmethod
    def guarded(conds: list[str], stmt: str) -> list[str]:
        return [f"if ({' && '.join(conds)}) {stmt}"] if conds else [stmt]

    def region(
        self,
        w: Writer,
        layout: BufferLayout,
        offsets: list[str],
        body: Callable[[list[str], str, list[str]], list[str]],
        pipeline: bool = True,
    ) -> None:
        """Loops over the token elements of ``layout`` at data offsets ``offsets``; ``body(index, flat,
        globals)`` returns the lines for one element (buffer index, flat token index, data indices)."""
        evars, fors = [], []
        for d, n in enumerate(layout.element):
            if n == 1:
                evars.append("0")
            else:
                evars.append(f"e{d}")
                fors.append((f"e{d}", "0", str(n)))
        flat = flat_index(evars, layout.element)
        if layout.opaque:
            index, gs = [flat], [flat]
        else:
            gs = [plus(o, e) for o, e in zip(offsets, evars, strict=True)]
            index = [
                e if dim.mode in ("whole", "block") else dim.index(g)
                for dim, e, g in zip(layout.dims, evars, gs, strict=True)
            ]
        lines = body(index, flat, gs)
        if fors:
            with w.loops(fors, ["pipeline II=1"] if pipeline else []):
                w.extend(lines)
        else:
            w.extend(lines)

    # -- emission ------------------------------------------------------------------------------
    def emit(self, w: Writer) -> None:
        self.comment(w)
        params = ", ".join(f"{stream_type(s)} {s.name}" for s in [*(s for _, s, _ in self.ins), *self.outs])
        with w.block(f"static void {self.name}({params})"):
            self.declarations(w)
            self.firings(w)

    def comment(self, w: Writer) -> None:
        node, kernel = self.node, self.kernel
        w.line(f'// Kernel for ONNX node "{node.name}" ({node.op_type}), {kernel.iterations} firing(s).')
        loops = ", ".join(
            f"{lp.name}={lp.size}" + (f" (tile {lp.tile})" if lp.tile != lp.size else "") for lp in kernel.loops
        )
        w.line(f"//   loops: {loops}")
        for port, stream, _ in self.ins:
            source = "HBM" if stream.kind == "dma" else "FIFO"
            w.line(f"//   in  {port.tensor} ({source}): {port.itype}")
        w.line(f"//   out {kernel.output.tensor}: {kernel.output.itype}")
        if self.acc_loops:
            w.line(f"//   accumulates over iteration loop(s) {', '.join(self.acc_loops)}")

    def declarations(self, w: Writer) -> None:
        for port, _, layout in self.ins:
            w.line(f"float {layout.var}{dims(layout.shape)};  // operand {port.operand}: {port.tensor}")
            self.partition(w, layout.var, layout.shape)
            for k, table in enumerate(layout.need):
                if table is not None:
                    values = ", ".join(str(v) for v in table)
                    w.line(f"static const int {layout.var}_need{k}[{len(table)}] = {{{values}}};")
            if layout.windowed:
                w.line(f"int {layout.var}_next = 0;  // tokens of {port.tensor} read so far")
        w.line(f"float {self.out.var}{dims(self.out.shape)};  // output: {self.node.output.tensor}")
        self.partition(w, self.out.var, self.out.shape)

    def partition(self, w: Writer, var: str, shape: tuple[int, ...]) -> None:
        lanes = self.lanes
        if lanes > 1 and shape and shape[-1] % lanes == 0 and shape[-1] > lanes:
            w.pragma(f"array_partition variable={var} cyclic factor={lanes} dim={len(shape)}")

    def firings(self, w: Writer) -> None:
        if not self.iters:
            with w.scope("single firing"):
                self.firing(w)
            return
        fors = [(f"i_{lp.name}", "0", str(lp.tripcount)) for lp in self.iters]
        with w.loops(fors):
            self.firing(w)

    def firing(self, w: Writer) -> None:
        for port, stream, layout in self.ins:
            self.read_port(w, port, stream, layout)
        if self.family in ("mac", "pool", "reduce"):
            self.init(w)
        self.compute(w)
        self.emit_output(w)

    # -- inputs --------------------------------------------------------------------------------
    def read_port(self, w: Writer, port: Port, stream: Stream, layout: BufferLayout) -> None:
        # a stream that does not iterate over some firing loops (a whole tensor read through a non-affine
        # access) is read at their first step and kept in the buffer for the others
        once = [f"i_{lp.name} == 0" for k, lp in enumerate(self.iters) if k not in port.dims]
        if once:
            with w.block(f"if ({' && '.join(once)})"):
                self._read_port(w, port, stream, layout)
        else:
            self._read_port(w, port, stream, layout)

    def _read_port(self, w: Writer, port: Port, stream: Stream, layout: BufferLayout) -> None:
        n = layout.token_elements
        if layout.direct and not layout.windowed:
            first = layout.var + "[0]" * max(1, len(layout.shape))
            w.line(read_call(stream, n, f"&{first}"))
            return
        itype = port.itype
        tok = self.names.name(("tmp", port.operand), f"{layout.var}_tok")
        if not layout.windowed:
            index_vars = [f"i_{self.iters[k].name}" for k in range(itype.num_dims)]
            with w.scope(f"token of {port.tensor}"):
                self.scatter(w, stream, layout, itype, index_vars, tok)
            return
        strides = [math.prod(itype.tripcounts[k + 1 :]) for k in range(itype.num_dims)]
        terms = []
        for k, table in enumerate(layout.need):
            idx = f"{layout.var}_need{k}[i_{self.iters[k].name}]" if table is not None else f"i_{self.iters[k].name}"
            terms.append(idx if strides[k] == 1 else f"{idx} * {strides[k]}")
        w.line(f"// {port.tensor}: read every token up to the last one this firing needs (lookahead)")
        with w.block(f"for (; {layout.var}_next <= {' + '.join(terms)}; ++{layout.var}_next)"):
            index_vars = [f"t{k}" for k in range(itype.num_dims)]
            used = " ".join(token_offsets(itype.iter_map.results, itype.steps, index_vars))
            for k in range(itype.num_dims):
                if not _uses(used, f"t{k}"):
                    continue
                q = f"{layout.var}_next"
                if strides[k] > 1:
                    q = f"{q} / {strides[k]}"
                if k > 0:
                    q = f"{q} % {itype.tripcounts[k]}"
                w.line(f"const int t{k} = {q};")
            self.scatter(w, stream, layout, itype, index_vars, tok)

    def scatter(self, w: Writer, stream: Stream, layout: BufferLayout, itype, index_vars: list[str], tok: str) -> None:
        n = layout.token_elements
        w.line(f"float {tok}[{n}];")
        w.line(read_call(stream, n, tok))
        offsets = token_offsets(itype.iter_map.results, itype.steps, index_vars)
        self.region(w, layout, offsets, lambda idx, flat, gs: [f"{layout.var}{subscript(idx)} = {tok}[{flat}];"])

    # -- output --------------------------------------------------------------------------------
    def out_offsets(self) -> list[str]:
        offsets = []
        for dim in self.out.dims:
            if dim.mode == "whole":
                offsets.append("0")
            else:
                offsets.append(f"i_{dim.loop}" if dim.block == 1 else f"{dim.block} * i_{dim.loop}")
        return offsets

    def condition(self, last: bool) -> str:
        trips = {lp.name: lp.tripcount for lp in self.iters}
        parts = [f"i_{n} == {trips[n] - 1 if last else 0}" for n in self.acc_loops]
        return " && ".join(parts)

    def init(self, w: Writer) -> None:
        value = self.init_value()
        cond = self.condition(last=False)
        body = lambda idx, flat, gs: [f"{self.out.var}{subscript(idx)} = {value};"]  # noqa: E731
        if cond:
            with w.block(f"if ({cond})"):
                self.region(w, self.out, self.out_offsets(), body)
        else:
            self.region(w, self.out, self.out_offsets(), body)

    def init_value(self) -> str:
        op = self.node.op_type
        if op in ("MaxPool", "GlobalMaxPool", "ReduceMax"):
            return "-" + ops.FLT_MAX
        if op == "ReduceMin":
            return ops.FLT_MAX
        return "0.0f"

    def emit_output(self, w: Writer) -> None:
        cond = self.condition(last=True)
        if cond:
            with w.block(f"if ({cond})"):
                self.pack(w)
        else:
            self.pack(w)

    def pack(self, w: Writer) -> None:
        n = self.out.token_elements
        w.line(f"float {self.out_token}[{n}];")
        self.region(w, self.out, self.out_offsets(), self.pack_element)
        for stream in self.outs:
            w.line(write_call(stream, n, self.out_token))

    def pack_element(self, idx: list[str], flat: str, gs: list[str]) -> list[str]:
        value = f"{self.out.var}{subscript(idx)}"
        expr, pre = self.finalize(value, gs)
        return [*pre, f"{self.out_token}[{flat}] = {expr};"]

    def output_loop_values(self, gs: list[str]) -> dict[str, str]:
        """Loop values of an output element from its data indices: a loop of size 1 is 0, a dim indexed
        by one loop gives it directly, and a mixed-radix dim (``G * K_g + K`` of a grouped convolution,
        ``K < K_g``) gives each of its loops by division and remainder."""
        out = self.node.output
        assert out.access is not None
        values = {name: "0" for name, size in self.sizes.items() if size == 1}
        for expr, g in zip(out.access, gs, strict=True):
            terms = sorted(((c, n) for n, c in expr.terms if c != 0 and self.sizes[n] > 1), reverse=True)
            if expr.offset or not terms or terms[-1][0] != 1:
                continue
            radix = [math.prod(self.sizes[n] for _, n in terms[i + 1 :]) for i in range(len(terms))]
            if any(c != r for (c, _), r in zip(terms, radix, strict=True)):
                continue
            for i, (c, n) in enumerate(terms):
                value = f"({g})" if c == 1 else f"({g}) / {c}"
                values[n] = value if i == 0 else f"{value} % {self.sizes[n]}"
        return values

    def loop_defs(self, text: str, gs: list[str], exclude: tuple[str, ...] = ()) -> list[str]:
        values = self.output_loop_values(gs)
        defs = []
        for name, var in self.var.items():
            if name not in exclude and not var.startswith("i_") and _uses(text, var):
                if name not in values:
                    raise InputError(
                        Problem(f"kernel {self.node.name!r}: loop {name!r} is not recoverable from the output index")
                    )
                defs.append(f"const int {var} = {values[name]};")
        return defs

    def finalize(self, value: str, gs: list[str]) -> tuple[str, list[str]]:
        """Final value of an output element and the definitions it needs."""
        node, op = self.node, self.node.op_type
        expr = value
        if self.family == "mac" and len(node.reads) > 2:
            bias, _ = self.ref(2, self.layout[2])
            if op == "Gemm":
                alpha, beta = node.attribute("alpha", 1.0), node.attribute("beta", 1.0)
                scaled = value if alpha == 1.0 else f"{flit(alpha)} * {value}"
                bias = bias if beta == 1.0 else f"{flit(beta)} * {bias}"
                expr = f"{scaled} + {bias}"
            else:
                expr = f"{value} + {bias}"
        elif self.family == "mac" and op == "Gemm" and node.attribute("alpha", 1.0) != 1.0:
            expr = f"{flit(node.attribute('alpha'))} * {value}"
        elif op in ("AveragePool", "GlobalAveragePool", "ReduceMean"):
            count, lines = self.average_count()
            expr = f"{value} / {count}"
            defs = self.loop_defs("\n".join([*lines, expr]), gs, exclude=self.node.reduction_dims)
            return expr, defs + lines
        return expr, self.loop_defs(expr, gs)

    def average_count(self) -> tuple[str, list[str]]:
        """Divisor of an average: a constant, or a count of the window points inside the (padded) input."""
        node = self.node
        reduction = node.reduction_dims
        src = node.operands[0]
        assert src.access is not None
        gs = [affine(a, self.var) for a in src.access]
        pads = None
        if node.attribute("count_include_pad", 0):
            attr = node.attribute("pads", ())
            spatial = len(src.access) - 2
            pads = ((0, 0), (0, 0), *((attr[i], attr[i + spatial]) for i in range(spatial)))
        conds = self.bounds(src.access, gs, self.shape[src.tensor], pads)
        if not conds:
            return str(math.prod(self.sizes[n] for n in reduction)) + ".0f", []
        sub = Writer()
        sub.line("int count = 0;")
        fors = [(self.var[n], "0", str(self.sizes[n])) for n in reduction]
        with sub.loops(fors):
            sub.line(f"if ({' && '.join(conds)}) ++count;")
        return "static_cast<float>(count)", sub.lines

    # -- compute ---------------------------------------------------------------------------------
    def compute(self, w: Writer) -> None:
        getattr(self, f"compute_{self.family}")(w)

    def compute_mac(self, w: Writer) -> None:
        a, ca = self.ref(0, self.layout[0])
        b, cb = self.ref(1, self.layout[1])
        o, co = self.out_ref()
        self.nest(w, compute_order(self.kernel), self.guarded(ca + cb + co, f"{o} += {a} * {b};"), pipeline=True)

    def compute_eltwise(self, w: Writer) -> None:
        values, conds = [], []
        for i, op in enumerate(self.node.operands):
            if op.role.value != "output":
                text, c = self.ref(i, self.layout[i])
                values.append(text)
                conds += c
        o, co = self.out_ref()
        stmt = f"{o} = {ops.eltwise_expr(self.node, values)};"
        self.nest(w, compute_order(self.kernel), self.guarded(conds + co, stmt), pipeline=True)

    def compute_batchnorm(self, w: Writer) -> None:
        x, scale, bias, mean, var = (self.ref(i, self.layout[i])[0] for i in range(5))
        o, _ = self.out_ref()
        eps = flit(self.node.attribute("epsilon", 1e-5))
        stmt = f"{o} = ({x} - {mean}) * ({scale} / std::sqrt({var} + {eps})) + {bias};"
        self.nest(w, compute_order(self.kernel), [stmt], pipeline=True)

    def compute_move(self, w: Writer) -> None:
        reads = [i for i, op in enumerate(self.node.operands) if op.role.value != "output"]
        o, co = self.out_ref()
        if any(self.layout[i].opaque for i in reads) and len(reads) > 1:
            raise InputError(
                Problem(f"node {self.node.name!r} ({self.node.op_type}): data-dependent indexing is not supported")
            )
        if len(reads) == 1:
            value, conds = self.ref(reads[0], self.layout[reads[0]])
            body = self.guarded(conds + co, f"{o} = {value};")
        else:  # Concat: the one input whose index is in range
            body = []
            for n, i in enumerate(reads):
                value, conds = self.ref(i, self.layout[i])
                keyword = "if" if n == 0 else "} else if" if n < len(reads) - 1 else "} else"
                head = f"{keyword} ({' && '.join(conds)}) {{" if keyword != "} else" else "} else {"
                body += [head, f"  {o} = {value};"]
            body.append("}")
        self.nest(w, compute_order(self.kernel), body, pipeline=True)

    def compute_pool(self, w: Writer) -> None:
        x, cx = self.ref(0, self.layout[0])
        o, _ = self.out_ref()
        op = self.node.op_type
        stmt = f"{o} = std::fmax({o}, {x});" if op in ("MaxPool", "GlobalMaxPool", "ReduceMax") else f"{o} += {x};"
        if op == "ReduceMin":
            stmt = f"{o} = std::fmin({o}, {x});"
        self.nest(w, compute_order(self.kernel), self.guarded(cx, stmt), pipeline=True)

    compute_reduce = compute_pool

    def compute_softmax(self, w: Writer) -> None:
        axis = self.node.protected_loops[0]
        x, _ = self.ref(0, self.layout[0])
        o, _ = self.out_ref()
        outer = tuple(n for n in self.node.loop_names if n != axis)
        body = Writer()
        body.line(f"float m = -{ops.FLT_MAX};")
        self._axis_pass(body, (axis,), [f"m = std::fmax(m, {x});"])
        body.line("float s = 0.0f;")
        if self.node.op_type == "LogSoftmax":
            self._axis_pass(body, (axis,), [f"s += std::exp({x} - m);"])
            body.line("const float log_s = std::log(s);")
            self._axis_pass(body, (axis,), [f"{o} = {x} - m - log_s;"])
        else:
            self._axis_pass(body, (axis,), [f"const float e = std::exp({x} - m);", f"{o} = e;", "s += e;"])
            self._axis_pass(body, (axis,), [f"{o} = {o} / s;"])
        self.nest(w, outer, body.lines)

    def compute_norm(self, w: Writer) -> None:
        axes = tuple(n for n in self.node.loop_names if n in self.node.protected_loops)
        x, _ = self.ref(0, self.layout[0])
        o, _ = self.out_ref()
        reads = [i for i, op in enumerate(self.node.operands) if op.role.value != "output"]
        scale = self.ref(reads[1], self.layout[reads[1]])[0] if len(reads) > 1 else None
        bias = self.ref(reads[2], self.layout[reads[2]])[0] if len(reads) > 2 else None
        count = flit(float(math.prod(self.sizes[n] for n in axes)))
        eps = flit(self.node.attribute("epsilon", 1e-5))
        outer = tuple(n for n in self.node.loop_names if n not in axes)
        body = Writer()
        if self.node.op_type in ops.RMS_NORMS:
            body.line("float ms = 0.0f;")
            self._axis_pass(body, axes, [f"ms += {x} * {x};"])
            body.line(f"const float inv = 1.0f / std::sqrt(ms / {count} + {eps});")
            value = f"{x} * inv"
        else:
            body.line("float mean = 0.0f;")
            self._axis_pass(body, axes, [f"mean += {x};"])
            body.line(f"mean = mean / {count};")
            body.line("float var = 0.0f;")
            self._axis_pass(body, axes, [f"const float d = {x} - mean;", "var += d * d;"])
            body.line(f"const float inv = 1.0f / std::sqrt(var / {count} + {eps});")
            value = f"({x} - mean) * inv"
        if scale:
            value = f"{value} * {scale}"
        if bias:
            value = f"{value} + {bias}"
        self._axis_pass(body, axes, [f"{o} = {value};"])
        self.nest(w, outer, body.lines)

    def _axis_pass(self, w: Writer, axes: tuple[str, ...], body: list[str]) -> None:
        self.nest(w, axes, body, pipeline=True)
