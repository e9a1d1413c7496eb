"""The ``block`` workload parser: a ``.block`` file names a block and its parameters.

The file is YAML, ``block: llama`` plus integer parameters (``d: 4096``), or holds one spec line
(``llama?d=4096&t=128``). A path that is itself a spec (``block:llama?d=4096``) is read as one, for
a core that hands such workload arguments to the parser (see the README).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stream_blocks.api import PREFIX, build, split_spec
from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir import Workload
from stream_core.yamlio import load_yaml, type_name


class BlockFileParser:
    """Reads ``.block`` files and ``block:`` specs."""

    def parse(self, path: Path, context: RunContext) -> Workload:
        text = str(path)
        name, given = split_spec(text) if text.startswith(PREFIX) else read_block_file(path)
        return build(context.plugins.registry("blocks").get(name), given, context, text)


def read_block_file(path: Path) -> tuple[str, dict[str, Any]]:
    """The block name and parameters a ``.block`` file gives."""
    file = str(path)
    data = load_yaml(path, expected="a block file (YAML 'block: NAME' and parameters, or NAME?key=value&...)")
    if isinstance(data, str):
        return split_spec(data, file)
    if not isinstance(data, dict) or not isinstance(data.get("block"), str):
        found = type_name(data) if not isinstance(data, dict) else f"block: {type_name(data.get('block'))}"
        raise InputError(
            Problem(f"expected 'block: NAME' and integer parameters, got {found}", file=file, field="block")
        )
    parameters = {str(k): v for k, v in data.items() if k != "block"}
    return data["block"], parameters
