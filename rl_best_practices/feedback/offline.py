"""Offline RL data as Parquet in RLlib's columnar format, written atomically.

RLlib's offline reader (``config.offline_data(input_=[folder])``) reads one row per transition
with the columns of ``ray.rllib.core.columns.Columns`` (:data:`OFFLINE_COLUMNS`) and turns the
rows back into episodes. This module writes such data without importing Ray:

* :func:`write_offline_parquet` writes given transitions as ``folder/data.parquet``;
* :func:`record_episodes` rolls a policy out on the market env and writes what it did, with the
  probability of each action it took (``action_logp``), as off-policy evaluation needs;
* :func:`sampling_policy` acts by drawing from given action probabilities, seeded;
* :func:`write_corrections` writes a person's corrections as one-step episodes;
* :func:`write_parquet_atomically` writes any Arrow table to a temporary name, then renames it.

:func:`rl_best_practices.rllib.bc_config` trains RLlib's behaviour cloning on such a folder.

>>> import tempfile
>>> folder = tempfile.TemporaryDirectory()
>>> returns = record_episodes(lambda obs: 1, [0, 1], folder.name, {"episode_length": 5})
>>> returns.shape
(2,)
>>> import pyarrow.parquet as pq
>>> pq.read_table(f"{folder.name}/data.parquet").num_rows
10
>>> folder.cleanup()
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import InvalidValueError
from rl_best_practices.storage import atomic_write
from rl_best_practices.validation import check_array, check_callable, check_int

__all__ = [
    "LOGP_COLUMN",
    "OFFLINE_COLUMNS",
    "record_episodes",
    "sampling_policy",
    "write_corrections",
    "write_offline_parquet",
    "write_parquet_atomically",
]

OFFLINE_COLUMNS = (
    "eps_id", "obs", "actions", "rewards", "new_obs", "terminateds", "truncateds", "t"
)
"""The columns of one transition in RLlib's offline format, in the order they are written."""

LOGP_COLUMN = "action_logp"
"""RLlib's column (``Columns.ACTION_LOGP``) for the log-probability of the action taken."""

ActionProbs = Callable[[np.ndarray], Any]


