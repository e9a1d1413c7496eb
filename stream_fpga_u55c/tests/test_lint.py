"""Structural lint of generated projects: clean on every example, and each planted error is reported."""

from __future__ import annotations

from typing import Any

import pytest
from stream_fpga_u55c.lint import lint_project


def texts(project: Any) -> dict[str, str]:
    return {k: v.decode() for k, v in project.compiled.files.items() if k.endswith((".cpp", ".cfg"))}


@pytest.mark.parametrize("name", ["mlp", "conv_block", "attention"])
def test_generated_projects_are_clean(projects: dict[str, Any], name: str) -> None:
    assert lint_project(texts(projects[name])) == []


def test_every_bundle_has_one_sp_line_per_tensor_pc(projects: dict[str, Any]) -> None:
    project = projects["attention"]
    config = texts(project)["link.cfg"]
    sp = [line for line in config.splitlines() if line.startswith("sp=")]
    args = project.manifest["groups"][0]["args"]
    assert len(sp) == len(args) == len({a["bundle"] for a in args})
    hbm = {t["ident"]: t["hbm"] for t in project.manifest["tensors"]}
    for a in args:
        assert f"sp=group0_1.m_axi_{a['bundle']}:HBM[{hbm[a['tensor']]}]" in sp


def planted(project: Any, path: str, old: str, new: str) -> list[str]:
    files = texts(project)
    assert old in files[path]
    files[path] = files[path].replace(old, new, 1)
    return lint_project(files)


def test_missing_sp_line_is_reported(projects: dict[str, Any]) -> None:
    found = planted(projects["mlp"], "link.cfg", "sp=group0_1.m_axi_gmem2:HBM[2]\n", "")
    assert found == ["link.cfg: bundle gmem2 of group0_1 has no sp= line"]


def test_pc_out_of_range_and_bad_slr_are_reported(projects: dict[str, Any]) -> None:
    assert planted(projects["mlp"], "link.cfg", "HBM[2]", "HBM[32]") == [
        "link.cfg: sp=group0_1.m_axi_gmem2:HBM[32]: pseudo-channel outside 0..31"
    ]
    assert planted(projects["mlp"], "link.cfg", "SLR0", "SLR3") == ["link.cfg: slr=group0_1:SLR3: expected SLR0..SLR2"]


def test_self_stream_connect_is_reported(projects: dict[str, Any]) -> None:
    found = planted(projects["mlp"], "link.cfg", "slr=", "stream_connect=group0_1.out:group0_1.in\nslr=")
    assert found == ["link.cfg: stream_connect=group0_1.out:group0_1.in connects a CU to itself"]


def test_two_readers_of_one_stream_are_reported(projects: dict[str, Any]) -> None:
    source = texts(projects["mlp"])["src/group0.cpp"]
    call = next(line for line in source.splitlines() if "DATAFLOW_TASK(k_relu1(" in line)
    found = planted(projects["mlp"], "src/group0.cpp", call, call + "\n" + call)
    assert found == [
        # the searched plan streams fc1 -> relu1 through a plain FIFO (no converter since the tiling search)
        "src/group0.cpp: stream h1__fc1_to_relu1 has writers ['k_fc1'] and readers "
        "['k_relu1', 'k_relu1'] (need one each)",
        "src/group0.cpp: stream r1__relu1_to_fc2 has writers ['k_relu1', 'k_relu1'] and readers ['k_fc2'] "
        "(need one each)",
    ]


def test_depth_mismatch_between_template_and_pragma_is_reported(projects: dict[str, Any]) -> None:
    source = texts(projects["mlp"])["src/group0.cpp"]
    line = next(x for x in source.splitlines() if "#pragma HLS stream variable=r1__relu1_to_fc2" in x)
    found = planted(projects["mlp"], "src/group0.cpp", line, line.rsplit("=", 1)[0] + "=99")
    assert (
        len(found) == 1 and "stream r1__relu1_to_fc2 has template depth" in found[0] and "pragma depth 99" in found[0]
    )
