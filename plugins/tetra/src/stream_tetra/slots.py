"""The resource-aware list scheduler that fixes every activity's timeslot before the MILP.

Activities are taken in a topological order that prefers compute, then transfers between
computes, then inputs, then outputs (ties: the node's topological position, then the key). Each goes
in the earliest slot after all its predecessors' slots where it can share the slot with the
activities already there: transfers need link directions no other transfer of the slot may use (the
union of those of all their modes; a point-to-point link's two directions are separate), computes
need cores such that every compute of the slot can get its own cores (pinned cores disjoint,
candidates matched to distinct free cores). The MILP never moves an activity to another slot.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Sequence

import attrs

PRIORITY = {"compute": 0, "edge": 1, "input": 2, "output": 3}


@attrs.frozen
class SlotRequest:
    key: str
    kind: str
    order: int
    deps: tuple[str, ...]
    pinned: frozenset[Hashable] = frozenset()  # core ids (compute) or link directions (transfers) always used
    candidates: tuple[int, ...] = ()  # compute: pick one of these cores (unsplit node with choice)


def assign_slots(requests: Sequence[SlotRequest]) -> dict[str, int]:
    by_key = {r.key: r for r in requests}
    waiting = {r.key: sum(1 for d in r.deps if d in by_key) for r in requests}
    users: dict[str, list[str]] = {}
    for r in requests:
        for d in r.deps:
            if d in by_key:
                users.setdefault(d, []).append(r.key)
    heap = [(PRIORITY[r.kind], r.order, r.key) for r in requests if waiting[r.key] == 0]
    heapq.heapify(heap)
    slot_of: dict[str, int] = {}
    members: dict[int, list[SlotRequest]] = {}
    while heap:
        _, _, key = heapq.heappop(heap)
        request = by_key[key]
        slot = 1 + max((slot_of[d] for d in request.deps if d in slot_of), default=-1)
        while not _fits(request, members.get(slot, [])):
            slot += 1
        slot_of[key] = slot
        members.setdefault(slot, []).append(request)
        for user in sorted(users.get(key, [])):
            waiting[user] -= 1
            if waiting[user] == 0:
                u = by_key[user]
                heapq.heappush(heap, (PRIORITY[u.kind], u.order, u.key))
    if len(slot_of) != len(requests):
        missing = sorted(set(by_key) - set(slot_of))
        raise RuntimeError(f"timeslot assignment: dependency cycle among {missing}")
    return _compact(slot_of)


def _fits(request: SlotRequest, others: list[SlotRequest]) -> bool:
    same = [o for o in others if (o.kind == "compute") == (request.kind == "compute")]
    if request.kind != "compute":
        return all(not (request.pinned & o.pinned) for o in same)
    everyone = [*same, request]
    fixed: set[Hashable] = set()
    for r in everyone:
        if r.pinned & fixed:
            return False
        fixed |= r.pinned
    choosers = [tuple(c for c in r.candidates if c not in fixed) for r in everyone if r.candidates]
    return _matching_exists(choosers)


def _matching_exists(choices: list[tuple[int, ...]]) -> bool:
    """Can every chooser get a distinct core from its list? (augmenting paths; lists are short)"""
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for core in choices[i]:
            if core in seen:
                continue
            seen.add(core)
            if core not in owner or augment(owner[core], seen):
                owner[core] = i
                return True
        return False

    return all(augment(i, set()) for i in range(len(choices)))


def _compact(slot_of: dict[str, int]) -> dict[str, int]:
    """Renumber used slots 0..S-1 (placement never leaves holes, but keep the guarantee)."""
    used = {s: i for i, s in enumerate(sorted(set(slot_of.values())))}
    return {k: used[s] for k, s in sorted(slot_of.items())}
