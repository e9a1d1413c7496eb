"""Stream 2.1.1's ``reconfiguration`` block: read, checked, and the dispatch cycles it implies."""

from __future__ import annotations

import pytest
from aie_helpers import aie_core
from stream_cores_aie.reconfiguration import Reconfiguration, read_reconfiguration

from stream_core.errors import InputError
from stream_core.ir import Accelerator


def accelerator(**annotations) -> Accelerator:
    return Accelerator(name="acc", cores={0: aie_core()}, links=(), source="acc.yaml", annotations=annotations)


def test_block_is_read_with_zero_defaults():
    assert read_reconfiguration(accelerator()) is None
    assert read_reconfiguration(accelerator(reconfiguration={"cycles_per_column": 250})) == Reconfiguration(250, 0)


def test_dispatch_cycles_only_with_several_groups():
    reconf = Reconfiguration(cycles_per_column=100, reset_cycles=7)
    assert reconf.dispatch_cycles([4]) == 0  # one group: nothing to reconfigure
    assert reconf.dispatch_cycles([4, 2, 1]) == 7 * 100 + 7


def test_bad_values_name_the_field():
    with pytest.raises(InputError) as info:
        read_reconfiguration(accelerator(reconfiguration={"cycles_per_column": -1, "reset_cycles": "soon"}))
    assert {(p.file, p.field) for p in info.value.problems} == {
        ("acc.yaml", "reconfiguration.cycles_per_column"),
        ("acc.yaml", "reconfiguration.reset_cycles"),
    }
