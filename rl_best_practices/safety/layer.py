"""The fail-closed safety layer between a policy and the world it acts on (lesson 02).

:class:`SafetyLayer` checks every proposed action against the action bounds and a list of
constraints ``fn(action, state) -> (is_safe, reason)`` (see
:mod:`~rl_best_practices.safety.constraints`). It never returns an action that failed a check:
an unsafe proposal is replaced by the nearest checked-safe point on the segment towards the
fallback policy's action (minimal intervention, found by bisection in
:mod:`~rl_best_practices.safety.actions`), else by the fallback's action, else by a default
action, and when none of them passes it raises :class:`~rl_best_practices.errors.NoSafeActionError`,
or, given a stated ``safe_action``, executes that instead and counts it (``no_safe_action``).
A constraint that raises, or returns something other than ``(bool, reason)``, counts as a
violation (fail closed). Each call's result is a :class:`SafetyDecision`. Counters are exact,
the log of recent events is a bounded ring buffer stamped by an injectable clock, an optional
:class:`~rl_best_practices.circuit.CircuitBreaker` routes to the fallback after repeated
violations, and an optional human-override hook replaces the proposal (its use is counted).
For discrete actions, :meth:`SafetyLayer.action_mask` turns the constraints into a mask and
refuses to return an all-false one; :meth:`SafetyLayer.filter_discrete` replaces a masked-out
choice by the nearest safe one.

>>> from rl_best_practices.safety.market import position_limit
>>> layer = SafetyLayer(
...     action_bounds=(-10, 10),
...     constraint_functions=[position_limit(100)],
...     fallback_policy=lambda state: 0.0,
... )
>>> layer.filter_action(10.0, {"position": 95})   # the nearest safe trade, not the fallback's 0
5.0
>>> layer.get_safety_stats()["interventions"]
1
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rl_best_practices.circuit import CircuitBreaker
from rl_best_practices.errors import InvalidTypeError, InvalidValueError, NoSafeActionError
from rl_best_practices.safety.actions import (
    _all_finite,
    _bounds_text,
    _clip,
    _equal,
    _in_bounds,
    _like,
    _parse_bounds,
    _show,
    _to_internal,
    _to_user_like,
    nearest_safe_point,
)
from rl_best_practices.safety.constraints import (
    Constraint,
    _named_constraints,
    evaluate_constraint,
)
from rl_best_practices.validation import check_callable, check_int, check_number

__all__ = ["SafetyDecision", "SafetyLayer"]

OUTCOMES = ("passed", "clipped", "projected", "fallback", "default", "no_safe_action")
"""What happened to a proposal; exactly one per filtered call."""


@dataclass(frozen=True, slots=True)
class SafetyDecision:
    """What the safety layer did with one proposal: the result of :meth:`SafetyLayer.decide`.

    (Not to be confused with :class:`~rl_best_practices.deployment.FallbackDecision`, which
    records which policy of a fallback chain answered.)

    Attributes:
        action: the action to execute (same form as the proposal: float, array or int).
        proposed: the proposal as received (after a human override, if any).
        outcome: ``"passed"``, ``"clipped"`` (bounds only), ``"projected"`` (nearest safe point
            towards the fallback), ``"fallback"``, ``"default"`` or ``"no_safe_action"`` (nothing
            passed: the layer's stated ``safe_action`` was executed).
        reason: why the proposal was changed (``None`` when it passed unchanged).
    """

    action: Any
    proposed: Any
    outcome: str
    reason: str | None


class SafetyLayer:
    """Filter actions so that only checked-safe ones are executed (see the module docstring).

    Args:
        action_bounds: ``(low, high)`` clipped to first (numbers or arrays, ``low <= high``), or
            ``None`` for no bounds.
        constraint_functions: callables ``fn(action, state) -> (is_safe, reason)``, or a mapping
            ``name -> fn`` (names appear in the counters and reasons).
        fallback_policy: ``fn(state) -> action``; its action is checked like any other.
        default_action: a constant last resort, checked like any other (for example "no trade").
        circuit_breaker: after its threshold of consecutive violating proposals, proposals are
            ignored and the fallback is used until the cool-down allows one trial.
        human_override: ``fn(action, state) -> action or None``; a returned action replaces the
            proposal (and is still checked); its use is counted and logged.
        safe_action: the stated last resort when no candidate passes (for the market: trade
            nothing). ``None`` (default): raise :class:`NoSafeActionError`. Otherwise it is
            executed unchecked (nothing passed), reported as outcome ``"no_safe_action"`` and
            counted; it must be finite and inside the bounds. Choose one the world tolerates.
        minimal_intervention: search the segment from the fallback (or default) action to the
            proposal for the safe point nearest to the proposal. Needs numeric actions.
        tolerance: the bisection stops when the bracket is shorter than this (action units).
        max_log: how many recent violations :meth:`get_safety_stats` keeps.
        clock: returns the time in seconds used to stamp the log; ``time.time`` by default.

    The bisection assumes the safe actions on that segment form an interval containing the
    fallback's end (true for convex constraints such as position or risk limits). If they do
    not, the result is still a checked-safe point, only not necessarily the nearest one.
    """

    def __init__(
        self,
        action_bounds: tuple[Any, Any] | None = None,
        constraint_functions: Sequence[Constraint] | Mapping[str, Constraint] | None = None,
        fallback_policy: Callable[[Any], Any] | None = None,
        *,
        default_action: Any = None,
        circuit_breaker: CircuitBreaker | None = None,
        human_override: Callable[[Any, Any], Any] | None = None,
        safe_action: Any = None,
        minimal_intervention: bool = True,
        tolerance: float = 1e-6,
        max_log: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.action_bounds = _parse_bounds(action_bounds)
        self.constraints = _named_constraints(constraint_functions)
        self.fallback_policy = None if fallback_policy is None else check_callable(
            "fallback_policy", fallback_policy)
        self.human_override = None if human_override is None else check_callable(
            "human_override", human_override)
        if circuit_breaker is not None and not isinstance(circuit_breaker, CircuitBreaker):
            raise InvalidTypeError(f"circuit_breaker must be a CircuitBreaker or None, "
                                   f"got {type(circuit_breaker).__name__}")
        self.tolerance = check_number("tolerance", tolerance, minimum=0, low_open=True)
        self.clock = check_callable("clock", clock)
        for name, value in (("default_action", default_action), ("safe_action", safe_action)):
            internal = None if value is None else _to_internal(value, self.action_bounds, name)
            if value is not None and not (
                    _all_finite(internal) and _in_bounds(internal, self.action_bounds)):
                raise InvalidValueError(f"{name} must be finite and inside action_bounds "
                                        f"{_bounds_text(self.action_bounds)}, got {value!r}")
        self.default_action, self.safe_action = default_action, safe_action
        self.circuit_breaker = circuit_breaker
        self.minimal_intervention = bool(minimal_intervention)
        self._log: deque[dict[str, Any]] = deque(maxlen=check_int("max_log", max_log, minimum=1))
        self._template: Any = None  # the proposal of the call in progress: the form to return
        self._calls = 0
        self._violations = 0
        self._by_constraint = dict.fromkeys(self.constraints, 0)
        self._constraint_errors = 0
        self._outcomes = dict.fromkeys(OUTCOMES, 0)
        self._overrides = 0
        self._breaker_routed = 0
        self._degraded = 0

    # ---- checks -----------------------------------------------------------------------------

    def _failures(self, action: Any, state: Any, first_only: bool) -> list[tuple[str, str]]:
        """(name, reason) of each failed check on an internal-form ``action``."""
        if not _all_finite(action):
            return [("finite", f"action {_show(action)} is not finite")]
        if not _in_bounds(action, self.action_bounds):
            return [("bounds",
                     f"action {_show(action)} is outside {_bounds_text(self.action_bounds)}")]
        failed = []
        for name, fn in self.constraints.items():
            reason, raised = evaluate_constraint(
                name, fn, _to_user_like(action, self._template), state)
            if raised:
                self._constraint_errors += 1
            if reason is not None:
                failed.append((name, reason))
                if first_only:
                    break
        return failed

    def is_action_safe(self, action: Any, state: Any) -> tuple[bool, str | None]:
        """Whether ``action`` is finite, inside the bounds and passes every constraint.

        Returns ``(True, None)`` or ``(False, reasons)``; counters are not changed.

        >>> from rl_best_practices.safety.market import position_limit
        >>> layer = SafetyLayer((-10, 10), [position_limit(100)])
        >>> layer.is_action_safe(10, {"position": 95})
        (False, 'position_limit: position 105.0 would exceed the limit 100.0')
        >>> layer.is_action_safe(5, {"position": 95})
        (True, None)
        """
        x = _to_internal(action, self.action_bounds)
        self._template, errors = action, self._constraint_errors
        failed = self._failures(x, state, first_only=False)
        self._constraint_errors = errors  # a query, not a filtered call: counters stay as they were
        return (True, None) if not failed else (False, "; ".join(r for _, r in failed))

    # ---- filtering --------------------------------------------------------------------------

    def _safe(self, x: Any, state: Any) -> bool:
        return not self._failures(x, state, first_only=True)

    def _anchor(self, state: Any, reasons: list[str]) -> tuple[Any, str] | None:
        """The first checked-safe of the fallback's action and the default action."""
        if self.fallback_policy is not None:
            try:
                action = _to_internal(self.fallback_policy(state), self.action_bounds,
                                      "fallback action")
                x = _like(action, self._template)
            except Exception as exc:  # a broken fallback must not crash the caller
                reasons.append(f"fallback failed: {type(exc).__name__}: {exc}")
            else:
                failed = self._failures(x, state, first_only=False)
                if not failed:
                    return x, "fallback"
                reasons.append("fallback unsafe: " + "; ".join(r for _, r in failed))
        if self.default_action is not None:
            try:
                x = _like(_to_internal(self.default_action, self.action_bounds), self._template)
            except InvalidValueError as exc:
                reasons.append(f"default unusable: {exc}")
                return None
            failed = self._failures(x, state, first_only=False)
            if not failed:
                return x, "default"
            reasons.append("default unsafe: " + "; ".join(r for _, r in failed))
        return None

    def _count_violation(self, proposed: Any, failed: list[tuple[str, str]]) -> None:
        self._violations += 1
        for name, _ in failed:
            if name in self._by_constraint:
                self._by_constraint[name] += 1
        self._log.append({"time": self.clock(), "event": "violation", "proposed": proposed,
                          "reasons": [r for _, r in failed]})

    def decide(self, action: Any, state: Any) -> SafetyDecision:
        """Filter ``action`` and say what happened (a :class:`SafetyDecision`); see
        :meth:`filter_action`.

        >>> from rl_best_practices.safety.market import position_limit
        >>> layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0)
        >>> d = layer.decide(10.0, {"position": 95})
        >>> d.action, d.outcome, d.reason
        (5.0, 'projected', 'position_limit: position 105.0 would exceed the limit 100.0')
        """
        proposed = action
        x = _to_internal(action, self.action_bounds)  # raises before any counter moves
        if self.human_override is not None:
            replacement = self.human_override(action, state)
            if replacement is not None:
                original, x = x, _to_internal(replacement, self.action_bounds, "human override")
                self._overrides += 1
                self._log.append({"time": self.clock(), "event": "override",
                                  "proposed": _show(original), "override": _show(x)})
        # Return the executed action in the internal form of what was checked: a float for a
        # number, a float64 array of its shape otherwise (a list proposal gets an array back
        # whichever candidate is executed; an override of another size keeps its own form).
        self._template = x
        self._calls += 1
        breaker = self.circuit_breaker
        if breaker is not None and not breaker.allow_request():
            self._breaker_routed += 1
            reasons = ["circuit breaker open: proposal not used"]
            return self._replace(x, proposed, state, reasons, project=False)

        clipped = _clip(x, self.action_bounds) if _all_finite(x) else x
        failed = self._failures(clipped, state, first_only=False)
        if not failed:
            if breaker is not None:
                breaker.record_success()
            executed = _to_user_like(clipped, self._template)
            if clipped is x or _equal(clipped, x):
                self._outcomes["passed"] += 1
                return SafetyDecision(executed, proposed, "passed", None)
            self._outcomes["clipped"] += 1
            return SafetyDecision(executed, proposed, "clipped",
                                  f"clipped to {_bounds_text(self.action_bounds)}")
        self._count_violation(_show(x), failed)
        if breaker is not None:
            breaker.record_failure()
        return self._replace(clipped, proposed, state, [r for _, r in failed],
                             project=self.minimal_intervention and _all_finite(clipped))

    def _replace(self, x: Any, proposed: Any, state: Any, reasons: list[str],
                 project: bool) -> SafetyDecision:
        found = self._anchor(state, reasons)
        if found is None:
            message = self._no_safe_action(reasons)
            safe = _like(_to_internal(self.safe_action, self.action_bounds), self._template)
            return SafetyDecision(_to_user_like(safe, self._template), proposed,
                                  "no_safe_action", message)
        anchor, source = found
        executed, moved = anchor, False
        if project:
            executed, moved = nearest_safe_point(
                anchor, x, lambda point: self._safe(point, state), self.tolerance)
        outcome = "projected" if moved else source
        self._outcomes[outcome] += 1
        return SafetyDecision(
            _to_user_like(executed, self._template), proposed, outcome, "; ".join(reasons))

    def _no_safe_action(self, reasons: list[str]) -> str:
        """Count and log a call where nothing passed; raise unless a safe action is stated."""
        self._outcomes["no_safe_action"] += 1
        message = "no safe action: " + "; ".join(reasons)
        self._log.append({"time": self.clock(), "event": "no_safe_action", "reasons": reasons,
                          "degraded": self.safe_action is not None})
        if self.safe_action is None:
            raise NoSafeActionError(message)
        self._degraded += 1
        return message + "; executed the stated safe_action"

    def filter_action(self, action: Any, state: Any) -> Any:
        """The action to execute instead of ``action``: always one that passed every check
        (except the stated ``safe_action``, executed only when nothing passed).

        Order: clip to the bounds; if that passes, return it. Otherwise (a violation is
        counted) take the fallback's action, else the default action, whichever passes first,
        and return the safe point nearest the proposal on the segment between them. Raises
        :class:`~rl_best_practices.errors.NoSafeActionError` when no candidate passes,
        :class:`~rl_best_practices.errors.InvalidTypeError` for a non-numeric action and
        :class:`~rl_best_practices.errors.InvalidValueError` for one whose shape does not fit
        the bounds (both are ``ValueError``).

        >>> from rl_best_practices.safety.market import position_limit
        >>> layer = SafetyLayer((-10, 10), [position_limit(100)])
        >>> layer.filter_action(12.0, {"position": 0})    # clipped to the bounds
        10.0
        >>> layer.filter_action(10.0, {"position": 95})
        Traceback (most recent call last):
        ...
        rl_best_practices.errors.NoSafeActionError: no safe action:
        position_limit: position 105.0 would exceed the limit 100.0
        """
        return self.decide(action, state).action

    # ---- discrete actions -------------------------------------------------------------------

    def action_mask(self, state: Any, candidates: Sequence[Any]) -> np.ndarray:
        """``mask[i]`` is True when ``candidates[i]`` passes every check in ``state``.

        ``candidates`` are the discrete actions as the constraints see them. Raises
        :class:`NoSafeActionError` rather than return an all-false mask (a masking policy would
        otherwise pick among unsafe actions, usually uniformly).

        >>> from rl_best_practices.safety.market import position_limit
        >>> layer = SafetyLayer(constraint_functions=[position_limit(100)])
        >>> layer.action_mask({"position": 95}, [-10.0, 0.0, 10.0])
        array([ True,  True, False])
        """
        if len(candidates) == 0:
            raise InvalidValueError("candidates must hold at least one action")
        mask = np.empty(len(candidates), dtype=bool)
        for i, candidate in enumerate(candidates):
            self._template = candidate
            x = _to_internal(candidate, self.action_bounds, f"candidates[{i}]")
            mask[i] = self._safe(x, state)
        if not mask.any():
            raise NoSafeActionError(
                f"no safe action: every one of {list(candidates)} fails a check")
        return mask

    def filter_discrete(self, index: int, state: Any, candidates: Sequence[Any]) -> int:
        """The index to execute: ``index`` if its candidate is safe, else the safe candidate
        nearest to it in value (ties: the smaller one). Counters move as in :meth:`decide`.
        When none is safe: :class:`NoSafeActionError`, or the index of the stated
        ``safe_action``, which must then be one of ``candidates``.

        >>> from rl_best_practices.safety.market import position_limit
        >>> layer = SafetyLayer(constraint_functions=[position_limit(100)])
        >>> layer.filter_discrete(2, {"position": 95}, [-10.0, 0.0, 10.0])
        1
        """
        index = check_int("index", index, minimum=0, maximum=len(candidates) - 1)
        safe_index = None if self.safe_action is None else next((i for i, c in enumerate(
            candidates) if _equal(np.asarray(c), np.asarray(self.safe_action))), None)
        if self.safe_action is not None and safe_index is None:
            raise InvalidValueError(f"safe_action {self.safe_action!r} is not one of the "
                                    f"candidates {list(candidates)}")
        self._calls += 1
        try:
            mask = self.action_mask(state, candidates)
        except NoSafeActionError as exc:
            self._no_safe_action([str(exc).removeprefix("no safe action: ")])
            return int(safe_index)
        if mask[index]:
            self._outcomes["passed"] += 1
            return index
        self._template = candidates[index]
        x = _to_internal(candidates[index], self.action_bounds)
        self._count_violation(index, self._failures(x, state, first_only=False))
        values = np.array([np.linalg.norm(np.subtract(c, candidates[index])) for c in candidates])
        values[~mask] = np.inf
        self._outcomes["projected"] += 1
        return int(np.argmin(values))

    # ---- statistics -------------------------------------------------------------------------

    def get_safety_stats(self) -> dict[str, Any]:
        """Exact counters and the bounded log of recent events.

        Keys: ``total_calls``, ``total_violations`` (proposals that failed a check),
        ``violations_by_constraint``, ``constraint_errors`` (constraints that raised),
        ``outcomes`` (one count per outcome, including ``no_safe_action``), ``fallback_count``
        (the lesson's name) and its synonym ``fallback_uses``: calls that executed the fallback's
        or default action or a point towards it, ``interventions`` (executed
        differs from proposed), ``intervention_rate``, ``overrides``, ``breaker_routed``,
        ``no_safe_action`` (calls where nothing passed), ``safe_action_uses`` (those answered
        with the stated ``safe_action`` instead of an error), ``breaker_state`` and
        ``recent_violations`` (oldest first, at most ``max_log``).

        >>> from rl_best_practices.safety.market import position_limit
        >>> layer = SafetyLayer((-10, 10), [position_limit(100)], safe_action=0.0)
        >>> d = layer.decide(10.0, {"position": 95})   # no fallback: nothing passes
        >>> d.action, d.outcome
        (0.0, 'no_safe_action')
        >>> {k: layer.get_safety_stats()[k] for k in ("no_safe_action", "safe_action_uses")}
        {'no_safe_action': 1, 'safe_action_uses': 1}
        """
        o = self._outcomes
        interventions = (o["clipped"] + o["projected"] + o["fallback"] + o["default"]
                         + self._degraded)
        return {
            "total_calls": self._calls,
            "total_violations": self._violations,
            "violations_by_constraint": dict(self._by_constraint),
            "constraint_errors": self._constraint_errors,
            "outcomes": dict(o),
            "fallback_count": o["projected"] + o["fallback"] + o["default"],
            "fallback_uses": o["projected"] + o["fallback"] + o["default"],
            "interventions": interventions,
            "intervention_rate": interventions / self._calls if self._calls else 0.0,
            "overrides": self._overrides,
            "breaker_routed": self._breaker_routed,
            "no_safe_action": o["no_safe_action"],
            "safe_action_uses": self._degraded,
            "breaker_state": None if self.circuit_breaker is None else self.circuit_breaker.state,
            "recent_violations": list(self._log),
        }
