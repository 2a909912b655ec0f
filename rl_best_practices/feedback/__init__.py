"""Human feedback for RL: a validated, durable store and the offline-RL data it feeds.

The parts, each read in one sitting:

* :mod:`~rl_best_practices.feedback.records`: what a rating, a preference (:data:`TIE` for a
  tie) and an action correction may hold; each is validated before anything is written.
* :mod:`~rl_best_practices.feedback.store`: :class:`HumanFeedbackCollector`, the SQLite store
  (write-ahead log, one committed transaction per acknowledged record, batches, idempotent
  retries) and its exports to Parquet.
* :mod:`~rl_best_practices.feedback.offline`: offline RL data in RLlib's columnar format
  (:func:`write_offline_parquet`, :func:`record_episodes` with logged action probabilities,
  :func:`write_corrections`), written without Ray; :func:`rl_best_practices.rllib.bc_config`
  trains behaviour cloning on it.

>>> fb = HumanFeedbackCollector(clock=lambda: 0.0)
>>> fb.record_preference("traj_001", "traj_002", preferred=TIE)
'preference-1'
>>> fb.get_feedback_summary()["ties"]
1
"""

from rl_best_practices.feedback.offline import (
    LOGP_COLUMN,
    OFFLINE_COLUMNS,
    record_episodes,
    sampling_policy,
    write_corrections,
    write_offline_parquet,
    write_parquet_atomically,
)
from rl_best_practices.feedback.records import (
    TIE,
    action_value,
    correction_row,
    preference_row,
    rating_row,
)
from rl_best_practices.feedback.store import HumanFeedbackCollector

__all__ = [
    "LOGP_COLUMN",
    "OFFLINE_COLUMNS",
    "TIE",
    "HumanFeedbackCollector",
    "action_value",
    "correction_row",
    "preference_row",
    "rating_row",
    "record_episodes",
    "sampling_policy",
    "write_corrections",
    "write_offline_parquet",
    "write_parquet_atomically",
]
