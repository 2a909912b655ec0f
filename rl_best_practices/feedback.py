"""Human feedback for RL: a durable, validated store and the offline-RL data it feeds.

* :class:`HumanFeedbackCollector` records trajectory ratings, action corrections and pairwise
  preferences. With a ``path`` every record is committed to SQLite (write-ahead log,
  ``synchronous=FULL``) before the call returns, so a crash loses nothing that was acknowledged
  and a new collector on the same file sees everything. Without a path the same code runs on an
  in-memory database. Every argument is validated first; invalid input raises ``ValueError`` and
  writes nothing. A repeated ``record_id`` is an idempotent retry when the content is the same
  and an error when it differs.
* Offline RL data in RLlib's columnar format (one row per transition: ``eps_id``, ``obs``,
  ``actions``, ``rewards``, ``new_obs``, ``terminateds``, ``truncateds``, ``t``):
  :func:`record_episodes` rolls a policy out on the market env and writes one Parquet file,
  :meth:`HumanFeedbackCollector.export_corrections` writes the corrections as one-step episodes
  for behaviour cloning, :func:`bc_config` builds RLlib's BC on such a folder with a reader sized
  for a small machine; :func:`rl_best_practices.rllib.greedy_policy` acts with the trained module.
* :meth:`HumanFeedbackCollector.export_parquet` writes the whole store as Parquet tables that
  ``ray.data.read_parquet`` (or pandas, or DuckDB) reads directly.

>>> fb = HumanFeedbackCollector(clock=lambda: 0.0)
>>> fb.record_trajectory_rating("traj_001", 4.5, "good risk management")
'rating-1'
>>> fb.record_preference("traj_001", "traj_002", preferred="traj_001")
'preference-1'
>>> fb.record_trajectory_rating("traj_003", 99)
Traceback (most recent call last):
...
ValueError: rating must be a finite number within 1 to 5, got 99
>>> fb.get_feedback_summary()["total_ratings"]
1
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rl_best_practices.envs import MarketEnv

__all__ = [
    "TIE",
    "HumanFeedbackCollector",
    "bc_config",
    "record_episodes",
    "signal_policy",
    "write_offline_parquet",
]

TIE = "tie"
"""The ``preferred`` value of a comparison in which neither trajectory is better."""

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


def _text_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


class HumanFeedbackCollector:
    """Validated, durable storage of human feedback on a policy.

    Args:
        path: SQLite file to keep the feedback in (created if missing). ``None`` keeps it in
            memory, which is for demonstrations only: it is gone when the object is.
        action_space: the env's action space (a Gymnasium space). When given, both actions of a
            correction must lie in it.
        clock: returns the current time in seconds; each record is stamped with it.

    A correction's state must be a finite numeric array; the first correction stored fixes the
    shape and every later one must match it.

    >>> from gymnasium import spaces
    >>> fb = HumanFeedbackCollector(action_space=spaces.Discrete(3), clock=lambda: 0.0)
    >>> fb.record_action_correction([0.5, 0.1], policy_action=2, human_action=1, reason="volatile")
    'correction-1'
    >>> fb.record_action_correction([0.5, 0.1], policy_action=2, human_action=7)
    Traceback (most recent call last):
    ...
    ValueError: human_action 7 is not in the action space Discrete(3)
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        action_space: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if action_space is not None and not hasattr(action_space, "contains"):
            raise ValueError(
                f"action_space must be a Gymnasium space or None, got {type(action_space).__name__}"
            )
        if not callable(clock):
            raise ValueError(f"clock must be a callable returning seconds, got {clock!r}")
        self.path = None if path is None else Path(path)
        self.action_space = action_space
        self._clock = clock
        self._batch_depth = 0
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

    def __enter__(self) -> "HumanFeedbackCollector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def batch(self) -> Iterator["HumanFeedbackCollector"]:
        """Commit every record made inside the block in one transaction, at its end.

        Much faster for bulk imports; all-or-nothing: if the block raises, none of its records
        is kept. Records are acknowledged (durable) only when the block exits normally.

        >>> fb = HumanFeedbackCollector(clock=lambda: 0.0)
        >>> with fb.batch():
        ...     ids = [fb.record_trajectory_rating(f"t{i}", 3) for i in range(3)]
        >>> fb.get_feedback_summary()["total_ratings"]
        3
        """
        if self._batch_depth:
            raise RuntimeError("batches cannot be nested")
        self._conn.execute("BEGIN IMMEDIATE")
        self._batch_depth = 1
        try:
            yield self
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")
        finally:
            self._batch_depth = 0

    # -- recording -------------------------------------------------------------------------------

    def record_trajectory_rating(
        self, trajectory_id: str, rating: float, comments: str = "", *, record_id: str | None = None
    ) -> str:
        """Record a rating of a whole trajectory on the 1 (worst) to 5 (best) scale.

        Returns the record id (``record_id`` if given, else a new one).
        """
        trajectory_id = _text_id(trajectory_id, "trajectory_id")
        if not _is_number(rating) or not math.isfinite(rating) or not 1 <= rating <= 5:
            raise ValueError(f"rating must be a finite number within 1 to 5, got {rating!r}")
        row = {"trajectory_id": trajectory_id, "rating": float(rating),
               "comments": _text(comments, "comments")}
        return self._insert("ratings", row, record_id)

    def record_action_correction(
        self,
        state: Any,
        policy_action: Any,
        human_action: Any,
        reason: str = "",
        *,
        record_id: str | None = None,
    ) -> str:
        """Record that a person replaced the policy's action in ``state`` by ``human_action``.

        Returns the record id. These pairs are behaviour-cloning data (see
        :meth:`get_correction_dataset` and :meth:`export_corrections`).
        """
        try:
            arr = np.asarray(state, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"state must be a numeric array, got {state!r}") from exc
        if arr.ndim == 0 or arr.size == 0 or not np.all(np.isfinite(arr)):
            raise ValueError(f"state must be a non-empty array of finite numbers, got {state!r}")
        known = self._meta("state_shape")
        if known is not None and list(arr.shape) != json.loads(known):
            raise ValueError(
                f"state has shape {arr.shape}, but this store holds states of shape "
                f"{tuple(json.loads(known))}"
            )
        row = {
            "state": json.dumps(arr.tolist()),
            "policy_action": json.dumps(self._action(policy_action, "policy_action")),
            "human_action": json.dumps(self._action(human_action, "human_action")),
            "reason": _text(reason, "reason"),
        }
        extra = None if known is not None else ("state_shape", json.dumps(list(arr.shape)))
        return self._insert("corrections", row, record_id, meta=extra)

    def record_preference(
        self, trajectory_a: str, trajectory_b: str, preferred: str, *, record_id: str | None = None
    ) -> str:
        """Record which of two compared trajectories a person preferred.

        ``preferred`` is ``trajectory_a``, ``trajectory_b`` or :data:`TIE` (``"tie"``). Returns
        the record id.
        """
        trajectory_a = _text_id(trajectory_a, "trajectory_a")
        trajectory_b = _text_id(trajectory_b, "trajectory_b")
        if trajectory_a == trajectory_b:
            raise ValueError(f"a preference compares two different trajectories, got {trajectory_a!r} twice")
        if TIE in (trajectory_a, trajectory_b):
            raise ValueError(f"{TIE!r} is reserved for ties and cannot be a trajectory id")
        if preferred not in (trajectory_a, trajectory_b, TIE):
            raise ValueError(
                f"preferred must be one of the compared trajectories {trajectory_a!r}, "
                f"{trajectory_b!r} or {TIE!r}, got {preferred!r}"
            )
        row = {"trajectory_a": trajectory_a, "trajectory_b": trajectory_b, "preferred": preferred}
        return self._insert("preferences", row, record_id)

    def _action(self, action: Any, name: str) -> Any:
        """Validate an action and return its JSON form (an int or a nested list of floats)."""
        if isinstance(action, np.ndarray) and action.shape == ():
            action = action.item()
        if isinstance(action, (bool, np.bool_)):
            raise ValueError(f"{name} must be a number or an array of numbers, got {action!r}")
        if isinstance(action, (int, np.integer)):
            value: Any = int(action)
            candidate: Any = value
        else:
            try:
                arr = np.asarray(action, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be a number or an array of numbers, got {action!r}") from exc
            if arr.size == 0 or not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must be finite numbers, got {action!r}")
            dtype = getattr(self.action_space, "dtype", None)
            if dtype is not None and np.issubdtype(dtype, np.integer) and np.any(arr != np.round(arr)):
                raise ValueError(f"{name} {action!r} is not in the action space {self.action_space}")
            candidate = arr.astype(dtype) if dtype is not None else arr
            value = candidate.tolist()
        if self.action_space is not None and not self.action_space.contains(candidate):
            raise ValueError(f"{name} {action!r} is not in the action space {self.action_space}")
        return value

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _insert(
        self, table: str, row: dict[str, Any], record_id: str | None, meta: tuple[str, str] | None = None
    ) -> str:
        if record_id is not None:
            record_id = _text_id(record_id, "record_id")
        timestamp = float(self._clock())
        if not math.isfinite(timestamp):
            raise ValueError(f"the clock returned {timestamp!r}; it must return finite seconds")
        own = not self._batch_depth
        if own:
            self._conn.execute("BEGIN IMMEDIATE")  # take the write lock before reading
        try:
            if record_id is not None:
                existing = self._existing(table, record_id)
                if existing is not None:
                    if existing == [row[c] for c in _CONTENT[table]]:
                        if own:
                            self._conn.execute("ROLLBACK")
                        return record_id  # an idempotent retry: stored once
                    raise ValueError(
                        f"record_id {record_id!r} already holds a different {_PREFIX[table]}; "
                        "a record id names one record (repeat it only to retry the same record)"
                    )
            columns = ["record_id", *row, "timestamp"]
            cursor = self._conn.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [record_id or "", *row.values(), timestamp],
            )
            if record_id is None:
                record_id = self._fresh_id(table, cursor.lastrowid)
                self._conn.execute(f"UPDATE {table} SET record_id = ? WHERE seq = ?",
                                   (record_id, cursor.lastrowid))
            if meta is not None:  # first of its kind: fix the shape (unless another writer just did)
                self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", meta)
                if self._meta(meta[0]) != meta[1]:
                    raise ValueError(f"{meta[0]} is already {self._meta(meta[0])}, got {meta[1]}")
            if own:
                self._conn.execute("COMMIT")
        except BaseException:
            if own and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return record_id

    def _existing(self, table: str, record_id: str) -> list[Any] | None:
        for other in _CONTENT:
            found = self._conn.execute(
                f"SELECT {', '.join(_CONTENT[other])} FROM {other} WHERE record_id = ?", (record_id,)
            ).fetchone()
            if found is not None:
                if other != table:
                    raise ValueError(f"record_id {record_id!r} already names a {_PREFIX[other]}")
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
        return [dict(zip(names, values)) for values in cursor]

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
        return {
            "total_ratings": n_ratings,
            "avg_rating": None if avg is None else round(float(avg), 6),
            "rated_trajectories": q("SELECT COUNT(DISTINCT trajectory_id) FROM ratings").fetchone()[0],
            "total_corrections": n_corr,
            "corrections_changing_the_action": n_changed,
            "total_preferences": n_pref,
            "ties": n_ties,
        }

    # -- export ----------------------------------------------------------------------------------

    def export_parquet(self, folder: str | os.PathLike) -> dict[str, Path]:
        """Write each table (``ratings``, ``corrections``, ``preferences``) to ``folder/NAME.parquet``.

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
                        r[key] = np.atleast_1d(np.asarray(json.loads(r[key]), dtype=np.float64)).ravel()
            data = pa.Table.from_pylist(rows) if rows else pa.table({"record_id": pa.array([], pa.string())})
            target = folder / f"{table}.parquet"
            _write_parquet_atomically(data, target)
            written[table] = target
        return written

    def export_corrections(self, path: str | os.PathLike) -> Path:
        """Write the corrections as RLlib offline data for behaviour cloning (:func:`bc_config`).

        Each correction becomes a one-step episode: the state, the person's action, reward 0,
        truncated. BC only learns ``state -> action``, so nothing else is invented.
        """
        states, actions = self.correction_arrays()
        if len(states) == 0:
            raise ValueError("there are no corrections to export")
        n = len(states)
        return write_offline_parquet(
            path,
            eps_id=[f"correction-{i}" for i in range(n)],
            obs=states,
            actions=actions,
            rewards=np.zeros(n),
            new_obs=states,
            terminateds=np.zeros(n, bool),
            truncateds=np.ones(n, bool),
            t=np.zeros(n, np.int64),
        )


def _write_parquet_atomically(table: pa.Table, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, target)


def _column(values: Any) -> pa.Array:
    arr = np.asarray(values)
    if arr.ndim == 1:
        return pa.array(arr)
    width = int(np.prod(arr.shape[1:]))
    return pa.FixedSizeListArray.from_arrays(pa.array(arr.reshape(-1)), width)


def write_offline_parquet(
    path: str | os.PathLike,
    *,
    eps_id: Sequence[str],
    obs: Any,
    actions: Any,
    rewards: Any,
    new_obs: Any,
    terminateds: Any,
    truncateds: Any,
    t: Any,
) -> Path:
    """Write transitions as one Parquet file ``path/data.parquet`` in RLlib's columnar format.

    One row per transition, the column names of ``ray.rllib.core.columns.Columns``; RLlib's
    offline reader (``config.offline_data(input_=[path])``) turns the rows back into episodes.
    """
    columns = {
        "eps_id": pa.array([str(e) for e in eps_id], pa.string()),
        "obs": _column(np.asarray(obs, dtype=np.float32)),
        "actions": _column(actions),
        "rewards": pa.array(np.asarray(rewards, dtype=np.float64)),
        "new_obs": _column(np.asarray(new_obs, dtype=np.float32)),
        "terminateds": pa.array(np.asarray(terminateds, dtype=bool)),
        "truncateds": pa.array(np.asarray(truncateds, dtype=bool)),
        "t": pa.array(np.asarray(t, dtype=np.int64)),
    }
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"every column needs one value per transition, got lengths {lengths}")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    _write_parquet_atomically(pa.table(columns), folder / "data.parquet")
    return folder


def signal_policy(obs: np.ndarray) -> int:
    """The course's reference rule on the discrete market env: follow the signal, cap the position.

    Buy when the signal is above 0.3 and the position below half the limit, sell in the mirror
    case, else hold.

    >>> signal_policy([0.8, 0.0, 0, 0, 0]), signal_policy([-0.8, 0.0, 0, 0, 0]), signal_policy([0.1, 0, 0, 0, 0])
    (2, 0, 1)
    """
    signal, position = float(obs[0]), float(obs[1])
    if signal > 0.3 and position < 0.5:
        return 2
    if signal < -0.3 and position > -0.5:
        return 0
    return 1


def record_episodes(
    policy: Callable[[np.ndarray], Any],
    seeds: Iterable[int],
    path: str | os.PathLike,
    env_config: dict[str, Any] | None = None,
) -> np.ndarray:
    """Roll ``policy`` out for one episode per seed on the market env and write the transitions.

    The data go to ``path`` as one Parquet file in RLlib's columnar format (see
    :func:`write_offline_parquet`). Returns the episode returns, to compare a learner with.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    env = MarketEnv(env_config)
    cols: dict[str, list] = {k: [] for k in ("eps_id", "obs", "actions", "rewards", "new_obs",
                                             "terminateds", "truncateds", "t")}
    returns = []
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        done, step, total = False, 0, 0.0
        while not done:
            action = policy(obs)
            new_obs, reward, terminated, truncated, _ = env.step(action)
            for key, value in (("eps_id", f"seed-{seed}"), ("obs", obs), ("actions", action),
                               ("rewards", reward), ("new_obs", new_obs),
                               ("terminateds", terminated), ("truncateds", truncated), ("t", step)):
                cols[key].append(value)
            obs, total, step = new_obs, total + reward, step + 1
            done = terminated or truncated
        returns.append(total)
    write_offline_parquet(path, **cols)
    return np.array(returns)


