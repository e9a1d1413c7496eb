"""stream-explore: design-space exploration for stream-core (``stream explore``).

Public API: :func:`explore` (run a sweep, get its table), :func:`show` (the front of a stored sweep),
:func:`load_sweep`, :func:`pareto_front` and the area model (:func:`accelerator_area`). Loaded on
first use, so that discovering the plugin (``stream plugins``, every run) imports none of it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stream_explore.api import explore, show
    from stream_explore.area import AreaModel, accelerator_area, area_model
    from stream_explore.pareto import front as pareto_front
    from stream_explore.sweep import Sweep, load_sweep, sweep_from_data

_WHERE = {
    "explore": ("api", "explore"),
    "show": ("api", "show"),
    "AreaModel": ("area", "AreaModel"),
    "accelerator_area": ("area", "accelerator_area"),
    "area_model": ("area", "area_model"),
    "pareto_front": ("pareto", "front"),
    "Sweep": ("sweep", "Sweep"),
    "load_sweep": ("sweep", "load_sweep"),
    "sweep_from_data": ("sweep", "sweep_from_data"),
}

__all__ = [
    "AreaModel",
    "Sweep",
    "accelerator_area",
    "area_model",
    "explore",
    "load_sweep",
    "pareto_front",
    "show",
    "sweep_from_data",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'stream_explore' has no attribute {name!r}")
    module, attribute = _WHERE[name]
    return getattr(importlib.import_module(f"stream_explore.{module}"), attribute)
