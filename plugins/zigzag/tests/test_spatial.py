"""The spatial mappings ranked on plain numbers (:mod:`stream_zigzag.spatial`) are ZigZag's own: the same
mappings in the same order as ZigZag's ``SpatialMappingGeneratorStage`` gives, on every core of the tests'
data and a four-dimensional array, for convolutions, depthwise convolutions, matrix products and
element-wise ops, one or several loops per array dimension, keeping one or three."""

from __future__ import annotations

import copy

import pytest
from stream_zigzag import runner
from stream_zigzag.spatial import RankedSpatialMappings
from stream_zigzag.translate import translate
from zigzag.parser.accelerator_factory import AcceleratorFactory
from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
from zz_helpers import conv, core_data, depthwise, elementwise, gemm, make_core


def four_dimensional() -> dict:
    """array16 reshaped into a 4 x 4 x 8 x 8 array (as Simba's chiplet is)."""
    data = copy.deepcopy(core_data("array16"))
    data["name"] = "array4d"
    data["operational_array"].update(dimensions=["D1", "D2", "D3", "D4"], sizes=[4, 4, 8, 8])
    data["memories"]["rf_o"]["served_dimensions"] = ["D3", "D4"]
    for top in ("sram_256KB", "dram"):
        data["memories"][top]["served_dimensions"] = ["D1", "D2", "D3", "D4"]
    return data


CORES = {
    name: (lambda name=name: core_data(name)) for name in ("array16", "tpu_like", "os_array16", "vector8x8", "simd")
}
CORES["array4d"] = four_dimensional
ONE_INPUT = ("vector8x8", "simd")  # no weight memory: element-wise ops only
NODES = {
    "conv": lambda: conv(c=8, k=16, oy=8, ox=8),
    "conv_wide": lambda: conv(c=32, k=64, oy=4, ox=16),
    "conv_small": lambda: conv(c=4, k=8, oy=4, ox=8),
    "depthwise": lambda: depthwise(k=32, oy=8, ox=8),
    "gemm": lambda: gemm(128, 64, 96),
    "gemm_odd": lambda: gemm(12, 40, 6),
    "relu": lambda: elementwise("Relu", n=192),
}


def mappings(stage_class, accelerator, spec, mix, keep):
    stage = stage_class(
        runner.STAGES[-1:],
        accelerator=accelerator,
        layer=runner._layer(spec),
        enable_mix_spatial_mapping_generation=mix,
        nb_mappings_generated=keep,
    )
    return [str(mapping) for mapping in stage.generate_spatial_mappings()]


def runs(core_name: str, node_name: str) -> bool:
    """One-input cores take element-wise ops only; on the 4-D array ZigZag's own generator takes ~4 s a call
    on the two larger convolutions, so it gets ``conv_small`` (which the 2-D arrays need not)."""
    if core_name in ONE_INPUT:
        return node_name == "relu"
    if node_name not in ("conv", "conv_wide", "conv_small"):
        return True
    return (node_name == "conv_small") == (core_name == "array4d")


PAIRS = [(c, n) for c in sorted(CORES) for n in sorted(NODES) if runs(c, n)]


@pytest.mark.parametrize(("core_name", "node_name"), PAIRS)
def test_the_ranked_mappings_are_zigzags(zz_plugins, core_name, node_name):
    core = make_core(zz_plugins, CORES[core_name]())
    spec = translate(NODES[node_name](), core.description).spec
    accelerator = AcceleratorFactory(core.description.zigzag_data()).create()
    for mix in (False, True):
        for keep in (1, 3):
            ours = mappings(RankedSpatialMappings, accelerator, spec, mix, keep)
            assert ours == mappings(SpatialMappingGeneratorStage, accelerator, spec, mix, keep)
            assert len(ours) == keep


def test_a_float_factor_is_left_to_zigzags_arithmetic():
    from stream_zigzag.spatial import best_combinations
    from zigzag.datatypes import LayerDim, OADimension
    from zigzag.mapping.spatial_mapping import MappingSingleOADim, SpatialMapping

    d1, d2, k = OADimension("D1"), OADimension("D2"), LayerDim("K")
    template = SpatialMapping({d1: MappingSingleOADim({k: 2.5})})
    template.initialize_oa_dims({d1: 16, d2: 16})
    options = [[MappingSingleOADim({LayerDim("C"): 4})]]
    assert best_combinations(template, [d2], options, {d1: {k: 16}, d2: {LayerDim("C"): 16}}, {k: 8}, 1) is None
    template[d1] = MappingSingleOADim({k: 2})
    [found] = best_combinations(
        template, [d2], options, {d1: {k: 16}, d2: {LayerDim("C"): 16}}, {k: 8, LayerDim("C"): 4}, 1
    )
    assert str(found) == str(
        SpatialMapping({d1: MappingSingleOADim({k: 2}), d2: MappingSingleOADim({LayerDim("C"): 4})})
    )


@pytest.mark.parametrize(("factor", "ranked_here"), [(4, True), (4.0, False)])
def test_a_users_partial_unrolling_is_ranked_as_zigzag_ranks_it(zz_plugins, monkeypatch, factor, ranked_here):
    """A hint fixing array dimension D1 (ZigZag's template) leaves D2 to the generator. With an integer
    factor the plain-number ranking runs; with a float one, ZigZag's own code (the fallback); both list
    what ZigZag's generator lists."""
    import attrs
    from stream_zigzag import spatial

    seen = []
    rank = spatial.best_combinations
    monkeypatch.setattr(spatial, "best_combinations", lambda *args: seen.append(rank(*args)) or seen[-1])
    core = make_core(zz_plugins, core_data("array16"))
    spec = translate(gemm(128, 64, 96), core.description).spec
    dim = next(name for name, size in spec.sizes if size >= 8)
    spec = attrs.evolve(spec, spatial_mapping=(("D1", ((dim, factor),)),))
    accelerator = AcceleratorFactory(core.description.zigzag_data()).create()
    for mix in (False, True):
        ours = mappings(RankedSpatialMappings, accelerator, spec, mix, 3)
        assert ours == mappings(SpatialMappingGeneratorStage, accelerator, spec, mix, 3)
        assert ours and all(f"{dim}: 4" in m for m in ours)
    assert seen and all((result is not None) == ranked_here for result in seen)
