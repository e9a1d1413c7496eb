"""Stream 2.1.1 accelerator fields with their meaning: core-file search, kernel library, bandwidth
maps, reconfiguration, shared memories, memory aliases and the core files' own notes.

Toy cores (tests/fixtures/example_plugin): ``little`` holds 4096 bits, ``dram`` 10**9; every file
here is written by the test itself.
"""

from __future__ import annotations

import math
from pathlib import Path

import attrs
import pytest
import yaml
from core_test_support import TOY_COMPUTE, TOY_DRAM, write_yaml
from stream_example_plugin.core import ToyCoreType

from stream_core import hookimpl, run
from stream_core.errors import InputError
from stream_core.hardware import load_accelerator
from stream_core.ir import FusedGroup, Mapping, NodeMapping
from stream_core.ir.accelerator import BandwidthModel
from stream_core.ir.result import TransferRecord
from stream_core.records import CoreTypeRecord
from stream_core.testing import check_schedule, make_plugins, relu_chain


def accelerator(folder: Path, **fields) -> Path:
    """Cores 0, 1 (``little``) and 2 (``dram``) on one 32-bit bus, plus ``fields``."""
    write_yaml(folder / "cores" / "little.yaml", TOY_COMPUTE)
    write_yaml(folder / "cores" / "dram.yaml", TOY_DRAM)
    data = {
        "name": "acc211",
        "cores": {0: "little.yaml", 1: "little.yaml", 2: "dram.yaml"},
        "offchip_core_id": 2,
        "core_connectivity": [{"type": "bus", "cores": [0, 1, 2], "bandwidth": 32}],
        **fields,
    }
    return write_yaml(folder / "acc.yaml", data)


def problems_of(path: Path, plugins) -> list[str]:
    with pytest.raises(InputError) as info:
        load_accelerator(path, plugins)
    return [f"{p.field}: {p.message}" for p in info.value.problems]


MODEL = {"ceiling": 100, "contiguous": 16, "strided": {"read": {32: 4, 64: 8}}}