def bc_config(
    data_path: str | os.PathLike,
    env_config: dict[str, Any] | None = None,
    *,
    seed: int = 0,
    train_batch_size: int = 512,
    lr: float = 1e-3,
) -> Any:
    """RLlib's behaviour cloning (``BCConfig``) on offline data in ``data_path``, for 2 CPUs.

    The data pipeline runs as a single reader (``concurrency=1``) with one local learner
    (``num_learners=0``): RLlib's default of at least two reader actors, each asking for a CPU,
    can wait forever for CPUs the learner holds on a 2-core machine. ``max_restarts=0`` keeps
    Ray from warning that the reader's large constructor arguments cannot survive a restart.
    """
    from ray.rllib.algorithms.bc import BCConfig

    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if not isinstance(train_batch_size, int) or train_batch_size < 1:
        raise ValueError(f"train_batch_size must be an integer >= 1, got {train_batch_size!r}")
    folder = Path(data_path).resolve()
    if not any(folder.glob("*.parquet")):
        raise FileNotFoundError(f"no Parquet files in {folder}")
    env = MarketEnv(env_config)
    return (
        BCConfig()
        .environment(observation_space=env.observation_space, action_space=env.action_space)
        .offline_data(
            input_=[str(folder)],
            input_read_method_kwargs={"override_num_blocks": 1},
            map_batches_kwargs={"concurrency": 1, "num_cpus": 1, "max_restarts": 0},
            iter_batches_kwargs={"prefetch_batches": 1},
            dataset_num_iters_per_learner=1,
        )
        .learners(num_learners=0)
        .training(train_batch_size_per_learner=train_batch_size, lr=lr)
        .debugging(seed=seed, log_level="ERROR")
    )
