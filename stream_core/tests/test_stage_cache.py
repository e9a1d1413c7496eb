"""The stage cache: content keys, entries that are corrupt or foreign are rebuilt, and a cached run
gives the summary of an uncached one."""

from __future__ import annotations

import enum
from pathlib import Path

import attrs
import pytest

import stream_core
from stream_core import RunOptions
from stream_core.examples import example_paths
from stream_core.ir.result import GroupRecord, Result, TileRecord, Totals, TransferRecord
from stream_core.report import summary_dict
from stream_core.stage_cache import FORMAT_VERSION, StageCache, Unkeyable, cached, code_stamp, content_key
from stream_core.testing import make_plugins

FAST = {"cost_model": "roofline", "allocator": "greedy", "mapper": "whole-layer"}
#: Stats that say how a run went (seconds, cache hits), not what it found.
HOW = ("stage_seconds", "stage_cache_hits", "cost")


class Colour(enum.Enum):
    RED = 1


@attrs.frozen
class Thing:
    name: str
    tags: frozenset[str]
    table: dict[str, int]
    derived: int = attrs.field(init=False, default=0)


def test_content_key_depends_on_content_only():
    a = Thing("x", frozenset({"p", "q", "r"}), {"b": 2, "a": 1})
    b = Thing("x", frozenset({"r", "q", "p"}), {"a": 1, "b": 2})
    assert content_key(a, Colour.RED, Path("f")) == content_key(b, Colour.RED, Path("f"))
    assert content_key(a) != content_key(Thing("x", frozenset({"p"}), {"a": 1, "b": 2}))
    assert content_key(a) != content_key(Thing("x", frozenset({"p", "q", "r"}), {"a": 1, "b": 3}))
    assert content_key(1) != content_key(1.0) != content_key("1")
    with pytest.raises(Unkeyable):
        content_key(object())


def test_cached_computes_once_and_unkeyable_is_not_stored(tmp_path):
    calls = []
    for _ in range(2):
        value, hit = cached(tmp_path, "demo", lambda: (1, "a"), lambda: calls.append(1) or "v")
        assert value == "v"
    assert (calls, hit) == ([1], True)
    value, hit = cached(tmp_path, "other", lambda: (object(),), lambda: "w")
    assert (value, hit) == ("w", False)
    assert not (tmp_path / "stages" / "other").exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated pickle
        lambda data: b"garbage",  # not an entry at all
        lambda data: data.replace(f'"format": {FORMAT_VERSION}'.encode(), b'"format": 0'),  # another format version
        lambda data: data.replace(b'"key": "ab12"', b'"key": "someone-else"'),
        lambda data: data.replace(b"answer", b"answex"),  # a payload that still loads, but not the one stored
    ],
)
def test_damaged_or_foreign_entries_are_ignored_and_removed(tmp_path, damage):
    cache = StageCache(tmp_path, "demo")
    cache.put("ab12", {"answer": 42, "pi": 3.14159})
    assert cache.get("ab12") == {"answer": 42, "pi": 3.14159}
    path = tmp_path / "stages" / "demo" / "ab" / "ab12.pkl"
    path.write_bytes(damage(path.read_bytes()))
    assert cache.get("ab12") is None
    assert not path.exists()


def _result(tiles: int) -> Result:
    return Result(
        workload="w",
        accelerator="a",
        tiles=[TileRecord(f"n{i % 3}", i, i % 2, 10 * i, 10 * i + 7, 0.5 * i, "roofline") for i in range(tiles)],
        transfers=[
            TransferRecord("t", 0, 1, [4, 5], 3, 9, 64, 1.25),
            TransferRecord("u", 1, 2, (), 9, 9, 0, 0.0, reason="spill"),
        ],
        memory={0: ((0, 8), (7, 0))},
        groups=[GroupRecord("g", 0, 20, "greedy", {"nodes": 3})],
        totals=Totals(20, 1.5, 2.0, 0.25, {0: 0.5, 1: 0.25}),
        stats={"seconds": 0.1},
        warnings=("a warning",),
    )


def test_a_result_goes_through_the_cache_whole(tmp_path):
    cache = StageCache(tmp_path, "allocation")
    for tiles in (0, 5):
        result = _result(tiles)
        cache.put(f"cd{tiles}", (result, ["w"]))
        loaded, warnings = cache.get(f"cd{tiles}")
        assert (loaded, warnings) == (result, ["w"])
        assert [attrs.astuple(t) for t in loaded.tiles] == [attrs.astuple(t) for t in result.tiles]
        assert [t.links for t in loaded.transfers] == [(4, 5), ()]
        assert [t.duration for t in loaded.tiles] == [7] * tiles
        assert {hash(t) for t in loaded.tiles} == {hash(t) for t in result.tiles}


def test_a_result_whose_columns_do_not_fit_is_refused():
    rebuild, (fields,) = _result(3).__reduce__()
    assert rebuild(dict(fields)) == _result(3)
    for columns in (fields["tiles"][:-1], [*fields["tiles"][:-1], ["n0", "n1"]]):  # a field missing, one short
        with pytest.raises(ValueError):
            rebuild({**fields, "tiles": columns})


def test_in_process_plugins_disable_the_stage_cache():
    class Extra:
        pass

    assert code_stamp(make_plugins(entry_points=False)) is not None
    assert code_stamp(make_plugins(("extra", Extra()), entry_points=False)) is None


def _summary(outcome):
    data = summary_dict(outcome.result, outcome.problem.accelerator)
    data["stats"] = {k: v for k, v in data["stats"].items() if k not in HOW}
    return data


def test_a_cached_run_equals_an_uncached_one_and_no_cache_bypasses(tmp_path):
    workload, hardware = example_paths()
    plugins = make_plugins()
    uncached = stream_core.run(workload, hardware, options=RunOptions(**FAST, use_cache=False), plugins=plugins)
    assert not (tmp_path / "stages").exists()
    options = RunOptions(**FAST, cache_dir=tmp_path)
    cold = stream_core.run(workload, hardware, options=options, plugins=plugins)
    warm = stream_core.run(workload, hardware, options=options, plugins=plugins)
    assert "stage_cache_hits" not in cold.result.stats
    assert warm.result.stats["stage_cache_hits"] == ["workload", "mapping", "allocation"]
    assert _summary(warm) == _summary(cold) == _summary(uncached)
    for entry in (tmp_path / "stages" / "allocation").rglob("*.pkl"):
        entry.write_bytes(b"corrupt")
    rebuilt = stream_core.run(workload, hardware, options=options, plugins=plugins)
    assert rebuilt.result.stats["stage_cache_hits"] == ["workload", "mapping"]
    assert _summary(rebuilt) == _summary(uncached)
    other_mapper = stream_core.run(
        workload, hardware, options=RunOptions(**{**FAST, "mapper": "fused"}, cache_dir=tmp_path), plugins=plugins
    )
    assert other_mapper.result.stats.get("stage_cache_hits", []) == ["workload"]
