"""Shadow mode: a candidate policy sees live observations, but only the serving policy acts.

:class:`ShadowDeployment` returns the serving (primary) policy's action and runs the candidate
on a copy of the same observation. The candidate's action is compared and logged, never
executed; if the candidate raises, serving goes on and the error is counted. Agreement is only
a diagnostic: a candidate that trades better *must* disagree with production somewhere, and on
three actions chance agreement is already about a third.

When actions do not move the world's exogenous state (a price-taking trader: the price path is
the same whatever it trades), the candidate's *counterfactual* outcome on the very days production
served is exact. :func:`counterfactual_returns` replays each day for the candidate on a twin
environment, checks step by step that the exogenous state matches, and returns both policies'
returns day by day, ready for a paired comparison
(:func:`~rl_best_practices.evaluation.non_inferiority`).

>>> shadow = ShadowDeployment(lambda obs: 0, lambda obs: 0)
>>> shadow.act([1.0]), shadow.agreement_rate
(0, 1.0)
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from rl_best_practices.deployment._common import Policy
from rl_best_practices.errors import InvalidStateError, InvalidValueError
from rl_best_practices.validation import check_callable, check_int, check_text

__all__ = ["ShadowDeployment", "counterfactual_returns"]


def _actions_equal(a: Any, b: Any) -> bool:
    """Exact equality of two actions, scalars or arrays; actions that cannot be compared differ."""
    scalars = (int, float, np.integer, np.floating)
    if isinstance(a, scalars) and isinstance(b, scalars):  # fast path for discrete actions
        return bool(a == b)
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (TypeError, ValueError):
        return False


class ShadowDeployment:
    """Serve ``primary``; run ``candidate`` on a copy of the same observation and only log it.

    Args:
        primary: the serving policy; its action is returned and executed.
        candidate: the shadow policy; its action is compared, never returned. If it raises, the
            error is counted and serving continues.
        compare: ``compare(primary_action, candidate_action) -> bool`` (agreement); exact
            equality by default.
        max_log: how many recent decisions :attr:`log` keeps (older ones are dropped; the
            counts cover all of them).

    >>> shadow = ShadowDeployment(lambda obs: 1, lambda obs: 2 if obs[0] > 0 else 1)
    >>> [shadow.act([x]) for x in (-1.0, 1.0)]
    [1, 1]
    >>> shadow.decisions, shadow.agreement_rate
    (2, 0.5)
    """

    def __init__(
        self,
        primary: Policy,
        candidate: Policy,
        *,
        compare: Callable[[Any, Any], bool] = _actions_equal,
        max_log: int = 1000,
    ) -> None:
        self.primary = check_callable("primary", primary)
        self.candidate = check_callable("candidate", candidate)
        self.compare = check_callable("compare", compare)
        self.log: deque[dict[str, Any]] = deque(maxlen=check_int("max_log", max_log, minimum=1))
        self.decisions = 0
        self.agreements = 0
        self.candidate_errors = 0

    def act(self, obs: Any) -> Any:
        """The primary's action for ``obs``; the candidate's is recorded alongside."""
        action = self.primary(obs)
        self.decisions += 1
        shadow_obs = obs.copy() if isinstance(obs, np.ndarray) else obs
        try:
            shadow_action = self.candidate(shadow_obs)
        except Exception as exc:  # the shadow must never break serving
            self.candidate_errors += 1
            self.log.append({"action": action, "shadow": None, "agree": False,
                             "error": f"{type(exc).__name__}: {exc}"})
            return action
        agree = bool(self.compare(action, shadow_action))
        self.agreements += agree
        self.log.append({"action": action, "shadow": shadow_action, "agree": agree, "error": None})
        return action

    __call__ = act

    @property
    def agreement_rate(self) -> float:
        """Share of decisions where the candidate agreed (NaN before the first decision)."""
        return self.agreements / self.decisions if self.decisions else math.nan


def _episode(make_env: Callable[[], Any], policy: Policy, seed: int, exogenous: str,
             ) -> tuple[float, list[float]]:
    env = make_env()
    obs, _ = env.reset(seed=seed)
    total, path, done = 0.0, [], False
    while not done:
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        if exogenous not in info:
            raise InvalidValueError(f"the environment's info has no {exogenous!r} entry; "
                                    f"available: {sorted(info)}")
        total += float(reward)
        path.append(float(info[exogenous]))
        done = terminated or truncated
    return total, path


def counterfactual_returns(
    make_env: Callable[[], Any],
    production: Policy,
    candidate: Policy,
    seeds: Any,
    *,
    exogenous: str = "price_change",
) -> tuple[np.ndarray, np.ndarray]:
    """Per-day returns of ``production`` and of ``candidate`` on the same days (seeds).

    ``make_env()`` builds a fresh Gymnasium environment; each seed is one day, played by
    production and replayed by the candidate on a twin. ``info[exogenous]`` (the market's price
    change) must be identical on both runs, step for step: that is the assumption that makes the
    counterfactual exact, checked rather than trusted. Raises
    :class:`~rl_best_practices.errors.InvalidStateError` naming the day and step where the
    paths differ (the candidate's actions moved the world).

    >>> from rl_best_practices.envs import MarketEnv
    >>> prod, cand = counterfactual_returns(lambda: MarketEnv({"episode_length": 20}),
    ...                                     lambda obs: 1, lambda obs: 2, seeds=[0, 1])
    >>> prod.tolist(), cand.shape
    ([0.0, 0.0], (2,))
    """
    check_callable("make_env", make_env)
    check_callable("production", production)
    check_callable("candidate", candidate)
    check_text("exogenous", exogenous)
    days = [check_int("seed", seed, minimum=0) for seed in seeds]
    if not days:
        raise InvalidValueError("seeds must name at least one day")
    served, replayed = [], []
    for seed in days:
        live, live_path = _episode(make_env, production, seed, exogenous)
        twin, twin_path = _episode(make_env, candidate, seed, exogenous)
        for step, (a, b) in enumerate(zip(live_path, twin_path, strict=False)):
            if a != b:
                raise InvalidStateError(
                    f"day {seed}, step {step}: {exogenous} is {a!r} for production but {b!r} for "
                    "the candidate; the environment is not price-taking, so the counterfactual "
                    "is not exact"
                )
        served.append(live)
        replayed.append(twin)
    return np.array(served), np.array(replayed)
