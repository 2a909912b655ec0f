"""Monitor everything a deployed policy does: a Gymnasium wrapper and a fallback switch.

* :class:`PolicyMonitor` wraps an environment and feeds, at every step, the action to an
  :class:`~rl_best_practices.drift.actions.ActionMonitor`, the reward to a
  :class:`~rl_best_practices.drift.change.CusumDetector` and the agent's decision time (from
  the end of one ``reset``/``step`` to the start of the next ``step``) to a
  :class:`~rl_best_practices.drift.latency.LatencyMonitor`. Any of the three may be left out.
  Each step's ``info["monitors"]`` holds what they report; alarms are kept in :attr:`alarms`.
  An action outside the action space is refused before it reaches the monitors or the env.
  Inputs are watched by :class:`~rl_best_practices.drift.ShiftMonitor`; stack both.
* :class:`FallbackSwitch` acts with a policy until it is tripped (by an alarm), then with a
  fallback (the flat policy, a rule) until it is restored: the first response to an alarm,
  long before a retrained policy is ready.

:class:`rl_best_practices.rllib.MonitorMetricsCallback` logs the wrapper's reports in RLlib.

>>> from rl_best_practices.envs import MarketEnv
>>> from rl_best_practices.drift.change import CusumDetector
>>> env = PolicyMonitor(MarketEnv(), reward_detector=CusumDetector(0.0, 50.0, k=0.5, h=5.0))
>>> _ = env.reset(seed=0)
>>> sorted(env.step(2)[-1]["monitors"])
['alarms', 'reward']
>>> env.step(3)
Traceback (most recent call last):
...
rl_best_practices.errors.InvalidValueError: action 3 is outside the action space Discrete(3)
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym

from rl_best_practices.drift.actions import ActionMonitor
from rl_best_practices.drift.change import CusumDetector
from rl_best_practices.drift.latency import LatencyMonitor
from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.validation import check_callable, check_int, check_text

__all__ = ["FallbackSwitch", "PolicyMonitor"]


def _check_type(name: str, value: Any, kind: type) -> Any:
    if value is not None and not isinstance(value, kind):
        raise InvalidTypeError(f"{name} must be a {kind.__name__} or None, "
                               f"got {type(value).__name__}")
    return value


class PolicyMonitor(gym.Wrapper):
    """Watch actions, rewards and decision latency of whoever acts in ``env``.

    Args:
        env: the environment (not changed).
        action_monitor: receives every action (its checks appear as ``info["monitors"]
            ["action"]`` when due).
        reward_detector: receives every reward; its state is ``info["monitors"]["reward"]``.
        latency_monitor: receives each decision time; its checks appear as
            ``info["monitors"]["latency"]``.
        clock: seconds, for decision times (default ``time.perf_counter``).
        max_alarms: how many recent ``(step, monitor)`` alarms :attr:`alarms` keeps.

    ``info["monitors"]["alarms"]`` lists the monitors that alarmed at this step (``"action"``,
    ``"reward"``, ``"latency"``); ``step`` counts the wrapper's ``step`` calls from 1.
    """

    def __init__(self, env: gym.Env, *, action_monitor: ActionMonitor | None = None,
                 reward_detector: CusumDetector | None = None,
                 latency_monitor: LatencyMonitor | None = None,
                 clock: Callable[[], float] = time.perf_counter, max_alarms: int = 1000) -> None:
        super().__init__(env)
        self.action_monitor = _check_type("action_monitor", action_monitor, ActionMonitor)
        self.reward_detector = _check_type("reward_detector", reward_detector, CusumDetector)
        self.latency_monitor = _check_type("latency_monitor", latency_monitor, LatencyMonitor)
        self._clock = check_callable("clock", clock)
        self.alarms: deque[tuple[int, str]] = deque(
            maxlen=check_int("max_alarms", max_alarms, minimum=1))
        self.steps = 0
        self._ready_at: float | None = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._ready_at = self._clock()
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        started = self._clock()
        if not self.action_space.contains(action):
            raise InvalidValueError(
                f"action {action!r} is outside the action space {self.action_space}")
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        reports: dict[str, Any] = {"alarms": []}
        if self.action_monitor is not None:
            report = self.action_monitor.observe(action)
            if report is not None:
                reports["action"] = report
                if report["shift_detected"]:
                    reports["alarms"].append("action")
        if self.reward_detector is not None:
            alarm = self.reward_detector.update(float(reward))
            reports["reward"] = {**self.reward_detector.report(), "alarm": alarm}
            if alarm:
                reports["alarms"].append("reward")
        if self.latency_monitor is not None and self._ready_at is not None:
            report = self.latency_monitor.record(max(0.0, float(started - self._ready_at)))
            if report is not None:
                reports["latency"] = report
                if report["over_budget"]:
                    reports["alarms"].append("latency")
        for name in reports["alarms"]:
            self.alarms.append((self.steps, name))
        info["monitors"] = reports
        self._ready_at = self._clock()
        return obs, reward, terminated, truncated, info


class FallbackSwitch:
    """Act with ``policy`` until :meth:`trip`, then with ``fallback`` until :meth:`restore`.

    >>> switch = FallbackSwitch(lambda obs: 2, lambda obs: 1)
    >>> switch(None), switch.trip("reward alarm"), switch(None), switch.active
    (2, None, 1, 'fallback')
    """

    def __init__(self, policy: Callable[[Any], Any], fallback: Callable[[Any], Any],
                 max_log: int = 100) -> None:
        self.policy = check_callable("policy", policy)
        self.fallback = check_callable("fallback", fallback)
        self.log: deque[tuple[str, str]] = deque(maxlen=check_int("max_log", max_log, minimum=1))
        self.tripped = False

    @property
    def active(self) -> str:
        """``"policy"`` or ``"fallback"``."""
        return "fallback" if self.tripped else "policy"

    def trip(self, reason: str) -> None:
        """Switch to the fallback (idempotent); ``reason`` is logged."""
        self.log.append(("trip", check_text("reason", reason)))
        self.tripped = True

    def restore(self, reason: str) -> None:
        """Switch back to the policy (for example a retrained one put in ``policy``)."""
        self.log.append(("restore", check_text("reason", reason)))
        self.tripped = False

    def __call__(self, obs: Any) -> Any:
        return (self.fallback if self.tripped else self.policy)(obs)