def write_parquet_atomically(table: pa.Table, target: str | os.PathLike) -> Path:
    """Write ``table`` to ``target`` durably with :func:`rl_best_practices.storage.atomic_write`.

    A reader sees the old file or the new one, never a half-written one, even after a crash.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = write_parquet_atomically(pa.table({"x": [1, 2]}), f"{folder.name}/x.parquet")
    >>> pq.read_table(path).column("x").to_pylist()
    [1, 2]
    >>> folder.cleanup()
    """
    return atomic_write(target, lambda handle: pq.write_table(table, handle))


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
    action_logp: Any = None,
) -> Path:
    """Write transitions as one Parquet file ``path/data.parquet`` in RLlib's columnar format.

    Every argument holds one value per transition (observations and array actions one row per
    transition). Returns the folder ``path``.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = write_offline_parquet(folder.name, eps_id=["e"], obs=[[0.0, 1.0]], actions=[1],
    ...                              rewards=[0.5], new_obs=[[1.0, 1.0]], terminateds=[True],
    ...                              truncateds=[False], t=[0])
    >>> pq.read_table(path / "data.parquet").column("obs").to_pylist()
    [[0.0, 1.0]]
    >>> folder.cleanup()
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
    if action_logp is not None:
        columns[LOGP_COLUMN] = pa.array(np.asarray(action_logp, dtype=np.float64))
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) != 1:
        raise InvalidValueError(
            f"every column needs one value per transition, got lengths {lengths}"
        )
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    write_parquet_atomically(pa.table(columns), folder / "data.parquet")
    return folder


def write_corrections(states: Any, actions: Any, path: str | os.PathLike) -> Path:
    """Write corrections (a person's action in each state) as one-step episodes for BC.

    Each ``(state, action)`` becomes an episode of one truncated step with reward 0: behaviour
    cloning only learns ``state -> action``, so nothing else is invented. Returns ``path``.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = write_corrections([[0.5, 0.1], [0.2, 0.0]], [1, 2], folder.name)
    >>> pq.read_table(path / "data.parquet").column("truncateds").to_pylist()
    [True, True]
    >>> folder.cleanup()
    """
    states = check_array("states", states, min_size=0).astype(np.float32)
    if states.ndim == 0 or len(states) == 0:
        raise InvalidValueError("there are no corrections to export")
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


def sampling_policy(
    action_probs: ActionProbs, seed: int
) -> Callable[[np.ndarray], tuple[int, float]]:
    """``obs -> (action, log-probability)``: draw each action from ``action_probs(obs)``.

    ``action_probs`` maps one observation to a probability vector over a discrete action space
    (non-negative, summing to 1); the draws come from ``numpy.random.default_rng(seed)``.

    >>> act = sampling_policy(lambda obs: [0.0, 0.25, 0.75], seed=0)
    >>> action, logp = act(np.zeros(5))
    >>> action in (1, 2), bool(np.isclose(logp, np.log(0.25 if action == 1 else 0.75)))
    (True, True)
    """
    action_probs = check_callable("action_probs", action_probs)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))

    def act(obs: np.ndarray) -> tuple[int, float]:
        probs = np.asarray(action_probs(obs), dtype=np.float64)
        if probs.ndim != 1 or not np.all(np.isfinite(probs)) or np.any(probs < 0):
            raise InvalidValueError(
                f"action_probs must return one finite, non-negative probability per action, "
                f"got {probs}"
            )
        if abs(probs.sum() - 1.0) > 1e-6:
            raise InvalidValueError(f"action probabilities must sum to 1, got {probs.sum()}")
        # inverse-CDF draw (what rng.choice does, without its per-call overhead)
        action = int(np.searchsorted(np.cumsum(probs), rng.random() * probs.sum(), side="right"))
        action = min(action, len(probs) - 1)
        while probs[action] == 0:  # only reachable through rounding at the top end
            action -= 1
        return action, float(np.log(probs[action]))

    return act


def record_episodes(
    policy: Callable[[np.ndarray], Any] | None,
    seeds: Iterable[int],
    path: str | os.PathLike,
    env_config: dict[str, Any] | None = None,
    *,
    action_probs: ActionProbs | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Roll a policy out for one episode per seed on the market env and write the transitions.

    The data go to ``path`` as one Parquet file in RLlib's columnar format (see
    :func:`write_offline_parquet`), each episode under the ``eps_id`` ``"seed-<seed>"``. Returns
    the episode returns, to compare a learner with.

    The behaviour is either ``policy`` (``obs -> action``, deterministic) or, with
    ``policy=None``, the stochastic ``action_probs`` (``obs -> probabilities``), sampled with
    ``seed`` by :func:`sampling_policy`. On the discrete market env the ``action_logp`` column
    holds the log-probability of each action taken (0 for a deterministic policy), which
    :func:`rl_best_practices.ope.off_policy_value` needs; data that RLlib records itself carries
    the same column.

    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> _ = record_episodes(None, [0], folder.name, {"episode_length": 4},
    ...                     action_probs=lambda obs: [0.5, 0.0, 0.5], seed=1)
    >>> logp = pq.read_table(f"{folder.name}/data.parquet").column("action_logp").to_numpy()
    >>> bool(np.allclose(logp, np.log(0.5)))
    True
    >>> folder.cleanup()
    """
    if action_probs is None:
        act = _deterministic(check_callable("policy", policy))
    elif policy is None:
        act = sampling_policy(action_probs, seed)
    else:
        raise InvalidValueError(
            "give one behaviour: a deterministic policy, or policy=None and action_probs "
            "(obs -> action probabilities), not both"
        )
    seeds = [check_int("seed", s, minimum=0) for s in seeds]
    if not seeds:
        raise InvalidValueError("seeds must hold at least one seed")
    env = MarketEnv(env_config)
    cols: dict[str, list[Any]] = {name: [] for name in (*OFFLINE_COLUMNS, LOGP_COLUMN)}
    returns = []
    for episode_seed in seeds:
        obs, _ = env.reset(seed=episode_seed)
        done, step, total = False, 0, 0.0
        while not done:
            action, logp = act(obs)
            new_obs, reward, terminated, truncated, _ = env.step(action)
            transition = (
                f"seed-{episode_seed}", obs, action, reward, new_obs, terminated, truncated, step,
                logp,
            )
            for name, value in zip(cols, transition, strict=True):
                cols[name].append(value)
            obs, total, step = new_obs, total + reward, step + 1
            done = terminated or truncated
        returns.append(total)
    if env.params.action_type != "discrete":
        del cols[LOGP_COLUMN]  # a deterministic continuous action has no probability
    write_offline_parquet(path, **cols)
    return np.array(returns)


def _deterministic(
    policy: Callable[[np.ndarray], Any],
) -> Callable[[np.ndarray], tuple[Any, float]]:
    return lambda obs: (policy(obs), 0.0)
