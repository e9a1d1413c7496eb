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
from stream_core.report import summary_dict
from stream_core.stage_cache import MAGIC, StageCache, Unkeyable, cached, code_stamp, content_key
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
        lambda data: data.replace(b'"format": 1', b'"format": 0'),  # another format version
        lambda data: MAGIC + b'{"format": 1, "key": "someone-else"}\n' + data.split(b"\n", 2)[2],
    ],
)
def test_damaged_or_foreign_entries_are_ignored_and_removed(tmp_path, damage):
    cache = StageCache(tmp_path, "demo")
    cache.put("ab12", {"answer": 42})
    assert cache.get("ab12") == {"answer": 42}
    path = tmp_path / "stages" / "demo" / "ab" / "ab12.pkl"
    path.write_bytes(damage(path.read_bytes()))
    assert cache.get("ab12") is None
    assert not path.exists()


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
