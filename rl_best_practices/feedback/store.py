"""A validated, durable store of human feedback on a policy, in SQLite.

:class:`HumanFeedbackCollector` records trajectory ratings, action corrections and pairwise
preferences. With a ``path`` every record is committed to SQLite (write-ahead log,
``synchronous=FULL``) before the call returns, so a crash loses nothing that was acknowledged and
a new collector on the same file sees everything. Without a path the same code runs on an
in-memory database. Every record is validated first (:mod:`~rl_best_practices.feedback.records`);
invalid input raises :class:`~rl_best_practices.errors.InvalidValueError` and writes nothing. A
repeated ``record_id`` is an idempotent retry when the content is the same and an error when it
differs.

>>> fb = HumanFeedbackCollector(clock=lambda: 0.0)
>>> fb.record_trajectory_rating("traj_001", 4.5, "good risk management")
'rating-1'
>>> fb.record_preference("traj_001", "traj_002", preferred="traj_001")
'preference-1'
>>> fb.record_trajectory_rating("traj_003", 99)
Traceback (most recent call last):
...
rl_best_practices.errors.InvalidValueError: rating must be a finite number in [1, 5], got 99
>>> fb.get_feedback_summary()["total_ratings"]
1
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from rl_best_practices.errors import InvalidStateError, InvalidTypeError, InvalidValueError
from rl_best_practices.feedback.offline import write_corrections, write_parquet_atomically
from rl_best_practices.feedback.records import TIE, correction_row, preference_row, rating_row
from rl_best_practices.validation import check_callable, check_number, check_text

__all__ = ["Batch", "HumanFeedbackCollector"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE,
    trajectory_id TEXT NOT NULL CHECK (length(trajectory_id) > 0),
    rating REAL NOT NULL CHECK (rating >= 1 AND rating <= 5),
    comments TEXT NOT NULL,
    timestamp REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS corrections (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    policy_action TEXT NOT NULL,
    human_action TEXT NOT NULL,
    reason TEXT NOT NULL,
    timestamp REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS preferences (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE,
    trajectory_a TEXT NOT NULL CHECK (length(trajectory_a) > 0),
    trajectory_b TEXT NOT NULL CHECK (length(trajectory_b) > 0),
    preferred TEXT NOT NULL,
    timestamp REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# table -> the columns that make up a record's content (what an idempotent retry must repeat)
_CONTENT = {
    "ratings": ("trajectory_id", "rating", "comments"),
    "corrections": ("state", "policy_action", "human_action", "reason"),
    "preferences": ("trajectory_a", "trajectory_b", "preferred"),
}
_PREFIX = {"ratings": "rating", "corrections": "correction", "preferences": "preference"}


class Batch:
    """The records of one :meth:`HumanFeedbackCollector.batch`, acknowledged at its commit."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._committed = False

    def _acknowledge(self) -> None:
        self._committed = True

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids of the batch's records, in order; only once the batch has committed."""
        if not self._committed:
            raise InvalidStateError(
                "the batch has not committed: its records are not acknowledged yet"
            )
        return tuple(self._ids)


