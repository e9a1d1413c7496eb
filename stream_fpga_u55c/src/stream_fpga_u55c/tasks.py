"""C++ of the data-movement tasks: HBM loads and stores, and the two halves of a layout converter.

* ``load``: reads a tensor from HBM (``m_axi``) token by token in the consumer port's itensor order and
  pushes each token as 512-bit words;
* ``store``: pops the producer's output tokens and writes them to HBM at their offsets;
* converter ``fill``: per instance (iteration of the loops both itensor types share) acquires a block of
  the ``hls::stream_of_blocks`` (waits while every buffer is in use), writes the source tokens into it and
  commits it;
* converter ``drain``: acquires the oldest committed block and reads the target tokens out of it in the
  target order (repeated streams read the same data again). The instance's last token is copied out and
  the block released before that token is written, as in the token model (a buffer is freed when the
  last drain firing starts).
"""

from __future__ import annotations

from stream_itensor.api import Converter, ITensorType

from stream_fpga_u55c.cpp import Writer, flat_index, subscript
from stream_fpga_u55c.design import Design, Group, Stream, Task
from stream_fpga_u55c.kernels import plus, read_call, stream_type, write_call
from stream_fpga_u55c.layout import token_offsets


def _element_loops(element: tuple[int, ...]) -> tuple[list[str], list[tuple[str, str, str]]]:
    evars, fors = [], []
    for d, n in enumerate(element):
        if n == 1:
            evars.append("0")
        else:
            evars.append(f"e{d}")
            fors.append((f"e{d}", "0", str(n)))
    return evars, fors


