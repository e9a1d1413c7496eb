"""Repository-level pytest setup.

pytest's importlib mode names a test module after its path from the repository root (e.g.
``stream_core.tests.test_ir``) and creates empty parent modules for names not imported yet, which
would shadow the real ``stream_core`` package (its distribution directory has the same name).
Importing the real packages first keeps them in place.
"""

import contextlib
import importlib

pytest_plugins = ["stream_core.testing"]

for _package in ("stream_core", "stream_cores_aie", "stream_fpga_u55c"):
    with contextlib.suppress(ImportError):  # not installed in this environment (install-alone runs)
        importlib.import_module(_package)