def test_every_211_field_is_accepted_kept_and_noted(tmp_path, toy_plugins):
    (tmp_path / "kernels").mkdir()
    (tmp_path / "kernels" / "lib.toml").write_text("[family.matmul]\nops_per_cycle = 64\n")
    fields = {
        "kernel_library": "../kernels/lib.toml",
        "bandwidth": {0: MODEL, "1.sram.rw_port": {"ceiling": 8, "contiguous": 8, "burst": 32}},
        "reconfiguration": {"cycles_per_column": 40000, "reset_cycles": 63000},
        "memory_aliases": [["0.sram", "1.sram"]],
        "technology_node": "n3",
    }
    acc = load_accelerator(accelerator(tmp_path / "hw", **fields), toy_plugins)
    assert acc.annotations["kernel_library"] == (tmp_path / "kernels" / "lib.toml").resolve()
    for key in ("bandwidth", "reconfiguration", "memory_aliases", "technology_node"):
        assert acc.annotations[key] == fields[key]
    assert acc.core_bandwidth == {0: BandwidthModel(100.0, 16.0, {"read": {32: 4.0, 64: 8.0}})}
    assert acc.notes == (
        "bandwidth.0: each transfer from or to core 0 takes at least bits / (contiguous x efficiency); "
        "the ceiling that concurrent transfers share is not modelled",
        "bandwidth.1.sram.rw_port: port rates not modelled; link bandwidths apply",
        "reconfiguration: not modelled (Stream 2.1.1 adds it between fused groups on aie2)",
        "memory_aliases: kept, not modelled (Stream 2.1.1 uses them for its hardware cost report and merges "
        "the aliases' ports); memory names are not checked against the core files",
        "technology_node: kept, not modelled (Stream uses it only for its hardware cost report)",
    )


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"bandwidth": [1]}, "bandwidth: expected a mapping from a core id or '<core>.<memory>.<port>'"),
        ({"bandwidth": {"core0": MODEL}}, "bandwidth.core0: expected a core id or '<core id>.<memory>.<port>'"),
        ({"bandwidth": {7: MODEL}}, "bandwidth.7: core 7 is not defined in 'cores' (defined: 0, 1, 2)"),
        ({"bandwidth": {"9.sram.rw": MODEL}}, "bandwidth.9.sram.rw: core 9 is not defined in 'cores'"),
        (
            {"bandwidth": {0: MODEL, "0.sram.rw": MODEL}},
            "bandwidth.0.sram.rw: core 0 already has a measured core bandwidth (bandwidth.0); use one kind",
        ),
        ({"bandwidth": {0: 16}}, "bandwidth.0: expected a mapping with ceiling, contiguous, strided, burst"),
        (
            {"bandwidth": {0: {**MODEL, "ceiling": 0}}},
            "bandwidth.0.ceiling: expected a positive number of bits per cycle, got 0",
        ),
        ({"bandwidth": {0: {"ceiling": 1}}}, "bandwidth.0.contiguous: missing required field"),
        (
            {"bandwidth": {0: {**MODEL, "burst": 0}}},
            "bandwidth.0.burst: expected a positive whole number of bytes, got 0",
        ),
        (
            {"bandwidth": {0: {**MODEL, "burst": 2.5}}},
            "bandwidth.0.burst: expected a positive whole number of bytes, got 2.5",
        ),
        (
            {"bandwidth": {0: {**MODEL, "strided": {"up": {}}}}},
            "bandwidth.0.strided.up: unknown direction; expected read or write",
        ),
        (
            {"bandwidth": {0: {**MODEL, "strided": {"read": {32: -1}}}}},
            "bandwidth.0.strided.read.32: expected a positive number of bits per cycle, got -1",
        ),
        (
            {"bandwidth": {0: {**MODEL, "strided": {"write": {"wide": 3}}}}},
            "bandwidth.0.strided.write.wide: a span must be a positive whole number of bytes",
        ),
        (
            {"bandwidth": {0: {**MODEL, "contigous": 3}}},
            "bandwidth.0.contigous: unknown key; expected one of ceiling, contiguous, strided, burst",
        ),
        ({"kernel_library": 5}, "kernel_library: expected the path of a kernel library file, got 5"),
        (
            {"cores": {0: " ", 1: "little.yaml", 2: "dram.yaml"}},
            "cores.0: expected a core file name or an inline core mapping, got ' '",
        ),
        ({"reconfiguration": 3}, "reconfiguration: expected a mapping (cycles_per_column, reset_cycles)"),
        (
            {"reconfiguration": {"cycles_per_column": -1}},
            "reconfiguration.cycles_per_column: expected a non-negative whole number of cycles, got -1",
        ),
        (
            {"reconfiguration": {"reset_cycles": 1.5}},
            "reconfiguration.reset_cycles: expected a non-negative whole number of cycles, got 1.5",
        ),
        ({"memory_aliases": "0.sram"}, "memory_aliases: expected a list of groups of '<core id>.<memory>'"),
        (
            {"memory_aliases": [["0.sram"]]},
            "memory_aliases[0]: expected a list of at least two '<core id>.<memory>' names, got ['0.sram']",
        ),
        ({"memory_aliases": [["0.sram", "sram"]]}, "memory_aliases[0][1]: expected '<core id>.<memory>', got 'sram'"),
        (
            {"memory_aliases": [["0.sram", "9.sram"]]},
            "memory_aliases[0][1]: core 9 is not defined in 'cores' (defined: 0, 1, 2)",
        ),
        ({"technology_node": 3}, "technology_node: expected a process node name such as 'n3', got an integer"),
        (
            {"core_memory_sharing": ["0, 9"]},
            "core_memory_sharing[0]: cores [9] are not defined in 'cores' (defined: 0, 1, 2)",
        ),
        (
            {"core_memory_sharing": ["0, 0"]},
            "core_memory_sharing[0]: expected at least two distinct core ids such as \"0, 1\", got '0, 0'",
        ),
        (
            {"core_memory_sharing": ["0, 1", "1, 0"]},
            "core_memory_sharing[1]: cores [1, 0] already share a memory in core_memory_sharing[0]",
        ),
        (
            {"core_memory_sharing": ["0, 1"]},  # the bus joins them
            "core_connectivity[0].cores: cores [0, 1] share a memory (core_memory_sharing[0]); Stream forbids "
            "linking them",
        ),
        (
            {"core_memory_sharing": ["0, 2"], "core_connectivity": [{"cores": [0, 1], "bandwidth": 8}]},
            "core_memory_sharing[0]: cores sharing memory must have equal top-memory capacities, "
            "got {0: 4096, 2: 1000000000} bits",
        ),
    ],
)
def test_each_bad_211_value_is_reported_precisely(tmp_path, toy_plugins, fields, expected):
    found = problems_of(accelerator(tmp_path, **fields), toy_plugins)
    assert any(m.startswith(expected) for m in found), found


