"""Potential-based shaping, and an exact solver to check that it leaves optimal policies alone.

* :func:`potential_shaping`: the term F = γΦ(s') − Φ(s) of Ng, Harada and Russell (1999), "Policy
  invariance under reward transformations", which provably leaves optimal policies unchanged.
* :func:`optimal_policy` solves a small tabular MDP exactly (value iteration), so that claim, and
  the effect of any other reward change, can be checked rather than believed.
"""

from __future__ import annotations

import numpy as np

from rl_best_practices.errors import InvalidValueError
from rl_best_practices.validation import check_array, check_number

__all__ = ["optimal_policy", "potential_shaping"]


def potential_shaping(
    potential: float, next_potential: float, gamma: float, terminated: bool
) -> float:
    """The potential-based shaping term F = γΦ(s') − Φ(s).

    Φ(s') counts as 0 when the episode *terminated* (there is no future), but not when it was
    merely *truncated* by a time limit (the state still has a future the agent cannot see).

    >>> potential_shaping(1.0, 3.0, gamma=0.9, terminated=False)
    1.7000000000000002
    >>> potential_shaping(1.0, 3.0, gamma=0.9, terminated=True)
    -1.0
    """
    gamma = check_number("gamma", gamma, minimum=0, maximum=1)
    nxt = 0.0 if terminated else check_number("next_potential", next_potential)
    return gamma * nxt - check_number("potential", potential)


def optimal_policy(
    transitions: np.ndarray, rewards: np.ndarray, gamma: float, tol: float = 1e-12
) -> tuple[np.ndarray, np.ndarray]:
    """Solve a small tabular MDP exactly by value iteration.

    Args:
        transitions: ``P[s, a, s']``, rows summing to 1 (an absorbing state has P[s, a, s] = 1).
        rewards: ``R[s, a, s']``, the reward of each transition.
        gamma: discount in [0, 1).

    Returns:
        ``(policy, values)``: the greedy action per state (lowest index on ties, to 1e-9) and V*.

    >>> P = np.array([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> R = np.array([[[0.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    >>> optimal_policy(P, R, gamma=0.9)[0]
    array([0, 0])
    """
    P, R = check_array("transitions", transitions), check_array("rewards", rewards)
    if P.ndim != 3 or P.shape[0] != P.shape[2] or R.shape != P.shape:
        raise InvalidValueError(
            f"transitions and rewards must both have shape (S, A, S), got {P.shape}, {R.shape}"
        )
    if not np.allclose(P.sum(axis=2), 1.0) or (P < 0).any():
        raise InvalidValueError("each transitions[s, a] must be a probability distribution")
    gamma = check_number("gamma", gamma, minimum=0, maximum=1, high_open=True)
    expected = (P * R).sum(axis=2)
    values = np.zeros(P.shape[0])
    while True:
        q = expected + gamma * P @ values
        new_values = q.max(axis=1)
        if np.max(np.abs(new_values - values)) < tol:
            break
        values = new_values
    best = q >= q.max(axis=1, keepdims=True) - 1e-9
    return best.argmax(axis=1), new_values
