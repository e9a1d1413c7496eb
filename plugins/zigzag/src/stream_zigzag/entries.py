"""Spellings of the comma-pair items of ZigZag/Stream YAML: ``"I1, tl"`` and ``"K, 16"``.

YAML turns the same text into different values depending on the style (``stream_inputs.md`` §3.3):

* block style ``- I1, tl`` or quoted ``["I1, tl"]``: one string containing a comma;
* an inner flow list ``- [I1, tl]``: a two-element list;
* a bare flow list ``[I1, tl]`` or ``[I1, fh, I1, tl]``: the items split into separate tokens.

:func:`pair_items` turns all of these into ``(first, second, index)`` triples (``index`` is the position
of the item in the list, for error messages), so callers validate one shape.
"""

from __future__ import annotations

from typing import Any

Pair = tuple[str, Any, int]


def _is_token(value: Any) -> bool:
    return (isinstance(value, str) and "," not in value) or (isinstance(value, int) and not isinstance(value, bool))


def pair_items(value: Any) -> tuple[list[Pair], list[tuple[int, Any]]]:
    """Split a list of comma pairs into ``(first, second, index)`` triples and the malformed items.

    A scalar string is read as a one-item list. A list made only of bare tokens (no commas) with an even
    length is read as consecutive pairs: that is what YAML makes of an unquoted flow list.
    """
    items = [value] if isinstance(value, str) else list(value)
    if items and len(items) % 2 == 0 and all(_is_token(i) for i in items):
        return [(str(items[i]).strip(), _scalar(items[i + 1]), i) for i in range(0, len(items), 2)], []
    pairs: list[Pair] = []
    bad: list[tuple[int, Any]] = []
    for index, item in enumerate(items):
        if isinstance(item, str) and item.count(",") == 1:
            first, second = item.split(",")
            pairs.append((first.strip(), _scalar(second.strip()), index))
        elif isinstance(item, list | tuple) and len(item) == 2 and all(_is_token(x) for x in item):
            pairs.append((str(item[0]).strip(), _scalar(item[1]), index))
        else:
            bad.append((index, item))
    return pairs, bad


def _scalar(value: Any) -> Any:
    """``"16"`` -> 16; other strings are stripped; numbers pass through."""
    if isinstance(value, str):
        text = value.strip()
        return int(text) if text.isdigit() else text
    return value