def test_missing_kernel_library_names_the_field_and_the_place_tried(tmp_path, toy_plugins):
    path = accelerator(tmp_path, kernel_library="../kernels/missing.toml")
    tried = tmp_path.parent / "kernels" / "missing.toml"
    assert problems_of(path, toy_plugins)[0].startswith(
        f"kernel_library: kernel library '../kernels/missing.toml' not found; looked in: {tried}, "
    )


# -- core files ---------------------------------------------------------------------------------


def test_stream_readings_come_first(tmp_path, toy_plugins, monkeypatch):
    """A bare name prefers ``cores/`` over the accelerator's folder; ``a/b`` the current directory."""
    hw = tmp_path / "hw"
    accelerator(hw)
    write_yaml(hw / "little.yaml", {**TOY_COMPUTE, "macs_per_cycle": 8})
    write_yaml(hw / "sub" / "big.yaml", {**TOY_COMPUTE, "macs_per_cycle": 8})
    write_yaml(tmp_path / "sub" / "big.yaml", {**TOY_COMPUTE, "macs_per_cycle": 16})
    data = yaml.safe_load((hw / "acc.yaml").read_text())
    data["cores"].update({0: "little.yaml", 1: "sub/big.yaml"})
    write_yaml(hw / "acc.yaml", data)
    monkeypatch.chdir(tmp_path)
    acc = load_accelerator(hw / "acc.yaml", toy_plugins)
    assert acc.cores[0].source == str((hw / "cores" / "little.yaml").resolve())
    assert acc.cores[1].description.macs_per_cycle == 16  # cwd/sub/big.yaml, as Stream reads "sub/big.yaml"
    data["cores"][1] = "./sub/big.yaml"  # "./" means the accelerator's folder
    write_yaml(hw / "acc.yaml", data)
    assert load_accelerator(hw / "acc.yaml", toy_plugins).cores[1].description.macs_per_cycle == 8


def test_a_path_written_from_the_repository_root_resolves_from_anywhere_inside(tmp_path, toy_plugins, monkeypatch):
    hw = tmp_path / "repo" / "stream" / "inputs" / "examples" / "hardware"
    path = accelerator(hw)
    data = yaml.safe_load(path.read_text())
    data["cores"][0] = "stream/inputs/examples/hardware/cores/little.yaml"
    write_yaml(path, data)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    acc = load_accelerator(path, toy_plugins)
    assert acc.cores[0].source == str((hw / "cores" / "little.yaml").resolve())
    assert acc.notes == ()


def test_a_core_file_found_by_searching_bundled_hardware_folders_is_noted(tmp_path, toy_plugins, monkeypatch):
    inputs = tmp_path / "stream" / "inputs"
    path = accelerator(inputs / "testing" / "hardware")
    (inputs / "testing" / "hardware" / "cores" / "little.yaml").unlink()
    write_yaml(inputs / "examples" / "hardware" / "cores" / "little.yaml", TOY_COMPUTE)
    write_yaml(inputs / "zoo" / "hardware" / "little.yaml", {**TOY_COMPUTE, "macs_per_cycle": 8})  # later, sorted
    write_yaml(inputs / "aaa" / "little.yaml", {**TOY_COMPUTE, "macs_per_cycle": 8})  # not a hardware folder
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    acc = load_accelerator(path, toy_plugins)
    found = (inputs / "examples" / "hardware" / "cores" / "little.yaml").resolve()
    assert acc.cores[0].source == acc.cores[1].source == str(found)
    assert acc.notes == (
        f"cores.0: core file 'little.yaml' is not beside the accelerator; using {found}, found by searching "
        f"the hardware folders of {inputs.resolve()} (Stream's fallback)",
    )