def _token_loops(
    itype: ITensorType, first: int = 0, last: int | None = None
) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Index variables of all itensor loops (``0`` for trip count 1) and the ``for`` triples of loops
    ``first`` to ``last - 1``."""
    last = itype.num_dims if last is None else last
    index, fors = [], []
    for k, trips in enumerate(itype.tripcounts):
        if not first <= k < last or trips == 1:
            index.append("0" if trips == 1 else f"t{k}")
            continue
        index.append(f"t{k}")
        fors.append((f"t{k}", "0", str(trips)))
    return index, fors


def emit_load(w: Writer, design: Design, group: Group, task: Task) -> None:
    kernel = design.kernel(task.kernel)
    port = next(p for p in kernel.inputs if p.operand == task.port)
    arg = next(a for a in group.args if a.name == task.arg)
    tensor = design.tensor(arg.tensor)
    stream = group.stream(task.outs[0])
    itype = port.itype
    n = itype.element_count
    w.line(
        f'// Load "{tensor.name}" from HBM[{tensor.pc}] in the order of operand {port.operand} of kernel {task.kernel}:'
    )
    w.line(f"//   {itype}: {itype.num_tokens} token(s) of {n} float(s)")
    with w.block(f"static void {task.name}(const float* mem, {stream_type(stream)} {stream.name})"):
        _copy_tokens(w, itype, tensor.shape, stream, load=True)


def emit_store(w: Writer, design: Design, group: Group, task: Task) -> None:
    kernel = design.kernel(task.kernel)
    arg = next(a for a in group.args if a.name == task.arg)
    tensor = design.tensor(arg.tensor)
    stream = group.stream(task.ins[0])
    itype = kernel.output.itype
    w.line(f'// Store "{tensor.name}" to HBM[{tensor.pc}] from the output tokens of kernel {task.kernel}:')
    w.line(f"//   {itype}: {itype.num_tokens} token(s) of {itype.element_count} float(s)")
    with w.block(f"static void {task.name}({stream_type(stream)} {stream.name}, float* mem)"):
        _copy_tokens(w, itype, tensor.shape, stream, load=False)


def _copy_tokens(w: Writer, itype: ITensorType, shape: tuple[int, ...], stream: Stream, *, load: bool) -> None:
    n = itype.element_count
    index, fors = _token_loops(itype)
    offsets = token_offsets(itype.iter_map.results, itype.steps, index)
    evars, efors = _element_loops(itype.element)
    address = flat_index([plus(o, e) for o, e in zip(offsets, evars, strict=True)], shape)
    flat = flat_index(evars, itype.element)
    with w.loops(fors):
        w.line(f"float tok[{n}];")
        if not load:
            w.line(read_call(stream, n, "tok"))
        with w.loops(efors, ["pipeline II=1"]):
            w.line(f"tok[{flat}] = mem[{address}];" if load else f"mem[{address}] = tok[{flat}];")
        if load:
            w.line(write_call(stream, n, "tok"))


def block_type(stream: Stream) -> str:
    return f"{stream.name}_t"


def emit_block_typedef(w: Writer, stream: Stream) -> None:
    dims = "".join(f"[{n}]" for n in stream.block_shape)
    w.line(f"typedef float {block_type(stream)}{dims};  // one instance buffer of {stream.name}")


def _blocks_param(stream: Stream) -> str:
    return f"hls::stream_of_blocks<{block_type(stream)}, {stream.depth}>& {stream.name}"


def _buffer_index(conv: Converter, itype: ITensorType, gs: list[str], evars: list[str]) -> list[str]:
    """Block index per data dim: tile-local for dims driven by a shared loop, the data index otherwise."""
    out = []
    for d, result in enumerate(itype.iter_map.results):
        k = result.single_dim
        out.append(evars[d] if k is not None and k < conv.shared_loops else gs[d])
    return out


def _converter_comment(w: Writer, design: Design, task: Task, blocks: Stream) -> None:
    edge = design.edge(task.edge)
    conv = edge.converter
    assert conv is not None
    shape = "x".join(str(n) for n in conv.buffer_shape)
    w.line(f"// Layout converter ({task.kind}) on edge {edge.name}:")
    w.line(f"//   from {edge.source}")
    w.line(f"//   to   {edge.target}")
    w.line(
        f"//   {blocks.depth} buffer(s) of {shape} floats, {conv.instances} instance(s) "
        f"({conv.shared_loops} shared outer loop(s))"
    )


def emit_fill(w: Writer, design: Design, group: Group, task: Task) -> None:
    conv = design.edge(task.edge).converter
    assert conv is not None
    src_stream, blocks = group.stream(task.ins[0]), group.stream(task.outs[0])
    src = conv.source
    _converter_comment(w, design, task, blocks)
    n = src.element_count
    with w.block(f"static void {task.name}({stream_type(src_stream)} {src_stream.name}, {_blocks_param(blocks)})"):
        _, shared_fors = _token_loops(src, 0, conv.shared_loops)
        index, fors = _token_loops(src, conv.shared_loops)
        with w.loops(shared_fors):
            w.line(f"hls::write_lock<{block_type(blocks)}> block({blocks.name});")
            with w.loops(fors):
                w.line(f"float tok[{n}];")
                w.line(read_call(src_stream, n, "tok"))
                offsets = token_offsets(src.iter_map.results, src.steps, index)
                evars, efors = _element_loops(src.element)
                gs = [plus(o, e) for o, e in zip(offsets, evars, strict=True)]
                target = f"block{subscript(_buffer_index(conv, src, gs, evars))}"
                with w.loops(efors, ["pipeline II=1"]):
                    w.line(f"{target} = tok[{flat_index(evars, src.element)}];")


def emit_drain(w: Writer, design: Design, group: Group, task: Task) -> None:
    conv = design.edge(task.edge).converter
    assert conv is not None
    blocks, dst_stream = group.stream(task.ins[0]), group.stream(task.outs[0])
    tgt = conv.target
    _converter_comment(w, design, task, blocks)
    n = tgt.element_count
    with w.block(f"static void {task.name}({_blocks_param(blocks)}, {stream_type(dst_stream)} {dst_stream.name})"):
        _, shared_fors = _token_loops(tgt, 0, conv.shared_loops)
        index, fors = _token_loops(tgt, conv.shared_loops)
        offsets = token_offsets(tgt.iter_map.results, tgt.steps, index)
        evars, efors = _element_loops(tgt.element)
        gs = [plus(o, e) for o, e in zip(offsets, evars, strict=True)]
        source = f"block{subscript(_buffer_index(conv, tgt, gs, evars))}"
        flat = flat_index(evars, tgt.element)
        with w.loops(shared_fors):
            w.line(f"float held[{n}];  // the instance's last token, written once the buffer is released")
            with w.scope("the buffer is held while this scope lives"):
                w.line(f"hls::read_lock<{block_type(blocks)}> block({blocks.name});")
                if not fors:
                    with w.loops(efors, ["pipeline II=1"]):
                        w.line(f"held[{flat}] = {source};")
                else:
                    last = " && ".join(f"{var} == {hi} - 1" for var, _, hi in fors)
                    with w.loops(fors):
                        w.line(f"float tok[{n}];")
                        with w.loops(efors, ["pipeline II=1"]):
                            w.line(f"tok[{flat}] = {source};")
                        with w.block(f"if ({last})"), w.loops([("i", "0", str(n))]):
                            w.line("held[i] = tok[i];")
                        with w.block("else"):
                            w.line(write_call(dst_stream, n, "tok"))
            w.line(write_call(dst_stream, n, "held"))
