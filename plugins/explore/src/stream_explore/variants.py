"""Hardware variants: a base accelerator with parameter values written in, as files of their own.

The user's files are only read. A variant is data (the accelerator and each distinct core file) that
a worker writes into a temporary folder: ``<accelerator file name>`` and ``cores/<core file>``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import attrs
import yaml

from stream_core.errors import InputError, Problem
from stream_core.yamlio import find_input_file, load_yaml
from stream_explore.paths import select_cores, set_value
from stream_explore.sweep import Parameter

CORES_DIR = "cores"


@attrs.frozen
class BaseHardware:
    """A base accelerator as read: its data, each core id's data, and which ids came from a file."""

    path: Path
    data: dict[str, Any]
    cores: dict[int, dict[str, Any]]
    core_files: dict[int, Path]

    @property
    def core_names(self) -> dict[int, str]:
        return {i: str(core.get("name", f"core{i}")) for i, core in self.cores.items()}


@attrs.frozen
class Variant:
    """One hardware variant and the run options its parameters chose."""

    accelerator_file: str
    files: dict[str, Any]  # relative file name -> YAML data; the accelerator under accelerator_file
    cores: dict[int, dict[str, Any]]
    options: dict[str, Any]
    settings: dict[str, Any]

    @property
    def accelerator(self) -> Any:
        return self.files[self.accelerator_file]

    def write(self, folder: Path) -> Path:
        """Write the variant's files under ``folder``; returns the accelerator file."""
        for name, data in self.files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dump(data))
        return folder / self.accelerator_file

    def digest(self) -> str:
        """A stable hash of the files and options (what a run of this variant depends on)."""
        payload = {"files": {k: dump(v) for k, v in sorted(self.files.items())}, "options": self.options}
        payload["settings"] = self.settings
        return digest_text(json.dumps(payload, sort_keys=True, default=str))


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)


def digest_text(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def load_base(path: Path) -> BaseHardware:
    """Read an accelerator and the core files it names (found as the core finds them)."""
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("cores"), dict | list):
        raise InputError(Problem("expected an accelerator with a 'cores' mapping", file=str(path), field="cores"))
    raw = data["cores"]
    entries = raw.items() if isinstance(raw, dict) else enumerate(raw)
    cores: dict[int, dict[str, Any]] = {}
    files: dict[int, Path] = {}
    problems = []
    for core_id, value in entries:
        if isinstance(value, dict):
            cores[int(core_id)] = value
            continue
        found = find_input_file(
            str(value), path.parent, bare_in=CORES_DIR, default_suffix=".yaml", search_hardware=True
        )
        if found.path is None:
            problems.append(Problem(f"core file '{value}' not found", file=str(path), field=f"cores.{core_id}"))
            continue
        files[int(core_id)] = found.path
        core = load_yaml(found.path)
        cores[int(core_id)] = core if isinstance(core, dict) else {}
    if problems:
        raise InputError(problems)
    for key in ("kernel_library", "offchip_core"):  # other files it names: by absolute path
        if isinstance(data.get(key), str):
            found = find_input_file(data[key], path.parent, default_suffix=".yaml")
            if found.path is not None:
                data[key] = str(found.path)
    return BaseHardware(path, data, cores, files)


def materialise(base: BaseHardware, values: dict[Parameter, Any], sweep_file: str | None) -> Variant:
    """The variant with every parameter's value written at its paths. A path that does not fit the
    base accelerator is an ``InputError`` naming the parameter."""
    accelerator = copy.deepcopy(base.data)
    cores = copy.deepcopy(base.cores)
    options: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    for parameter, value in values.items():
        for path in parameter.paths:
            try:
                if path.target == "accelerator":
                    set_value(accelerator, path.keys, copy.deepcopy(value))
                elif path.target == "cores":
                    for core_id in select_cores(path.selector, base.core_names):
                        set_value(cores[core_id], path.keys, copy.deepcopy(value))
                elif path.target == "option":
                    options[path.keys[0]] = value
                else:
                    settings[path.keys[0]] = value
            except ValueError as exc:
                raise InputError(
                    Problem(
                        f"'{path.text}' in {base.path.name}: {exc}",
                        file=sweep_file,
                        field=f"parameters.{parameter.name}",
                    )
                ) from None
    files: dict[str, Any] = {}
    names: dict[str, str] = {}  # core file text -> its file name in the variant
    for core_id, core in sorted(cores.items()):
        if core_id not in base.core_files:
            accelerator["cores"][core_id] = core
            continue
        text = dump(core)
        if text not in names:
            stem = base.core_files[core_id].stem
            taken = sum(1 for n in names.values() if Path(n).stem.split("~")[0] == stem)
            names[text] = f"{CORES_DIR}/{stem}{f'~{taken}' if taken else ''}.yaml"
            files[names[text]] = core
        accelerator["cores"][core_id] = f"./{names[text]}"
    files[base.path.name] = accelerator
    return Variant(base.path.name, files, cores, options, settings)
