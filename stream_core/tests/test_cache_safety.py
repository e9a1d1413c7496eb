"""The cost cache never breaks a run: untrustworthy entries are dropped and recomputed, an unusable
folder means no cache, and concurrent writers agree."""

from __future__ import annotations

import json
import logging
import multiprocessing

import pytest

from stream_core.cache import CostCache
from stream_core.ir.cost import CostResult

KEY = "ab" + "0" * 38
RESULT = CostResult(
    latency=120,
    energy_pj=3.5,
    model="roofline",
    ideal_cycles=100,
    memory_utilisation={"sram": 0.25},
    details={"tiles": (2, 3), "note": "x"},
)


@pytest.fixture
def cache(tmp_path):
    cache = CostCache(tmp_path / "cache")
    cache.put(KEY, RESULT)
    return cache


def entry(cache: CostCache):
    return cache.directory / KEY[:2] / f"{KEY}.json"


def test_round_trip(cache):
    assert cache.get(KEY) == RESULT
    assert cache.get("cd" + "0" * 38) is None


def _edit_result(field, value):
    def change(path):
        data = json.loads(path.read_text())
        data["result"][field] = value
        path.write_text(json.dumps(data))

    return change


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[:40]), "not JSON"),
        (lambda p: p.write_bytes(b"\xff\xfe\x00garbage"), "not UTF-8 JSON"),
        (lambda p: p.write_text("[1, 2, 3]"), "not a JSON object but list"),
        (lambda p: p.write_text(p.read_text().replace('"energy_pj": 3.5', '"energy_pj": NaN')), "holds NaN"),
        (_edit_result("latency", 7), "checksum mismatch"),
        (_edit_result("latency", "120"), "checksum mismatch"),
        (lambda p: p.write_text(p.read_text().replace(KEY, "cd" + "0" * 38)), "its key is not its file name"),
    ],
)
def test_untrustworthy_entries_are_dropped_with_a_warning(cache, caplog, change, why):
    change(entry(cache))
    with caplog.at_level(logging.WARNING, logger="stream_core.cache"):
        assert cache.get(KEY) is None
    assert why in caplog.text and "dropped and recomputed" in caplog.text
    assert not entry(cache).exists()
    cache.put(KEY, RESULT)
    assert cache.get(KEY) == RESULT


def test_schema_of_a_result_with_a_valid_checksum(cache):
    from stream_core.cache import CorruptEntry, _from_json

    for field, value, why in (
        ("latency", -1, "latency is not a whole number >= 0"),
        ("energy_pj", "3.5", "energy_pj is not a finite number >= 0"),
        ("feasible", 1, "feasible is not true or false"),
        ("memory_utilisation", [["sram"]], "memory_utilisation is not a list of [memory, fraction] pairs"),
    ):
        body = json.loads(entry(cache).read_text())["result"]
        body[field] = value
        with pytest.raises(CorruptEntry, match=f"^{why}".replace("[", r"\[")):
            _from_json(body)


def test_a_directory_in_an_entrys_place(cache, caplog):
    entry(cache).unlink()
    entry(cache).mkdir()
    with caplog.at_level(logging.WARNING, logger="stream_core.cache"):
        assert cache.get(KEY) is None
        cache.put(KEY, RESULT)
    assert "not a regular file" in caplog.text and "cannot be written" in caplog.text
    assert entry(cache).is_dir()  # never removed: it is not ours


def test_an_unusable_cache_folder_means_no_cache(tmp_path, caplog):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder should be")
    cache = CostCache(blocker)
    with caplog.at_level(logging.WARNING, logger="stream_core.cache"):
        cache.put(KEY, RESULT)
        assert cache.get(KEY) is None
    assert caplog.text.count("running uncached") == 1
    assert blocker.read_text() == "a file where the folder should be"


def _writer(directory, keys, queue):
    cache = CostCache(directory)
    for key in keys:
        cache.put(key, RESULT)
    queue.put([cache.get(key) == RESULT for key in keys])


def test_two_writers_sharing_a_cache_read_the_same_answers(tmp_path):
    keys = [f"{i:02x}" + "1" * 38 for i in range(200)]
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_writer, args=(tmp_path, keys, queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    answers = [queue.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert answers == [[True] * 200, [True] * 200]
    assert not list(tmp_path.rglob(".tmp-*"))
