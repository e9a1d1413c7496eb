"""Read ``stream validate``'s report into a :class:`~stream_mcp.models.ValidationReport`.

The server runs the CLI itself (``python -m stream_core.cli validate``): the core has no public
validation function yet, and this way the report and its messages are the CLI's by construction.
"""

from __future__ import annotations

from stream_mcp.models import FileCheck, ValidationReport

#: Line prefixes of ``stream validate``: a file's verdict on stdout, remarks, problems on stderr.
OK, INVALID = "ok       ", "invalid  "


def parse_validate_output(files: list[str], stdout: str, stderr: str) -> ValidationReport:
    """One check per line naming a file (the longest of ``files`` that starts the line), the
    ``warning:``/``note:`` remarks, and each ``error:`` (or logged warning) from stderr."""
    checks, warnings, notes, errors = [], [], [], []
    for line in stdout.splitlines():
        for prefix, ok in ((OK, True), (INVALID, False)):
            if line.startswith(prefix):
                rest = line[len(prefix) :]
                named = max((f for f in files if rest == f or rest.startswith(f + " ")), key=len, default=rest)
                checks.append(FileCheck(file=named, ok=ok, detail=rest[len(named) :].strip(" ()")))
        if line.startswith("warning: "):
            warnings.append(line.removeprefix("warning: "))
        elif line.startswith("note: "):
            notes.append(line.removeprefix("note: "))
    for line in stderr.splitlines():
        if line.startswith("error: "):
            errors.append(line.removeprefix("error: "))
        elif line.startswith("WARNING: "):
            warnings.append(line.removeprefix("WARNING: "))
        elif errors and line.strip():  # a problem's text continued on the next line
            errors[-1] += "\n" + line
    return ValidationReport(valid=not errors, files=checks, errors=errors, warnings=warnings, notes=notes)
