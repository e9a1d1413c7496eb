"""CLI robustness against broken plugin commands, and output files a user wrote are never replaced."""

from __future__ import annotations

import json
import logging

import pytest

from stream_core import hookimpl
from stream_core.cli import build_parser, options_from_args
from stream_core.errors import InputError, PluginLoadError
from stream_core.outputs import GENERATED_BY, check_output_file, prepare_output_dir
from stream_core.records import CommandRecord
from stream_core.testing import make_plugins


class _Commands:
    @hookimpl
    def stream_register_commands(self):
        yield CommandRecord(name="broken", description="fails to import", factory=self._explode)
        yield CommandRecord(name="hello", description="works", factory=lambda: _Hello())

    @staticmethod
    def _explode():
        raise ImportError("No module named 'vendor_sdk'")


class _Hello:
    def add_arguments(self, parser):
        from stream_core.cli import add_run_options

        add_run_options(parser, cache=False)

    def run(self, args, context):
        return 0


def test_a_broken_command_is_skipped_with_a_warning(caplog):
    plugins = make_plugins(("cmds", _Commands()), entry_points=False)
    with caplog.at_level(logging.WARNING, logger="stream_core"):
        parser = build_parser(plugins)
    assert (
        "command broken (cmds 0) failed to load and was skipped: ImportError: No module named 'vendor_sdk'"
        in caplog.text
    )
    args = parser.parse_args(["hello", "--solver", "highs", "--time-limit", "5", "--set", "x.y=3"])
    options = options_from_args(args)
    assert (options.solver, options.time_limit, options.settings, options.cost_model) == (
        "highs",
        5.0,
        {"x.y": 3},
        None,
    )
    with pytest.raises(PluginLoadError, match=r"command broken .* failed to load"):
        build_parser(plugins, strict=True)


def test_output_files_and_directories_of_the_user_are_kept(tmp_path):
    mine = tmp_path / "notes.json"
    mine.write_text('{"my": "data"}')
    with pytest.raises(InputError, match="was not written by stream"):
        check_output_file(mine)
    check_output_file(mine, force=True)  # explicit permission
    ours = tmp_path / "sizes.json"
    ours.write_text(json.dumps({GENERATED_BY: "stream fifo-size"}))
    check_output_file(ours)
    check_output_file(tmp_path / "new.json")

    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "report.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty and was not written by stream"):
        prepare_output_dir(folder)
    assert prepare_output_dir(tmp_path / "fresh").is_dir()
    assert prepare_output_dir(tmp_path / "fresh").is_dir()  # ours: reused
