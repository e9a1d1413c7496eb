"""Layout converters between castable itensor types and their minimal (ping-pong) buffers.

Rule (the shared-outer-loop reading of StreamTensor's buffer inference, cf. the ScaleHLS branch's
``ReduceFullTensorToITensorBuffer``): compare the two canonical types loop by loop from the outermost.
Loop ``p`` is *shared* when both sides have the same trip count at position ``p`` and either

* both maps use loop ``p`` only as a whole result ``d_p`` of the same data dims, with equal steps and
  equal element sizes in those dims, or
* neither map uses loop ``p`` (both repeat the enclosed stream the same number of times).

Sharing stops at the first position that is not shared. The converter is instantiated inside the shared
loops: each shared iteration fills a buffer from the source and drains it in the target's order. Its
shape is the element size along data dims driven by a shared loop and the full extent elsewhere. The
rule needs regular tilings on both sides (no overlap, no gaps); otherwise nothing is shared and the
buffer is the full tensor. Overlapping fill and drain needs two buffers (ping-pong), so
:attr:`Converter.buffer_bits` is twice one buffer.

Examples (the lecture's types): (a)->(b) shares nothing -> ``8x8``; (b)->(c) shares the outer column
loop -> ``8x2``; a 2-D transpose -> full; ``[B,M,N]`` ``(b,m,n)->(b,n,m)`` shares ``b`` -> ``[1,M,N]``.
"""

from __future__ import annotations

import math

import attrs

from stream_itensor.itype import ITensorType


class NotCastableError(ValueError):
    """The two types cannot be connected by a converter; the message says why."""


@attrs.frozen
class Converter:
    """A layout converter from ``source`` to ``target`` (canonical types) with its buffer."""

    source: ITensorType
    target: ITensorType
    buffer_shape: tuple[int, ...]
    #: Number of outermost loops shared by both types; the converter runs once per shared iteration.
    shared_loops: int
    ping_pong: bool = True

    @property
    def instances(self) -> int:
        """Fill/drain rounds: the product of the shared loops' trip counts."""
        return math.prod(self.source.tripcounts[: self.shared_loops])

    @property
    def tokens_in_per_instance(self) -> int:
        return self.source.num_tokens // self.instances

    @property
    def tokens_out_per_instance(self) -> int:
        return self.target.num_tokens // self.instances

    @property
    def buffer_elements(self) -> int:
        """Elements of one buffer."""
        return math.prod(self.buffer_shape)

    @property
    def element_bits(self) -> int:
        return self.source.element_bits

    @property
    def buffer_bits(self) -> int:
        """On-chip bits the converter needs: two buffers when ping-pong, one otherwise."""
        return (2 if self.ping_pong else 1) * self.buffer_elements * self.element_bits


def _shared_position(src: ITensorType, tgt: ITensorType, p: int) -> bool:
    if src.tripcounts[p] != tgt.tripcounts[p]:
        return False
    driven_src = _driven_data_dims(src, p)
    driven_tgt = _driven_data_dims(tgt, p)
    if driven_src is None or driven_tgt is None or driven_src != driven_tgt:
        return False
    if driven_src and src.steps[p] != tgt.steps[p]:
        return False
    return all(src.element[d] == tgt.element[d] for d in driven_src)


def _driven_data_dims(t: ITensorType, p: int) -> tuple[int, ...] | None:
    """Data dims whose result is exactly ``d_p``; ``None`` when ``d_p`` also occurs in another result."""
    driven = []
    for d, r in enumerate(t.iter_map.results):
        if p in r.dims:
            if r.single_dim != p:
                return None
            driven.append(d)
    return tuple(driven)


def infer_converter(source: ITensorType, target: ITensorType, *, ping_pong: bool = True) -> Converter:
    """The minimal converter between two castable types (see the module docstring).

    Raises :class:`NotCastableError` when the element types or full shapes differ, or when the source
    stream leaves gaps (a converter cannot create data the source never sends).
    """
    if source.dtype != target.dtype:
        raise NotCastableError(f"element types differ: {source.dtype} vs {target.dtype}")
    if source.data_shape != target.data_shape:
        raise NotCastableError(f"full shapes differ: {list(source.data_shape)} vs {list(target.data_shape)}")
    if not source.covers:
        raise NotCastableError(f"the source stream {source} does not cover its data (gaps or non-permutation map)")
    src, tgt = source.canonical(), target.canonical()
    shared = 0
    if src.is_regular and tgt.is_regular:
        while shared < min(src.num_dims, tgt.num_dims) and _shared_position(src, tgt, shared):
            shared += 1
    shape = list(src.data_shape)
    for p in range(shared):
        for d in _driven_data_dims(src, p) or ():
            shape[d] = src.element[d]
    return Converter(src, tgt, tuple(shape), shared, ping_pong)