def test_the_current_directorys_bundled_tree_is_searched_too(tmp_path, toy_plugins, monkeypatch):
    path = accelerator(tmp_path / "mine")
    (tmp_path / "mine" / "cores" / "little.yaml").unlink()
    checkout = tmp_path / "checkout"
    write_yaml(checkout / "stream" / "inputs" / "examples" / "hardware" / "cores" / "little.yaml", TOY_COMPUTE)
    monkeypatch.chdir(checkout)
    acc = load_accelerator(path, toy_plugins)
    assert "found by searching the hardware folders of" in acc.notes[0]
    assert acc.cores[0].source.startswith(str(checkout.resolve()))


def test_a_core_file_not_found_lists_every_place_tried(tmp_path, toy_plugins, monkeypatch):
    inputs = tmp_path / "stream" / "inputs"
    hw = inputs / "hardware"
    path = accelerator(hw)
    data = yaml.safe_load(path.read_text())
    data["cores"][0] = "nope.yaml"
    write_yaml(path, data)
    monkeypatch.chdir(tmp_path)
    [message] = [m for m in problems_of(path, toy_plugins) if m.startswith("cores.0")]
    root = inputs.resolve()
    assert message == (
        f"cores.0: core file 'nope.yaml' not found; looked in: {hw}/cores/nope.yaml, {hw}/nope.yaml, "
        f"folders named *hardware* under {root}"
    )


# -- bandwidth maps --------------------------------------------------------------------------------


def test_a_measured_core_bandwidth_bounds_its_transfers(tmp_path, toy_plugins):
    """Bus 32 bits/cycle. Core 0 reads at 16 bits/cycle contiguous, measured 4 at 32-byte and 8 at
    64-byte runs (efficiency 0.25, 0.5, then 1 from 128 bytes, linear in log(span) between). Core 1
    moves 32-byte bursts at 64 bits/cycle."""
    bandwidth = {0: MODEL, 1: {"ceiling": 64, "contiguous": 64, "burst": 32}}
    acc = load_accelerator(accelerator(tmp_path, bandwidth=bandwidth), toy_plugins)
    bus = acc.path(0, 2)
    assert acc.transfer_cycles(512, bus) == 16  # no endpoints given: link time 512 / 32
    assert acc.transfer_cycles(512, bus, 0, 2) == 64  # 64-byte run: 512 / (16 x 0.5)
    assert acc.transfer_cycles(512, bus, 0, 2, span_bytes=32 * math.sqrt(2)) == 86  # 512 / (16 x 0.375)
    assert acc.transfer_cycles(512, bus, 0, 2, span_bytes=16) == 128  # below the table: 512 / (16 x 0.25)
    assert acc.transfer_cycles(2048, bus, 0, 2) == 128  # 256-byte run: 2048 / 16, link 64
    assert acc.transfer_cycles(512, bus, 2, 0) == 32  # writes into core 0: no table, 512 / 16
    assert acc.transfer_cycles(160, bus, 2, 1) == 5  # 20 of a 32-byte burst: 160 / 40 = 4 < link 5
    assert acc.transfer_cycles(384, acc.path(2, 1), 2, 1) == 12  # 48 of 64 bytes: 384 / 48 = 8 < link 12
    assert acc.transfer_cycles(512, bus, 0, 1, span_bytes=4096) == 32  # both ends: 512 / 16 at core 0


def test_greedy_times_transfers_with_the_measured_bandwidth(tmp_path, toy_plugins, toy_hardware):
    """relu_chain(8) on core 0, off-chip core 1 measured at 4 bits/cycle over a bus of 8: each
    64-bit transfer takes 64 / 4 = 16 cycles, not 8. t0 [0,16), relu [16,18), t1 back [18,34)."""
    path = toy_hardware(n=1)
    data = yaml.safe_load(path.read_text())
    data["bandwidth"] = {1: {"ceiling": 4, "contiguous": 4}}
    write_yaml(path, data)
    outcome = run(relu_chain(8), path, plugins=toy_plugins)
    result = outcome.result
    assert [(t.tensor, t.src, t.dst, t.start, t.end) for t in result.transfers] == [
        ("t0", 1, 0, 0, 16),
        ("t1", 0, 1, 18, 34),
    ]
    assert result.totals.latency == 34
    assert check_schedule(result, outcome.problem) == []


