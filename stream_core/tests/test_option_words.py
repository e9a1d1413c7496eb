"""Errors name options in the words of the interface in use: keyword arguments from Python, flags from
the ``stream`` command (issue 15: ``force=True``, not ``--force``, for an API user)."""

from __future__ import annotations

import pytest

import stream_core
from stream_core import cli
from stream_core.errors import OPTION_STYLE, InputError, option, setting
from stream_core.examples import example_paths


def test_option_and_setting_words_follow_the_style():
    assert (option("force", True), option("strict_costs"), option("solver", "gscip")) == (
        "force=True",
        "strict_costs",
        "solver='gscip'",
    )
    assert (setting("zigzag.precision"), setting("zigzag.precision", "hardware")) == (
        "settings['zigzag.precision']",
        "settings={'zigzag.precision': hardware}",
    )
    token = OPTION_STYLE.set("cli")
    try:
        assert (option("force", True), option("strict_costs"), option("solver", "gscip")) == (
            "--force",
            "--strict-costs",
            "--solver gscip",
        )
        assert setting("zigzag.precision", "hardware") == "--set zigzag.precision=hardware"
    finally:
        OPTION_STYLE.reset(token)


def _user_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    return folder


def test_the_api_says_force_true_and_the_cli_says_dash_dash_force(tmp_path, capsys):
    workload, hardware = example_paths()
    folder = _user_folder(tmp_path)
    with pytest.raises(InputError) as caught:
        stream_core.run(workload, hardware, output=folder)
    assert "pass force=True" in str(caught.value) and "--force" not in str(caught.value)

    assert cli.main(["run", str(workload), str(hardware), "-o", str(folder), "-q"]) == 2
    err = capsys.readouterr().err
    assert "pass --force" in err and "force=True" not in err
    assert OPTION_STYLE.get() == "api"  # the CLI restores the API's words when it returns
    assert (folder / "notes.txt").read_text() == "my notes"
