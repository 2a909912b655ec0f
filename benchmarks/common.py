"""Shared pieces of the benchmarks: a timer, the machine's name and the results table."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    """One figure of the results table.

    It is compared with a baseline or anchor measured in the same run.
    """

    figure: str
    value: str
    baseline: str
    ratio: float | None
    target: str
    met: bool


def per_call_seconds(fn: Callable[[], object], calls: int, repeats: int = 5) -> float:
    """Best-of-``repeats`` seconds per call of ``fn`` over ``calls`` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def machine() -> str:
    """A short description of the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            names = [
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def _cell(text: str) -> str:
    """A table cell: a literal ``|`` (as in ``|bias|``) would end the cell early."""
    return text.replace("|", "\\|")


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| figure | value | baseline or anchor (same run) | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x"
        met = "yes" if r.met else "NO"
        cells = [_cell(c) for c in (r.figure, r.value, r.baseline, ratio, r.target, met)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