# -- shared memories -------------------------------------------------------------------------------


def shared(tmp_path: Path, links: list[dict]) -> Path:
    return accelerator(tmp_path, core_memory_sharing=["0, 1"], core_connectivity=links)


def test_a_sharer_without_links_is_reached_through_its_owner(tmp_path, toy_plugins):
    acc = load_accelerator(shared(tmp_path, [{"cores": [0, 2], "bandwidth": 8}]), toy_plugins)
    [link] = acc.links
    assert acc.memory_sharing == ((0, 1),) and acc.memory_of(1) == 0 and acc.anchor(1) == 0
    assert acc.path(1, 2) == acc.path(2, 1) == (link,)
    assert acc.hops(2, 1) == ((2, 0),)
    assert acc.paths(1, 2) == ((link,),)
    assert acc.path(0, 1) == acc.path(1, 0) == () and acc.paths(1, 0) == ((),)
    assert acc.transfer_cycles(4096, acc.path(0, 1), 0, 1) == 0
    assert acc.transfer_cycles(64, acc.path(1, 2), 1, 2) == 8


def test_a_sharer_with_its_own_link_keeps_it_as_in_stream_1_13(tmp_path, toy_plugins):
    links = [{"cores": [0, 2], "bandwidth": 8}, {"cores": [1, 2], "bandwidth": 16}]
    acc = load_accelerator(shared(tmp_path, links), toy_plugins)
    assert [link.id for link in acc.path(1, 2)] == [1]
    assert acc.path(0, 1) == ()


def test_greedy_keeps_shared_data_in_place_and_counts_the_memory_once(tmp_path, toy_plugins):
    """relu_0 on owner 0, relu_1 on member 1 (no links), link 0-2 of 8 bits/cycle: t0 [0,8),
    relu_0 [8,10), relu_1 reads t1 in place [10,12), t2 written back through the owner [12,20)."""
    workload = relu_chain(8, length=2)
    nodes = {"relu_0": NodeMapping("relu_0", (0,)), "relu_1": NodeMapping("relu_1", (1,))}
    mapping = Mapping(nodes, (FusedGroup("g", ("relu_0", "relu_1")),))
    path = shared(tmp_path, [{"cores": [0, 2], "bandwidth": 8}])
    outcome = run(workload, path, mapping, plugins=toy_plugins)
    result = outcome.result
    assert [(t.node, t.core, t.start, t.end) for t in result.tiles] == [("relu_0", 0, 8, 10), ("relu_1", 1, 10, 12)]
    assert [(t.tensor, t.src, t.dst, t.links, t.start, t.end) for t in result.transfers] == [
        ("t0", 2, 0, (0,), 0, 8),
        ("t2", 1, 2, (0,), 12, 20),
    ]
    # one memory, named by its owner, holds both cores' buffers of 64 bits: t0 [0,10), t1 from relu_0's
    # start until relu_1 has read it [8,12), and relu_1's t2 until written back [10,20)
    assert result.memory == {0: ((0, 64), (8, 128), (10, 128), (12, 64), (20, 0))}
    assert check_schedule(result, outcome.problem) == []


