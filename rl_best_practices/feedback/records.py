"""What a feedback record may hold: each kind is validated here before the store writes it.

* :func:`rating_row`: a rating of a whole trajectory on the 1 (worst) to 5 (best) scale.
* :func:`preference_row`: which of two different trajectories a person preferred, or :data:`TIE`.
* :func:`correction_row`: a person's action replacing the policy's in a state; each action is
  checked by :func:`action_value`.

Each function returns the record's stored form (plain ``str``, ``float``, ``int``, JSON) or
raises :class:`~rl_best_practices.errors.InvalidValueError` (``InvalidTypeError`` for a wrong type)
naming the field, so a bad record never reaches the database.

>>> rating_row("traj_001", 4.5, "good risk management")
{'trajectory_id': 'traj_001', 'rating': 4.5, 'comments': 'good risk management'}
>>> preference_row("traj_001", "traj_002", TIE)["preferred"]
'tie'
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.validation import check_array, check_number, check_text

__all__ = ["TIE", "action_value", "correction_row", "preference_row", "rating_row"]

TIE = "tie"
"""The ``preferred`` value of a comparison in which neither trajectory is better."""


def _free_text(name: str, value: Any) -> str:
    # Comments and reasons may be empty, so check_text (non-blank) does not apply.
    if not isinstance(value, str):
        raise InvalidTypeError(f"{name} must be a string, got {type(value).__name__}")
    return value


def rating_row(trajectory_id: str, rating: float, comments: str = "") -> dict[str, Any]:
    """The stored form of a rating: a trajectory id, a number in [1, 5] and free-text comments.

    >>> rating_row("traj_003", 99)
    Traceback (most recent call last):
    ...
    rl_best_practices.errors.InvalidValueError: rating must be a finite number in [1, 5], got 99
    """
    return {
        "trajectory_id": check_text("trajectory_id", trajectory_id),
        "rating": check_number("rating", rating, minimum=1, maximum=5),
        "comments": _free_text("comments", comments),
    }


def preference_row(trajectory_a: str, trajectory_b: str, preferred: str) -> dict[str, str]:
    """The stored form of a preference between two different trajectories.

    ``preferred`` is ``trajectory_a``, ``trajectory_b`` or :data:`TIE`, which is therefore not
    allowed as a trajectory id.

    >>> preference_row("a", "b", "c")
    Traceback (most recent call last):
    ...
    rl_best_practices.errors.InvalidValueError: preferred must be one of the compared \
trajectories 'a', 'b' or 'tie', got 'c'
    """
    trajectory_a = check_text("trajectory_a", trajectory_a)
    trajectory_b = check_text("trajectory_b", trajectory_b)
    if trajectory_a == trajectory_b:
        raise InvalidValueError(
            f"a preference compares two different trajectories, got {trajectory_a!r} twice"
        )
    if TIE in (trajectory_a, trajectory_b):
        raise InvalidValueError(f"{TIE!r} is reserved for ties and cannot be a trajectory id")
    if preferred not in (trajectory_a, trajectory_b, TIE):
        raise InvalidValueError(
            f"preferred must be one of the compared trajectories {trajectory_a!r}, "
            f"{trajectory_b!r} or {TIE!r}, got {preferred!r}"
        )
    return {"trajectory_a": trajectory_a, "trajectory_b": trajectory_b, "preferred": preferred}


def correction_row(
    state: Any, policy_action: Any, human_action: Any, reason: str = "", action_space: Any = None
) -> tuple[dict[str, str], tuple[int, ...]]:
    """The stored form of a correction (JSON texts) and the shape of its state.

    The state must be a finite numeric array with at least one dimension and one value; both
    actions are checked by :func:`action_value`.

    >>> row, shape = correction_row([0.5, 0.1], 2, 1, "volatile")
    >>> row, shape
    ({'state': '[0.5, 0.1]', 'policy_action': '2', 'human_action': '1', 'reason': 'volatile'}, (2,))
    >>> correction_row(3.0, 2, 1)
    Traceback (most recent call last):
    ...
    rl_best_practices.errors.InvalidValueError: state must be a non-empty array, got the scalar 3.0
    """
    array = check_array("state", state)
    if array.ndim == 0:
        raise InvalidValueError(f"state must be a non-empty array, got the scalar {state!r}")
    row = {
        "state": json.dumps(array.tolist()),
        "policy_action": json.dumps(action_value("policy_action", policy_action, action_space)),
        "human_action": json.dumps(action_value("human_action", human_action, action_space)),
        "reason": _free_text("reason", reason),
    }
    return row, array.shape


def action_value(name: str, action: Any, action_space: Any = None) -> int | list[Any]:
    """An action's stored form, an ``int`` or a (nested) list of numbers, checked against
    ``action_space`` (a Gymnasium space) when one is given.

    >>> from gymnasium import spaces
    >>> action_value("human_action", np.int64(1), spaces.Discrete(3))
    1
    >>> action_value("action", 7, spaces.Discrete(3))
    Traceback (most recent call last):
    ...
    rl_best_practices.errors.InvalidValueError: action 7 is not in the action space Discrete(3)
    """
    if isinstance(action, np.ndarray) and action.shape == ():
        action = action.item()
    if isinstance(action, (bool, np.bool_)):
        raise InvalidTypeError(f"{name} must be a number or an array of numbers, got {action!r}")
    if isinstance(action, (int, np.integer)):
        value: Any = int(action)
        candidate: Any = value
    else:
        array = check_array(name, action)
        dtype = getattr(action_space, "dtype", None)
        whole = np.issubdtype(dtype, np.integer) if dtype is not None else False
        if whole and np.any(array != np.round(array)):
            raise InvalidValueError(f"{name} {action!r} is not in the action space {action_space}")
        candidate = array.astype(dtype) if dtype is not None else array
        value = candidate.tolist()
    if action_space is not None and not action_space.contains(candidate):
        raise InvalidValueError(f"{name} {action!r} is not in the action space {action_space}")
    return value
