"""A fail-closed safety layer between a policy and the world it acts on.

* :class:`SafetyLayer` checks every proposed action against the action bounds and a list of
  constraint functions ``fn(action, state) -> (is_safe, reason)``. It never returns an action
  that failed a check: an unsafe proposal is replaced by the nearest checked-safe point on the
  segment towards the fallback policy's action (minimal intervention, found by bisection), else
  by the fallback's action, else by a default action, and when none of them passes it raises
  :class:`NoSafeActionError`. A constraint that raises, or returns something other than
  ``(bool, reason)``, counts as a violation (fail closed). Counters are exact, the log of recent
  violations is a bounded ring buffer stamped by an injectable clock, an optional
  :class:`~rl_best_practices.circuit.CircuitBreaker` routes to the fallback after repeated
  violations, and an optional human-override hook replaces the proposal (its use is counted).
* :meth:`SafetyLayer.action_mask` turns the constraints into a mask over discrete actions and
  refuses to return an all-false mask; :meth:`SafetyLayer.filter_discrete` replaces a masked-out
  choice by the nearest safe one.
* :class:`SafetyWrapper` and :class:`ActionMaskWrapper` apply a layer inside a Gymnasium env and
  write the proposed action, the executed action and the reason into ``info``; the second one
  also exposes the mask in a ``Dict`` observation ``{"action_mask", "observations"}`` as RLlib's
  action-masking RLModule expects.
* For the course's market env: :func:`market_state`, the constraints :func:`position_limit` and
  :func:`var_limit`, and the fallback :func:`reduce_position`.

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

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rl_best_practices.circuit import CircuitBreaker

__all__ = [
    "ActionMaskWrapper",
    "Constraint",
    "Decision",
    "NoSafeActionError",
    "SafetyLayer",
    "SafetyWrapper",
    "market_state",
    "position_limit",
    "reduce_position",
    "var_limit",
]

Constraint = Callable[[Any, Any], "tuple[bool, str | None]"]

# What happened to a proposal; exactly one per filtered call.
OUTCOMES = ("passed", "clipped", "projected", "fallback", "default", "no_safe_action")


class NoSafeActionError(RuntimeError):
    """No candidate action (proposal, fallback, default) passed every check."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The result of :meth:`SafetyLayer.decide`.

    Attributes:
        action: the action to execute (same form as the proposal: float, array or int).
        proposed: the proposal as received (after a human override, if any).
        outcome: ``"passed"``, ``"clipped"`` (bounds only), ``"projected"`` (nearest safe point
            towards the fallback), ``"fallback"`` or ``"default"``.
        reason: why the proposal was changed (``None`` when it passed unchanged).
    """

    action: Any
    proposed: Any
    outcome: str
    reason: str | None


def _constraint_name(fn: Callable) -> str:
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return "constraint" if name == "<lambda>" else name


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
        minimal_intervention: bool = True,
        tolerance: float = 1e-6,
        max_log: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.action_bounds = self._check_bounds(action_bounds)
        self.constraints = self._check_constraints(constraint_functions)
        if fallback_policy is not None and not callable(fallback_policy):
            raise TypeError(f"fallback_policy must be callable state -> action or None, "
                            f"got {fallback_policy!r}")
        if human_override is not None and not callable(human_override):
            raise TypeError(f"human_override must be callable (action, state) -> action or None, "
                            f"got {human_override!r}")
        if circuit_breaker is not None and not isinstance(circuit_breaker, CircuitBreaker):
            raise TypeError(f"circuit_breaker must be a CircuitBreaker or None, "
                            f"got {type(circuit_breaker).__name__}")
        if not isinstance(tolerance, (int, float)) or not (0 < tolerance < math.inf):
            raise ValueError(f"tolerance must be a finite number > 0, got {tolerance!r}")
        if not isinstance(max_log, int) or isinstance(max_log, bool) or max_log < 1:
            raise ValueError(f"max_log must be an integer >= 1, got {max_log!r}")
        if not callable(clock):
            raise TypeError("clock must be a callable returning seconds")
        if default_action is not None:
            default = self._to_internal(default_action, "default_action")
            if not self._finite(default) or not self._in_bounds(default):
                raise ValueError(
                    f"default_action must be finite and inside action_bounds "
                    f"{self._bounds_text()}, got {default_action!r}"
                )
        self.fallback_policy = fallback_policy
        self.default_action = default_action
        self.circuit_breaker = circuit_breaker
        self.human_override = human_override
        self.minimal_intervention = bool(minimal_intervention)
        self.tolerance = float(tolerance)
        self.clock = clock
        self._log: deque[dict[str, Any]] = deque(maxlen=max_log)
        self._template: Any = None  # the proposal of the call in progress: the form to return
        self._calls = 0
        self._violations = 0
        self._by_constraint = dict.fromkeys(self.constraints, 0)
        self._constraint_errors = 0
        self._outcomes = dict.fromkeys(OUTCOMES, 0)
        self._overrides = 0
        self._breaker_routed = 0

    # ---- validation -------------------------------------------------------------------------

    @staticmethod
    def _check_bounds(bounds: Any) -> tuple[Any, Any] | None:
        if bounds is None:
            return None
        message = (f"action_bounds must be None or a pair (low, high) with low <= high, "
                   f"got {bounds!r}")
        if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
            raise ValueError(message)
        try:
            low, high = (np.asarray(b, dtype=np.float64) for b in bounds)
            low, high = np.broadcast_arrays(low, high)
        except (TypeError, ValueError) as exc:
            raise ValueError(message) from exc
        if np.isnan(low).any() or np.isnan(high).any() or (low > high).any():
            raise ValueError(message)
        if low.ndim == 0:
            return float(low), float(high)
        return low.copy(), high.copy()

    @staticmethod
    def _check_constraints(functions: Any) -> dict[str, Constraint]:
        if functions is None:
            return {}
        if isinstance(functions, Mapping):
            items = list(functions.items())
        elif isinstance(functions, (list, tuple)):
            items, seen = [], {}
            for fn in functions:
                name = _constraint_name(fn)
                seen[name] = seen.get(name, 0) + 1
                items.append((name if seen[name] == 1 else f"{name}_{seen[name]}", fn))
        else:
            raise TypeError(
                "constraint_functions must be a list of callables or a mapping name -> callable, "
                f"got {type(functions).__name__}"
            )
        for name, fn in items:
            if not isinstance(name, str) or not callable(fn):
                raise TypeError(
                    f"each constraint must be a callable with a str name, got {name!r}: {fn!r}")
        return dict(items)

    def _bounds_text(self) -> str:
        if self.action_bounds is None:
            return "(none)"
        low, high = self.action_bounds
        return f"[{np.round(low, 6).tolist()}, {np.round(high, 6).tolist()}]"

    def _to_internal(self, action: Any, what: str = "action") -> Any:
        """A Python float for scalars, a float64 array otherwise; ValueError when not numeric."""
        if action is None or isinstance(action, (bool, np.bool_, str, bytes)):
            raise ValueError(f"{what} must be numeric (a number or an array), got {action!r}")
        if isinstance(action, (int, float, np.integer, np.floating)):
            return float(action)
        try:
            arr = np.array(action, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{what} must be numeric (a number or an array), got {action!r}") from exc
        if self.action_bounds is not None and not isinstance(self.action_bounds[0], float):
            try:
                np.broadcast_shapes(arr.shape, self.action_bounds[0].shape)
            except ValueError as exc:
                raise ValueError(
                    f"{what} has shape {arr.shape}, incompatible with action_bounds of shape "
                    f"{self.action_bounds[0].shape}"
                ) from exc
        return arr

    @staticmethod
    def _finite(x: Any) -> bool:
        return math.isfinite(x) if isinstance(x, float) else bool(np.isfinite(x).all())

    def _in_bounds(self, x: Any) -> bool:
        if self.action_bounds is None:
            return True
        low, high = self.action_bounds
        if isinstance(x, float) and isinstance(low, float):
            return low <= x <= high
        return bool(np.all((low <= x) & (x <= high)))

    def _clip(self, x: Any) -> Any:
        if self.action_bounds is None:
            return x
        low, high = self.action_bounds
        if isinstance(x, float) and isinstance(low, float):
            return min(max(x, low), high)
        return np.clip(x, low, high)

    # ---- checks -----------------------------------------------------------------------------

    def _run_constraint(self, name: str, fn: Constraint, action: Any, state: Any) -> str | None:
        """None when safe, otherwise the reason (a raising or malformed constraint fails closed)."""
        try:
            result = fn(action, state)
        except Exception as exc:  # noqa: BLE001  (fail closed on any error in user code)
            self._constraint_errors += 1
            return f"{name} raised {type(exc).__name__}: {exc}"
        if not (isinstance(result, tuple) and len(result) == 2):
            return f"{name} returned {result!r}, expected (is_safe, reason)"
        ok = result[0]
        if isinstance(ok, np.ndarray) and ok.size == 1 and ok.dtype == np.bool_:
            ok = ok.item()
        if not isinstance(ok, (bool, np.bool_)):
            return f"{name} returned is_safe={ok!r}, expected a bool"
        if ok:
            return None
        return f"{name}: {result[1] or 'violated'}"

    def _failures(self, action: Any, state: Any, first_only: bool) -> list[tuple[str, str]]:
        """(name, reason) of each failed check on an internal-form ``action``."""
        if not self._finite(action):
            return [("finite", f"action {self._show(action)} is not finite")]
        if not self._in_bounds(action):
            return [("bounds", f"action {self._show(action)} is outside {self._bounds_text()}")]
        failed = []
        for name, fn in self.constraints.items():
            reason = self._run_constraint(name, fn, self._to_user_like(action), state)
            if reason is not None:
                failed.append((name, reason))
                if first_only:
                    break
        return failed

    def is_action_safe(self, action: Any, state: Any) -> tuple[bool, str | None]:
        """Whether ``action`` is finite, inside the bounds and passes every constraint.

        Returns ``(True, None)`` or ``(False, reasons)``; counters are not changed.

        >>> layer = SafetyLayer((-10, 10), [position_limit(100)])
        >>> layer.is_action_safe(10, {"position": 95})
        (False, 'position_limit: position 105.0 would exceed the limit 100.0')
        >>> layer.is_action_safe(5, {"position": 95})
        (True, None)
        """
        x = self._to_internal(action)
        self._template, errors = action, self._constraint_errors
        failed = self._failures(x, state, first_only=False)
        self._constraint_errors = errors  # a query, not a filtered call: counters stay as they were
        return (True, None) if not failed else (False, "; ".join(r for _, r in failed))

    # ---- filtering --------------------------------------------------------------------------

    @staticmethod
    def _show(x: Any) -> str:
        return f"{x:.6g}" if isinstance(x, float) else str(np.round(x, 6).tolist())

    def _to_user_like(self, x: Any) -> Any:
        """``x`` in the form of the caller's action (a float, or a float64 array of its shape)."""
        # Arrays come back as float64: a float32 copy would round the checked value (95 + 5.000004
        # is 100.0 in float32), so the action executed could differ from the one checked.
        template = self._template
        if isinstance(x, float) and not isinstance(template, np.ndarray):
            return x
        shape = template.shape if isinstance(template, np.ndarray) else np.shape(x)
        return np.asarray(x, dtype=np.float64).reshape(shape)

    def _safe(self, x: Any, state: Any) -> bool:
        return not self._failures(x, state, first_only=True)

    def _anchor(self, state: Any, reasons: list[str]) -> tuple[Any, str] | None:
        """The first checked-safe of the fallback's action and the default action."""
        if self.fallback_policy is not None:
            try:
                x = self._like(self._to_internal(self.fallback_policy(state), "fallback action"))
            except Exception as exc:  # noqa: BLE001  (a broken fallback must not crash the caller)
                reasons.append(f"fallback failed: {type(exc).__name__}: {exc}")
            else:
                failed = self._failures(x, state, first_only=False)
                if not failed:
                    return x, "fallback"
                reasons.append("fallback unsafe: " + "; ".join(r for _, r in failed))
        if self.default_action is not None:
            try:
                x = self._like(self._to_internal(self.default_action))
            except ValueError as exc:
                reasons.append(f"default unusable: {exc}")
                return None
            failed = self._failures(x, state, first_only=False)
            if not failed:
                return x, "default"
            reasons.append("default unsafe: " + "; ".join(r for _, r in failed))
        return None

    def _like(self, x: Any) -> Any:
        """``x`` in the internal form of the current proposal (ValueError when sizes differ)."""
        ref = self._template
        if np.size(x) != np.size(ref):
            raise ValueError(
                f"action {self._show(x)} does not match the proposal's size {np.size(ref)}")
        if isinstance(ref, np.ndarray):
            return np.asarray(x, dtype=np.float64).reshape(ref.shape)
        return float(np.asarray(x).reshape(-1)[0]) if not isinstance(x, float) else x

    def _nearest_on_segment(self, anchor: Any, target: Any, state: Any) -> tuple[Any, bool]:
        """Bisection for the checked-safe point nearest ``target`` on [anchor, target]."""
        delta = target - anchor
        length = abs(delta) if isinstance(delta, float) else float(np.linalg.norm(delta))
        if not math.isfinite(length) or length == 0.0:
            return anchor, False
        safe_point, lo, hi = anchor, 0.0, 1.0
        while (hi - lo) * length > self.tolerance:
            mid = 0.5 * (lo + hi)
            point = anchor + mid * delta
            if self._safe(point, state):
                safe_point, lo = point, mid
            else:
                hi = mid
        return safe_point, lo > 0.0

    def decide(self, action: Any, state: Any) -> Decision:
        """Filter ``action`` and say what happened (:class:`Decision`); see :meth:`filter_action`.

        >>> layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0)
        >>> d = layer.decide(10.0, {"position": 95})
        >>> d.action, d.outcome, d.reason
        (5.0, 'projected', 'position_limit: position 105.0 would exceed the limit 100.0')
        """
        proposed = action
        x = self._to_internal(action)  # raises on malformed input before any counter moves
        if self.human_override is not None:
            replacement = self.human_override(action, state)
            if replacement is not None:
                x = self._to_internal(replacement, "human override")
                self._overrides += 1
                self._log.append({"time": self.clock(), "event": "override",
                                  "proposed": self._show(self._to_internal(action)),
                                  "override": self._show(x)})
        # Return the form the policy used (an override of another size keeps its own form).
        self._template = action if np.size(x) == np.size(action) else x
        self._calls += 1
        breaker = self.circuit_breaker
        if breaker is not None and not breaker.allow_request():
            self._breaker_routed += 1
            reasons = ["circuit breaker open: proposal not used"]
            return self._replace(x, proposed, state, reasons, project=False)

        clipped = self._clip(x) if self._finite(x) else x
        failed = self._failures(clipped, state, first_only=False)
        if not failed:
            if breaker is not None:
                breaker.record_success()
            if clipped is x or self._equal(clipped, x):
                self._outcomes["passed"] += 1
                return Decision(self._to_user_like(clipped), proposed, "passed", None)
            self._outcomes["clipped"] += 1
            return Decision(self._to_user_like(clipped), proposed, "clipped",
                            f"clipped to {self._bounds_text()}")
        self._violations += 1
        for name, _ in failed:
            if name in self._by_constraint:
                self._by_constraint[name] += 1
        if breaker is not None:
            breaker.record_failure()
        reasons = [r for _, r in failed]
        self._log.append({"time": self.clock(), "event": "violation",
                          "proposed": self._show(x), "reasons": list(reasons)})
        return self._replace(clipped, proposed, state, reasons,
                             project=self.minimal_intervention and self._finite(clipped))

    @staticmethod
    def _equal(a: Any, b: Any) -> bool:
        return a == b if isinstance(a, float) else bool(np.array_equal(a, b))

    def _replace(self, x: Any, proposed: Any, state: Any, reasons: list[str],
                 project: bool) -> Decision:
        found = self._anchor(state, reasons)
        if found is None:
            self._outcomes["no_safe_action"] += 1
            message = "no safe action: " + "; ".join(reasons)
            self._log.append({"time": self.clock(), "event": "no_safe_action", "reasons": reasons})
            raise NoSafeActionError(message)
        anchor, source = found
        executed, moved = self._nearest_on_segment(anchor, x, state) if project else (anchor, False)
        outcome = "projected" if moved else source
        self._outcomes[outcome] += 1
        return Decision(self._to_user_like(executed), proposed, outcome, "; ".join(reasons))

    def filter_action(self, action: Any, state: Any) -> Any:
        """The action to execute instead of ``action``: always one that passed every check.

        Order: clip to the bounds; if that passes, return it. Otherwise (a violation is
        counted) take the fallback's action, else the default action, whichever passes first,
        and return the safe point nearest the proposal on the segment between them. Raises
        :class:`NoSafeActionError` when no candidate passes, ``ValueError`` for a non-numeric
        action or one whose shape does not fit the bounds.

        >>> layer = SafetyLayer((-10, 10), [position_limit(100)])
        >>> layer.filter_action(12.0, {"position": 0})    # clipped to the bounds
        10.0
        >>> layer.filter_action(10.0, {"position": 95})
        Traceback (most recent call last):
        ...
        rl_best_practices.safety.NoSafeActionError: no safe action: position_limit: position 105.0 would exceed the limit 100.0
        """
        return self.decide(action, state).action

    # ---- discrete actions -------------------------------------------------------------------

    def action_mask(self, state: Any, candidates: Sequence[Any]) -> np.ndarray:
        """``mask[i]`` is True when ``candidates[i]`` passes every check in ``state``.

        ``candidates`` are the discrete actions as the constraints see them. Raises
        :class:`NoSafeActionError` rather than return an all-false mask (a masking policy would
        otherwise pick among unsafe actions, usually uniformly).

        >>> layer = SafetyLayer(constraint_functions=[position_limit(100)])
        >>> layer.action_mask({"position": 95}, [-10.0, 0.0, 10.0])
        array([ True,  True, False])
        """
        if len(candidates) == 0:
            raise ValueError("candidates must hold at least one action")
        mask = np.empty(len(candidates), dtype=bool)
        for i, candidate in enumerate(candidates):
            self._template = candidate
            mask[i] = self._safe(self._to_internal(candidate, f"candidates[{i}]"), state)
        if not mask.any():
            raise NoSafeActionError(
                f"no safe action: every one of {list(candidates)} fails a check")
        return mask

    def filter_discrete(self, index: int, state: Any, candidates: Sequence[Any]) -> int:
        """The index to execute: ``index`` if its candidate is safe, else the safe candidate
        nearest to it in value (ties: the smaller one). Counters move as in :meth:`decide`.

        >>> layer = SafetyLayer(constraint_functions=[position_limit(100)])
        >>> layer.filter_discrete(2, {"position": 95}, [-10.0, 0.0, 10.0])
        1
        """
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)) \
                or not 0 <= index < len(candidates):
            raise ValueError(
                f"index must be an integer in [0, {len(candidates) - 1}], got {index!r}")
        index = int(index)
        self._calls += 1
        try:
            mask = self.action_mask(state, candidates)
        except NoSafeActionError as exc:
            self._outcomes["no_safe_action"] += 1
            self._log.append(
                {"time": self.clock(), "event": "no_safe_action", "reasons": [str(exc)]})
            raise
        if mask[index]:
            self._outcomes["passed"] += 1
            return index
        self._template = candidates[index]
        failed = self._failures(self._to_internal(candidates[index]), state, first_only=False)
        self._violations += 1
        for name, _ in failed:
            if name in self._by_constraint:
                self._by_constraint[name] += 1
        self._log.append({"time": self.clock(), "event": "violation", "proposed": index,
                          "reasons": [r for _, r in failed]})
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
        ``breaker_state`` and ``recent_violations`` (oldest first, at most ``max_log``).

        >>> SafetyLayer().get_safety_stats()["intervention_rate"]
        0.0
        """
        o = self._outcomes
        interventions = o["clipped"] + o["projected"] + o["fallback"] + o["default"]
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
            "breaker_state": None if self.circuit_breaker is None else self.circuit_breaker.state,
            "recent_violations": list(self._log),
        }


# ---- Gymnasium ------------------------------------------------------------------------------


def market_state(env: gym.Env) -> dict[str, float]:
    """What the market constraints read from a :class:`~rl_best_practices.envs.MarketEnv`.

    ``position``, ``var`` (its current one-step 95% VaR) and ``var_per_unit`` (the VaR of one
    unit; VaR is proportional to ``|position|``, so the VaR after a trade is known in advance).

    >>> from rl_best_practices.envs import MarketEnv
    >>> env = MarketEnv(); _ = env.reset(seed=0)
    >>> market_state(env)
    {'position': 0.0, 'var': 0.0, 'var_per_unit': 1.6448536269514722}
    """
    market = env.unwrapped
    return {"position": float(market.position), "var": float(market.value_at_risk()),
            "var_per_unit": float(market.value_at_risk(1.0))}


def _trade(action: Any) -> float:
    """The traded units of a scalar action or a one-element array."""
    if isinstance(action, float):
        return action
    return float(np.asarray(action, dtype=np.float64).reshape(-1)[0])


def position_limit(max_position: float) -> Constraint:
    """A constraint: ``|position + trade| <= max_position`` (reads ``state["position"]``).

    >>> position_limit(100)(np.array([10.0]), {"position": 95})
    (False, 'position 105.0 would exceed the limit 100.0')
    """
    if not isinstance(max_position, (int, float)) or not 0 < max_position < math.inf:
        raise ValueError(f"max_position must be a finite number > 0, got {max_position!r}")
    limit = float(max_position)

    def position_limit(action: Any, state: Mapping[str, float]) -> tuple[bool, str | None]:
        new = state["position"] + _trade(action)
        if abs(new) > limit:
            return False, f"position {new:.1f} would exceed the limit {limit:.1f}"
        return True, None

    return position_limit


def var_limit(max_var: float, exit_step: float = 10.0) -> Constraint:
    """A constraint on the value-at-risk *after* the trade (not the current one).

    Passes when ``var_per_unit * |position + trade| <= max_var``. When the position is already
    over the limit (volatility rose), holding fails; a trade that cuts ``|position|`` by at least
    ``exit_step`` (or to flat) passes, so a way back under the limit always exists.

    >>> c = var_limit(150)
    >>> c(5.0, {"position": 90, "var_per_unit": 1.645})
    (False, 'VaR 156.3 after the trade would exceed the limit 150.0')
    >>> c(-10.0, {"position": 100, "var_per_unit": 2.0})
    (True, None)
    """
    if not isinstance(max_var, (int, float)) or not 0 < max_var < math.inf:
        raise ValueError(f"max_var must be a finite number > 0, got {max_var!r}")
    if not isinstance(exit_step, (int, float)) or not 0 < exit_step < math.inf:
        raise ValueError(f"exit_step must be a finite number > 0, got {exit_step!r}")
    limit, step = float(max_var), float(exit_step)

    def var_limit(action: Any, state: Mapping[str, float]) -> tuple[bool, str | None]:
        position = state["position"]
        new = position + _trade(action)
        var = state["var_per_unit"] * abs(new)
        if var <= limit or abs(new) <= max(abs(position) - step, 0.0):
            return True, None
        return False, f"VaR {var:.1f} after the trade would exceed the limit {limit:.1f}"

    return var_limit


def reduce_position(max_trade: float = 10.0) -> Callable[[Mapping[str, float]], float]:
    """A fallback policy: trade towards flat by at most ``max_trade`` units.

    >>> reduce_position(10)({"position": 95.0}), reduce_position(10)({"position": -4.0})
    (-10.0, 4.0)
    """
    if not isinstance(max_trade, (int, float)) or not 0 < max_trade < math.inf:
        raise ValueError(f"max_trade must be a finite number > 0, got {max_trade!r}")
    step = float(max_trade)

    def reduce_position(state: Mapping[str, float]) -> float:
        return float(-np.clip(state["position"], -step, step))

    return reduce_position


class SafetyWrapper(gym.Wrapper):
    """Apply a :class:`SafetyLayer` to every action before the wrapped env sees it.

    ``info`` gains ``proposed_action``, ``executed_action``, ``safety_outcome`` and
    ``safety_reason``. The learner keeps the proposed action as the action it took (that is
    what its policy sampled); the filter is part of the environment it learns about.

    >>> from rl_best_practices.envs import MarketEnv
    >>> layer = SafetyLayer((-10, 10), [position_limit(5)], reduce_position(10))
    >>> env = SafetyWrapper(MarketEnv({"action_type": "continuous"}), layer)
    >>> _ = env.reset(seed=0)
    >>> _, _, _, _, info = env.step(np.array([8.0], dtype=np.float32))
    >>> info["proposed_action"], info["executed_action"], info["position"]
    (array([8.], dtype=float32), array([5.]), 5.0)
    """

    def __init__(self, env: gym.Env, layer: SafetyLayer,
                 state_fn: Callable[[gym.Env], Any] = market_state) -> None:
        super().__init__(env)
        if not isinstance(layer, SafetyLayer):
            raise TypeError(f"layer must be a SafetyLayer, got {type(layer).__name__}")
        if not callable(state_fn):
            raise TypeError("state_fn must be a callable env -> state")
        self.layer, self.state_fn = layer, state_fn

    def step(self, action: Any):
        decision = self.layer.decide(action, self.state_fn(self.env))
        obs, reward, terminated, truncated, info = self.env.step(decision.action)
        info = {**info, "proposed_action": decision.proposed, "executed_action": decision.action,
                "safety_outcome": decision.outcome, "safety_reason": decision.reason}
        return obs, reward, terminated, truncated, info


class ActionMaskWrapper(gym.Wrapper):
    """Discrete actions with a safety mask in the observation, as RLlib's masking module reads it.

    Observations become ``{"action_mask": float32 0/1 per action, "observations": obs}``. A
    masked-out action (a policy that ignores the mask) is replaced by the nearest safe one;
    ``info`` records both as in :class:`SafetyWrapper`. ``candidates[i]`` is discrete action
    ``i`` as the constraints see it (for the market env: the trade, ``(i - 1) * trade_size``).

    >>> from rl_best_practices.envs import MarketEnv
    >>> layer = SafetyLayer(constraint_functions=[position_limit(10)])
    >>> env = ActionMaskWrapper(MarketEnv(), layer, candidates=[-10.0, 0.0, 10.0])
    >>> obs, _ = env.reset(seed=0)
    >>> obs, *_ = env.step(2)
    >>> obs["action_mask"]
    array([1., 1., 0.], dtype=float32)
    """

    def __init__(self, env: gym.Env, layer: SafetyLayer, candidates: Sequence[Any],
                 state_fn: Callable[[gym.Env], Any] = market_state) -> None:
        super().__init__(env)
        if not isinstance(env.action_space, spaces.Discrete):
            raise TypeError(
                f"ActionMaskWrapper needs a Discrete action space, got {env.action_space}")
        if len(candidates) != env.action_space.n:
            raise ValueError(f"candidates must hold one entry per action ({env.action_space.n}), "
                             f"got {len(candidates)}")
        if not isinstance(layer, SafetyLayer):
            raise TypeError(f"layer must be a SafetyLayer, got {type(layer).__name__}")
        self.layer, self.candidates, self.state_fn = layer, list(candidates), state_fn
        self.observation_space = spaces.Dict({
            "action_mask": spaces.Box(0.0, 1.0, shape=(env.action_space.n,), dtype=np.float32),
            "observations": env.observation_space,
        })

    def _observe(self, obs: Any) -> dict[str, Any]:
        mask = self.layer.action_mask(self.state_fn(self.env), self.candidates)
        return {"action_mask": mask.astype(np.float32), "observations": obs}

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        return self._observe(obs), info

    def step(self, action: Any):
        if isinstance(action, np.ndarray) and action.shape == ():
            action = action.item()
        state = self.state_fn(self.env)
        executed = self.layer.filter_discrete(action, state, self.candidates)
        obs, reward, terminated, truncated, info = self.env.step(executed)
        changed = executed != action
        info = {**info, "proposed_action": action, "executed_action": executed,
                "safety_outcome": "projected" if changed else "passed",
                "safety_reason": "action masked out" if changed else None}
        return self._observe(obs), reward, terminated, truncated, info
