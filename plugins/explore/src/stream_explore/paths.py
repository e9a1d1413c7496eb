"""Parameter paths: where a sweep parameter writes its value.

``PATH := [TARGET ":"] KEYS``

* no target: ``KEYS`` into the accelerator file (``core_connectivity.0.bandwidth``);
* ``cores.SEL``: ``KEYS`` into the core file of each selected core, ``SEL`` being ``*`` (every core),
  ids (``0``, ``0,2``, ``0-3``) or a core ``name`` (every core whose file says ``name: tpu_like``);
* ``option``: a run option (``option:allocator``, see :data:`OPTIONS`);
* ``set``: a plugin setting, as ``--set`` gives it (``set:zigzag.lpf_limit``).

``KEYS`` are dot-separated; a key of digits indexes a list or an integer-keyed mapping.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

#: Run options a parameter may vary (``stream_core.RunOptions`` fields).
OPTIONS = ("allocator", "mapper", "cost_model", "solver", "time_limit", "strict_costs")
RANGE = re.compile(r"^(\d+)-(\d+)$")


@attrs.frozen
class ParamPath:
    """A parsed path: ``target`` is ``accelerator``, ``cores``, ``option`` or ``set``."""

    target: str
    keys: tuple[str, ...]
    selector: str = ""

    @property
    def text(self) -> str:
        head = {"accelerator": "", "cores": f"cores.{self.selector}:", "option": "option:", "set": "set:"}
        return head[self.target] + ".".join(self.keys)


def parse_path(text: Any) -> ParamPath:
    """Parse a path; ``ValueError`` says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected a path such as 'cores.0:operational_array.sizes', got {text!r}")
    head, sep, rest = text.strip().partition(":")
    if not sep:
        return ParamPath("accelerator", _keys(head))
    if head in ("option", "set"):
        if head == "option" and rest not in OPTIONS:
            raise ValueError(f"unknown run option {rest!r}; expected one of {', '.join(OPTIONS)}")
        if not rest:
            raise ValueError(f"'{head}:' needs a name after the colon")
        return ParamPath(head, (rest,))
    if head.startswith("cores.") and head[6:]:
        return ParamPath("cores", _keys(rest), head[6:])
    raise ValueError(f"unknown target {head!r}; expected 'cores.<ids or name>', 'option' or 'set' before ':'")


def _keys(text: str) -> tuple[str, ...]:
    keys = tuple(text.split("."))
    if not all(keys):
        raise ValueError(f"empty key in {text!r}")
    return keys


def select_cores(selector: str, names: dict[int, str]) -> list[int]:
    """Core ids a selector picks, given each core's ``name``; ``ValueError`` when it picks none."""
    if selector == "*":
        return sorted(names)
    if all(part.strip().isdigit() for part in selector.split(",")):
        ids = [int(part) for part in selector.split(",")]
    elif match := RANGE.match(selector):
        ids = list(range(int(match[1]), int(match[2]) + 1))
    else:
        ids = sorted(i for i, name in names.items() if name == selector)
        if not ids:
            raise ValueError(f"no core is named {selector!r} (names: {', '.join(sorted(set(names.values())))})")
        return ids
    missing = [i for i in ids if i not in names]
    if missing:
        raise ValueError(f"cores {missing} are not in the accelerator (ids: {sorted(names)})")
    return ids


def set_value(data: Any, keys: tuple[str, ...], value: Any) -> None:
    """Write ``value`` at ``keys`` in YAML data. Every key but the last must exist; the last may be new
    in a mapping. ``ValueError`` names the first key that does not fit."""
    node = data
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        where = ".".join(keys[: depth + 1])
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ValueError(f"{where}: expected an index below {len(node)}")
            if last:
                node[int(key)] = value
            else:
                node = node[int(key)]
        elif isinstance(node, dict):
            actual: Any = int(key) if key.isdigit() and int(key) in node else key
            if last:
                node[actual] = value
            elif actual in node:
                node = node[actual]
            else:
                raise ValueError(f"{where}: no such key (keys: {', '.join(map(str, node))})")
        else:
            raise ValueError(f"{where}: cannot index into a {type(node).__name__}")
