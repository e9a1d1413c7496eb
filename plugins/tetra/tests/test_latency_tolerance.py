"""``tetra.latency_tolerance``: schedules within ``floor((1 + x) * shortest)`` cycles of the shortest
count as equally fast and the cheaper one wins, in the MILP, the refinement and against greedy.

Workload and hardware of ``test_multicast.conv_rows``: a 3x3 convolution of a 1x4x4 int8 x split by
output rows over cores 0 and 1, each part reading three rows (96 bits), DRAM (core 2) on its own
8 bit/cycle link to each core. w (72 bits) goes to both at once in 9 cycles. x as two unicasts takes
12 cycles (both links at once), as one multicast of the hull (128 bits) 16. The convolution takes 18
cycles and its output halves (64 bits each) 8 cycles back: 9 + 12 + 18 + 8 = 47 cycles at
2 x 96 x 1.1 + 72 x 1.2 + 2 x 64 x 1.1 = 438.4 pJ of memory energy, or 9 + 16 + 18 + 8 = 51 cycles
at 128 x 1.0 + 2 x 96 x 0.1 + 86.4 + 140.8 = 374.4 pJ with the multicast (read once, each core
writing the three rows it keeps).
"""

from __future__ import annotations

import pytest
from stream_tetra.allocator import _better
from stream_tetra.settings import TetraSettings
from test_multicast import LINKS, conv_rows
from tetra_helpers import core

from stream_core import RunOptions, run
from stream_core.context import RunContext
from stream_core.errors import InputError
from stream_core.testing import check_schedule


def schedule(plugins, hardware, tolerance: float, greedy: bool = False):
    workload, rows = conv_rows()
    options = RunOptions(settings={"tetra.greedy": greedy, "tetra.latency_tolerance": tolerance})
    outcome = run(workload, hardware([core("a"), core("b")], LINKS), rows, plugins=plugins, options=options)
    assert check_schedule(outcome.result, outcome.problem) == []
    return outcome.result


def x_bits(result) -> list[int]:
    return sorted(t.bits for t in result.transfers if t.tensor == "x")


@pytest.mark.parametrize(
    ("tolerance", "latency", "energy", "x"),
    [
        (0.0, 47, 438.4, [96, 96]),  # latency first
        (0.08, 47, 438.4, [96, 96]),  # cap floor(47 x 1.08) = 50 < 51
        (0.09, 51, 374.4, [128]),  # cap floor(47 x 1.09) = 51: the multicast's 4 cycles are tolerated
    ],
)
def test_the_multicast_is_kept_when_its_latency_is_within_the_tolerance(
    plugins, hardware, tolerance, latency, energy, x
):
    result = schedule(plugins, hardware, tolerance)
    assert result.totals.latency == latency
    assert result.totals.memory_energy_pj == pytest.approx(energy)
    assert x_bits(result) == x


def test_greedy_shorter_within_the_tolerance_but_dearer_loses(plugins, hardware):
    """Greedy's 47 cycles (x unicast) are within 10 % of 51 and cost more: TETRA's multicast stays."""
    result = schedule(plugins, hardware, 0.1, greedy=True)
    stats = dict(result.groups[0].stats)
    assert (stats["schedule"], stats["schedules"]["greedy"], result.totals.latency) == ("uniform", 47, 51)
    assert result.totals.memory_energy_pj == pytest.approx(374.4)
    assert stats["realised"].endswith(
        "kept over the shorter greedy for less energy, within tetra.latency_tolerance 10%"
    )
    assert "latency within 10% of its optimum (tetra.latency_tolerance)" in stats["proven"]


def settings_of(plugins, **values: str) -> TetraSettings:
    return TetraSettings.from_context(RunContext(plugins=plugins, options=RunOptions(settings=values)))


def test_the_tolerance_setting_and_its_cap(plugins):
    assert TetraSettings().latency_tolerance == 0.02  # the default
    assert settings_of(plugins, **{"tetra.latency_tolerance": "0"}).latency_cap(47) == 47
    two = settings_of(plugins, **{"tetra.latency_tolerance": "0.02"})
    assert (two.latency_cap(47), two.latency_cap(9_560)) == (47, 9_751)  # floor(47.94), floor(9,751.2)
    tolerant = settings_of(plugins, **{"tetra.latency_tolerance": "0.05"})
    assert (tolerant.latency_cap(100), tolerant.latency_cap(47)) == (105, 49)


def test_the_cap_is_taken_of_the_time_with_the_drain_that_follows():
    """14 cycles of schedule then 189 of systolic drain (2.1.1 tpu_v7_ironwood resnet_frontend's group):
    2 % of the 203 cycles a user sees is 4, so 18 cycles count as fast as 14; without the drain, 14."""
    settings = TetraSettings()
    assert (settings.latency_cap(14), settings.latency_cap(14, 189)) == (14, 18)  # floor(207.06) - 189
    assert _better((18, 1.0), (14, 2.0), settings, 189) and not _better((18, 1.0), (14, 2.0), settings, 0)
    assert not _better((19, 1.0), (14, 2.0), settings, 189)
    slack, rel = settings.latency_slack(189)  # the MILP's tolerance: 14 + 0.5 + 0.02 x 189 + 0.02 x 14
    assert int(14 + slack + rel * 14) == settings.latency_cap(14, 189)


@pytest.mark.parametrize("raw", ["-0.1", "inf", "nan", "five"])
def test_a_bad_tolerance_names_the_setting(plugins, raw):
    with pytest.raises(InputError) as error:
        settings_of(plugins, **{"tetra.latency_tolerance": raw})
    assert "tetra.latency_tolerance" in str(error.value) and "fraction >= 0" in str(error.value)
