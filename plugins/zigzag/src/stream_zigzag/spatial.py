"""ZigZag's choice of spatial mappings, ranked on plain numbers.

ZigZag's ``SpatialMappingGeneratorStage.best_candidates`` walks every combination of per-array-dimension
unrollings and, for each complete one, deep-copies a ``SpatialMapping`` to test it (``is_valid``) and rank
it (``get_performance_indicator``). On a four-dimensional array (Simba's chiplet) that is tens of
thousands of copies, half of a layer's ZigZag time. :class:`RankedSpatialMappings` keeps ZigZag's walk,
its pruning and its tie-breaking, and does the test and the ranking on the factors themselves, building
``SpatialMapping`` objects for the kept combinations only. The rules it applies are ZigZag 3.9's:

* a combination is valid when, per array dimension, every unrolled loop may be unrolled there (within
  ``max_unrollings``) and the product of its factors fits the dimension; every unrolled loop is a loop
  of the layer; and each loop's total unrolling is at most its size;
* its indicator is the array units kept busy ``u`` plus ``u / (largest total unrolling of a loop) - 1``;
* the ``nb_mappings_generated`` combinations with the highest indicator are kept, ties to the
  combination whose options come first in ZigZag's generator order (their indices, not the walk's
  order by decreasing utilisation).

Factors that are not integers (a float unrolling in a user's mapping) go to ZigZag's own code, whose
float products this does not reproduce. ``tests/test_spatial.py`` checks the result equals ZigZag's on
every core and layer kind of the tests' data, with and without mixed unrollings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, cast

from zigzag.datatypes import LayerDim, OADimension, UnrollFactorInt
from zigzag.mapping.spatial_mapping import MappingSingleOADim, SpatialMapping
from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage

Factors = tuple[tuple[LayerDim, int], ...]


class RankedSpatialMappings(SpatialMappingGeneratorStage):
    """ZigZag's spatial-mapping generator with :func:`best_combinations` ranking the combinations."""

    def best_candidates(
        self,
        mapping_template: SpatialMapping,
        oa_dims_to_fill: list[OADimension],
        mappings_per_oa_dim: Sequence[Iterable[MappingSingleOADim]],
        max_unrollings: dict[OADimension, dict[LayerDim, UnrollFactorInt]],
    ) -> list[SpatialMapping]:
        options = [list(mappings) for mappings in mappings_per_oa_dim]
        kept = best_combinations(
            mapping_template,
            oa_dims_to_fill,
            options,
            max_unrollings,
            dict(self.layer_dim_sizes.data),
            self.nb_mappings_generated,
        )
        if kept is None:  # non-integer factors: ZigZag's own arithmetic
            generators = [iter(mappings) for mappings in options]
            return super().best_candidates(mapping_template, oa_dims_to_fill, generators, max_unrollings)  # type: ignore[arg-type]
        return kept


def best_combinations(
    template: SpatialMapping,
    to_fill: list[OADimension],
    options_per_dim: list[list[MappingSingleOADim]],
    max_unrollings: dict[OADimension, dict[LayerDim, UnrollFactorInt]],
    loop_sizes: dict[LayerDim, Any],
    keep: int,
) -> list[SpatialMapping] | None:
    """The ``keep`` best valid combinations (see the module docstring), or ``None`` when a factor or a
    largest unrolling is not an integer."""
    assert template.oa_dim_sizes is not None, "Initialize OA Dimensions first"
    if not all(type(f) is int for allowed in max_unrollings.values() for f in allowed.values()):
        return None
    largest = cast(dict[OADimension, dict[LayerDim, int]], max_unrollings)
    array = template.oa_dim_sizes
    fixed_dims = [oa for oa in template.data if oa not in to_fill]
    fixed: list[Factors] = [tuple(template[oa].items()) for oa in fixed_dims]
    numbered = [sorted(enumerate(options), key=lambda pair: -pair[1].utilization) for options in options_per_dim]
    choices: list[list[tuple[int, Factors, int, bool]]] = []  # (index, factors, utilisation, fits its dimension)
    for oa, ranked in zip(to_fill, numbered, strict=True):
        row = []
        for index, mapping in ranked:
            factors = tuple(mapping.items())
            row.append((index, factors, math.prod(f for _, f in factors), _fits(factors, largest[oa], array[oa])))
        choices.append(row)
    every = [factors for row in choices for _, factors, _, _ in row] + fixed
    if not all(type(f) is int for factors in every for _, f in factors):
        return None
    if not all(_fits(factors, largest[oa], array[oa]) for oa, factors in zip(fixed_dims, fixed, strict=True)):
        return []
    best_after = [math.prod(row[0][2] if row else 0 for row in choices[i:]) for i in range(len(choices))] + [1]
    fixed_units = math.prod(math.prod(f for _, f in factors) for factors in fixed)
    kept: list[tuple[float, tuple[int, ...], tuple[int, ...]]] = []  # (-indicator, indices, positions)

    def totals(parts: Iterable[Factors]) -> dict[LayerDim, int]:
        unrolled: dict[LayerDim, int] = {}
        for factors in parts:
            for dim, factor in factors:
                unrolled[dim] = unrolled.get(dim, 1) * factor
        return unrolled

    def visit(depth: int, units: int, chosen: list[tuple[int, int]]) -> None:
        parts = fixed + [choices[d][position][1] for d, (_, position) in enumerate(chosen)]
        if depth == len(choices):
            unrolled = totals(parts)
            if not all(dim in loop_sizes for dim in unrolled):
                return
            if not all(unrolled.get(dim, 1) <= size for dim, size in loop_sizes.items()):
                return
            busy = float(int(units))
            key = (-(busy + (busy / max(unrolled.values()) - 1)), tuple(index for index, _ in chosen))
            if len(kept) < keep or key < kept[-1][:2]:
                kept.append((*key, tuple(position for _, position in chosen)))
                kept.sort(key=lambda entry: entry[:2])
                del kept[keep:]
            return
        for position, (index, factors, utilisation, fits) in enumerate(choices[depth]):
            reach = units * utilisation
            if len(kept) >= keep and 2 * reach * best_after[depth + 1] - 1 < -kept[-1][0]:
                break
            unrolled = totals([*parts, factors])
            if all(factor <= loop_sizes.get(dim, 0) for dim, factor in unrolled.items()) and fits:
                visit(depth + 1, reach, [*chosen, (index, position)])

    visit(0, fixed_units, [])
    found = []
    for *_, positions in kept:
        candidate = template.copy()
        for depth, (oa, position) in enumerate(zip(to_fill, positions, strict=True)):
            candidate[oa] = numbered[depth][position][1]
        found.append(candidate)
    return found


def _fits(factors: Factors, allowed: dict[LayerDim, int], size: int) -> bool:
    """ZigZag's per-dimension validity: each loop may be unrolled here that far, and the product fits."""
    return (
        all(dim in allowed and factor <= allowed[dim] for dim, factor in factors)
        and math.prod(f for _, f in factors) <= size
    )
