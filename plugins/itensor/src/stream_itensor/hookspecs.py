"""The hook stream-itensor owns (added through ``stream_add_hookspecs``; light to import).

A code generator's plugin registers how its targets look to stream-itensor: functions marked
``@hookimpl`` named ``stream_register_itensor_targets`` yield :class:`ITensorTargetRecord` items named
after the code generator; the factory returns ``view(file, context) -> Target``. ``stream fifo-size
--target NAME`` then plans a registered target whose code generator has a view exactly as that code
generator does (its kernel timing and group check), instead of reading the file's ``itensor:`` section.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from stream_core.context import RunContext
from stream_core.hookspecs import registration_hookspec
from stream_core.records import PluginRecord

if TYPE_CHECKING:
    from stream_itensor.target import Target

TargetView = Callable[[Path, RunContext], "Target"]


@attrs.frozen(kw_only=True)
class ITensorTargetRecord(PluginRecord[TargetView]):
    """The itensor view of the targets of one code generator (``name`` = the code generator's name)."""


@registration_hookspec(ITensorTargetRecord, "itensor target view")
def stream_register_itensor_targets() -> Iterable[ITensorTargetRecord]:
    """Register the itensor view of a code generator's targets (hardware file -> :class:`Target`).

    Returns: :class:`ITensorTargetRecord` items. Kind ``itensor_targets``.
    """
    return ()
