"""A live progress bar for a sweep (rich, on a terminal only): done, failed, remaining and ETA."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class SweepProgress:
    def __init__(self, total: int, enabled: bool):
        self.failed = 0
        self.bar = Progress(
            TextColumn("explore"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("failed {task.fields[failed]}  remaining {task.fields[remaining]}  ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not enabled,
        )
        self.task = self.bar.add_task("explore", total=total, failed=0, remaining=total)

    def __enter__(self) -> SweepProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.stop()

    def advance(self, row: dict[str, Any]) -> None:
        self.failed += row["status"] == "failed"
        task = self.bar.tasks[0]
        remaining = int(task.total or 0) - int(task.completed) - 1
        self.bar.update(self.task, advance=1, failed=self.failed, remaining=remaining)
