"""Canary release: a growing share of traffic goes to a candidate while guard metrics hold.

* :func:`assign_fraction` puts each key (an account, a user) at a stable point of ``[0, 1)`` from
  a SHA-256 hash, so a key's arm is sticky and the same in every process.
* :class:`Guard` is one metric the candidate must keep within a bound: an absolute limit on the
  canary's mean, or (``relative=True``) a bound on canary minus control, which uses the control
  arm's data and both arms' variances. Each is judged by an always-valid confidence sequence
  (:mod:`~rl_best_practices.deployment.sequential`) with a stated error rate ``alpha``.
* :class:`Canary` ramps the candidate's traffic stage by stage only while every guard is *shown*
  to hold, rolls back the moment one is shown breached, and rolls back a stage that stays
  inconclusive for ``max_stage_samples`` records.

Guard statistics are running means and variances
(:class:`~rl_best_practices.running_stats.RunningMeanStd`), so memory stays bounded however long
the canary runs.

>>> canary = Canary(lambda obs: 0, lambda obs: 1, guards=[Guard("loss", 1.0)], ramp=(0.5,))
>>> canary.state, canary.fraction
('running', 0.5)
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from rl_best_practices.deployment._common import Policy
from rl_best_practices.deployment.sequential import mixing_variance, radius
from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.running_stats import RunningMeanStd
from rl_best_practices.validation import (
    check_callable,
    check_choice,
    check_int,
    check_number,
    check_probability,
    check_text,
)

__all__ = ["Canary", "Guard", "GuardInterval", "assign_fraction"]

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
class GuardInterval:
    """What a guard judges: the estimate and its always-valid interval after ``canary_samples``
    canary (and ``control_samples`` control) records."""

    estimate: float
    low: float
    high: float
    canary_samples: int
    control_samples: int


@dataclass(frozen=True)
class Guard:
    """A metric the candidate must keep within a bound, judged by a confidence sequence.

    Args:
        metric: name of a value passed to :meth:`Canary.record`.
        bound: the limit; for a relative guard, a bound of ``-m`` on ``canary - control`` is a
            non-inferiority margin ``m``.
        direction: ``"at_least"`` (the true value must be >= bound) or ``"at_most"``.
        min_samples: records needed in each arm the guard reads before it may judge.
        relative: judge ``canary mean - control mean`` (both arms' variances) instead of the
            canary mean alone (an absolute guard: a hard limit such as maximum drawdown).
        alpha: the error rate of each verdict. The interval is a confidence sequence
            (:mod:`~rl_best_practices.deployment.sequential`), so a guard that truly breaches its
            bound is judged to *hold* with probability at most ``alpha`` however often it is
            looked at, and one that truly holds is judged *breached* with at most ``alpha``.

    >>> guard = Guard("pnl", -50.0, "at_least", relative=True)
    >>> guard.judge(-20.0, 40.0), guard.judge(-90.0, 10.0), guard.judge(-120.0, -60.0)
    ('holds', 'inconclusive', 'breached')
    """

    metric: str
    bound: float
    direction: str = "at_most"
    min_samples: int = 30
    relative: bool = False
    alpha: float = 0.05

    def __post_init__(self) -> None:
        check_text("metric", self.metric)
        check_number("bound", self.bound)
        check_choice("direction", self.direction, ("at_most", "at_least"))
        check_int("min_samples", self.min_samples, minimum=2)
        if not isinstance(self.relative, bool):
            raise InvalidTypeError(f"relative must be a boolean, got {self.relative!r}")
        check_probability("alpha", self.alpha, open_ends=True)

    def judge(self, low: float, high: float) -> str:
        """``"holds"`` when the whole interval respects the bound, ``"breached"`` when the whole
        interval is beyond it, else ``"inconclusive"``."""
        if self.direction == "at_least":
            low, high = -high, -low
            bound = -self.bound
        else:
            bound = self.bound
        if high <= bound:
            return "holds"
        return "breached" if low > bound else "inconclusive"


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
    """Route a growing share of traffic to ``candidate`` while its guards are shown to hold.

    Args:
        control: the current production policy.
        candidate: the new policy under test.
        guards: the :class:`Guard` metrics; every :meth:`record` re-judges them.
        ramp: increasing traffic fractions in ``(0, 1]``, one per stage.
        stage_samples: canary records a stage needs before the ramp may advance; it is also the
            design size of the confidence sequences (where they are tightest).
        max_stage_samples: a stage whose guards are still inconclusive after this many canary
            records is rolled back with the reason ``"inconclusive"``; ``None`` waits forever.
        salt: mixed into the hash, so each release draws a fresh set of canary keys.
        max_events: how many state changes :attr:`events` keeps.

    The ramp advances (and the last stage promotes) only when every guard *holds*, that is its
    interval shows the bound respected, and the stage has ``stage_samples`` canary records. The
    canary rolls back as soon as any guard is *breached*. Data from earlier stages keeps counting:
    the intervals are confidence sequences, valid across every look and every stage. State is
    ``"running"``, ``"rolled_back"`` (fraction 0) or ``"promoted"`` (fraction 1).

    >>> canary = Canary(lambda obs: 0, lambda obs: 2, ramp=(0.5,), stage_samples=3,
    ...                 guards=[Guard("loss", 1.0, min_samples=3)])
    >>> for loss in (5.0, 5.2, 4.9):
    ...     state = canary.record("canary", {"loss": loss})
    >>> state, canary.fraction, canary.events[-1]["reason"]
    ('rolled_back', 0.0, 'loss: canary mean 5.033 in [4.765, 5.301] breaches at_most 1')
    """

    def __init__(
        self,
        control: Policy,
        candidate: Policy,
        *,
        guards: Sequence[Guard],
        ramp: Sequence[float] = (0.05, 0.25, 0.5),
        stage_samples: int = 100,
        max_stage_samples: int | None = None,
        salt: str = "canary",
        max_events: int = 100,
    ) -> None:
        self.control = check_callable("control", control)
        self.candidate = check_callable("candidate", candidate)
        self.guards = _check_guards(guards)
        self.ramp = _check_ramp(ramp)
        self.stage_samples = check_int("stage_samples", stage_samples, minimum=1)
        if max_stage_samples is not None:
            check_int("max_stage_samples", max_stage_samples, minimum=1)
            if max_stage_samples < self.stage_samples:
                raise InvalidValueError(
                    f"max_stage_samples must be at least stage_samples ({self.stage_samples}), "
                    f"got {max_stage_samples}"
                )
        self.max_stage_samples = max_stage_samples
        if not isinstance(salt, str):
            raise InvalidTypeError(f"salt must be a string, got {type(salt).__name__}")
        self.salt = salt
        self.stage = 0
        self.state = "running"
        self._stage_count = 0
        self._stats = {
            arm: {g.metric: RunningMeanStd(prior_count=0.0) for g in self.guards} for arm in ARMS
        }
        self._tau2: dict[int, float] = {}  # guard index -> mixing variance, fixed once chosen
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

    @property
    def shown(self) -> bool:
        """Whether the canary showed every guard holding through every stage (it promoted)."""
        return self.state == "promoted"

    @property
    def summary(self) -> str:
        """The latest event, as evidence for a registry or a release note."""
        last = self.events[-1]
        return f"canary {last['event']} after {last['samples']} canary records: {last['reason']}"

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

    def samples(self, arm: str) -> int:
        """Records received for ``arm`` (the most-recorded guard metric)."""
        check_choice("arm", arm, ARMS)
        return max(int(stats.count) for stats in self._stats[arm].values())

    def _mean_and_variance(self, arm: str, metric: str) -> tuple[float, float, int]:
        stats = self._stats[arm][metric]
        n = int(stats.count)
        return stats.mean, stats.var * n / (n - 1), n  # sample variance of one record

    def interval(self, guard: Guard) -> GuardInterval | None:
        """The estimate ``guard`` judges with its confidence sequence, or ``None`` before the
        guard has ``min_samples`` records in each arm it reads."""
        index = self.guards.index(guard)
        arms = ARMS[::-1] if guard.relative else ("canary",)
        counts = [int(self._stats[arm][guard.metric].count) for arm in ARMS]
        if any(int(self._stats[arm][guard.metric].count) < guard.min_samples for arm in arms):
            return None
        estimate = variance = 0.0
        for sign, arm in zip((1.0, -1.0), arms, strict=False):
            mean, var, n = self._mean_and_variance(arm, guard.metric)
            estimate += sign * mean
            variance += var / n
        if index not in self._tau2 and variance > 0:
            self._tau2[index] = mixing_variance(variance, counts[1], self.stage_samples)
        half = radius(variance, self._tau2[index], guard.alpha) if variance else 0.0
        return GuardInterval(estimate, estimate - half, estimate + half, counts[1], counts[0])

    def verdicts(self) -> dict[str, str]:
        """Each guard's current verdict, keyed like ``"pnl (relative) at_least -50"``:
        ``"holds"``, ``"breached"``, ``"inconclusive"`` or ``"waiting"`` (too few records)."""
        return {_label(guard): self._verdict(guard) for guard in self.guards}

    def _verdict(self, guard: Guard) -> str:
        iv = self.interval(guard)
        return "waiting" if iv is None else guard.judge(iv.low, iv.high)

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

        Every record re-judges the guards (see the class docstring). Records after rollback or
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

    def _reason(self, guard: Guard) -> str:
        iv = self.interval(guard)
        what = "canary - control" if guard.relative else "canary mean"
        return (f"{guard.metric}: {what} {iv.estimate:.4g} in [{iv.low:.4g}, {iv.high:.4g}] "
                f"{{}} {guard.direction} {guard.bound:g}")

    def _judge(self) -> None:
        verdicts = {guard: self._verdict(guard) for guard in self.guards}
        breached = [g for g, v in verdicts.items() if v == "breached"]
        if breached:
            self._finish("rolled_back", "; ".join(self._reason(g).format("breaches")
                                                  for g in breached))
        elif self._stage_count >= self.stage_samples and all(
            v == "holds" for v in verdicts.values()
        ):
            self._stage_count = 0
            if self.stage + 1 < len(self.ramp):
                self.stage += 1
                self._event("ramped", f"fraction {self.ramp[self.stage]:g}; every guard holds")
            else:
                self._finish("promoted", "; ".join(self._reason(g).format("holds")
                                                   for g in self.guards))
        elif self.max_stage_samples is not None and self._stage_count >= self.max_stage_samples:
            open_guards = [_label(g) for g, v in verdicts.items() if v != "holds"]
            self._finish("rolled_back", f"inconclusive: {', '.join(open_guards)} not shown to "
                                        f"hold after {self._stage_count} canary records")

    def rollback(self, reason: str) -> str:
        """Roll back by hand (an operator's kill switch): everything goes to control from now
        on. Returns the state; a canary already decided stays as it is.

        >>> canary = Canary(len, len, guards=[Guard("m", 1.0)], ramp=(0.5,))
        >>> canary.rollback("alerts on the candidate's latency"), canary.fraction
        ('rolled_back', 0.0)
        """
        check_text("reason", reason)
        if self.state == "running":
            self._finish("rolled_back", f"manual: {reason}")
        return self.state

    def _finish(self, state: str, reason: str) -> None:
        self.state = state
        self._event(state, reason)


def _label(guard: Guard) -> str:
    what = f"{guard.metric} (relative)" if guard.relative else guard.metric
    return f"{what} {guard.direction} {guard.bound:g}"
