"""Sliding-window attributes shared by Conv, ConvTranspose and the pools."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import onnx

from stream_onnx.graph import GraphView


@attrs.frozen
class Window:
    """Per spatial axis (ONNX order: H before W): kernel, stride, dilation and padding."""

    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads_begin: tuple[int, ...]
    pads_end: tuple[int, ...]

    @property
    def attributes(self) -> dict[str, tuple[int, ...]]:
        return {
            "kernel_shape": self.kernel,
            "strides": self.strides,
            "dilations": self.dilations,
            "pads": self.pads_begin + self.pads_end,
        }


def read_window(
    node: onnx.NodeProto,
    graph: GraphView,
    in_sizes: Sequence[int],
    out_sizes: Sequence[int],
    kernel: Sequence[int] | None = None,
    *,
    same_allowed: bool = True,
) -> Window:
    """The window of ``node``. ``kernel`` defaults to the ``kernel_shape`` attribute. ``auto_pad``
    ``SAME_UPPER``/``SAME_LOWER`` pads ``(out-1)*stride + (k-1)*dilation + 1 - in`` in total, the
    extra element at the end (UPPER) or the beginning (LOWER); ``VALID`` pads nothing."""
    spatial = len(in_sizes)
    attributes = graph.attributes(node)
    kernel = tuple(int(k) for k in attributes.get("kernel_shape", kernel or ()))
    strides = tuple(int(s) for s in attributes.get("strides", [1] * spatial))
    dilations = tuple(int(d) for d in attributes.get("dilations", [1] * spatial))
    for name, values in (("kernel_shape", kernel), ("strides", strides), ("dilations", dilations)):
        if len(values) != spatial or any(v < 1 for v in values):
            raise graph.error(node, f"expected {spatial} positive values, got {list(values)}", attribute=name)
    auto_pad = attributes.get("auto_pad", "NOTSET") or "NOTSET"
    if auto_pad == "NOTSET":
        pads = tuple(int(p) for p in attributes.get("pads", [0] * 2 * spatial))
        if len(pads) != 2 * spatial or any(p < 0 for p in pads):
            raise graph.error(node, f"expected {2 * spatial} non-negative values, got {list(pads)}", attribute="pads")
        begin, end = pads[:spatial], pads[spatial:]
    elif auto_pad == "VALID":
        begin = end = (0,) * spatial
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER") and same_allowed:
        totals = [
            max(0, (o - 1) * s + (k - 1) * d + 1 - i)
            for i, o, k, s, d in zip(in_sizes, out_sizes, kernel, strides, dilations, strict=True)
        ]
        begin = tuple(t // 2 if auto_pad == "SAME_UPPER" else t - t // 2 for t in totals)
        end = tuple(t - b for t, b in zip(totals, begin, strict=True))
    else:
        allowed = "NOTSET, VALID, SAME_UPPER or SAME_LOWER" if same_allowed else "NOTSET (explicit pads) or VALID"
        raise graph.error(node, f"auto_pad {auto_pad!r} is not supported; expected {allowed}", attribute="auto_pad")
    return Window(kernel, strides, dilations, begin, end)
