"""Canary release: a growing share of traffic goes to a candidate while guard metrics hold.

* :func:`assign_fraction` puts each key (an account, a user) at a stable point of ``[0, 1)`` from
  a SHA-256 hash, so a key's arm is sticky and the same in every process.
* :class:`Guard` is one metric the candidate must keep within a bound, judged only once it has
  enough samples.
* :class:`Canary` ramps the candidate's traffic stage by stage while every guard holds and rolls
  back automatically the moment a guard with enough samples is breached.

Guard statistics are running means (:class:`~rl_best_practices.running_stats.RunningMeanStd`),
so memory stays bounded however long the canary runs.

>>> canary = Canary(lambda obs: 0, lambda obs: 1, guards=[Guard("loss", 1.0)], ramp=(0.5,))
>>> canary.state, canary.fraction
('running', 0.5)
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from rl_best_practices.deployment._common import Policy
from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.running_stats import RunningMeanStd
from rl_best_practices.validation import (
    check_callable,
    check_choice,
    check_int,
    check_number,
    check_text,
)

__all__ = ["Canary", "Guard", "assign_fraction"]

ARMS = ("control", "canary")


def assign_fraction(key: str, salt: str = "") -> float:
    """A stable number in ``[0, 1)`` for ``key``, from SHA-256 (unlike ``hash()``, it is the
    same in every process). A key joins the canary when this is below the traffic fraction, so
    raising the fraction keeps every key already in it.

    >>> assign_fraction("account-7") == assign_fraction("account-7")
    True
    >>> 0 <= assign_fraction("account-7", salt="release-2") < 1
    True
    """
    if not isinstance(key, str) or not isinstance(salt, str):
        raise InvalidTypeError(
            f"key and salt must be strings, got {type(key).__name__} and {type(salt).__name__}"
        )
    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


@dataclass(frozen=True)
class Guard:
    """A metric the canary must keep within a bound.

    Args:
        metric: name of a value passed to :meth:`Canary.record`.
        bound: the limit on the statistic.
        direction: ``"at_most"`` (statistic <= bound) or ``"at_least"`` (statistic >= bound).
        min_samples: canary records needed before the guard may judge (no verdict on noise).
        relative: judge ``canary mean - control mean`` instead of the canary mean alone (needs
            ``min_samples`` records in the control arm too).

    >>> guard = Guard("error_rate", 0.01, min_samples=100)
    >>> guard.holds(0.005), guard.holds(0.02)
    (True, False)
    """

    metric: str
    bound: float
    direction: str = "at_most"
    min_samples: int = 30
    relative: bool = False

    def __post_init__(self) -> None:
        check_text("metric", self.metric)
        check_number("bound", self.bound)
        check_choice("direction", self.direction, ("at_most", "at_least"))
        check_int("min_samples", self.min_samples, minimum=1)
        if not isinstance(self.relative, bool):
            raise InvalidTypeError(f"relative must be a boolean, got {self.relative!r}")

    def holds(self, statistic: float) -> bool:
        """Whether ``statistic`` respects the bound."""
        return statistic <= self.bound if self.direction == "at_most" else statistic >= self.bound


def _as_list(name: str, values: Iterable[Any]) -> list[Any]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidTypeError(f"{name} must be a sequence, got {type(values).__name__}")
    return list(values)


def _check_guards(guards: Sequence[Guard]) -> list[Guard]:
    guards = _as_list("guards", guards)
    if not guards:
        raise InvalidValueError("guards must be a non-empty sequence of Guard objects, got none")
    for guard in guards:
        if not isinstance(guard, Guard):
            raise InvalidTypeError(
                f"guards must be a non-empty sequence of Guard objects, got {guard!r}"
            )
    return guards


def _check_ramp(ramp: Sequence[float]) -> tuple[float, ...]:
    fractions = tuple(
        check_number(f"ramp[{n}]", f, minimum=0, maximum=1, low_open=True)
        for n, f in enumerate(_as_list("ramp", ramp))
    )
    if not fractions or any(b <= a for a, b in pairwise(fractions)):
        raise InvalidValueError(
            f"ramp must be strictly increasing fractions in (0, 1], got {list(fractions)!r}"
        )
    return fractions


class Canary:
    """Route a growing share of traffic to ``candidate`` while guards hold; roll back if not.

    Args:
        control: the current production policy.
        candidate: the new policy under test.
        guards: the :class:`Guard` metrics; every :meth:`record` of the canary arm re-judges them.
        ramp: increasing traffic fractions in ``(0, 1]``, one per stage.
        stage_samples: canary records per stage before moving to the next fraction; after the
            last stage the candidate is promoted (fraction 1).
        salt: mixed into the hash, so each release draws a fresh set of canary keys.
        max_events: how many state changes :attr:`events` keeps.

    State is ``"running"``, ``"rolled_back"`` (fraction 0: everything goes to control) or
    ``"promoted"`` (fraction 1).

    >>> canary = Canary(lambda obs: 0, lambda obs: 2, guards=[Guard("loss", 1.0, min_samples=3)],
    ...                 ramp=(0.5,), stage_samples=3)
    >>> for _ in range(3):
    ...     _ = canary.record("canary", {"loss": 5.0})
    >>> canary.state, canary.fraction, canary.events[-1]["reason"]
    ('rolled_back', 0.0, 'loss: canary mean 5 breaches at_most 1 after 3 samples')
    """

    def __init__(
        self,
        control: Policy,
        candidate: Policy,
        *,
        guards: Sequence[Guard],
        ramp: Sequence[float] = (0.05, 0.25, 0.5),
        stage_samples: int = 100,
        salt: str = "canary",
        max_events: int = 100,
    ) -> None:
        self.control = check_callable("control", control)
        self.candidate = check_callable("candidate", candidate)
        self.guards = _check_guards(guards)
        self.ramp = _check_ramp(ramp)
        self.stage_samples = check_int("stage_samples", stage_samples, minimum=1)
        if not isinstance(salt, str):
            raise InvalidTypeError(f"salt must be a string, got {type(salt).__name__}")
        self.salt = salt
        self.stage = 0
        self.state = "running"
        self._stage_count = 0
        self._stats = {
            arm: {g.metric: RunningMeanStd(prior_count=0.0) for g in self.guards} for arm in ARMS
        }
        self.events: deque[dict[str, Any]] = deque(
            maxlen=check_int("max_events", max_events, minimum=1)
        )
        self._event("started", f"fraction {self.ramp[0]:g}")

    @property
    def fraction(self) -> float:
        """The traffic share the candidate receives now."""
        if self.state == "rolled_back":
            return 0.0
        if self.state == "promoted":
            return 1.0
        return self.ramp[self.stage]

    def arm_for(self, key: str) -> str:
        """``"canary"`` or ``"control"`` for ``key``; the same key always gets the same arm at a
        given fraction, and stays in the canary as the fraction grows."""
        return "canary" if assign_fraction(key, self.salt) < self.fraction else "control"

    def act(self, key: str, obs: Any) -> tuple[Any, str]:
        """The action for ``obs`` from the arm ``key`` is assigned to, and that arm."""
        arm = self.arm_for(key)
        policy = self.candidate if arm == "canary" else self.control
        return policy(obs), arm

    def _event(self, kind: str, reason: str) -> None:
        self.events.append({"event": kind, "stage": self.stage, "fraction": self.fraction,
                            "samples": self.samples("canary"), "reason": reason})

    def _count(self, arm: str, metric: str) -> int:
        return int(self._stats[arm][metric].count)

    def samples(self, arm: str) -> int:
        """Records received for ``arm`` (the most-recorded guard metric)."""
        check_choice("arm", arm, ARMS)
        return max(self._count(arm, metric) for metric in self._stats[arm])

    def statistic(self, guard: Guard) -> tuple[float, int]:
        """The value ``guard`` judges and the canary sample count behind it (NaN when the arm has
        no data yet)."""
        n = self._count("canary", guard.metric)
        if n == 0:
            return math.nan, 0
        canary = self._stats["canary"][guard.metric].mean
        if not guard.relative:
            return canary, n
        control = self._stats["control"][guard.metric]
        return (canary - control.mean if control.count else math.nan), n

    def _has_samples(self, guard: Guard) -> bool:
        return self._count("canary", guard.metric) >= guard.min_samples and (
            not guard.relative or self._count("control", guard.metric) >= guard.min_samples
        )

    def breached(self) -> list[str]:
        """Reasons for every guard that has enough samples and is outside its bound."""
        reasons = []
        for guard in self.guards:
            value, n = self.statistic(guard)
            if self._has_samples(guard) and not guard.holds(value):
                what = "canary - control" if guard.relative else "canary mean"
                reasons.append(f"{guard.metric}: {what} {value:.4g} breaches {guard.direction} "
                               f"{guard.bound:g} after {n} samples")
        return reasons

    def _check_record(self, arm: str, metrics: dict[str, float]) -> dict[str, float]:
        check_choice("arm", arm, ARMS)
        if not isinstance(metrics, dict):
            raise InvalidTypeError(
                f"metrics must be a dict of metric name -> number, got {type(metrics).__name__}"
            )
        known = sorted(self._stats[arm])
        return {
            check_choice("metric", name, known): check_number(f"metric {name!r}", value)
            for name, value in metrics.items()
        }

    def record(self, arm: str, metrics: dict[str, float]) -> str:
        """Add one observation of the guard metrics for ``arm``; return the state.

        Canary records re-judge the guards: a breach rolls back at once; otherwise, when the
        stage has ``stage_samples`` records and every guard has enough samples, the ramp moves
        on (or, after the last stage, the candidate is promoted). Records after rollback or
        promotion are ignored. Raises :class:`~rl_best_practices.errors.InvalidValueError` for
        an unknown arm, an unknown metric or a non-finite value (nothing is recorded then).
        """
        values = self._check_record(arm, metrics)
        if self.state != "running":
            return self.state
        for name, value in values.items():
            self._stats[arm][name].update(value)
        if arm == "canary":
            self._stage_count += 1
            self._judge()
        return self.state

    def _judge(self) -> None:
        reasons = self.breached()
        if reasons:
            self.state = "rolled_back"
            self._event("rolled_back", "; ".join(reasons))
        elif self._stage_count >= self.stage_samples and all(map(self._has_samples, self.guards)):
            self._stage_count = 0
            if self.stage + 1 < len(self.ramp):
                self.stage += 1
                self._event("ramped", f"fraction {self.ramp[self.stage]:g}")
            else:
                self.state = "promoted"
                self._event("promoted", "every stage passed its guards")
