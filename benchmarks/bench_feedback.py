"""Durable feedback records per second: the SQLite store against an fsync'd JSON-lines file.

All three write the same ratings and make each acknowledged record durable before going on:
the store commits one transaction per record (WAL, ``synchronous=FULL``) or one per batch of
100; the baseline appends one JSON line per record and calls ``fsync``. Same disk, same run.
"""

import json
import os
import tempfile
import time
from pathlib import Path

from rl_best_practices.feedback import HumanFeedbackCollector

from common import Row

RECORDS = 400
BATCHED_RECORDS = 4000
BATCH = 100


def rate(write, records: int) -> float:
    """Records per second of ``write(folder, records)``, starting from an empty folder."""
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent) as folder:
        start = time.perf_counter()
        write(Path(folder), records)
        return records / (time.perf_counter() - start)


def best_rates(writers: dict, repeats: int = 5) -> dict[str, float]:
    """Best-of-``repeats`` rate of each writer, taking turns so all see the same disk load."""
    best = dict.fromkeys(writers, 0.0)
    for _ in range(repeats):
        for name, (write, records) in writers.items():
            best[name] = max(best[name], rate(write, records))
    return best


def sqlite_per_record(folder: Path, records: int) -> None:
    with HumanFeedbackCollector(folder / "fb.sqlite", clock=lambda: 0.0) as store:
        for i in range(records):
            store.record_trajectory_rating(f"traj-{i}", 1 + i % 5, "ok")


def sqlite_batched(folder: Path, records: int) -> None:
    with HumanFeedbackCollector(folder / "fb.sqlite", clock=lambda: 0.0) as store:
        for start in range(0, records, BATCH):
            with store.batch():
                for i in range(start, min(start + BATCH, records)):
                    store.record_trajectory_rating(f"traj-{i}", 1 + i % 5, "ok")


def jsonl_fsync(folder: Path, records: int) -> None:
    with open(folder / "fb.jsonl", "a", encoding="utf-8") as handle:
        for i in range(records):
            line = {
                "trajectory_id": f"traj-{i}",
                "rating": 1 + i % 5,
                "comments": "ok",
                "timestamp": 0.0,
            }
            handle.write(json.dumps(line) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def run() -> list[Row]:
    rates = best_rates({
        "jsonl": (jsonl_fsync, RECORDS),
        "single": (sqlite_per_record, RECORDS),
        "batched": (sqlite_batched, BATCHED_RECORDS),
    })
    jsonl, single, batched = rates["jsonl"], rates["single"], rates["batched"]
    baseline = f"JSON lines + fsync per record {jsonl:,.0f} records/s"
    return [
        Row(
            figure="feedback store: durable records/s, one transaction per record (validated)",
            value=f"{single:,.0f} records/s",
            baseline=baseline,
            ratio=single / jsonl,
            target="≥ 0.5x JSON lines",
            met=single >= 0.5 * jsonl,
        ),
        Row(
            figure=f"feedback store: durable records/s, batches of {BATCH}",
            value=f"{batched:,.0f} records/s",
            baseline=baseline,
            ratio=batched / jsonl,
            target="≥ 10x JSON lines",
            met=batched >= 10 * jsonl,
        ),
    ]