class HumanFeedbackCollector:
    """Validated, durable storage of human feedback on a policy.

    Args:
        path: SQLite file to keep the feedback in (created if missing). ``None`` keeps it in
            memory, which is for demonstrations only: it is gone when the object is.
        action_space: the env's action space (a Gymnasium space). When given, both actions of a
            correction must lie in it.
        clock: returns the current time in seconds; each record is stamped with it.

    A correction's state must be a finite numeric array; the first correction stored fixes the
    shape and every later one must match it. Several processes may write one file: a record
    waits up to 30 s for another writer's lock (SQLite's default is 5 s) before it fails.

    >>> from gymnasium import spaces
    >>> fb = HumanFeedbackCollector(action_space=spaces.Discrete(3), clock=lambda: 0.0)
    >>> fb.record_action_correction([0.5, 0.1], policy_action=2, human_action=1, reason="volatile")
    'correction-1'
    >>> fb.record_action_correction([0.5, 0.1], policy_action=2, human_action=7)
    Traceback (most recent call last):
    ...
    rl_best_practices.errors.InvalidValueError: human_action 7 is not in the action space \
Discrete(3)
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        action_space: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if action_space is not None and not hasattr(action_space, "contains"):
            raise InvalidTypeError(
                "action_space must be a Gymnasium space or None, "
                f"got {type(action_space).__name__}"
            )
        self.path = None if path is None else Path(path)
        self.action_space = action_space
        self._clock = check_callable("clock", clock)
        self._batch: Batch | None = None
        target = ":memory:" if self.path is None else str(self.path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are opened and committed explicitly below.
        self._conn = sqlite3.connect(target, isolation_level=None, timeout=30.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")  # durable at commit, even on power loss
        self._conn.executescript(_SCHEMA)

    # -- life cycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database (every acknowledged record is already on disk)."""
        self._conn.close()

    def __enter__(self) -> HumanFeedbackCollector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Commit every record made inside the block in one transaction, at its end.

        Much faster for bulk imports; all-or-nothing: if the block raises, none of its records
        is kept. Inside the block the record methods return ``None``: nothing is acknowledged
        before the commit. The yielded :class:`Batch` lists the acknowledged ids once the block
        has exited normally (after ``COMMIT`` returned). Batches cannot be nested.

        >>> fb = HumanFeedbackCollector(clock=lambda: 0.0)
        >>> with fb.batch() as batch:
        ...     inside = [fb.record_trajectory_rating(f"t{i}", 3) for i in range(3)]
        >>> inside, batch.ids
        ([None, None, None], ('rating-1', 'rating-2', 'rating-3'))
        """
        if self._batch is not None:
            raise InvalidStateError("batches cannot be nested: this store's batch is still open")
        self._conn.execute("BEGIN IMMEDIATE")
        pending = self._batch = Batch()
        try:
            yield pending
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")
            pending._acknowledge()
        finally:
            self._batch = None

    def durability(self) -> dict[str, Any]:
        """The connection's ``journal_mode`` and ``synchronous`` as SQLite reports them.

        >>> HumanFeedbackCollector().durability()   # in memory: no file to sync
        {'journal_mode': 'memory', 'synchronous': 'FULL'}
        """
        mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
        level = self._conn.execute("PRAGMA synchronous").fetchone()[0]
        names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        return {"journal_mode": mode, "synchronous": names.get(level, str(level))}

    # -- recording -------------------------------------------------------------------------------

    def record_trajectory_rating(
        self, trajectory_id: str, rating: float, comments: str = "", *, record_id: str | None = None
    ) -> str | None:
        """Record a rating of a whole trajectory on the 1 (worst) to 5 (best) scale.

        Returns the record id (``record_id`` if given, else a new one) once committed;
        ``None`` inside a :meth:`batch`.
        """
        return self._insert("ratings", rating_row(trajectory_id, rating, comments), record_id)

    def record_action_correction(
        self,
        state: Any,
        policy_action: Any,
        human_action: Any,
        reason: str = "",
        *,
        record_id: str | None = None,
    ) -> str | None:
        """Record that a person replaced the policy's action in ``state`` by ``human_action``.

        Returns the record id. These pairs are behaviour-cloning data (see
        :meth:`get_correction_dataset` and :meth:`export_corrections`).
        """
        row, shape = correction_row(state, policy_action, human_action, reason, self.action_space)
        known = self._meta("state_shape")
        if known is not None and list(shape) != json.loads(known):
            raise InvalidValueError(
                f"state has shape {shape}, but this store holds states of shape "
                f"{tuple(json.loads(known))}"
            )
        extra = None if known is not None else ("state_shape", json.dumps(list(shape)))
        return self._insert("corrections", row, record_id, meta=extra)

    def record_preference(
        self, trajectory_a: str, trajectory_b: str, preferred: str, *, record_id: str | None = None
    ) -> str | None:
        """Record which of two compared trajectories a person preferred.

        ``preferred`` is ``trajectory_a``, ``trajectory_b`` or :data:`TIE` (``"tie"``). Returns
        the record id.
        """
        row = preference_row(trajectory_a, trajectory_b, preferred)
        return self._insert("preferences", row, record_id)

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _insert(
        self,
        table: str,
        row: dict[str, Any],
        record_id: str | None,
        meta: tuple[str, str] | None = None,
    ) -> str | None:
        if record_id is not None:
            record_id = check_text("record_id", record_id)
        timestamp = check_number("the clock's time", self._clock())
        own = self._batch is None
        if own:
            self._conn.execute("BEGIN IMMEDIATE")  # take the write lock before reading
        try:
            if record_id is not None and self._is_retry(table, row, record_id):
                if own:
                    self._conn.execute("ROLLBACK")
                return self._acknowledged(record_id)  # an idempotent retry: stored once
            columns = ["record_id", *row, "timestamp"]
            cursor = self._conn.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                [record_id or "", *row.values(), timestamp],
            )
            if record_id is None:
                record_id = self._fresh_id(table, cursor.lastrowid)
                self._conn.execute(
                    f"UPDATE {table} SET record_id = ? WHERE seq = ?", (record_id, cursor.lastrowid)
                )
            if meta is not None:  # first of its kind: fix the shape (unless another writer did)
                self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", meta)
                if self._meta(meta[0]) != meta[1]:
                    raise InvalidValueError(
                        f"{meta[0]} is already {self._meta(meta[0])}, got {meta[1]}"
                    )
            if own:
                self._conn.execute("COMMIT")
        except BaseException:
            if own and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return self._acknowledged(record_id)

    def _acknowledged(self, record_id: str) -> str | None:
        """The id now if the record is committed; inside a batch, ``None`` (the batch lists it
        after its commit)."""
        if self._batch is None:
            return record_id
        self._batch._ids.append(record_id)
        return None

    def _is_retry(self, table: str, row: dict[str, Any], record_id: str) -> bool:
        """Whether ``record_id`` already holds this very record; an error if it holds another."""
        existing = self._existing(table, record_id)
        if existing is None:
            return False
        if existing != [row[c] for c in _CONTENT[table]]:
            raise InvalidValueError(
                f"record_id {record_id!r} already holds a different {_PREFIX[table]}; "
                "a record id names one record (repeat it only to retry the same record)"
            )
        return True

    def _existing(self, table: str, record_id: str) -> list[Any] | None:
        for other in _CONTENT:
            found = self._conn.execute(
                f"SELECT {', '.join(_CONTENT[other])} FROM {other} WHERE record_id = ?",
                (record_id,),
            ).fetchone()
            if found is not None:
                if other != table:
                    raise InvalidValueError(
                        f"record_id {record_id!r} already names a {_PREFIX[other]}"
                    )
                return list(found)
        return None

    def _fresh_id(self, table: str, seq: int) -> str:
        candidate = f"{_PREFIX[table]}-{seq}"
        while self._existing(table, candidate) is not None:  # taken by an explicit record_id
            candidate += "+"
        return candidate

    # -- reading ---------------------------------------------------------------------------------

    def record_ids(self) -> set[str]:
        """The ids of every stored record, of every kind."""
        return {
            rid
            for table in _CONTENT
            for (rid,) in self._conn.execute(f"SELECT record_id FROM {table}")
        }

    def ratings(self) -> list[dict[str, Any]]:
        """Every stored rating, oldest first."""
        return self._rows("ratings")

    def preferences(self) -> list[dict[str, Any]]:
        """Every stored preference, oldest first."""
        return self._rows("preferences")

    def _rows(self, table: str) -> list[dict[str, Any]]:
        cursor = self._conn.execute(f"SELECT * FROM {table} ORDER BY seq")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor]

    def get_correction_dataset(self) -> list[dict[str, Any]]:
        """Corrections as behaviour-cloning pairs ``{"state": array, "action": human action}``."""
        return [
            {"state": np.asarray(json.loads(state)), "action": json.loads(action)}
            for state, action in self._conn.execute(
                "SELECT state, human_action FROM corrections ORDER BY seq"
            )
        ]

    def correction_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The corrections as ``(states, human_actions)`` arrays, one row per correction."""
        pairs = self.get_correction_dataset()
        if not pairs:
            return np.zeros((0, 0), np.float32), np.zeros(0)
        states = np.array([p["state"] for p in pairs], dtype=np.float32)
        return states, np.array([p["action"] for p in pairs])

    def get_feedback_summary(self) -> dict[str, Any]:
        """Counts and averages of the stored feedback.

        ``avg_rating`` is ``None`` when nothing was rated (not 0, which is off the 1-5 scale).

        >>> fb = HumanFeedbackCollector()
        >>> fb.get_feedback_summary()["avg_rating"] is None
        True
        """
        q = self._conn.execute
        n_ratings, avg = q("SELECT COUNT(*), AVG(rating) FROM ratings").fetchone()
        n_corr, n_changed = q(
            "SELECT COUNT(*), COALESCE(SUM(policy_action != human_action), 0) FROM corrections"
        ).fetchone()
        n_pref, n_ties = q(
            "SELECT COUNT(*), COALESCE(SUM(preferred = ?), 0) FROM preferences", (TIE,)
        ).fetchone()
        (n_rated,) = q("SELECT COUNT(DISTINCT trajectory_id) FROM ratings").fetchone()
        return {
            "total_ratings": n_ratings,
            "avg_rating": None if avg is None else round(float(avg), 6),
            "rated_trajectories": n_rated,
            "total_corrections": n_corr,
            "corrections_changing_the_action": n_changed,
            "total_preferences": n_pref,
            "ties": n_ties,
        }

    # -- export ----------------------------------------------------------------------------------

    def export_parquet(self, folder: str | os.PathLike) -> dict[str, Path]:
        """Write each table (``ratings``, ``corrections``, ``preferences``) to
        ``folder/NAME.parquet``.

        States and actions of corrections become list columns, so ``ray.data.read_parquet``
        reads them as arrays. Each file is written to a temporary name and renamed into place.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = {}
        for table in _CONTENT:
            rows = self._rows(table)
            if table == "corrections":
                for r in rows:
                    for key in ("state", "policy_action", "human_action"):
                        values = np.asarray(json.loads(r[key]), dtype=np.float64)
                        r[key] = np.atleast_1d(values).ravel()
            data = (
                pa.Table.from_pylist(rows)
                if rows
                else pa.table({"record_id": pa.array([], pa.string())})
            )
            written[table] = write_parquet_atomically(data, folder / f"{table}.parquet")
        return written

    def export_corrections(self, path: str | os.PathLike) -> Path:
        """Write the corrections as RLlib offline data for behaviour cloning.

        Each correction becomes a one-step episode: the state, the person's action, reward 0,
        truncated. BC only learns ``state -> action``, so nothing else is invented;
        :func:`rl_best_practices.rllib.bc_config` trains on the folder.
        """
        return write_corrections(*self.correction_arrays(), path)
