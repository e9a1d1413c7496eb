"""Project-level properties: files, determinism, the output-directory guard, the Vitis (non-csim) form of the
kernels, the host program against the XRT API shape, and the manifest's HBM placement."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from stream_fpga_u55c.compile import CompileOptions, compile_workload

from stream_core.errors import InputError
from stream_core.outputs import OUTPUT_MARKER, write_files

XRT_MOCK = Path(__file__).parent / "xrt_mock"


def test_project_layout(projects: dict[str, Any]) -> None:
    files = set(projects["mlp"].compiled.files)
    assert {
        "src/group0.cpp",
        "src/groups.h",
        "src/stream_types.h",
        "src/stream_dataflow.h",
        "src/tensor_io.h",
        "csim/hls_stream.h",
        "csim/hls_streamofblocks.h",
        "csim/hls_dataflow.h",
        "csim/stream_csim.h",
        "tb/csim_main.cpp",
        "host/host.cpp",
        "link.cfg",
        "Makefile",
        "README.md",
        "project.json",
        "estimates.json",
        "data/w1.bin",
        "data/x.bin",
    } <= files
    readme = projects["mlp"].compiled.files["README.md"].decode()
    assert "xilinx_u55c_gen3x16_xdma_3_202210_1" in readme and "make csim" in readme
    makefile = projects["mlp"].compiled.files["Makefile"].decode()
    for piece in ("v++ -c -t $(TARGET)", "v++ -l -t $(TARGET)", "--config link.cfg", "-lxrt_coreutil", "csim:"):
        assert piece in makefile


def test_weights_are_the_model_initializers(projects: dict[str, Any]) -> None:
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(projects["mlp"].model)
    w1 = next(numpy_helper.to_array(t) for t in model.graph.initializer if t.name == "w1")
    stored = np.frombuffer(projects["mlp"].compiled.files["data/w1.bin"], dtype="<f4").reshape(w1.shape)
    assert np.array_equal(stored, w1)


def test_kernel_source_structure(projects: dict[str, Any]) -> None:
    source = projects["mlp"].compiled.files["src/group0.cpp"].decode()
    assert source.count("#pragma HLS dataflow") == 1
    assert '// Kernel for ONNX node "fc1" (Gemm)' in source
    assert "#pragma HLS interface s_axilite port=return" in source
    assert "#pragma HLS interface m_axi port=w1_fc1 offset=slave bundle=gmem1 depth=8192" in source
    assert "//   in  x (HBM): itensor<1x64xf32, iter_space: [8,2]*[1,1], iter_map: (d0,d1)->(d0,0)>" in source


def test_same_input_gives_byte_identical_projects(projects: dict[str, Any], context: Any, tmp_path: Path) -> None:
    again = compile_workload(projects["attention"].model, context, CompileOptions())
    assert again.files == projects["attention"].compiled.files
    write_files(tmp_path / "a", again.files)
    for name, content in again.files.items():
        assert (tmp_path / "a" / name).read_bytes() == content


def test_output_directory_guard(projects: dict[str, Any], tmp_path: Path) -> None:
    files = projects["mlp"].compiled.files
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="was not written by stream"):
        write_files(foreign, files)
    write_files(foreign, files, force=True)
    assert (foreign / "notes.txt").read_text() == "keep me"
    owned = tmp_path / "owned"
    write_files(owned, {**files, "src/stale.cpp": b"// from an older run"})
    write_files(owned, files)  # rewrites a directory it created, removing what the last run wrote
    assert not (owned / "src" / "stale.cpp").exists()
    assert (owned / "Makefile").read_bytes() == files["Makefile"]
    assert json.loads((owned / OUTPUT_MARKER).read_text())["files"] == sorted(files)


def test_vitis_form_and_host_program_compile(projects: dict[str, Any]) -> None:
    project = projects["attention"].dir
    # without STREAM_CSIM the region is the plain sequential calls Vitis expects
    vitis = subprocess.run(
        [
            "g++",
            "-std=c++17",
            "-E",
            "-P",
            f"-I{project / 'csim'}",
            f"-I{project / 'src'}",
            str(project / "src/group0.cpp"),
        ],
        capture_output=True,
        text=True,
    )
    assert vitis.returncode == 0, vitis.stderr
    assert "DATAFLOW" not in vitis.stdout and "stream_dataflow_region_" not in vitis.stdout
    assert "  k_qk(q_heads__q_transpose_to_qk, k_heads__k_transpose_to_qk, scores__qk_to_scale_mul);" in vitis.stdout
    for source, include in (("src/group0.cpp", project / "csim"), ("host/host.cpp", XRT_MOCK)):
        check = subprocess.run(
            ["g++", "-std=c++17", "-fsyntax-only", "-Wall", "-Werror", "-Wno-unknown-pragmas", f"-I{include}",
             f"-I{project / 'src'}", str(project / source)],
            capture_output=True,
            text=True,
        )  # fmt: skip
        assert check.returncode == 0, check.stderr


def test_hbm_placement(projects: dict[str, Any]) -> None:
    manifest = projects["attention"].manifest
    pcs = [t["hbm"] for t in manifest["tensors"]]
    assert pcs == list(range(len(pcs)))  # one pseudo-channel per tensor while there are at most 32
    host = projects["attention"].compiled.files["host/host.cpp"].decode()
    assert "xrt::bo buf_x(device, 4096, group0.group_id(0));" in host
    assert "auto run_group0 = group0(" in host and "run_group0.wait();" in host
