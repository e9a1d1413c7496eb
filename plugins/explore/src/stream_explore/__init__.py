"""stream-explore: design-space exploration for stream-core (``stream explore``).

Public API: :func:`explore` (run a sweep, get its table), :func:`show` (the front of a stored sweep),
:func:`load_sweep`, :func:`pareto_front` and the area model (:func:`accelerator_area`).
"""

from stream_explore.api import explore, show
from stream_explore.area import AreaModel, accelerator_area, area_model
from stream_explore.pareto import front as pareto_front
from stream_explore.sweep import Sweep, load_sweep, sweep_from_data

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
