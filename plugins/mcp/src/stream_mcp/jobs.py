"""Background jobs: each operation runs in a worker process (:mod:`stream_mcp.worker`), watched by a
thread, so the server stays responsive, a job can be polled and cancelled, and nothing a job does
(a plugin's crash, a solver writing to stdout, a segfault) reaches the server's protocol stream.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Literal

import attrs

Kind = Literal["run", "compile", "fifo_size", "explore"]
Status = Literal["running", "done", "failed", "cancelled"]
#: Seconds a cancelled worker has to unwind (remove staged outputs) before it is killed.
GRACE_SECONDS = 5.0
#: Lines of a worker's stderr kept as its log.
LOG_LINES = 50


@attrs.define(eq=False)
class Job:
    """One operation in a worker process. ``result`` is the worker's result once ``status`` is
    ``done``; ``error`` the message ``stream`` prints for the same failure once it is ``failed``."""

    id: str
    kind: Kind
    process: subprocess.Popen[bytes]
    started: float = attrs.field(factory=time.time)
    finished: float | None = None
    status: Status = "running"
    result: dict[str, Any] | None = None
    error: str | None = None
    log: list[str] = attrs.field(factory=list)
    cancelling: bool = False
    done: threading.Event = attrs.field(factory=threading.Event)

    @property
    def seconds(self) -> float:
        return round((self.finished or time.time()) - self.started, 3)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (or ``timeout`` seconds pass); whether it has ended."""
        return self.done.wait(timeout)


class JobManager:
    """Starts, tracks and cancels jobs; ids are ``<kind>-<n>``."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, kind: Kind, params: dict[str, Any]) -> Job:
        process = subprocess.Popen(
            [sys.executable, "-m", "stream_mcp.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: pools it starts are ended with it
        )
        with self._lock:
            job = Job(f"{kind.replace('_', '-')}-{next(self._numbers)}", kind, process)
            self._jobs[job.id] = job
        request = json.dumps({"kind": kind, "params": params}).encode()
        threading.Thread(target=self._watch, args=(job, request), daemon=True, name=job.id).start()
        return job

    def _watch(self, job: Job, request: bytes) -> None:
        out, err = job.process.communicate(request)
        job.log = err.decode(errors="replace").splitlines()[-LOG_LINES:]
        try:
            reply = json.loads(out)
        except ValueError:
            code = job.process.returncode
            reply = {"ok": False, "error": f"internal error: the worker process ended with exit code {code}"}
        job.finished = time.time()
        if reply["ok"]:  # also when a cancel came too late to stop it
            job.result, job.status = reply["result"], "done"
        elif job.cancelling:
            job.status = "cancelled"
        else:
            job.error, job.status = reply["error"], "failed"
        job.done.set()

    def get(self, job_id: str) -> Job:
        """The job ``job_id``; ``KeyError`` with a message naming the known jobs otherwise."""
        with self._lock:
            if job_id in self._jobs:
                return self._jobs[job_id]
            known = ", ".join(self._jobs) or "none yet"
        raise KeyError(f"no job {job_id!r}; jobs: {known}")

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def cancel(self, job: Job) -> None:
        """Ask a running job's worker to stop (SIGTERM: it removes staged outputs), and kill its
        process group if it has not ended after :data:`GRACE_SECONDS`."""
        if job.done.is_set() or job.cancelling:
            return
        job.cancelling = True
        _signal(job.process, signal.SIGTERM, group=False)
        threading.Thread(target=self._kill_late, args=(job,), daemon=True).start()

    def _kill_late(self, job: Job) -> None:
        if not job.wait(GRACE_SECONDS):
            _signal(job.process, signal.SIGKILL, group=True)

    def close(self) -> None:
        """Cancel every running job and wait for them (the server is going away)."""
        running = [job for job in self.jobs() if not job.done.is_set()]
        for job in running:
            self.cancel(job)
        for job in running:
            job.wait(GRACE_SECONDS + 1)


def _signal(process: subprocess.Popen[bytes], signum: int, *, group: bool) -> None:
    """Signal the worker, or its whole process group (the worker leads it)."""
    try:
        if group:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
    except ProcessLookupError:  # it has just ended
        pass
