"""docs/plugins.md agrees with the contracts in code: every hook, record field and protocol member is
documented with its signature and version, nothing documented is absent, and every example runs."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import attrs
import pytest

from stream_core import hookspecs, protocols, records
from stream_core.plugins import KINDS
from stream_core.testing import make_plugins

DOC = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text()
HOOK = re.compile(r"\bstream_(?:register_\w+|add_hookspecs)\b")
RECORD_LINE = re.compile(r"^Record: `(\w+)\(([^)]*)\)`", re.M)
MEMBER = re.compile(r"`(\w+)\.(\w+)(?:\(([^)]*)\)(?: -> ([^`]+))?|: ([^`]+))`")


def core_hooks() -> dict[str, str]:
    """Hook name -> the version its docstring says it was added in."""
    found = {}
    for name, function in vars(hookspecs).items():
        if callable(function) and hasattr(function, f"{hookspecs.PROJECT_NAME}_spec"):
            added = re.search(r"Added in (\d+\.\d+)", function.__doc__ or "")
            assert added, f"hookspec {name} does not say in which version it was added"
            found[name] = added.group(1)
    return found


def section(kind: str) -> str:
    match = re.search(rf"^### `{kind}`\n(.*?)(?=^##)", DOC, re.M | re.S)
    assert match, f"docs/plugins.md has no section for kind {kind!r}"
    return match.group(1)


def record_types() -> dict[str, type]:
    return {
        name: cls
        for name, cls in vars(records).items()
        if isinstance(cls, type) and issubclass(cls, records.PluginRecord) and cls is not records.PluginRecord
    }


def protocol_members(protocol: type) -> dict[str, object]:
    """Methods (function) and attributes (annotation) a protocol declares itself or takes from a base
    outside :mod:`stream_core.protocols` (``Solver`` from ``stream_core.ir.lp``); members of another
    documented protocol (``CacheableCostModel.cost`` is ``CostModel.cost``) are documented there."""
    members: dict[str, object] = {}
    for cls in reversed(protocol.__mro__):
        own = cls is protocol or cls.__module__ != protocols.__name__
        if not own or not getattr(cls, "_is_protocol", False) or cls.__module__ == "typing":
            continue
        members.update({n: t for n, t in vars(cls).get("__annotations__", {}).items() if not n.startswith("_")})
        members.update({n: f for n, f in vars(cls).items() if inspect.isfunction(f) and not n.startswith("_")})
    return members


def test_every_hook_is_documented_and_every_documented_hook_exists():
    declared = set(vars(make_plugins().manager.hook))  # the core's hooks and those installed plugins add
    assert set(core_hooks()) <= set(HOOK.findall(DOC))
    assert set(HOOK.findall(DOC)) <= declared


def test_every_kind_has_a_section_naming_its_hook_and_version():
    hooks = core_hooks()
    assert set(KINDS) <= {m for m in re.findall(r"^### `(\w+)`", DOC, re.M)}
    for kind in KINDS:
        hook = f"stream_register_{kind}"
        assert re.search(rf"^Hook: `{hook}`\. Added in {re.escape(hooks[hook])}\b", section(kind), re.M), kind
    assert f"`stream_add_hookspecs(pluginmanager)` (added in {hooks['stream_add_hookspecs']})" in DOC


def test_every_record_is_documented_with_exactly_its_fields():
    documented = {name: [f.strip() for f in fields.split(",")] for name, fields in RECORD_LINE.findall(DOC)}
    types = record_types()
    assert set(documented) == set(types)
    for name, cls in types.items():
        assert documented[name] == [f.name for f in attrs.fields(cls)], name
    for kind, (record_type, _label) in KINDS.items():
        assert f"Record: `{record_type.__name__}(" in section(kind), kind


@pytest.mark.parametrize("name", protocols.__all__)
def test_every_protocol_member_is_documented_with_its_signature(name):
    protocol = getattr(protocols, name)
    members = protocol_members(protocol)
    documented = [m for m in MEMBER.findall(DOC) if m[0] == name]
    assert {m[1] for m in documented} == set(members), name
    for _, member, params, returns, attribute_type in documented:
        function = members[member]
        if not callable(function):
            assert attribute_type == function, f"{name}.{member}"
            continue
        signature = inspect.signature(function)
        expected = []
        for p in list(signature.parameters.values())[1:]:
            if p.kind is p.KEYWORD_ONLY and "*" not in expected:
                expected.append("*")
            expected.append(p.name)
        assert [x.strip() for x in params.split(",") if x.strip()] == expected, f"{name}.{member}"
        if returns:
            assert returns.strip() == signature.return_annotation, f"{name}.{member}"


def test_every_documented_member_belongs_to_a_protocol():
    for owner, member, *_ in MEMBER.findall(DOC):
        if owner in protocols.__all__:
            assert member in protocol_members(getattr(protocols, owner)), f"{owner}.{member}"


def test_every_example_plugin_module_runs_and_registers_its_kinds_records():
    blocks = [b for b in re.findall(r"```python\n(.*?)```", DOC, re.S) if "@hookimpl" in b]
    registered = set()
    for block in blocks:
        namespace: dict[str, object] = {"__name__": "docs_example", "__file__": "docs_example.py"}
        exec(compile(block, "docs/plugins.md", "exec"), namespace)
        for name, function in namespace.items():
            kind = name.removeprefix("stream_register_")
            if kind in KINDS and callable(function):
                found = list(function())
                assert found and all(isinstance(r, KINDS[kind][0]) for r in found), name
                registered.add(kind)
    assert registered == set(KINDS)
