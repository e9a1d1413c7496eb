"""The comparison table: plain fixed-width text for the terminal, Markdown for results.md."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

Row = dict[str, Any]  # {"id", "set", "hardware", "workload", "stream": {...}, "ours": {...}}

HEADERS = (
    "set",
    "hardware",
    "workload",
    "S ok",
    "O ok",
    "S latency",
    "O latency",
    "lat O/S",
    "S energy pJ",
    "O energy pJ",
    "E O/S",
    "Ec O/S",
    "S cold s",
    "S warm s",
    "O cold s",
    "O warm s",
    "cold O/S",
    "warm O/S",
    "S nodes",
    "O nodes",
)
ERROR_CHARS = 140
#: ours counts as at most Stream's up to this relative difference: both sum the same float parts in
#: another order (2.1.1 eyeriss_like_single_core x conv_relu_flatten_gemm: 15,965,035.6 pJ on both sides,
#: the last bit apart)
SAME = 1e-9


def ratio(ours: float | None, stream: float | None) -> float | None:
    """ours / Stream, or None when either is missing or Stream's is 0."""
    if ours is None or not stream:
        return None
    return ours / stream


def _number(fmt: str) -> Callable[[Any], str]:
    return lambda value: "-" if value is None else format(value, fmt)


cycles, energy, seconds, times = _number(".0f"), _number(".3e"), _number(".1f"), _number(".2f")


def nodes(counts: dict[str, int] | None) -> str:
    """``zigzag:2 roofline:1``; ``n/a`` when the tool's outputs do not say."""
    if not counts:
        return "n/a"
    return " ".join(f"{name}:{count}" for name, count in sorted(counts.items()))


def cells(row: Row, notes: list[str]) -> list[str]:
    """One table row; each side that failed gets a ``no[k]`` mark and its error appended to ``notes``."""
    stream, ours = row.get("stream") or {}, row.get("ours") or {}

    def accepted(side: str, result: dict) -> str:
        if not result:
            return "?"
        if result.get("accepted"):
            return "yes"
        notes.append(f"[{len(notes) + 1}] {row['id']} {side}: {str(result.get('error', ''))[:ERROR_CHARS]}")
        return f"no[{len(notes)}]"

    return [
        row["set"],
        row["hardware"],
        row["workload"],
        accepted("stream", stream),
        accepted("ours", ours),
        cycles(stream.get("latency_cycles")),
        cycles(ours.get("latency_cycles")),
        times(ratio(ours.get("latency_cycles"), stream.get("latency_cycles"))),
        energy(stream.get("energy_pj")),
        energy(ours.get("energy_pj")),
        times(ratio(ours.get("energy_pj"), stream.get("energy_pj"))),
        times(ratio(ours.get("energy_stream_comparable_pj"), stream.get("energy_pj"))),
        seconds(stream.get("cold_s")),
        seconds(stream.get("warm_s")),
        seconds(ours.get("cold_s")),
        seconds(ours.get("warm_s")),
        times(ratio(ours.get("cold_s"), stream.get("cold_s"))),
        times(ratio(ours.get("warm_s"), stream.get("warm_s"))),
        nodes(stream.get("costed_nodes")) if stream.get("accepted") else "-",
        nodes(ours.get("costed_nodes")) if ours.get("accepted") else "-",
    ]


def text_table(rows: list[Row]) -> str:
    """Fixed-width columns (text left, numbers right), then the numbered error lines."""
    notes: list[str] = []
    body = [cells(row, notes) for row in rows]
    widths = [max(len(line[i]) for line in [list(HEADERS), *body]) for i in range(len(HEADERS))]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.ljust(w) if i < 3 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    out = [line(list(HEADERS)), "  ".join("-" * w for w in widths), *(line(values) for values in body)]
    return "\n".join([*out, "", *notes]).rstrip() + "\n"


def markdown_table(rows: list[Row], preamble: str) -> str:
    notes: list[str] = []
    body = [cells(row, notes) for row in rows]
    out = [preamble, "", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * 3 + "---:|" * (len(HEADERS) - 3)]
    out += ["| " + " | ".join(values) + " |" for values in body]
    out += ["", *(f"- {note}" for note in notes)]
    return "\n".join(out).rstrip() + "\n"


def headline(rows: list[Row]) -> list[str]:
    """The figures issues 13 and 16 measure, over the pairs both tools accept: latency and energy ours /
    Stream (how many at most Stream's, geometric mean), our energy as Stream counts it (without the
    parts it leaves out: ``energy_not_in_stream``) against Stream's, cold and warm wall time, roofline
    nodes."""

    def ok(row: Row, side: str) -> bool:
        return bool((row.get(side) or {}).get("accepted"))

    both = [(r["stream"], r["ours"]) for r in rows if ok(r, "stream") and ok(r, "ours")]
    accepted = {side: sum(ok(r, side) for r in rows) for side in ("stream", "ours")}
    lines = [f"pairs: {len(rows)}; Stream accepts {accepted['stream']}, ours {accepted['ours']}, both {len(both)}"]

    def summary(name: str, key: str, stream_key: str | None = None) -> None:
        found = [ratio(o.get(key), s.get(stream_key or key)) for s, o in both]
        values = [v for v in found if v is not None and v > 0]
        if values:
            at_most = sum(v <= 1 + SAME for v in values)
            near = sum(v <= 1.05 for v in values)
            geo = statistics.geometric_mean(values)
            lines.append(
                f"{name} ours/Stream: at most Stream's on {at_most} of {len(values)}, within 5 % on {near}, "
                f"geometric mean {geo:.3f}"
            )

    summary("latency", "latency_cycles")
    summary("energy", "energy_pj")
    summary("energy as Stream counts it", "energy_stream_comparable_pj", "energy_pj")
    colds = [v for s, o in both if (v := ratio(o.get("cold_s"), s.get("cold_s")))]
    if colds:
        geo = statistics.geometric_mean(colds)
        lines.append(f"cold ours/Stream: geometric mean {geo:.3f}, slower than Stream on {sum(v > 1 for v in colds)}")
    warms = sorted(o["warm_s"] for _, o in both if o.get("warm_s"))
    if warms:
        lines.append(
            f"warm rerun (ours): median {statistics.median(warms):.2f} s, over 0.5 s on {sum(w > 0.5 for w in warms)}, "
            f"slowest {warms[-1]:.2f} s"
        )
    costed = [o.get("costed_nodes") or {} for _, o in both]
    lines.append(
        f"roofline nodes (ours): {sum(c.get('roofline', 0) for c in costed)} of {sum(sum(c.values()) for c in costed)}"
    )
    return lines