def test_check_schedule_follows_shared_memories_and_rejects_tampering(tmp_path, toy_plugins):
    """The greedy run of the test above (t2 from member 1 through owner 0's link, 8 cycles) passes; each tampered
    copy fails on exactly what was changed."""
    workload = relu_chain(8, length=2)
    nodes = {"relu_0": NodeMapping("relu_0", (0,)), "relu_1": NodeMapping("relu_1", (1,))}
    mapping = Mapping(nodes, (FusedGroup("g", ("relu_0", "relu_1")),))
    outcome = run(workload, shared(tmp_path / "a", [{"cores": [0, 2], "bandwidth": 8}]), mapping, plugins=toy_plugins)
    result, problem = outcome.result, outcome.problem
    t0, t2 = result.transfers

    def violations(**changes) -> list[str]:
        return check_schedule(attrs.evolve(result, **changes), problem)

    in_place = TransferRecord("t1", 0, 1, (), 10, 10, 64, 0.0)  # member to member: no link, no time
    assert violations(transfers=(t0, in_place, t2)) == []
    assert violations(transfers=(t0, attrs.evolve(t2, links=()))) == ["transfer of t2 1->2 has no route"]
    assert violations(transfers=(t0, attrs.evolve(t2, start=13))) == ["transfer of t2 1->2 lasts 7 cycles, expected 8"]
    assert violations(transfers=(t0, attrs.evolve(in_place, end=11), t2)) == [
        "transfer of t1 0->1 lasts 1 cycles, expected 0"
    ]
    # 128 bits of the owner's series plus 4000 of the member's exceed the one memory of 4096 bits
    assert violations(memory={**result.memory, 1: ((0, 4000),)}) == [
        "memory of core 0 holds 4128 bits at its peak; capacity is 4096"
    ]
    # a member with a link of its own sends over it, not over its owner's
    links = [{"cores": [0, 2], "bandwidth": 8}, {"cores": [1, 2], "bandwidth": 16}]
    outcome = run(workload, shared(tmp_path / "b", links), mapping, plugins=toy_plugins)
    t0, t2 = outcome.result.transfers
    assert (t2.src, t2.links, t2.end - t2.start) == (1, (1,), 4)
    assert check_schedule(outcome.result, outcome.problem) == []
    tampered = attrs.evolve(outcome.result, transfers=(t0, attrs.evolve(t2, links=(0,))))
    assert check_schedule(tampered, outcome.problem) == [
        "transfer of t2 1->2: links (0,) do not form a route",
        "transfer of t2 1->2 lasts 4 cycles, expected 8",
    ]


def test_check_schedule_times_transfers_with_the_measured_bandwidth(tmp_path, toy_plugins, toy_hardware):
    """Off-chip core 1 measured at 4 bits/cycle: a 64-bit transfer lasts 16 cycles, not the bus's 8."""
    path = toy_hardware(n=1)
    data = yaml.safe_load(path.read_text())
    data["bandwidth"] = {1: {"ceiling": 4, "contiguous": 4}}
    write_yaml(path, data)
    outcome = run(relu_chain(8), path, plugins=toy_plugins)
    t0, t1 = outcome.result.transfers
    tampered = attrs.evolve(outcome.result, transfers=(attrs.evolve(t0, end=8), t1))
    assert check_schedule(tampered, outcome.problem) == ["transfer of t0 1->0 lasts 8 cycles, expected 16"]


# -- the core files' own notes -----------------------------------------------------------------------


class _Noted:
    """A toy core description carrying notes about its own file."""

    def __init__(self, inner, notes):
        self.inner, self.notes = inner, tuple(notes)

    name = property(lambda self: self.inner.name)
    summary = property(lambda self: self.inner.summary)

    def fingerprint(self) -> str:
        return self.inner.fingerprint()


class _NotedType:
    def parse(self, data, *, kind, file):
        data = dict(data)
        notes = data.pop("notes", ())
        return _Noted(ToyCoreType().parse({**data, "type": "toy." + kind}, kind=kind, file=file), notes)


class _NotedPlugin:
    @hookimpl
    def stream_register_core_types(self):
        yield CoreTypeRecord(name="noted", description="toy cores with notes", factory=_NotedType)


def test_core_notes_are_gathered_once_per_file(tmp_path):
    plugins = make_plugins(("noted", _NotedPlugin()), entry_points=False)
    noted = {**TOY_COMPUTE, "type": "noted.compute", "notes": ["banks: reported only"]}
    write_yaml(tmp_path / "cores" / "a.yaml", noted)
    write_yaml(tmp_path / "cores" / "dram.yaml", {**TOY_DRAM, "type": "noted.offchip"})
    path = write_yaml(
        tmp_path / "acc.yaml",
        {
            "name": "noted",
            "cores": {0: "a.yaml", 1: "a.yaml", 2: {**noted, "notes": ["dma: not timed"]}, 3: "dram.yaml"},
            "offchip_core_id": 3,
            "core_connectivity": [{"type": "bus", "cores": [0, 1, 2, 3], "bandwidth": 8}],
        },
    )
    acc = load_accelerator(path, plugins)
    assert acc.notes == ("cores/a.yaml: banks: reported only", "acc.yaml cores.2: dma: not timed")
